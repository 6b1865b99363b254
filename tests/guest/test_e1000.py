"""The e1000 driver and PCI, at the link layer: Finch owns the wire.

The guest's e1000 sits on a `-netdev dgram` whose other end is a plain
UDP socket in this test (the peer): each datagram is one Ethernet frame,
with no header and no FCS.  QEMU's filter-dump keeps every frame in a
pcap in the test's log directory.  There is no IP yet: the frames carry a
local experimental ethertype that no protocol claims.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import rdpcap

from finch.machine import Machine
from finch.pytest_plugin import MachineFactory
from finch.wire import Wire
from finch.wirepeer import WirePeer, netstat_s

GUEST_MAC = "52:54:00:12:34:56"  # QEMU's default for the first NIC
PEER_MAC = "02:00:00:00:00:01"  # locally administered
ETHERTYPE_EXPERIMENTAL = 0x88B5  # IEEE local experimental: no protocol claims it
LINK_UP_SECONDS = 5.0  # QEMU renegotiates for ~0.5 s after set_link up


@pytest.fixture
def wire(finch_log_dir: Path) -> Iterator[WirePeer]:
    """The host end of the guest's Ethernet (raw frames: nothing answered)."""
    with Wire.open(rcvbuf=1 << 20) as wire:
        yield WirePeer(wire, finch_log_dir / "net0.pcap")


@pytest.fixture
def wired_guest(machine_factory: MachineFactory, wire: WirePeer) -> Machine:
    """A guest whose en0 is on `wire` and already receiving.  QEMU's e1000
    holds received frames for a second after the driver enables the
    receiver, and a flood sent meanwhile overflows the host socket behind
    it: one probe frame, waited for, gets past that."""
    machine = machine_factory(wire.options())
    machine.boot()
    wire.send(make_frame(b"probe" * 10))
    wait_for(machine, "e1000", r"^rx: 1 frames")
    return machine


def make_frame(payload: bytes, dst: str = GUEST_MAC) -> bytes:
    return bytes(Ether(dst=dst, src=PEER_MAC, type=ETHERTYPE_EXPERIMENTAL) / Raw(payload))


def counter(text: str, pattern: str) -> int:
    match = re.search(pattern, text, re.M)
    assert match, f"{pattern!r} not in:\n{text}"
    return int(match.group(1))


def wait_for(machine: Machine, command: str, pattern: str, timeout: float = 10.0) -> str:
    """Run `command` until its output matches `pattern`; return that output."""
    deadline = time.monotonic() + timeout
    while True:
        out = machine.command(command)
        if re.search(pattern, out, re.M):
            return out
        if time.monotonic() > deadline:
            pytest.fail(f"{command!r} never showed {pattern!r}; last output:\n{out}")
        time.sleep(0.1)


# --------------------------------------------------------------------------
# PCI, and machines without an e1000


def test_lspci_shows_the_e1000_with_its_irq_and_register_window(wired_guest: Machine) -> None:
    out = wired_guest.command("lspci")
    entry = re.search(r"^\S+ 8086:100e class 020000 .*Ethernet.*\n(?:\s{8}.*\n?)+", out, re.M)
    assert entry, out
    assert re.search(r"IRQ \d+ \(INTA#\).* memory busmaster", entry.group(0)), entry.group(0)
    assert re.search(r"BAR0 mem 0x[0-9a-f]{8} size 0x20000", entry.group(0)), entry.group(0)
    assert re.search(r"^00:00\.0 8086:1237 .*host bridge", out, re.M), out


def test_a_machine_without_an_e1000_boots_and_says_so(guest: Machine) -> None:
    assert "8086:100e" not in guest.command("lspci")
    assert "no e1000" in guest.command("e1000")
    assert "Finch" in guest.command("version")


# --------------------------------------------------------------------------
# The driver's own view


def test_e1000_command_shows_link_rings_and_received_frames(
    wired_guest: Machine, wire: WirePeer
) -> None:
    before = wired_guest.command("e1000")
    assert re.search(r"STATUS 0x[0-9a-f]{8} \(link up, 1000 Mb/s, full duplex\)", before)
    assert re.search(r"rx ring: 128 slots", before), before
    frames = [make_frame(os.urandom(n)) for n in (46, 100, 500, 1000, 1500)]
    for frame in frames:
        wire.send(frame)
    expected_frames = counter(before, r"rx: (\d+) frames") + len(frames)
    after = wait_for(wired_guest, "e1000", rf"^rx: {expected_frames} frames")
    expected_bytes = counter(before, r"rx: \d+ frames, (\d+) bytes") + sum(map(len, frames))
    assert counter(after, r"rx: \d+ frames, (\d+) bytes") == expected_bytes
    assert re.search(r"rx drops: 0 no mbuf, 0 bad frame, 0 runt", after), after


# --------------------------------------------------------------------------
# Frames in: en0's counters and the tap


def test_received_frames_count_in_ifconfig_and_netstat_i(
    wired_guest: Machine, wire: WirePeer
) -> None:
    before = wired_guest.command("ifconfig en0")
    packets = counter(before, r"input: (\d+) packets")
    octets = counter(before, r"input: \d+ packets, (\d+) bytes")
    frames = [make_frame(os.urandom(n)) for n in range(60, 1500, 120)]
    for frame in frames:
        wire.send(frame)
    packets += len(frames)
    out = wait_for(wired_guest, "netstat -i", rf"^en0\s.*52:54:00:12:34:56\s+{packets}\s+0\s")
    assert re.search(r"^lo0\s", out, re.M), out
    ifconfig = wired_guest.command("ifconfig en0")
    octets += sum(map(len, frames))
    assert f"input: {packets} packets, {octets} bytes, 0 errors" in ifconfig
    # Nobody claims the experimental ethertype: counted, not lost; the
    # DLIL dropped every one, and netstat -id (Darwin's -d) says so.
    assert f"{packets} no protocol" in ifconfig
    with_drops = wired_guest.command("netstat -id")
    assert re.search(r"^Name\s.*\sColl\s+Drop$", with_drops, re.M), with_drops
    row = re.search(r"^en0\s+\d+\s+<Link#\d+>\s+\S+(?:\s+\d+){5}\s+(\d+)$", with_drops, re.M)
    assert row, with_drops
    assert int(row.group(1)) == packets


def test_tcpdump_prints_the_frames_the_driver_received(
    wired_guest: Machine, wire: WirePeer
) -> None:
    wired_guest.sendline("tcpdump -c 3 -i en0")
    wired_guest.expect("listening")
    for n in (50, 60, 70):
        wire.send(make_frame(bytes(n)))
    out = wired_guest.expect(r"(?s)(.*?)finch> ").group(1)
    lines = re.findall(
        r"en0 in\s+02:00:00:00:00:01 > 52:54:00:12:34:56, ethertype .*\(0x88b5\), length (\d+)",
        out,
    )
    assert lines == ["64", "74", "84"], out
    assert "3 packets captured" in out


# --------------------------------------------------------------------------
# Frames out: `e1000 send` builds test frames and sends them down the
# stack's raw output path to the driver.


def sent_frame(seq: int, length: int) -> bytes:
    """What `e1000 send` puts on the wire: broadcast, from the guest, type
    0x88b5, the sequence number, then bytes counting up."""
    header = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=GUEST_MAC, type=ETHERTYPE_EXPERIMENTAL))
    return header + seq.to_bytes(4, "big") + bytes(i & 0xFF for i in range(length - 18))


def frames_from_e1000_send(wire: WirePeer, count: int, timeout: float = 5.0) -> list[bytes]:
    """The next `count` frames of `e1000 send` (the stack's own traffic,
    such as a gratuitous ARP, is skipped)."""
    frames: list[bytes] = []
    while len(frames) < count:
        frame = wire.recv(timeout)
        if Ether(frame).type == ETHERTYPE_EXPERIMENTAL:
            frames.append(frame)
    return frames


def link_row(machine: Machine) -> list[int]:
    """en0's counters in `netstat -i`: Ipkts Ierrs Opkts Oerrs Coll."""
    out = machine.command("netstat -i")
    match = re.search(r"^en0\s+\d+\s+<Link#\d+>\s+\S+((?:\s+\d+){5})\s*$", out, re.M)
    assert match, out
    return [int(n) for n in match.group(1).split()]


def tx_counters(machine: Machine) -> dict[str, int]:
    """The transmit counters of `e1000`, by name."""
    out = machine.command("e1000")
    match = re.search(
        r"^tx: (?P<packets>\d+) packets, (?P<bytes>\d+) bytes, (?P<doorbells>\d+) doorbells, "
        r"(?P<done>\d+) descriptors done, .* (?P<copied>\d+) copied chains",
        out,
        re.M,
    )
    assert match, out
    return {name: int(n) for name, n in match.groupdict().items()}


def tx_delta(machine: Machine, before: dict[str, int]) -> dict[str, int]:
    return {name: n - before[name] for name, n in tx_counters(machine).items()}


def test_sent_frames_reach_the_wire_whole_and_in_order_around_the_ring(
    wired_guest: Machine, wire: WirePeer
) -> None:
    tx_before, row_before = tx_counters(wired_guest), link_row(wired_guest)
    out = wired_guest.command("e1000 send 300 100")  # the ring has 128 slots
    assert "sent 300 frames of 100 bytes in 1+1 mbufs; 0 refused" in out
    assert frames_from_e1000_send(wire, 300) == [sent_frame(i, 100) for i in range(300)]
    tx = tx_delta(wired_guest, tx_before)
    # Two descriptors a frame (header, payload), none copied.
    assert (tx["packets"], tx["bytes"], tx["done"], tx["copied"]) == (300, 30000, 600, 0)
    # One burst: frames share TDT writes, a write per 64 descriptors queued
    # (and one more whenever the clock lets the doorbell thread in).
    assert 600 // 64 <= tx["doorbells"] <= 300 // 2, tx
    # Each write is timed: what QEMU spent sending is on its own line.
    out = wired_guest.command("e1000")
    writes = re.search(r"^time: \d+ ms in (\d+) TDT writes", out, re.M)
    doorbells = re.search(r"^tx: .* (\d+) doorbells", out, re.M)
    assert writes, out
    assert doorbells, out
    assert writes.group(1) == doorbells.group(1), out
    row = [now - then for now, then in zip(link_row(wired_guest), row_before, strict=True)]
    assert row[2:4] == [300, 0]


@pytest.mark.parametrize(("length", "segs", "copied"), [(1514, 3, 0), (1000, 12, 4), (20, 1, 0)])
def test_chained_packets_go_out_as_one_frame(
    wired_guest: Machine, wire: WirePeer, length: int, segs: int, copied: int
) -> None:
    before = tx_counters(wired_guest)
    out = wired_guest.command(f"e1000 send 4 {length} {segs}")
    assert f"sent 4 frames of {length} bytes in {segs}+1 mbufs; 0 refused" in out
    assert frames_from_e1000_send(wire, 4) == [sent_frame(i, length) for i in range(4)]
    # Chains longer than the driver maps (8 pieces) are copied first.
    assert tx_delta(wired_guest, before)["copied"] == copied


def test_with_the_link_down_frames_are_dropped_and_counted(
    wired_guest: Machine, wire: WirePeer
) -> None:
    wired_guest.qmp("set_link", name="net0", up=False)
    wait_for(wired_guest, "e1000", r"link down")
    before = link_row(wired_guest)
    assert "1 refused" in wired_guest.command("e1000 send 1")
    assert re.search(r"tx drops: 0 ring full, 1 link down", wired_guest.command("e1000"))
    assert netstat_s(wired_guest)["e1000.tx_link_down"] == 1
    assert [now - then for now, then in zip(link_row(wired_guest), before, strict=True)] == [
        0, 0, 0, 1, 0,
    ]  # fmt: skip
    wired_guest.qmp("set_link", name="net0", up=True)
    with pytest.raises(TimeoutError):
        frames_from_e1000_send(wire, 1, timeout=1.0)


# --------------------------------------------------------------------------
# Link state


def test_link_down_and_up_post_kernel_events_and_follow_in_the_flags(
    wired_guest: Machine,
) -> None:
    assert re.search(r"flags=\w+<[^>]*RUNNING", wired_guest.command("ifconfig en0"))
    wired_guest.qmp("set_link", name="net0", up=False)
    events = wait_for(wired_guest, "kevents", r"KEV_DL_LINK_OFF\s+en0")
    assert "RUNNING" not in wired_guest.command("ifconfig en0")
    assert "link down" in wired_guest.command("e1000")

    wired_guest.qmp("set_link", name="net0", up=True)
    events = wait_for(
        wired_guest,
        "kevents",
        r"KEV_DL_LINK_OFF\s+en0\n.*KEV_DL_LINK_ON\s+en0",
        timeout=LINK_UP_SECONDS,
    )
    assert re.search(r"flags=\w+<[^>]*RUNNING", wired_guest.command("ifconfig en0")), events
    assert re.search(r"link changes: 2\b", wired_guest.command("e1000"))


# --------------------------------------------------------------------------
# Bad days: floods and no mbufs


def mbufs_in_use(machine: Machine) -> tuple[int, int]:
    out = machine.command("netstat -m")
    return counter(out, r"^mbufs\s+(\d+)"), counter(out, r"^2 KB clusters\s+(\d+)")


def settle(machine: Machine, idle: tuple[int, int], timeout: float = 10.0) -> tuple[int, int]:
    """Wait for the stack to drain its queues back to the idle figures."""
    deadline = time.monotonic() + timeout
    while (now := mbufs_in_use(machine)) != idle and time.monotonic() < deadline:
        time.sleep(0.2)
    return now


def quiet(machine: Machine) -> str:
    """`e1000` once frames have stopped arriving: two reads 0.2 s apart
    agree on the hardware counters."""

    def hardware(out: str) -> str:
        match = re.search(r"^hardware: .*$", out, re.M)
        assert match, out
        return match.group(0)

    out = machine.command("e1000")
    for _ in range(50):
        time.sleep(0.2)
        again = machine.command("e1000")
        if hardware(again) == hardware(out):
            return again
        out = again
    pytest.fail(f"frames kept arriving:\n{out}")


def e1000_accounts_for_every_frame(out: str) -> None:
    """Every frame the NIC took in was passed up or dropped under a reason."""
    passed = counter(out, r"rx: (\d+) frames")
    drops = re.search(
        r"rx drops: (\d+) no mbuf, (\d+) bad frame, (\d+) runt, (\d+) multi-buffer", out
    )
    assert drops, out
    taken = counter(out, r"hardware: (\d+) good rx")
    assert passed + sum(int(d) for d in drops.groups()) == taken, out


def test_a_flood_of_random_frames_leaves_the_guest_answering_and_leaks_nothing(
    wired_guest: Machine, wire: WirePeer
) -> None:
    idle = mbufs_in_use(wired_guest)
    rng = random.Random(4)
    for i in range(5000):
        # Random addresses: half are multicast (accepted), the rest are
        # mostly another host's (filtered by the NIC); random lengths.
        wire.send(rng.randbytes(rng.randint(14, 1514)))
        if i % 100 == 99:
            time.sleep(0.002)  # what QEMU has not read yet waits in a socket buffer
    assert "Finch" in wired_guest.command("version")
    out = quiet(wired_guest)
    assert settle(wired_guest, idle) == idle
    assert counter(out, r"rx: (\d+) frames") > 1000, out
    e1000_accounts_for_every_frame(out)


def test_without_mbufs_frames_are_dropped_and_counted_not_crashed(
    wired_guest: Machine, wire: WirePeer
) -> None:
    idle = mbufs_in_use(wired_guest)
    # A receive buffer is two allocations (mbuf, cluster): every third
    # allocation failing makes about half the refills fail.
    wired_guest.command("mbuf fail every 3")
    for i in range(200):
        wire.send(make_frame(i.to_bytes(2, "big") * 30))
    wait_for(wired_guest, "e1000", r"^hardware: 201 good rx")  # with the probe
    out = quiet(wired_guest)
    wired_guest.command("mbuf fail off")
    assert counter(out, r"(\d+) no mbuf") > 0, out
    assert counter(out, r"rx: (\d+) frames") > 0, out
    e1000_accounts_for_every_frame(out)
    # netstat -s has the driver's drop reasons too.
    counters = netstat_s(wired_guest)
    assert counters["e1000.rx_nombuf"] == counter(out, r"(\d+) no mbuf")
    assert counters["e1000.rx_frames"] == counter(out, r"rx: (\d+) frames")
    assert settle(wired_guest, idle) == idle
    # The ring kept its buffers: frames still flow once memory is back.
    before = counter(out, r"rx: (\d+) frames")
    wire.send(make_frame(b"after" * 20))
    wait_for(wired_guest, "e1000", rf"^rx: {before + 1} frames")


# --------------------------------------------------------------------------
# The echo loop (boot option e1000echo)


def test_e1000echo_sends_every_frame_back_unchanged(
    machine_factory: MachineFactory, wire: WirePeer
) -> None:
    machine = machine_factory(wire.options("-append", "e1000echo"))
    out = machine.boot()
    assert "e1000echo: echoing every frame" in out
    # Any destination: the echo loop is promiscuous and swaps nothing.
    frames = [
        make_frame(os.urandom(n), dst=d)
        for n, d in ((46, GUEST_MAC), (1500, "ff:ff:ff:ff:ff:ff"), (300, "02:12:34:56:78:9a"))
    ]
    for frame in frames:
        wire.send(frame)
        assert wire.recv() == frame  # the first waits out QEMU's 1 s RCTL hold
    assert re.search(r"echoed 3 frames", machine.command("e1000echo"))
    machine.shutdown()  # flush the pcap
    recorded = [bytes(p) for p in rdpcap(str(wire.pcap))]
    assert recorded == [f for frame in frames for f in (frame, frame)]
