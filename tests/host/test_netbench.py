"""The network benchmark's parts that need no guest: the frames the peer
sends (checked against scapy), what counts as an answer, percentiles,
rates and ratios, the rows and how they print, and the probing loops on
a Wire against a fake guest on a local UDP socket."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from finch import netbench
from finch.benchrow import BenchRow, format_table
from finch.errors import MachineError
from finch.netbench import (
    ARP_WHO_HAS_GUEST,
    ECHO_PORT,
    ICMP_IDENT,
    PEER_PORT,
    NetFigures,
    RateResult,
    RttResult,
    echo_rate,
    figures_to_rows,
    icmp_echo_frame,
    icmp_probe,
    internet_checksum,
    per_second,
    percentile,
    ratios,
    round_trips,
    udp_echo_frame,
    udp_probe,
    wait_ready,
)
from finch.wire import Wire

GUEST_MAC = "52:54:00:12:34:56"
PEER_MAC = "02:00:00:00:00:01"
GUEST_IP = "10.0.2.15"
PEER_IP = "10.0.2.2"


# --------------------------------------------------------------------------
# Frames


def test_the_internet_checksum_is_rfc_1071s():
    # RFC 1071 section 3's example: the sum of these words is 0xddf2.
    assert internet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == ~0xDDF2 & 0xFFFF
    assert internet_checksum(b"\x01") == ~0x0100 & 0xFFFF  # an odd byte is padded
    header = netbench.ipv4_header(bytes([10, 0, 2, 2]), bytes([10, 0, 2, 15]), 1, 64)
    assert internet_checksum(header) == 0  # a header with its checksum sums to zero


@pytest.mark.parametrize("size", [60, 64, 1000, 1514])
def test_icmp_echo_frames_are_what_scapy_builds(size):
    frame = icmp_echo_frame(seq=300, size=size)
    expected = (
        Ether(dst=GUEST_MAC, src=PEER_MAC)
        / IP(src=PEER_IP, dst=GUEST_IP, id=300, ttl=64)
        / ICMP(type=8, id=ICMP_IDENT, seq=300)
        / Raw(bytes((0x20 + i) & 0xFF for i in range(size - 42)))
    )
    assert len(frame) == size
    assert frame == bytes(expected)


@pytest.mark.parametrize("size", [64, 1000])
def test_udp_echo_frames_are_what_scapy_builds(size):
    frame = udp_echo_frame(seq=7, size=size)
    payload = struct.pack("!H", 7) + bytes((0x20 + i) & 0xFF for i in range(size - 44))
    expected = (
        Ether(dst=GUEST_MAC, src=PEER_MAC)
        / IP(src=PEER_IP, dst=GUEST_IP, id=7, ttl=64)
        / UDP(sport=PEER_PORT, dport=ECHO_PORT)
        / Raw(payload)
    )
    assert len(frame) == size
    assert frame == bytes(expected)


@pytest.mark.parametrize("size", [59, 1515])
def test_frames_outside_ethernets_sizes_are_refused(size):
    with pytest.raises(ValueError, match=r"outside 60\.\.1514"):
        icmp_echo_frame(0, size)


def test_the_peer_introduces_itself_with_an_arp_request_for_the_guest():
    ask = Ether(ARP_WHO_HAS_GUEST)
    assert (ask.dst, ask[ARP].op, ask[ARP].hwsrc, ask[ARP].psrc, ask[ARP].pdst) == (
        "ff:ff:ff:ff:ff:ff", 1, PEER_MAC, PEER_IP, GUEST_IP,
    )  # fmt: skip
    assert len(ARP_WHO_HAS_GUEST) == 60


# --------------------------------------------------------------------------
# Answers


def stack_icmp_reply(request: bytes, **ip: object) -> bytes:
    """What a real stack sends back: addresses swapped, type 0, its own IP id."""
    pkt = Ether(request)
    return bytes(
        Ether(dst=pkt.src, src=pkt.dst)
        / IP(src=pkt[IP].dst, dst=pkt[IP].src, **{"id": 0x1234, **ip})
        / ICMP(type=0, id=pkt[ICMP].id, seq=pkt[ICMP].seq)
        / Raw(bytes(pkt[ICMP].payload))
    )


def stack_udp_reply(request: bytes) -> bytes:
    pkt = Ether(request)
    return bytes(
        Ether(dst=pkt.src, src=pkt.dst)
        / IP(src=pkt[IP].dst, dst=pkt[IP].src, id=99)
        / UDP(sport=pkt[UDP].dport, dport=pkt[UDP].sport)
        / Raw(bytes(pkt[UDP].payload))
    )


@pytest.mark.parametrize("size", [64, 1000])
def test_an_icmp_echo_reply_names_the_slot_it_answers(size):
    probe = icmp_probe(size)
    assert probe.size == size
    assert probe.reply.slot(stack_icmp_reply(probe.frames[42])) == 42
    assert probe.reply.slot(probe.frames[42]) is None  # the request is no reply
    assert probe.reply.slot(stack_icmp_reply(probe.frames[42])[:-1]) is None
    other = stack_icmp_reply(icmp_echo_frame(42, size, ident=0x1111))
    assert probe.reply.slot(other) is None  # someone else's ping


def test_a_bounced_frame_answers_the_ceilings_probe():
    probe = icmp_probe(64, bounced=True)
    assert probe.reply.slot(probe.frames[200]) == 200
    assert probe.reply.slot(stack_icmp_reply(probe.frames[200])) is None


@pytest.mark.parametrize("size", [64, 1000])
def test_a_udp_echo_names_the_slot_it_answers(size):
    probe = udp_probe(size)
    assert probe.reply.slot(stack_udp_reply(probe.frames[255])) == 255
    assert probe.reply.slot(probe.frames[255]) is None
    assert udp_probe(size, bounced=True).reply.slot(probe.frames[255]) == 255
    assert probe.reply.slot(stack_icmp_reply(icmp_probe(size).frames[255])) is None


def test_every_slot_has_its_own_frame():
    probe = udp_probe(64, slots=300)
    assert len(set(probe.frames)) == 300
    assert [probe.reply.slot(stack_udp_reply(f)) for f in probe.frames[:3]] == [0, 1, 2]


# --------------------------------------------------------------------------
# Figures


def test_percentile_is_the_nearest_rank():
    samples = list(range(100, 0, -1))  # 100 .. 1, unsorted
    assert percentile(samples, 99) == 99
    assert percentile(samples, 50) == 50
    assert percentile(samples, 100) == 100
    assert percentile(samples, 0.5) == 1
    assert percentile([7.0], 99) == 7.0
    assert percentile(list(range(1, 2001)), 99) == 1980  # 2000 pings: the 1980th


def test_percentile_refuses_nonsense():
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 99)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 0)


def test_rates_and_ratios():
    assert per_second(30000, 0.5) == 60000
    assert RateResult(answered=1500, seconds=0.25).rate == 6000
    assert ratios([30.0, 20.0], [60.0, 80.0]) == [50.0, 25.0]
    with pytest.raises(ValueError, match="2 rates but 1 ceilings"):
        ratios([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="no time"):
        per_second(1, 0.0)


def synthetic_figures() -> NetFigures:
    figures = NetFigures(
        rtt={
            "stack": RttResult(samples=[150e-6] * 98 + [300e-6, 900e-6]),
            "ceiling": RttResult(samples=[40e-6] * 99 + [100e-6], lost=1),
        }
    )
    for kind, rates in (
        ("icmp", [30000.0, 36000.0]),
        ("udp", [28000.0, 30000.0]),
        ("ceiling", [60000.0, 60000.0]),
    ):
        figures.rates[(kind, 64)] = [RateResult(int(r / 2), 0.5) for r in rates]
    figures.rates[("udp", 64)][0].lost = 3
    return figures


def test_the_figures_become_rows_with_the_50_percent_target_on_the_ratios():
    rows = figures_to_rows(synthetic_figures(), sizes=[64], rounds=2, seconds=0.5)
    by_name = {row.name: row for row in rows}
    rtt = by_name["ICMP echo RTT, 64 B, 1 in flight (100 round trips)"]
    assert (rtt.unit, rtt.median) == ("us", pytest.approx(150))
    assert by_name["ICMP echo RTT p99"].samples == [pytest.approx(300)]
    assert "ceiling (e1000echo) RTT, 64 B, 1 in flight (100 round trips, 1 lost)" in by_name
    icmp = by_name["ICMP echo rate, 64 B, 32 in flight (2 x 0.5 s)"]
    assert (icmp.unit, icmp.median, icmp.passed) == ("/s", 33000, None)
    assert "UDP echo rate (port 7), 64 B, 32 in flight (2 x 0.5 s), 3 lost" in by_name
    icmp_ratio = by_name["ICMP rate / ceiling rate, 64 B"]
    assert icmp_ratio.samples == [50.0, 60.0]
    assert icmp_ratio.passed is True
    assert by_name["UDP rate / ceiling rate, 64 B"].passed is False  # 48%
    assert [row.name for row in rows if row.target is not None] == [
        "ICMP rate / ceiling rate, 64 B",
        "UDP rate / ceiling rate, 64 B",
    ]


def test_the_network_rows_print_in_microseconds_frames_per_second_and_percent():
    rows = figures_to_rows(synthetic_figures(), sizes=[64], rounds=2, seconds=0.5)
    table = format_table(rows)
    lines = {line.split("  ")[0]: line.split() for line in table.splitlines()[2:]}
    assert lines["ICMP echo RTT p99"][-5:] == ["300", "us", "-", "(reference)", "-"]
    assert lines["ICMP echo rate, 64 B, 32 in flight (2 x 0.5 s)"][-6:] == [
        "33.0k/s", "30.0k/s", "-", "36.0k/s", "(reference)", "-",
    ]  # fmt: skip
    assert lines["ICMP rate / ceiling rate, 64 B"][-8:] == [
        "55%", "50%", "-", "60%", ">=", "50%", "median", "pass",
    ]  # fmt: skip
    assert lines["UDP rate / ceiling rate, 64 B"][-1] == "FAIL"


def test_an_at_least_row_passes_at_its_target_and_fails_below_it():
    assert BenchRow("ratio", samples=[50.0], target=50.0, unit="%", at_least=True).passed
    assert not BenchRow("ratio", samples=[49.9], target=50.0, unit="%", at_least=True).passed
    assert BenchRow("rate", samples=[], target=1.0, unit="/s", at_least=True).passed is False
    assert format_table([BenchRow("r", samples=[812.0], unit="/s")]).splitlines()[2].split() == [
        "r", "812/s", "-", "(reference)", "-",
    ]  # fmt: skip


def test_when_the_network_cannot_be_measured_the_target_rows_fail_and_say_why():
    rows = netbench.error_rows("QEMU is not installed", sizes=[64])
    assert [row.name for row in rows] == [
        "ICMP rate / ceiling rate, 64 B",
        "UDP rate / ceiling rate, 64 B",
    ]
    assert all(row.passed is False for row in rows)
    assert "ICMP rate / ceiling rate, 64 B: QEMU is not installed" in format_table(rows)


# --------------------------------------------------------------------------
# The peer against a fake guest: a thread on a UDP socket


# The peer's answer to the guest's question (padded to Ethernet's minimum).
PEER_IS_AT = bytes(
    Ether(dst=GUEST_MAC, src=PEER_MAC)
    / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=GUEST_MAC, pdst=GUEST_IP)
).ljust(60, b"\0")


class FakeGuest:
    """Answers what the peer sends with `answer(frame) -> frames`; first
    asks ARP for the peer if `ask_arp`, as the real stack may."""

    def __init__(self, answer: Callable[[bytes], list[bytes]], ask_arp: bool = False) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.answer = answer
        self.ask_arp = ask_arp
        self.arp_replies = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _run(self) -> None:
        asked = False
        while not self.stopping.is_set():
            try:
                frame, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            if self.ask_arp and not asked:
                ask = Ether(dst="ff:ff:ff:ff:ff:ff", src=GUEST_MAC) / ARP(
                    op=1, hwsrc=GUEST_MAC, psrc=GUEST_IP, pdst=PEER_IP
                )
                self.sock.sendto(bytes(ask), peer)
                asked = True
            if frame == PEER_IS_AT:
                self.arp_replies += 1
                continue
            for out in self.answer(frame):
                self.sock.sendto(out, peer)

    def __enter__(self) -> FakeGuest:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()
        self.sock.close()


def bounce(frame: bytes) -> list[bytes]:
    return [frame]


@pytest.fixture
def wire_to() -> Iterator[Callable[[FakeGuest], Wire]]:
    wires: list[Wire] = []

    def make(guest: FakeGuest) -> Wire:
        wires.append(Wire.open(guest_port=guest.port))
        return wires[-1]

    yield make
    for wire in wires:
        wire.close()


def test_the_peer_measures_round_trips_and_rates_against_an_echo(wire_to):
    with FakeGuest(bounce) as guest:
        wire = wire_to(guest)
        probe = icmp_probe(64, bounced=True)
        assert wait_ready(wire, probe, timeout=2.0) < 1.0
        rtt = round_trips(wire, probe, 300)
        assert (len(rtt.samples), rtt.lost) == (300, 0)
        assert 0 < percentile(rtt.samples, 50) < 0.05
        rate = echo_rate(wire, probe, 8, 0.2)
        assert rate.answered > 100
        assert rate.lost == 0
        assert 0.2 <= rate.seconds < 0.5


def test_a_lost_frame_is_counted_and_replaced_so_the_window_stays_full(wire_to, monkeypatch):
    monkeypatch.setattr(netbench, "LOSS_SECONDS", 0.05)
    dropped: set[int] = set()

    def lose_the_first_slot_5(frame: bytes) -> list[bytes]:
        slot = int.from_bytes(frame[40:42], "big")
        if slot == 5 and not dropped:
            dropped.add(slot)
            return []
        return [frame]

    with FakeGuest(lose_the_first_slot_5) as guest:
        result = echo_rate(wire_to(guest), icmp_probe(64, bounced=True), 8, 0.3)
    assert result.lost >= 1  # slot 5 (a slow thread switch may lose more)
    assert result.answered > 100  # answers went on while slot 5 was out


def test_the_peer_answers_the_guests_arp_request_while_it_waits(wire_to):
    def reply(frame: bytes) -> list[bytes]:
        return [stack_icmp_reply(frame)] if Ether(frame).haslayer(ICMP) else []

    with FakeGuest(reply, ask_arp=True) as guest:
        wire = wire_to(guest)
        wait_ready(wire, icmp_probe(64), timeout=2.0)
        assert wire.arp_answered == 1
        assert round_trips(wire, icmp_probe(64), 20).lost == 0
    assert guest.arp_replies == 1


def test_a_guest_that_never_answers_is_reported(wire_to):
    with FakeGuest(lambda frame: []) as guest:
        wire = wire_to(guest)
        with pytest.raises(MachineError, match=r"did not answer a 64 B ICMP echo within 0\.3 s"):
            wait_ready(wire, icmp_probe(64), timeout=0.3)


def test_a_window_wider_than_the_pool_is_refused(wire_to):
    with FakeGuest(bounce) as guest, pytest.raises(ValueError, match="more than 16 slots"):
        echo_rate(wire_to(guest), icmp_probe(64, slots=16), 16, 0.1)


def test_a_guest_that_stops_answering_ends_the_measurement(wire_to, monkeypatch):
    monkeypatch.setattr(netbench, "LOSS_SECONDS", 0.02)
    with FakeGuest(lambda frame: []) as guest:
        wire = wire_to(guest)
        with pytest.raises(MachineError, match="10 64 B ICMP echo frames in a row"):
            round_trips(wire, icmp_probe(64), 2000)
        with pytest.raises(MachineError, match="answered none of the 64 B UDP echo frames"):
            echo_rate(wire, udp_probe(64), 8, 0.1)
