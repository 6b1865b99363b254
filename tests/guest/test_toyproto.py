"""The toyproto sample (kexts/toyproto): a protocol of its own on
ethertype 0x88B5, attached to en0 through a protocol plumber.  The test
owns the guest's Ethernet (`-netdev dgram`) and talks to the kext with
scapy: it hears the kext's HELLO, gets PONGs carrying its data back byte
for byte (without the link's padding), reads the kext's counters with
COUNT, sends frames that break the rules (each dropped and counted), and
after the unload sees 0x88B5 frames dropped by the DLIL as a protocol
nobody speaks.

The tests share one guest and run in order: the last one unloads.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from finch.kext.guest import KextGuest, kext_options
from finch.pytest_plugin import MachineFactory
from finch.wire import BROADCAST_MAC, GUEST_MAC, PEER_MAC, Wire
from finch.wirepeer import WirePeer as Peer
from finch.wirepeer import netstat_s

NAME = "com.finch.sample.toyproto"
TOY_TYPE = 0x88B5
HEADER = struct.Struct("!BBHHH")  # version, op, seq, length, 0
PING, PONG, COUNT, COUNTS, HELLO = 1, 2, 3, 4, 5


@dataclass
class Guest:
    kexts: KextGuest
    peer: Peer


def toy(
    op: int, seq: int = 0, data: bytes = b"", *, version: int = 1, length: int | None = None
) -> Packet:
    header = HEADER.pack(version, op, seq, len(data) if length is None else length, 0)
    return Ether(dst=GUEST_MAC, src=PEER_MAC, type=TOY_TYPE) / Raw(header + data)


def is_toy(op: int, seq: int | None = None) -> Callable[[Packet], bool]:
    def match(pkt: Packet) -> bool:
        if pkt.type != TOY_TYPE:
            return False
        _v, got_op, got_seq, _len, _z = HEADER.unpack_from(bytes(pkt.payload))
        return got_op == op and (seq is None or got_seq == seq)

    return match


def pongs(guest: Guest, seqs: Iterable[int]) -> list[Packet]:
    """The PONGs with these sequence numbers the peer has seen."""
    wanted = set(seqs)
    return [p for p in guest.peer.seen if any(is_toy(PONG, s)(p) for s in wanted)]


def toy_data(pkt: Packet) -> bytes:
    """The data of a toy frame, as long as its header says."""
    raw = bytes(pkt.payload)
    _v, _op, _seq, length, _z = HEADER.unpack_from(raw)
    return raw[HEADER.size : HEADER.size + length]


@pytest.fixture(scope="module")
def guest(
    module_machine_factory: MachineFactory,
    built_kexts: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Guest]:
    with Wire.open(rcvbuf=1 << 22) as wire:
        peer = Peer(wire, tmp_path_factory.mktemp("wire") / "net0.pcap")
        machine = module_machine_factory(kext_options(peer.options()))
        machine.boot()
        kexts = KextGuest(machine, built_kexts)
        kexts.wait_ready()
        peer.wait_guest_ready()
        peer.drain(0.3)
        yield Guest(kexts, peer)


@pytest.fixture(scope="module")
def hello(guest: Guest) -> Packet:
    """Load the kext; the HELLO it broadcasts as it starts."""
    guest.kexts.load(guest.kexts.bundle("toyproto"))
    return guest.peer.expect(is_toy(HELLO))


def counts(guest: Guest, seq: int) -> dict[str, int]:
    guest.peer.send(toy(COUNT, seq))
    reply = guest.peer.expect(is_toy(COUNTS, seq))
    values = struct.unpack("!4I", toy_data(reply))
    return dict(zip(("received", "answered", "short", "bad"), values, strict=True))


def test_the_kext_says_hello_to_the_whole_link_as_it_starts(guest: Guest, hello: Packet) -> None:
    assert (hello.src, hello.dst) == (GUEST_MAC, BROADCAST_MAC)
    assert HEADER.unpack_from(bytes(hello.payload)) == (1, HELLO, 0, 0, 0)
    guest.kexts.machine.console_since(0, "toyproto: ethertype 0x88b5 on en0", timeout=5)


def test_a_ping_comes_back_as_a_pong_with_the_same_seq_and_data(
    guest: Guest, hello: Packet
) -> None:
    data = bytes(range(256)) * 5 + b"end"
    guest.peer.send(toy(PING, 7, data))
    pong = guest.peer.expect(is_toy(PONG, 7))

    assert (pong.src, pong.dst) == (GUEST_MAC, PEER_MAC)
    assert hashlib.sha256(toy_data(pong)).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_short_ping_is_answered_without_the_links_padding(guest: Guest, hello: Packet) -> None:
    guest.peer.send(toy(PING, 8, b"hi"))  # QEMU pads the frame to 60 bytes
    pong = guest.peer.expect(is_toy(PONG, 8))

    assert toy_data(pong) == b"hi"
    assert HEADER.unpack_from(bytes(pong.payload))[3] == 2


def test_count_reports_what_the_kext_received_and_answered(guest: Guest, hello: Packet) -> None:
    before = counts(guest, 100)
    for seq in range(3):
        guest.peer.send(toy(PING, 200 + seq, b"x" * 10))
        guest.peer.expect(is_toy(PONG, 200 + seq))
    after = counts(guest, 101)

    assert after["received"] - before["received"] == 4  # 3 PINGs and the COUNT
    assert after["answered"] - before["answered"] == 4


def test_frames_that_break_the_rules_are_dropped_and_counted(guest: Guest, hello: Packet) -> None:
    before = counts(guest, 300)
    for frame in (
        toy(PING, 1, b"abc", version=2),  # bad version
        toy(99, 2),  # no such op
        toy(PONG, 3),  # an answer is not a request
        toy(PING, 4, b"abc", length=1000),  # longer than the frame
        toy(PING, 5, length=39),  # longer than the frame padded to 60 bytes
    ):
        guest.peer.send(frame)
    after = counts(guest, 301)

    assert after["bad"] - before["bad"] == 3
    assert after["short"] - before["short"] == 2
    assert after["received"] - before["received"] == 6
    assert pongs(guest, range(1, 6)) == []


def test_after_unload_the_ethertype_is_a_protocol_nobody_speaks(
    guest: Guest, hello: Packet
) -> None:
    machine = guest.kexts.machine
    start = len(machine.console_text())
    result = guest.kexts.unload(NAME)
    machine.console_since(start, "toyproto: stopped;", timeout=5)
    before = netstat_s(machine)["dlil.input_no_protocol"]
    guest.peer.send(toy(PING, 400, b"anyone?"))
    guest.peer.drain(0.5)

    assert result.leaks == ""
    assert pongs(guest, [400]) == []
    assert netstat_s(machine)["dlil.input_no_protocol"] == before + 1
    assert NAME not in machine.command("kextstat")
