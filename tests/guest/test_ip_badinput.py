"""Bad input on the wire: every frame the IPv4 stack refuses is counted.

The test owns the guest's Ethernet (a `-netdev dgram` whose far end is a
UDP socket: one datagram per frame) and plays the gateway 10.0.2.2 with
scapy.  It sends malformed IP, ICMP, UDP, fragments and ARP, and then a
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
from finch.pytest_plugin import MachineFactory
from finch.wirepeer import (
    BROADCAST_MAC,
    GUEST_IP,
    GUEST_MAC,
    PEER_IP,
    PEER_MAC,
    netstat_s,
)
from finch.wirepeer import WirePeer as Peer

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


def mbufs_in_use(machine: Machine) -> tuple[int, int, int]:
    """(mbufs, 2 KB clusters, 4 KB clusters) in use, from `netstat -m`."""
    out = machine.command("netstat -m")
    m = re.search(r"^mbufs\s+(\d+).*\n^2 KB clusters\s+(\d+).*\n^4 KB clusters\s+(\d+)", out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def to_guest(payload: Packet | bytes, **ip: object) -> Packet:
    fields = {"src": PEER_IP, "dst": GUEST_IP, **ip}
    return Ether(dst=GUEST_MAC, src=PEER_MAC) / IP(**fields) / payload


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
    peer = Peer.open(finch_log_dir / "net0.pcap")
    machine = machine_factory(peer.options())
    machine.boot()
    try:
        # QEMU holds received frames for 1 s after the driver's RCTL write.
        assert any(answers_ping(peer, seq) for seq in range(40)), "the guest never answered"
        peer.drain()
        yield Wired(machine, peer, mbufs_in_use(machine))
    finally:
        peer.close()


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
