"""The far end of the utun sample's tunnel (kexts/utun), on the host.

The kext hands every packet routed to its interface to the client of its
kernel control, and takes what the client writes as received packets.
On the control each packet is preceded by its address family, 4 bytes in
network byte order, as on Mac OS X's utun.  A TunPeer is such a client:
it reads packets, answers ICMP echo requests as the host at the far end
would, and writes any other packet you hand it.

    with GuestSession.open(rundir) as session, TunPeer.connect(session) as peer:
        for packet in peer.serve(replies=3, timeout=10.0):
            print(packet.summary())

Plain struct, no scapy: the toolkit runs without the test extras.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from finch.errors import FinchError
from finch.kctl import ControlClient
from finch.netbench import internet_checksum

CONTROL = "com.finch.sample.utun"
AF_INET = 2
FAMILY = struct.Struct("!I")
IP_HEADER = struct.Struct("!BBHHHBBH4s4s")
PROTO_ICMP, PROTO_UDP = 1, 17
ICMP_ECHO_REPLY, ICMP_ECHO = 0, 8
OPT_IFNAME, OPT_STATS = 2, 3
STATS_FIELDS = (
    "to_client",
    "no_client",
    "client_full",
    "from_client",
    "bad_header",
    "bad_family",
    "too_big",
)


class TunPacketError(FinchError):
    """A record from the control that is not a packet as the kext frames them."""


def _addr(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


@dataclass(frozen=True)
class TunPacket:
    """One packet as it crosses the control: its family and its bytes."""

    family: int
    data: bytes

    @classmethod
    def parse(cls, record: bytes) -> TunPacket:
        if len(record) <= FAMILY.size:
            raise TunPacketError(
                f"a record of {len(record)} bytes from the tunnel: each packet comes "
                "after a 4-byte address family"
            )
        (family,) = FAMILY.unpack_from(record)
        return cls(family, record[FAMILY.size :])

    def frame(self) -> bytes:
        """The record to write to the control."""
        return FAMILY.pack(self.family) + self.data

    @property
    def is_ipv4(self) -> bool:
        return self.family == AF_INET and len(self.data) >= IP_HEADER.size

    def ip_fields(self) -> tuple[int, int, str, str]:
        """(header length, protocol, source, destination) of an IPv4 packet."""
        if not self.is_ipv4:
            raise TunPacketError(f"not an IPv4 packet (family {self.family})")
        vhl, _tos, _len, _id, _off, _ttl, proto, _sum, src, dst = IP_HEADER.unpack_from(self.data)
        return (vhl & 0x0F) * 4, proto, _addr(src), _addr(dst)

    @property
    def payload(self) -> bytes:
        """What follows the IPv4 header (ICMP, UDP ...)."""
        hlen, _proto, _src, _dst = self.ip_fields()
        return self.data[hlen:]

    def is_echo_request(self) -> bool:
        if not self.is_ipv4:
            return False
        hlen, proto, _src, _dst = self.ip_fields()
        return proto == PROTO_ICMP and len(self.data) >= hlen + 8 and self.data[hlen] == ICMP_ECHO

    def summary(self) -> str:
        if not self.is_ipv4:
            return f"family {self.family}, {len(self.data)} bytes"
        hlen, proto, src, dst = self.ip_fields()
        what = {PROTO_ICMP: "ICMP", PROTO_UDP: "UDP"}.get(proto, f"protocol {proto}")
        if self.is_echo_request():
            ident, seq = struct.unpack_from("!HH", self.data, hlen + 4)
            what = f"ICMP echo request id {ident:#06x} seq {seq}"
        return f"{src} > {dst}: {what}, {len(self.data)} bytes"


def ipv4_packet(src: bytes, dst: bytes, proto: int, payload: bytes, ttl: int = 64) -> bytes:
    """An IPv4 packet with a correct header checksum (addresses: 4 bytes)."""
    header = IP_HEADER.pack(0x45, 0, IP_HEADER.size + len(payload), 0, 0, ttl, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", internet_checksum(header)) + header[12:]
    return header + payload


def echo_reply(request: TunPacket) -> TunPacket:
    """The reply the far end sends to an ICMP echo request: addresses
    swapped, type 0, the same identifier, sequence and data."""
    if not request.is_echo_request():
        raise TunPacketError(f"not an ICMP echo request: {request.summary()}")
    hlen, _proto, _src, _dst = request.ip_fields()
    icmp = bytearray(request.data[hlen:])
    icmp[0] = ICMP_ECHO_REPLY
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", internet_checksum(bytes(icmp)))
    src, dst = request.data[12:16], request.data[16:20]
    return TunPacket(AF_INET, ipv4_packet(dst, src, PROTO_ICMP, bytes(icmp)))


@dataclass
class TunPeer(ControlClient):
    """A connected client of the utun sample's control."""

    NAME = CONTROL
    KEXT = "utun"

    def interface(self) -> str:
        """The name of the kext's interface ("utun0")."""
        return self.control.getsockopt(OPT_IFNAME, 16).rstrip(b"\0").decode()

    def stats(self) -> dict[str, int]:
        """The kext's counters: packets each way and drops by reason."""
        raw = self.control.getsockopt(OPT_STATS, 4 * len(STATS_FIELDS))
        if len(raw) != 4 * len(STATS_FIELDS):
            raise TunPacketError(f"the kext's statistics are {len(raw)} bytes, not 28")
        return dict(zip(STATS_FIELDS, struct.unpack(f"<{len(STATS_FIELDS)}I", raw), strict=True))

    def recv(self, timeout: float) -> TunPacket | None:
        """The next packet routed to the interface, or None."""
        record = self.control.recv(timeout=timeout)
        return None if record is None else TunPacket.parse(record)

    def send(self, packet: TunPacket) -> None:
        """Write a packet: the guest receives it on the interface."""
        self.control.send(packet.frame())

    def serve(self, replies: int, timeout: float) -> Iterator[TunPacket]:
        """Yield each packet that comes within `timeout` seconds of the
        last, answering echo requests, until `replies` were answered."""
        answered = 0
        while answered < replies:
            packet = self.recv(timeout)
            if packet is None:
                return
            yield packet
            if packet.is_echo_request():
                self.send(echo_reply(packet))
                answered += 1
