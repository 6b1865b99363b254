"""The host end of the guest's Ethernet: raw frames over `-netdev dgram`.

QEMU's `-netdev dgram` carries each Ethernet frame as exactly one UDP
datagram (no header, no FCS) between two local ports.  A Wire is the UDP
socket at the far end: it sends and receives raw frames, plays QEMU's
gateway (PEER_IP, PEER_MAC) by answering the guest's ARP requests for it,
and gives the QEMU options of an e1000 whose wire it is.  The tests see
it through scapy (finch.wirepeer); `finch bench` times the guest's echo
replies through it (finch.netbench).

    with Wire.open() as wire:
        machine = Machine(kernel, rundir, wire.options())
        machine.boot()
        wire.send(frame)
        reply = wire.recv(1.0)      # bytes, or None after a second of quiet

A receive timeout is the kernel's (SO_RCVTIMEO) on a blocking socket, so
that recv() is one system call: the benchmark's loops call sock.recv
themselves after set_timeout(), and measure the guest, not Python.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from types import TracebackType

from finch.qemu_args import QemuOptions

GUEST_MAC = "52:54:00:12:34:56"  # QEMU's default for the first NIC, given anyway
GUEST_IP = "10.0.2.15"  # the guest's address as it boots
PEER_MAC = "02:00:00:00:00:01"  # locally administered
PEER_IP = "10.0.2.2"  # the peer plays QEMU's gateway
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"

LOCALHOST = "127.0.0.1"
RCVBUF = 1 << 20  # socket receive buffer: frames the guest may send before we read
MAX_DATAGRAM = 65536  # more than any frame; recv() never cuts one short
MIN_FRAME = 60  # Ethernet's minimum without FCS: shorter frames are padded
ETHERTYPE_ARP = b"\x08\x06"
ARP_REQUEST = 1
ARP_REPLY = 2


def mac_bytes(mac: str) -> bytes:
    """ "52:54:00:12:34:56" as the six bytes on the wire."""
    return bytes.fromhex(mac.replace(":", ""))


def ip_bytes(ip: str) -> bytes:
    """ "10.0.2.15" as the four bytes on the wire."""
    return socket.inet_aton(ip)


def free_udp_port() -> int:
    """A local UDP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# ARP (pure)


def arp_frame(op: int, sender_mac: bytes, sender_ip: bytes, target_mac: bytes,
              target_ip: bytes, dst: bytes) -> bytes:  # fmt: skip
    """An Ethernet/IPv4 ARP packet (op 1 request, 2 reply), padded to 60 bytes."""
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sender_mac + sender_ip
    arp += target_mac + target_ip
    frame = dst + sender_mac + ETHERTYPE_ARP + arp
    return frame + bytes(MIN_FRAME - len(frame))


def is_arp_request_for(frame: bytes, ip: bytes) -> bool:
    """Is this an ARP request asking for `ip`?"""
    return (
        len(frame) >= 42
        and frame[12:14] == ETHERTYPE_ARP
        and frame[20:22] == struct.pack("!H", ARP_REQUEST)
        and frame[38:42] == ip
    )


def arp_reply(request: bytes, mac: bytes, ip: bytes) -> bytes:
    """The answer to an ARP `request`: `ip` is at `mac`, sent to whoever asked."""
    asker_mac, asker_ip = request[22:28], request[28:32]
    return arp_frame(ARP_REPLY, mac, ip, asker_mac, asker_ip, dst=request[6:12])


# --------------------------------------------------------------------------
# The wire


class Wire:
    """A UDP socket on 127.0.0.1, connected to the port QEMU's dgram netdev
    listens on; QEMU sends the guest's frames to this socket's port."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.arp_answered = 0  # ARP requests for the peer answered so far
        self._timeout: float | None = None

    @classmethod
    def open(cls, guest_port: int | None = None, rcvbuf: int = RCVBUF) -> Wire:
        """A wire whose guest end is `guest_port` (default: a free port,
        for a QEMU started with options())."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((LOCALHOST, 0))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.connect((LOCALHOST, guest_port or free_udp_port()))
        except OSError:
            sock.close()
            raise
        return cls(sock)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Wire:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """Our end: where QEMU sends the guest's frames."""
        return self.sock.getsockname()[1]

    @property
    def guest_port(self) -> int:
        """QEMU's end: where our frames go to the guest."""
        return self.sock.getpeername()[1]

    def options(self, *extra_args: str, pcap: Path | None = None) -> QemuOptions:
        """An e1000 on a dgram netdev whose far end is this wire; with
        `pcap`, QEMU's filter-dump keeps every frame, both ways, in it
        (it costs about 30% of the frame rate)."""
        netdev = (
            f"dgram,id=net0,local.type=inet,local.host={LOCALHOST},local.port={self.guest_port},"
            f"remote.type=inet,remote.host={LOCALHOST},remote.port={self.port}"
        )
        dump = ["-object", f"filter-dump,id=f0,netdev=net0,file={pcap}"] if pcap else []
        return QemuOptions(
            netdevs=[netdev],
            devices=[f"e1000,netdev=net0,mac={GUEST_MAC}"],
            extra_args=[*dump, *extra_args],
        )

    def send(self, frame: bytes) -> None:
        self.sock.send(frame)

    def set_timeout(self, seconds: float) -> None:
        """How long sock.recv() waits for a frame before it raises
        BlockingIOError (SO_RCVTIMEO: zero would mean for ever, so the
        shortest wait is a microsecond)."""
        if seconds == self._timeout:
            return
        self.sock.settimeout(None)
        whole = int(seconds)
        micro = max(int((seconds - whole) * 1e6), 0 if whole else 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", whole, micro))
        self._timeout = seconds

    def recv(self, timeout: float) -> bytes | None:
        """The next frame from the guest, as it is (no ARP answered), or
        None after `timeout` seconds of quiet."""
        self.set_timeout(timeout)
        try:
            return self.sock.recv(MAX_DATAGRAM)
        except (BlockingIOError, TimeoutError):
            return None

    def answer_arp(self, frame: bytes) -> bool:
        """If `frame` asks ARP for the peer, answer it (the guest must
        resolve the peer to reply to it); says whether it did."""
        if not is_arp_request_for(frame, ip_bytes(PEER_IP)):
            return False
        self.send(arp_reply(frame, mac_bytes(PEER_MAC), ip_bytes(PEER_IP)))
        self.arp_answered += 1
        return True

    def drain(self, quiet: float) -> int:
        """Read (and answer) frames until `quiet` seconds pass without one;
        how many there were."""
        count = 0
        while (frame := self.recv(quiet)) is not None:
            self.answer_arp(frame)
            count += 1
        return count
