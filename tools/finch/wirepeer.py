"""The guest's Ethernet seen through scapy, for tests that own the wire.

A WirePeer is a view of a finch.wire.Wire (the UDP socket at the far end
of the guest's `-netdev dgram`, which plays QEMU's gateway PEER_IP and
answers the guest's ARP requests for it): frames come and go as scapy
packets, and QEMU's filter-dump keeps every one of them in a pcap.  The
Wire's owner closes it.  Needs scapy (a test extra).

    with Wire.open() as wire:
        peer = WirePeer(wire, log_dir / "net0.pcap")
        machine = machine_factory(peer.options())
        machine.boot()
        peer.send(Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(...) / ICMP())
        reply = peer.expect(lambda p: ICMP in p)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from finch.errors import FinchError
from finch.machine import Machine
from finch.qemu_args import QemuOptions
from finch.wire import GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, Wire


class WireTimeout(FinchError):
    """The guest sent no frame the caller was waiting for."""


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
    wire: Wire  # the socket at the far end of the guest's wire
    pcap: Path  # where QEMU keeps every frame it saw, both ways
    seen: list[Packet] = field(default_factory=list)  # every frame received

    def options(self, *extra_args: str) -> QemuOptions:
        """An e1000 on a dgram netdev whose far end is this peer, every
        frame recorded in the pcap."""
        return self.wire.options(*extra_args, pcap=self.pcap)

    def send(self, frame: Packet | bytes) -> None:
        self.wire.send(bytes(frame))

    def recv(self, timeout: float = 5.0) -> bytes:
        """The next frame from the guest, raw (no ARP answered); raises
        TimeoutError, as a socket does, when none comes in time."""
        frame = self.wire.recv(timeout)
        if frame is None:
            raise TimeoutError(f"the guest sent no frame in {timeout:g} s")
        return frame

    def frames(self, timeout: float) -> Iterator[Packet]:
        """Frames from the guest until `timeout`; ARP requests for PEER_IP
        are answered on the way (the guest must resolve us to reply)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            raw = self.wire.recv(left)
            if raw is None:
                return
            pkt = Ether(raw)
            self.seen.append(pkt)
            self.wire.answer_arp(raw)
            yield pkt

    def expect(self, match: Callable[[Packet], bool], timeout: float = 5.0) -> Packet:
        for pkt in self.frames(timeout):
            if match(pkt):
                return pkt
        raise WireTimeout(f"no matching frame from the guest in {timeout} s")

    def drain(self, timeout: float = 0.3) -> None:
        """Take (and answer) whatever the guest sends for `timeout` seconds."""
        for _ in self.frames(timeout):
            pass

    def wait_guest_ready(self, tries: int = 50) -> None:
        """Ping the guest until it answers: QEMU holds received frames for
        a while after the driver programs RCTL, so a freshly booted guest
        hears nothing at first.  Raises WireTimeout after `tries` pings
        0.2 s apart."""
        ping = Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(src=PEER_IP, dst=GUEST_IP)
        for seq in range(tries):
            self.send(ping / ICMP(id=0x77, seq=seq) / b"ready?")
            for pkt in self.frames(0.2):
                if ICMP in pkt and pkt[ICMP].type == 0 and pkt[ICMP].seq == seq:
                    return
        raise WireTimeout("the guest never answered a ping on the wire")
