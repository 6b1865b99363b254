"""Bad input on the wire: every frame the IPv4 stack refuses is counted.

The test owns the guest's Ethernet (a `-netdev dgram` whose far end is a
UDP socket: one datagram per frame) and plays the gateway 10.0.2.2 with
scapy.  It sends malformed IP, ICMP, UDP, fragments and ARP, a flood of
fragments whose IP ids wrap round some that were lost (RFC 4963), and a
burst of random frames.  After each, the drop shows under its reason in
`netstat -s`, the guest still answers a ping, and `netstat -m` is back to
the figures it showed idle (nothing leaked).  Frames shorter than 60
bytes are padded by QEMU, so "truncated" here means an IP total length
beyond the frame.
"""

from __future__ import annotations

import random
import re
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from finch.machine import Machine
from finch.netbench import icmp_echo_frame, internet_checksum
from finch.pytest_plugin import MachineFactory
from finch.wire import BROADCAST_MAC, GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, Wire
from finch.wirepeer import WirePeer as Peer
from finch.wirepeer import netstat_s

IP_DROPS = (
    "tooshort",
    "badvers",
    "badhlen",
    "badsum",
    "badlen",
    "truncated",
    "badaddr",
    "notforus",
    "noproto",
    "nomem",
)
ARP_DROPS = (
    "tooshort",
    "badhrd",
    "badpro",
    "badaddrlen",
    "badop",
    "badsender",
    "ours",
    "dupaddr",
    "notforus",
    "nomem",
)
GROUP_MAC = "01:00:5e:01:02:03"  # Ethernet's address for the IPv4 group 224.1.2.3


def mbufs_in_use(machine: Machine) -> tuple[int, int, int]:
    """(mbufs, 2 KB clusters, 4 KB clusters) in use, from `netstat -m`."""
    out = machine.command("netstat -m")
    m = re.search(r"^mbufs\s+(\d+).*\n^2 KB clusters\s+(\d+).*\n^4 KB clusters\s+(\d+)", out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def to_guest(payload: Packet | bytes, *, mac: str = GUEST_MAC, **ip: object) -> Packet:
    fields = {"src": PEER_IP, "dst": GUEST_IP, **ip}
    return Ether(dst=mac, src=PEER_MAC) / IP(**fields) / payload


def raw_ip(header: Packet, data: bytes = b"") -> Packet:
    """An Ethernet frame carrying header's bytes as scapy builds them
    (checksum over the fields given), then data, unparsed."""
    return Ether(dst=GUEST_MAC, src=PEER_MAC, type=0x0800) / Raw(bytes(header) + data)


def arp_to_guest(
    *,
    hrd: int = 1,
    pro: int = 0x0800,
    hln: int = 6,
    pln: int = 4,
    op: int = 1,
    sha: str = PEER_MAC,
    spa: str = PEER_IP,
    tpa: str = GUEST_IP,
) -> Packet:
    """An ARP packet built byte by byte, so that any field can be wrong."""
    body = struct.pack("!HHBBH", hrd, pro, hln, pln, op)
    body += bytes.fromhex(sha.replace(":", "")) + socket.inet_aton(spa)
    body += bytes(6) + socket.inet_aton(tpa)
    return Ether(dst=BROADCAST_MAC, src=PEER_MAC, type=0x0806) / Raw(body)


def answers_ping(peer: Peer, seq: int, tries: int = 1) -> bool:
    for _ in range(tries):
        peer.send(to_guest(ICMP(id=0x77, seq=seq) / b"still there?"))
        for pkt in peer.frames(0.3):
            if ICMP in pkt and pkt[ICMP].type == 0 and pkt[ICMP].seq == seq:
                return True
    return False


@dataclass
class Wired:
    machine: Machine
    peer: Peer
    idle: tuple[int, int, int]  # netstat -m in use, before the abuse

    def counters(self) -> dict[str, int]:
        return netstat_s(self.machine)

    def send_all(self, frames: list[Packet]) -> None:
        for frame in frames:
            self.peer.send(frame)
        self.peer.drain()

    def assert_healthy(self) -> None:
        """Answers a ping; no mbuf left behind (transmits may still be
        completing for a moment)."""
        assert answers_ping(self.peer, 4242, tries=3)
        deadline = time.monotonic() + 5
        while (now := mbufs_in_use(self.machine)) != self.idle:
            if time.monotonic() > deadline:
                pytest.fail(f"netstat -m: {now} in use, {self.idle} when idle")
            time.sleep(0.2)


@pytest.fixture
def wired(machine_factory: MachineFactory, finch_log_dir: Path) -> Iterator[Wired]:
    with Wire.open(rcvbuf=1 << 22) as wire:
        peer = Peer(wire, finch_log_dir / "net0.pcap")
        machine = machine_factory(peer.options())
        machine.boot()
        # QEMU holds received frames for 1 s after the driver's RCTL write.
        assert any(answers_ping(peer, seq) for seq in range(40)), "the guest never answered"
        peer.drain()
        yield Wired(machine, peer, mbufs_in_use(machine))


def deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


# --------------------------------------------------------------------------


def test_bad_ip_headers_are_dropped_under_their_reasons(wired: Wired) -> None:
    cases: list[tuple[str, Packet]] = [
        ("ip.badvers", raw_ip(IP(version=6, src=PEER_IP, dst=GUEST_IP))),
        ("ip.badhlen", raw_ip(IP(ihl=4, src=PEER_IP, dst=GUEST_IP))),
        ("ip.badhlen", raw_ip(IP(ihl=15, src=PEER_IP, dst=GUEST_IP))),  # past the frame
        ("ip.badlen", raw_ip(IP(len=12, src=PEER_IP, dst=GUEST_IP))),
        ("ip.truncated", raw_ip(IP(len=1000, src=PEER_IP, dst=GUEST_IP, proto=17), b"x" * 80)),
        ("ip.badsum", raw_ip(IP(chksum=0x1234, src=PEER_IP, dst=GUEST_IP))),
        ("ip.notforus", to_guest(UDP(dport=7) / b"hi", dst="10.0.2.99")),
        # The e1000 takes in every multicast frame; one for a group the
        # guest is not in (not all-hosts) dies in IP.
        ("ip.notforus", to_guest(UDP(dport=7) / b"hi", mac=GROUP_MAC, dst="224.1.2.3")),
        ("ip.badaddr", to_guest(UDP(dport=7) / b"hi", src="224.0.0.5")),
        ("ip.badaddr", to_guest(UDP(dport=7) / b"hi", dst="127.0.0.1")),
        ("ip.noproto", to_guest(Raw(b"?" * 20), proto=200)),
    ]
    before = wired.counters()
    wired.send_all([frame for _, frame in cases])
    got = deltas(before, wired.counters())
    for reason in {r for r, _ in cases}:
        assert got.get(reason) == sum(r == reason for r, _ in cases), (reason, got)
    assert got["ip.total"] == len(cases)
    assert got.get("ip.delivered", 0) == 0
    assert got["icmp.errors_out"] == 1  # protocol unreachable, for the last one only
    wired.assert_healthy()


def test_bad_icmp_and_udp_are_dropped_under_their_reasons(wired: Wired) -> None:
    cases: list[tuple[str, Packet]] = [
        ("icmp.badsum", to_guest(ICMP(chksum=0xDEAD) / b"ping")),
        ("icmp.tooshort", to_guest(Raw(b"\x08\x00\xf7\xff"), proto=1)),
        ("icmp.unhandled", to_guest(ICMP(type=13) / (b"\0" * 12))),
        ("udp.badsum", to_guest(UDP(dport=7, chksum=0xBEEF) / b"echo?")),
        ("udp.badlen", to_guest(UDP(dport=7, len=200) / b"short")),
        ("udp.tooshort", to_guest(Raw(b"\x00\x07\x00\x07"), proto=17)),
        ("udp.noport", to_guest(UDP(dport=9) / b"discard?")),
        ("udp.echoloop", to_guest(UDP(sport=7, dport=7) / b"loop")),
    ]
    before = wired.counters()
    wired.send_all([frame for _, frame in cases])
    got = deltas(before, wired.counters())
    for reason, _ in cases:
        assert got.get(reason) == 1, (reason, got)
    assert got.get("udp.echoed", 0) == 0
    wired.assert_healthy()


def fragment_of(ident: int, offset: int, data: bytes, more: bool) -> Packet:
    """A fragment of a UDP datagram to port 7: offset in bytes."""
    return to_guest(Raw(data), id=ident, proto=17, frag=offset // 8, flags="MF" if more else 0)


def test_overlapping_oversized_and_ragged_fragments_are_dropped(wired: Wired) -> None:
    udp = bytes(UDP(sport=5000, dport=7, len=8 + 24, chksum=0)) + b"z" * 24
    frames = [
        fragment_of(1, 0, b"a" * 16, True),  # overlaps the next: both go
        fragment_of(1, 8, b"b" * 16, True),
        fragment_of(2, 0, b"c" * 8, True),  # then one past 65535 bytes: both go
        fragment_of(2, 65512, b"d" * 100, False),
        fragment_of(3, 0, b"e" * 12, True),  # 12 is not a multiple of 8
        *(fragment_of(4, i * 16, b"f" * 8, True) for i in range(65)),  # one too many
        fragment_of(5, 0, udp[:16], True),  # a duplicate, then completed
        fragment_of(5, 0, udp[:16], True),
        fragment_of(5, 16, udp[16:], False),
    ]
    before = wired.counters()
    wired.send_all(frames)
    got = deltas(before, wired.counters())
    assert got["ip.frag_overlap"] == 2
    assert got["ip.frag_oversize"] == 2
    assert got["ip.frag_badlen"] == 1
    assert got["ip.frag_toomany"] == 65
    assert got["ip.frag_dup"] == 1
    assert got["ip.reassembled"] == 1
    assert got["udp.echoed"] == 1
    assert got["ip.fragments"] == len(frames)
    wired.assert_healthy()


def test_a_never_completed_datagram_times_out_after_30_seconds(wired: Wired) -> None:
    first = bytes(UDP(sport=5001, dport=7, len=8 + 40, chksum=0)) + b"g" * 16
    wired.peer.send(fragment_of(6, 0, first, True))
    wired.peer.drain()
    before = wired.counters()
    assert mbufs_in_use(wired.machine) != wired.idle  # the fragment waits
    # RFC 1122: the sender of the first fragment hears "time exceeded".
    err = wired.peer.expect(lambda p: ICMP in p and p[ICMP].type == 11, timeout=35)
    assert err[ICMP].code == 1
    assert IP(bytes(err[ICMP].payload)).id == 6
    got = deltas(before, wired.counters())
    assert got["ip.reass_timeout"] == 1
    wired.assert_healthy()


# --------------------------------------------------------------------------
# A flood of fragmented datagrams whose IP ids wrap (RFC 4963).  Frames are
# built with struct, not scapy: the flood is some 131,000 of them.

ID_SPACE = 1 << 16  # IP ids have 16 bits: datagram n and n + ID_SPACE share one
FRAGMENT_DATA = 96  # bytes of IP data per fragment (a multiple of 8): small frames
PACE_BATCH = 24  # datagrams between two pings
ECHO_PORT, DISCARD_PORT = 7, 9  # 9: nothing bound, answered by rate-limited ICMP
PEER_PORT = 40009
ETHER_TO_GUEST = bytes.fromhex(GUEST_MAC.replace(":", "") + PEER_MAC.replace(":", "") + "0800")
IP_ADDRESSES = socket.inet_aton(PEER_IP) + socket.inet_aton(GUEST_IP)  # source, destination

# The datagrams whose fragments the wire loses: serial, size (UDP, bytes),
# which fragment is lost; and the size of the datagram that reuses the id
# one wrap later.  Joined to what was left, these would make every error
# RFC 4963 describes: a datagram completed half old, half new (with the
# wrong data, or too short for its UDP length), a duplicate, an overlap.
LOSSES = (
    (100, 250, 0, 170),  # [96, 250) waits; [0, 96) of the next completes it
    (200, 150, 0, 250),  # [96, 150) waits; the next is longer: udp.badlen
    (300, 250, 1, 170),  # the next's [0, 96) is a copy, its end contradicts
    (400, 250, 2, 170),  # a copy again, then an overlap at 96
)


def udp_fragment_frame(ident: int, offset: int, more: bool, data: bytes) -> bytes:
    """An Ethernet frame from the peer to the guest: an IPv4 header (UDP)
    with this id and fragment offset (bytes), then data."""
    flags = (0x2000 if more else 0) | offset >> 3
    header = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(data), ident, flags, 64, 17, 0)
    header += IP_ADDRESSES
    header = header[:10] + struct.pack("!H", internet_checksum(header)) + header[12:]
    return ETHER_TO_GUEST + header + data


def serial_payload(serial: int, size: int) -> bytes:
    """UDP data for datagram `serial`: its number, over and over."""
    return (struct.pack("!Q", serial) * (size // 8 + 1))[: size - 8]


def udp_fragments(serial: int, size: int, port: int, checksum: bool = True) -> list[bytes]:
    """Datagram `serial` (id serial mod 2**16) of `size` UDP bytes to
    `port`, cut into frames of FRAGMENT_DATA.  Without checksum, uh_sum is
    0: nothing but IP's reassembly stands between it and the receiver."""
    data = serial_payload(serial, size)
    udp = struct.pack("!HHHH", PEER_PORT, port, size, 0) + data
    if checksum:
        pseudo = IP_ADDRESSES + struct.pack("!BBH", 0, 17, size)
        udp = udp[:6] + struct.pack("!H", internet_checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    return [
        udp_fragment_frame(serial % ID_SPACE, off, off + FRAGMENT_DATA < size,
                           udp[off : off + FRAGMENT_DATA])
        for off in range(0, size, FRAGMENT_DATA)
    ]  # fmt: skip


def send_paced(peer: Peer, datagrams: Iterator[list[bytes]]) -> list[bytes]:
    """Send each datagram's frames, and a ping after every PACE_BATCH
    datagrams, with never more than two pings unanswered: the frames in
    flight (150 at most) fit in every queue on the way (QEMU's socket, the
    e1000 ring, the DLIL input queue), so that none is lost but those left
    out on purpose.  Returns the UDP frames the guest sent back."""
    pings = answered = 0
    udp: list[bytes] = []

    def take(wait: float) -> bool:
        """Handle the frames that came; with `wait`, wait that long for
        one, and say whether it came."""
        nonlocal answered
        while (frame := peer.wire.recv(wait)) is not None:
            if peer.wire.answer_arp(frame):
                pass
            elif frame[12:14] == b"\x08\x00" and frame[23] == 17:
                udp.append(frame)
            elif frame[12:14] == b"\x08\x00" and frame[23] == 1 and frame[34] == 0:
                answered = max(answered, struct.unpack("!H", frame[40:42])[0] + 1)
            if wait:
                return True
        return False

    def ping(window: int) -> None:
        nonlocal pings
        peer.send(icmp_echo_frame(pings, 64, ident=0x4963))
        pings += 1
        take(0)
        deadline = time.monotonic() + 5
        while pings - answered > window:
            take(0.5)
            if time.monotonic() > deadline:
                pytest.fail(f"the guest answered {answered} pings of {pings}")

    for n, frames in enumerate(datagrams, 1):
        for frame in frames:
            peer.send(frame)
        if n % PACE_BATCH == 0:
            ping(2)
    ping(0)  # everything sent was taken in
    while take(0.3):
        pass
    return udp


def test_stale_fragments_do_not_join_new_datagrams_when_a_flood_wraps_the_ids(
    wired: Wired,
) -> None:
    """RFC 4963.  A few fragments of a fast flood are lost; the rest of
    their datagrams wait (for up to 30 s) while the peer's 16-bit ids come
    round, and must not be joined to the fragments of the new datagrams
    with the same ids: those are reassembled whole and delivered right,
    and the stale fragments are dropped long before, counted."""
    lost = {serial: (size, piece) for serial, size, piece, _ in LOSSES}
    reused = {serial + ID_SPACE: size for serial, _, _, size in LOSSES}
    last = max(reused)

    def flood() -> Iterator[list[bytes]]:
        for n in range(last + 1):
            if n in lost:
                size, piece = lost[n]
                frames = udp_fragments(n, size, ECHO_PORT, checksum=False)
                yield frames[:piece] + frames[piece + 1 :]
            elif n in reused:
                yield udp_fragments(n, reused[n], ECHO_PORT, checksum=False)
            else:
                yield udp_fragments(n, 100 + n % 90, DISCARD_PORT)  # in 2 pieces

    before = wired.counters()
    started = time.monotonic()
    echoes = send_paced(wired.peer, flood())
    seconds = time.monotonic() - started
    got = deltas(before, wired.counters())
    # No fragment met a stranger's: no copy, no overlap, no datagram
    # completed of two with a bad UDP length or checksum...
    for reason in ("ip.frag_dup", "ip.frag_overlap", "udp.badlen", "udp.badsum"):
        assert got.get(reason, 0) == 0, (reason, got)
    # ...every datagram was reassembled but those that lost a piece...
    assert got["ip.reassembled"] == last + 1 - len(lost)
    assert got["udp.noport"] == last + 1 - len(lost) - len(reused)
    # ...and those that reused an id came back whole, theirs alone.
    back = {int.from_bytes(e[42:50], "big"): e[42:] for e in echoes if e[34:36] == b"\0\7"}
    assert sorted(back) == sorted(reused)
    wrong = [n for n, size in reused.items() if back[n] != serial_payload(n, size)]
    assert wrong == [], "echoed with another datagram's data"
    # The pieces left behind were dropped as stale at once, not after 30 s
    # (the flood took less: they would still have been there).
    held = sum(len(udp_fragments(n, size, ECHO_PORT)) - 1 for n, (size, _) in lost.items())
    assert got["ip.reass_stale"] == held
    assert seconds < 30
    wired.assert_healthy()


def test_an_id_reused_at_once_misassembles_and_the_udp_checksum_catches_it(
    wired: Wired,
) -> None:
    """What ageing cannot catch: a sender that reuses an id at once (here
    with the same length, so that the UDP length fits).  The new
    datagram's first fragment is a copy of the old one's; its last then
    completes the old first.  The UDP checksum is the last defence."""
    old = udp_fragments(1, 150, ECHO_PORT)
    new = udp_fragments(ID_SPACE + 1, 150, ECHO_PORT)  # the same id and length
    before = wired.counters()
    wired.send_all([old[0], *new])  # old[1] was lost
    got = deltas(before, wired.counters())
    assert got["ip.frag_dup"] == 1
    assert got["ip.reassembled"] == 1
    assert got["udp.badsum"] == 1
    assert got.get("udp.echoed", 0) == 0
    wired.assert_healthy()


def test_malformed_arp_is_dropped_under_its_reason(wired: Wired) -> None:
    cases: list[tuple[str, Packet]] = [
        ("arp.badhrd", arp_to_guest(hrd=6)),
        ("arp.badpro", arp_to_guest(pro=0x86DD)),
        ("arp.badaddrlen", arp_to_guest(hln=8)),
        ("arp.badaddrlen", arp_to_guest(pln=16)),
        ("arp.badop", arp_to_guest(op=3)),
        ("arp.badsender", arp_to_guest(sha=BROADCAST_MAC)),
        ("arp.badsender", arp_to_guest(spa="255.255.255.255")),
        ("arp.ours", arp_to_guest(sha=GUEST_MAC)),
        ("arp.dupaddr", arp_to_guest(sha="02:00:00:00:00:66", spa=GUEST_IP)),
        ("arp.notforus", arp_to_guest(spa="10.0.2.44", tpa="10.0.2.45")),
    ]
    before = wired.counters()
    wired.send_all([frame for _, frame in cases])
    got = deltas(before, wired.counters())
    for reason in {r for r, _ in cases}:
        assert got.get(reason) == sum(r == reason for r, _ in cases), (reason, got)
    assert got["arp.received"] == len(cases)
    assert got.get("arp.replies_out", 0) == 0
    assert "10.0.2.44" not in wired.machine.command("arp -a")
    wired.assert_healthy()


def random_frames(rng: random.Random, count: int) -> list[bytes]:
    """Random frames to the guest: a third with random ethertypes, a third
    claiming IPv4, a third claiming ARP; random lengths and bytes."""
    frames = []
    for i in range(count):
        ethertype = (0x0800, 0x0806, rng.randrange(0x0600, 0x10000))[i % 3]
        body = rng.randbytes(rng.randrange(0, 1500))
        frames.append(
            bytes.fromhex(GUEST_MAC.replace(":", ""))
            + bytes.fromhex(PEER_MAC.replace(":", ""))
            + ethertype.to_bytes(2, "big")
            + body
        )
    return frames


def test_a_burst_of_random_frames_is_all_counted(wired: Wired) -> None:
    rng = random.Random(20240601)
    frames = random_frames(rng, 3000)
    before = wired.counters()
    for start in range(0, len(frames), 100):
        for frame in frames[start : start + 100]:
            wired.peer.send(frame)
        time.sleep(0.02)
    wired.peer.drain(1.0)
    got = deltas(before, wired.counters())
    # Every IPv4 packet that reached IP was dropped for a reason, or held
    # as a fragment, or delivered; every ARP packet likewise.
    ip_accounted = sum(got.get(f"ip.{r}", 0) for r in IP_DROPS)
    ip_accounted += got.get("ip.fragments", 0) + got.get("ip.delivered", 0)
    assert got["ip.total"] > 500
    assert got["ip.total"] == ip_accounted, got
    arp_accounted = sum(got.get(f"arp.{r}", 0) for r in ARP_DROPS)
    assert got["arp.received"] > 500
    assert got["arp.received"] == arp_accounted, got
    assert got["dlil.input_no_protocol"] > 500
    wired.assert_healthy()


def pages_held(machine: Machine) -> dict[str, tuple[int, int]]:
    """`mem`'s "pages held:" line as {holder: (pages, free inside)}."""
    line = re.search(r"^pages held: (.*)$", machine.command("mem"), re.M)
    assert line, "mem shows no 'pages held:' line"
    held = re.finditer(r"([a-z][a-z ]*?) (\d+)(?: \((\d+) free inside\))?", line[1])
    return {m[1]: (int(m[2]), int(m[3] or 0)) for m in held}


def test_mem_shows_the_pages_a_flood_left_in_the_mbuf_pool_apart(wired: Wired) -> None:
    """The mbuf pool keeps the pages a flood made it carve; `mem` counts
    them under the pool, with what is free inside them, so that nobody
    takes them for a leak: nothing lands under "other"."""
    before = pages_held(wired.machine)
    wired.send_all([to_guest(UDP(sport=7100, dport=7) / bytes(1400)) for _ in range(600)])
    wired.peer.drain(1.0)
    after = pages_held(wired.machine)
    assert after["mbuf pool"][0] >= before["mbuf pool"][0] > 0
    assert after["mbuf pool"][1] > 0
    assert after["other"] == before["other"]
    wired.assert_healthy()


def test_port_unreachable_errors_are_rate_limited(wired: Wired) -> None:
    before = wired.counters()
    started = time.monotonic()
    wired.send_all([to_guest(UDP(sport=6000 + i, dport=9) / b"x") for i in range(400)])
    seconds = int(time.monotonic() - started) + 2  # the windows it may span
    got = deltas(before, wired.counters())
    assert got["udp.noport"] == 400
    assert got["icmp.unreach_port_out"] <= 100 * seconds
    assert got["icmp.unreach_port_out"] + got["icmp.ratelimited"] == 400
    wired.assert_healthy()


def test_traffic_survives_failing_allocations(wired: Wired) -> None:
    """With one DONTWAIT allocation in five failing, pings still get
    through now and then, nothing panics, and nothing leaks."""
    assert "200 per mille" in wired.machine.command("mbuf fail rate 200")
    answered = 0
    for seq in range(60):
        wired.peer.send(to_guest(UDP(sport=7000, dport=7) / bytes(600)))
        answered += answers_ping(wired.peer, 1000 + seq)
    wired.machine.command("mbuf fail off")
    assert answered >= 10, f"only {answered} of 60 pings answered"
    wired.peer.drain(1.0)
    wired.assert_healthy()
