"""The host end of the guest's Ethernet, for tests that own the wire.

QEMU's `-netdev dgram` carries each Ethernet frame as one UDP datagram
between two local ports; a WirePeer is a UDP socket on the far end.  It
plays QEMU's gateway (PEER_IP, PEER_MAC) and answers the guest's ARP
requests for it on the way, so that the guest can reply to what it is
sent.  `options()` gives the matching e1000 and netdev, every frame kept
in a pcap by QEMU's filter-dump.  Needs scapy (a test extra).

    with WirePeer.open(log_dir / "net0.pcap") as peer:
        machine = machine_factory(peer.options())
        machine.boot()
        peer.send(Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(...) / ICMP())
        reply = peer.expect(lambda p: ICMP in p)
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet

from finch.errors import FinchError
from finch.machine import Machine
from finch.qemu_args import QemuOptions

GUEST_MAC = "52:54:00:12:34:56"  # QEMU's default for the first NIC
GUEST_IP = "10.0.2.15"  # the guest's default address
PEER_MAC = "02:00:00:00:00:01"  # locally administered
PEER_IP = "10.0.2.2"  # the peer plays QEMU's gateway
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"


class WireTimeout(FinchError):
    """The guest sent no frame the caller was waiting for."""


def free_udp_port() -> int:
    """A local UDP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def netstat_s(machine: Machine) -> dict[str, int]:
    """Every `netstat -s` counter of the guest as {"group.name": value}."""
    counters: dict[str, int] = {}
    group = ""
    for line in machine.command("netstat -s").splitlines():
        if m := re.match(r"^(\w+):$", line):
            group = m.group(1)
        elif m := re.match(r"^\s+(\d+) (\S+) \(", line):
            counters[f"{group}.{m.group(2)}"] = int(m.group(1))
    return counters


@dataclass
class WirePeer:
    sock: socket.socket  # connected to the guest's end of the wire
    pcap: Path  # every frame QEMU saw, both ways
    seen: list[Packet] = field(default_factory=list)  # every frame received

    @classmethod
    def open(cls, pcap: Path, rcvbuf: int = 1 << 22) -> WirePeer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.connect(("127.0.0.1", free_udp_port()))
        return cls(sock, pcap)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WirePeer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def options(self, *extra_args: str) -> QemuOptions:
        """An e1000 on a dgram netdev whose far end is this peer, every
        frame recorded in the pcap."""
        guest_port, peer_port = self.sock.getpeername()[1], self.sock.getsockname()[1]
        netdev = (
            f"dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port={guest_port},"
            f"remote.type=inet,remote.host=127.0.0.1,remote.port={peer_port}"
        )
        return QemuOptions(
            netdevs=[netdev],
            devices=["e1000,netdev=net0"],
            extra_args=["-object", f"filter-dump,id=f0,netdev=net0,file={self.pcap}", *extra_args],
        )

    def send(self, frame: Packet | bytes) -> None:
        self.sock.send(bytes(frame))

    def recv(self, timeout: float = 5.0) -> bytes:
        """The next frame from the guest, raw (no ARP answered)."""
        self.sock.settimeout(timeout)
        return self.sock.recv(65536)

    def frames(self, timeout: float) -> Iterator[Packet]:
        """Frames from the guest until `timeout`; ARP requests for PEER_IP
        are answered on the way (the guest must resolve us to reply)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                pkt = Ether(self.sock.recv(65536))
            except TimeoutError:
                return
            self.seen.append(pkt)
            if ARP in pkt and pkt[ARP].op == 1 and pkt[ARP].pdst == PEER_IP:
                self.send(
                    Ether(dst=pkt.src, src=PEER_MAC)
                    / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=pkt.src, pdst=pkt[ARP].psrc)
                )
            yield pkt

    def expect(self, match: Callable[[Packet], bool], timeout: float = 5.0) -> Packet:
        for pkt in self.frames(timeout):
            if match(pkt):
                return pkt
        raise WireTimeout(f"no matching frame from the guest in {timeout} s")

    def drain(self, timeout: float = 0.3) -> None:
        """Take (and answer) whatever the guest still sends."""
        for _ in self.frames(timeout):
            pass
