"""The network rows of `finch bench`: how fast the guest's IPv4 stack
answers a host peer, against the ceiling of the NIC path on the same QEMU.

Two guests run side by side, each with an e1000 on its own `-netdev dgram`
whose far end is a finch.wire.Wire here (the peer): each datagram is one
Ethernet frame, with no header and no FCS.

    stack     the kernel as it boots: 10.0.2.15/24 on en0, answering ARP,
              ICMP echo and the UDP echo service on port 7.  The peer plays
              10.0.2.2 and answers the guest's ARP requests.
    ceiling   the same kernel booted with `-append e1000echo`: a polling
              loop bounces every frame back unchanged (no interrupts, no
              mbufs, no stack).  Frames are the same bytes as the stack's.

Only one guest runs at a time: the other is paused with QMP `stop` (the
echo loop polls, and would otherwise take a CPU from the stack guest).
The measurements alternate between the two, round after round, so that
both see the same machine; no filter-dump (it costs about 30%).

    RTT          one frame in flight, ICMP echo of 64 B frames: median and
                 p99 of RTT_PINGS round trips per guest
    rate         IN_FLIGHT frames in flight for RATE_SECONDS: every answer
                 sends the next frame; replies per second, one sample per
                 round (ROUNDS rounds), for ICMP echo, the ceiling and UDP
                 echo, in that order, at each of FRAME_SIZES
    ratio        the stack's rate over the ceiling's in the same round, in
                 percent; target: at least RATIO_TARGET (the UDP rows use
                 the ceiling of the same frame size: the echo loop does not
                 look inside a frame)

A frame size is the Ethernet frame as QEMU carries it: the 14-byte header,
IPv4, ICMP or UDP and data, no FCS.  A 64 B ICMP frame carries 22 data
bytes; a 64 B UDP frame 22 bytes of payload.

Frames are built once (a pool of POOL_SLOTS per probe, numbered by the ICMP
sequence number or the first two payload bytes) and sent with plain
socket calls on the wire's socket in the hot loops: building a frame per
packet would measure Python.  The parts that do not need a guest (frames,
checksums, replies, percentiles, ratios, and the loops against a fake
guest) are tested in tests/host/test_netbench.py.
"""

from __future__ import annotations

import contextlib
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from finch.benchrow import BenchRow
from finch.errors import FinchError, MachineError
from finch.machine import Machine
from finch.wire import (
    BROADCAST_MAC,
    GUEST_IP,
    GUEST_MAC,
    MIN_FRAME,
    PEER_IP,
    PEER_MAC,
    Wire,
    arp_frame,
    ip_bytes,
    mac_bytes,
)

ICMP_IDENT = 0xF1C4
PEER_PORT = 40007  # the UDP source port of the peer's echo requests
ECHO_PORT = 7

FRAME_SIZES = (64, 1000)
RTT_SIZE = 64
IN_FLIGHT = 32
ROUNDS = 10
RATE_SECONDS = 0.5
RTT_PINGS = 2000
RATIO_TARGET = 50.0  # percent of the ceiling's rate

POOL_SLOTS = 256  # distinct frames per probe; a slot is reused once answered
LOSS_SECONDS = 0.25  # a frame out this long is counted lost and replaced
DRAIN_SECONDS = 0.05  # quiet time that ends a drain
READY_SECONDS = 15.0  # QEMU holds receive for 1 s after the driver sets RCTL
GIVE_UP_LOST = 10  # round trips lost in a row: the guest has stopped answering
RECV_BYTES = 2048  # more than any frame the probes' answers can be

ETHER_HEADER = 14
IP_HEADER = 20
MAX_FRAME = 1514

ETHERTYPE_IP = b"\x08\x00"
PROTO_ICMP = 1
PROTO_UDP = 17
ICMP_ECHO_REPLY = 0
ICMP_ECHO = 8

Echo = Callable[[str], None]
T = TypeVar("T")


# --------------------------------------------------------------------------
# Frames (pure)


def internet_checksum(data: bytes) -> int:
    """RFC 1071: the ones' complement of the ones' complement sum of the
    16-bit words (an odd byte is padded with zero)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total >> 16) + (total & 0xFFFF)
    return ~total & 0xFFFF


def ether_header(dst: bytes, src: bytes, ethertype: bytes) -> bytes:
    return dst + src + ethertype


def ipv4_header(src: bytes, dst: bytes, proto: int, payload_len: int, ident: int = 0) -> bytes:
    """A 20-byte IPv4 header, TTL 64, no options, not fragmented."""
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, IP_HEADER + payload_len, ident, 0, 64, proto, 0, src, dst
    )
    return header[:10] + struct.pack("!H", internet_checksum(header)) + header[12:]


def _check_size(size: int) -> None:
    if not MIN_FRAME <= size <= MAX_FRAME:
        raise ValueError(f"frame size {size} is outside {MIN_FRAME}..{MAX_FRAME} bytes")


_PATTERN = bytes((0x20 + i) & 0xFF for i in range(MAX_FRAME))


def _data(length: int) -> bytes:
    """Filler: bytes counting up from 0x20."""
    return _PATTERN[:length]


def _to_guest(proto: int, payload: bytes, ident: int) -> bytes:
    """An IPv4 packet from the peer to the guest, in its Ethernet frame."""
    ip = ipv4_header(ip_bytes(PEER_IP), ip_bytes(GUEST_IP), proto, len(payload), ident=ident)
    return ether_header(mac_bytes(GUEST_MAC), mac_bytes(PEER_MAC), ETHERTYPE_IP) + ip + payload


def icmp_echo_frame(seq: int, size: int, ident: int = ICMP_IDENT) -> bytes:
    """An ICMP echo request from the peer to the guest, `size` bytes long."""
    _check_size(size)
    data = _data(size - ETHER_HEADER - IP_HEADER - 8)
    icmp = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq) + data
    icmp = icmp[:2] + struct.pack("!H", internet_checksum(icmp)) + icmp[4:]
    return _to_guest(PROTO_ICMP, icmp, ident=seq)


def udp_echo_frame(seq: int, size: int, sport: int = PEER_PORT, dport: int = ECHO_PORT) -> bytes:
    """A UDP datagram from the peer to the guest's echo port (`dport`),
    `size` bytes long; its payload starts with `seq` (2 bytes)."""
    _check_size(size)
    payload = struct.pack("!H", seq) + _data(size - ETHER_HEADER - IP_HEADER - 8 - 2)
    length = 8 + len(payload)
    pseudo = ip_bytes(PEER_IP) + ip_bytes(GUEST_IP) + struct.pack("!BBH", 0, PROTO_UDP, length)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    checksum = internet_checksum(pseudo + udp) or 0xFFFF  # 0 would mean "no checksum"
    udp = udp[:6] + struct.pack("!H", checksum) + udp[8:]
    return _to_guest(PROTO_UDP, udp, ident=seq)


# The peer introduces itself: an ARP request for the guest, from which the
# guest learns the peer's address before its first answer.
ARP_WHO_HAS_GUEST = arp_frame(
    1, mac_bytes(PEER_MAC), ip_bytes(PEER_IP), bytes(6), ip_bytes(GUEST_IP),
    dst=mac_bytes(BROADCAST_MAC),
)  # fmt: skip


@dataclass(frozen=True)
class Reply:
    """What an answer to a probe looks like: the frame's length, bytes at
    fixed offsets, and where the slot number (2 bytes) is."""

    size: int
    fields: tuple[tuple[int, bytes], ...]
    slot_at: int

    def slot(self, frame: bytes) -> int | None:
        """The slot this frame answers, or None if it is no answer."""
        if len(frame) != self.size:
            return None
        for offset, value in self.fields:
            if frame[offset : offset + len(value)] != value:
                return None
        return int.from_bytes(frame[self.slot_at : self.slot_at + 2], "big")


@dataclass(frozen=True)
class Probe:
    """A pool of prebuilt frames, one per slot, and what answers them."""

    name: str
    frames: tuple[bytes, ...]
    reply: Reply

    @property
    def size(self) -> int:
        return len(self.frames[0])


def icmp_probe(size: int, bounced: bool = False, slots: int = POOL_SLOTS) -> Probe:
    """ICMP echo requests; answered by echo replies from the guest, or, if
    `bounced` (the e1000echo ceiling), by the requests themselves."""
    ip_icmp = ((12, ETHERTYPE_IP), (14, b"\x45"), (23, bytes([PROTO_ICMP])))
    kind = ICMP_ECHO if bounced else ICMP_ECHO_REPLY
    fields = (*ip_icmp, (34, bytes([kind])), (38, struct.pack("!H", ICMP_IDENT)))
    frames = tuple(icmp_echo_frame(seq, size) for seq in range(slots))
    return Probe("ICMP echo", frames, Reply(size, fields, slot_at=40))


def udp_probe(
    size: int, bounced: bool = False, slots: int = POOL_SLOTS, port: int = ECHO_PORT
) -> Probe:
    """Datagrams to a UDP echo port (default 7); answered from that port
    back to the peer's port, or, if `bounced`, by the datagrams themselves."""
    ports = (PEER_PORT, port) if bounced else (port, PEER_PORT)
    fields = (
        (12, ETHERTYPE_IP), (14, b"\x45"), (23, bytes([PROTO_UDP])),
        (34, struct.pack("!HH", *ports)),
    )  # fmt: skip
    frames = tuple(udp_echo_frame(seq, size, dport=port) for seq in range(slots))
    return Probe("UDP echo", frames, Reply(size, fields, slot_at=42))


# --------------------------------------------------------------------------
# Figures (pure)


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile: the smallest sample that at least
    p percent of the samples do not exceed."""
    if not samples:
        raise ValueError("no samples")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is outside (0, 100]")
    ordered = sorted(samples)
    rank = -(-len(ordered) * p // 100)  # ceil without floats drifting
    return ordered[max(int(rank), 1) - 1]


def per_second(count: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("no time elapsed")
    return count / seconds


def ratios(rates: Sequence[float], ceilings: Sequence[float]) -> list[float]:
    """Each round's rate over the same round's ceiling, in percent."""
    if len(rates) != len(ceilings):
        raise ValueError(f"{len(rates)} rates but {len(ceilings)} ceilings")
    return [100.0 * rate / ceiling for rate, ceiling in zip(rates, ceilings, strict=True)
            if ceiling > 0]  # fmt: skip


@dataclass
class RateResult:
    answered: int
    seconds: float
    lost: int = 0

    @property
    def rate(self) -> float:
        return per_second(self.answered, self.seconds)


@dataclass
class RttResult:
    samples: list[float] = field(default_factory=list)  # seconds
    lost: int = 0


# --------------------------------------------------------------------------
# Probing the guest through its wire


def wait_ready(wire: Wire, probe: Probe, timeout: float = READY_SECONDS) -> float:
    """Introduce the peer (an ARP request for the guest) and send the
    probe's first frame until it is answered: QEMU holds received frames
    for a second after the driver enables the receiver.  Returns how
    long that took."""
    start = time.perf_counter()
    deadline = start + timeout
    while time.perf_counter() < deadline:
        wire.send(ARP_WHO_HAS_GUEST)
        wire.send(probe.frames[0])
        resend = time.perf_counter() + 0.2
        while (left := resend - time.perf_counter()) > 0:
            frame = wire.recv(left)
            if frame is None:
                break
            if probe.reply.slot(frame) == 0:
                waited = time.perf_counter() - start
                wire.drain(DRAIN_SECONDS)
                return waited
            wire.answer_arp(frame)
    raise MachineError(
        f"the guest did not answer a {probe.size} B {probe.name} within {timeout:g} s"
    )


def round_trips(wire: Wire, probe: Probe, count: int) -> RttResult:
    """`count` round trips, one frame in flight."""
    frames, slot_of = probe.frames, probe.reply.slot
    send, recv, clock = wire.sock.send, wire.sock.recv, time.perf_counter
    result = RttResult()
    in_a_row = 0
    wire.set_timeout(LOSS_SECONDS)
    for i in range(count):
        slot = i % len(frames)
        start = clock()
        send(frames[slot])
        while True:
            try:
                frame = recv(RECV_BYTES)
            except (BlockingIOError, TimeoutError):
                result.lost += 1
                in_a_row += 1
                break
            if slot_of(frame) == slot:
                result.samples.append(clock() - start)
                in_a_row = 0
                break
            wire.answer_arp(frame)
        if in_a_row >= GIVE_UP_LOST:
            raise MachineError(
                f"it stopped answering: {in_a_row} {probe.size} B {probe.name} "
                "frames in a row went unanswered"
            )
    wire.drain(DRAIN_SECONDS)
    return result


def echo_rate(wire: Wire, probe: Probe, in_flight: int, seconds: float) -> RateResult:
    """Keep `in_flight` frames out for `seconds`: each answer sends the
    next frame.  A frame out longer than LOSS_SECONDS is counted lost and
    another goes in its place, so the window stays full."""
    if not 0 < in_flight < len(probe.frames):
        raise ValueError(f"{in_flight} in flight needs more than {len(probe.frames)} slots")
    frames, slot_of = probe.frames, probe.reply.slot
    send, recv, clock = wire.sock.send, wire.sock.recv, time.perf_counter
    out: dict[int, float] = {}  # slot -> when it was sent
    free = deque(range(len(frames)))
    answered = lost = 0
    wire.set_timeout(LOSS_SECONDS)
    start = clock()
    deadline = start + seconds
    for _ in range(in_flight):
        slot = free.popleft()
        out[slot] = start
        send(frames[slot])
    while True:
        try:
            frame = recv(RECV_BYTES)
        except (BlockingIOError, TimeoutError):
            frame = None
        if frame is not None:
            slot = slot_of(frame)
            if slot is not None and slot in out:
                del out[slot]
                free.append(slot)
                answered += 1
                slot = free.popleft()
                out[slot] = clock()
                send(frames[slot])
                if answered & 63:
                    continue
            else:
                wire.answer_arp(frame)
        now = clock()
        if now >= deadline:
            break
        for slot, sent in list(out.items()):
            if now - sent > LOSS_SECONDS:
                del out[slot]
                free.append(slot)
                lost += 1
                slot = free.popleft()
                out[slot] = now
                send(frames[slot])
    elapsed = clock() - start
    if answered == 0:
        raise MachineError(
            f"it answered none of the {probe.size} B {probe.name} frames sent over {elapsed:.1f} s"
        )
    wire.drain(DRAIN_SECONDS)  # the last window's answers: not counted
    return RateResult(answered, elapsed, lost)


# --------------------------------------------------------------------------
# The benchmark


@dataclass
class Side:
    """One guest and its wire."""

    name: str
    machine: Machine
    wire: Wire
    bounced: bool  # the e1000echo ceiling: frames come back unchanged
    running: bool = True

    def icmp(self, size: int) -> Probe:
        return icmp_probe(size, self.bounced)

    def udp(self, size: int) -> Probe:
        return udp_probe(size, self.bounced)


class Sides:
    """Both guests; at most one runs while the other waits, paused."""

    def __init__(self, stack: Side, ceiling: Side) -> None:
        self.stack = stack
        self.ceiling = ceiling

    def only(self, side: Side) -> Side:
        for other in (self.stack, self.ceiling):
            if other is not side and other.running:
                other.machine.qmp("stop")
                other.running = False
        if not side.running:
            side.machine.qmp("cont")
            side.running = True
        side.wire.drain(DRAIN_SECONDS)
        return side

    def on(self, side: Side, work: Callable[..., T], *args: object) -> T:
        """work(wire, *args) on the wire of `side`, the only guest running.
        If the guest stops answering, say whether it panicked or exited."""
        self.only(side)
        try:
            return work(side.wire, *args)
        except MachineError as e:
            side.machine.command("version", timeout=2.0)  # raises GuestPanic, QemuExited
            raise MachineError(f"the {side.name} guest: {e}") from e


@dataclass
class NetFigures:
    """Everything measured, before it becomes rows."""

    rtt: dict[str, RttResult] = field(default_factory=dict)  # by side
    rates: dict[tuple[str, int], list[RateResult]] = field(default_factory=dict)  # (kind, size)
    arp_answered: int = 0

    def rate_list(self, kind: str, size: int) -> list[float]:
        return [r.rate for r in self.rates.get((kind, size), [])]

    def lost(self, kind: str, size: int) -> int:
        return sum(r.lost for r in self.rates.get((kind, size), []))


def measure(
    sides: Sides,
    *,
    sizes: Sequence[int] = FRAME_SIZES,
    rounds: int = ROUNDS,
    seconds: float = RATE_SECONDS,
    pings: int = RTT_PINGS,
    in_flight: int = IN_FLIGHT,
) -> NetFigures:
    """Alternate between the stack and the ceiling, round after round."""
    figures = NetFigures(rtt={"stack": RttResult(), "ceiling": RttResult()})
    probes = {
        (kind, size): (side, side.icmp(size) if kind != "udp" else side.udp(size))
        for size in sorted({*sizes, RTT_SIZE})
        for kind, side in (("icmp", sides.stack), ("udp", sides.stack), ("ceiling", sides.ceiling))
    }
    for round_ in range(rounds):
        share = pings // rounds + (1 if round_ < pings % rounds else 0)
        for kind, side in (("stack", sides.stack), ("ceiling", sides.ceiling)):
            probe = probes[("icmp" if kind == "stack" else "ceiling", RTT_SIZE)][1]
            got = sides.on(side, round_trips, probe, share)
            figures.rtt[kind].samples += got.samples
            figures.rtt[kind].lost += got.lost
        for size in sizes:
            for kind in ("icmp", "ceiling", "udp"):  # the ceiling next to both
                side, probe = probes[(kind, size)]
                result = sides.on(side, echo_rate, probe, in_flight, seconds)
                figures.rates.setdefault((kind, size), []).append(result)
    figures.arp_answered = sides.stack.wire.arp_answered
    return figures


def figures_to_rows(
    figures: NetFigures,
    *,
    sizes: Sequence[int] = FRAME_SIZES,
    rounds: int = ROUNDS,
    seconds: float = RATE_SECONDS,
    in_flight: int = IN_FLIGHT,
) -> list[BenchRow]:
    rows: list[BenchRow] = []
    for kind, label in (("stack", "ICMP echo"), ("ceiling", "ceiling (e1000echo)")):
        rtt = figures.rtt[kind]
        micro = [s * 1e6 for s in rtt.samples]
        lost = f", {rtt.lost} lost" if rtt.lost else ""
        name = f"{label} RTT, {RTT_SIZE} B, 1 in flight ({len(micro)} round trips{lost})"
        rows.append(BenchRow(name, samples=micro, unit="us"))
        p99 = [percentile(micro, 99)] if micro else []
        rows.append(BenchRow(f"{label} RTT p99", samples=p99, unit="us"))
    how = f"{in_flight} in flight ({rounds} x {seconds:g} s)"
    for size in sizes:
        for kind, label in (
            ("icmp", "ICMP echo rate"),
            ("udp", "UDP echo rate (port 7)"),
            ("ceiling", "ceiling rate (e1000echo)"),
        ):
            lost = figures.lost(kind, size)
            note = f", {lost} lost" if lost else ""
            name = f"{label}, {size} B, {how}{note}"
            rows.append(BenchRow(name, samples=figures.rate_list(kind, size), unit="/s"))
        ceiling = figures.rate_list("ceiling", size)
        for kind, label in (("icmp", "ICMP"), ("udp", "UDP")):
            rows.append(
                BenchRow(
                    f"{label} rate / ceiling rate, {size} B",
                    samples=ratios(figures.rate_list(kind, size), ceiling),
                    target=RATIO_TARGET,
                    unit="%",
                    at_least=True,
                )
            )
    return rows


def error_rows(message: str, sizes: Sequence[int] = FRAME_SIZES) -> list[BenchRow]:
    """The target rows, failed, when the network benchmark could not run."""
    return [
        BenchRow(f"{label} rate / ceiling rate, {size} B", target=RATIO_TARGET, unit="%",
                 at_least=True, error=message)
        for size in sizes
        for label in ("ICMP", "UDP")
    ]  # fmt: skip


@contextlib.contextmanager
def _sides(kernel: Path, rundir: Path) -> Iterator[Sides]:
    with contextlib.ExitStack() as stack:
        sides: list[Side] = []
        for name, args in (("stack", ()), ("ceiling", ("-append", "e1000echo"))):
            wire = Wire.open()
            stack.callback(wire.close)
            machine = Machine(kernel, rundir / f"net-{name}", wire.options(*args))
            stack.callback(machine.shutdown)
            sides.append(Side(name, machine, wire, bounced=name == "ceiling"))
        for side in sides:
            out = side.machine.boot()
            if side.bounced and "e1000echo: echoing every frame" not in out:
                raise MachineError(
                    "the kernel booted with -append e1000echo did not start its echo loop:\n"
                    + out[-500:]
                )
        yield Sides(*sides)


def run_net_benchmarks(
    kernel: Path,
    rundir: Path,
    *,
    sizes: Sequence[int] = FRAME_SIZES,
    rounds: int = ROUNDS,
    seconds: float = RATE_SECONDS,
    pings: int = RTT_PINGS,
    echo: Echo = print,
) -> list[BenchRow]:
    try:
        with _sides(kernel, rundir) as sides:
            for side in (sides.stack, sides.ceiling):
                sides.on(side, wait_ready, side.icmp(RTT_SIZE))
            echo(
                f"timing the network: {pings} pings and {rounds} rounds of {seconds:g} s "
                f"with {IN_FLIGHT} in flight per probe ({', '.join(f'{s} B' for s in sizes)}), "
                "stack against e1000echo ..."
            )
            figures = measure(sides, sizes=sizes, rounds=rounds, seconds=seconds, pings=pings)
    except (FinchError, OSError) as e:
        return error_rows(_first_line(e), sizes)
    return figures_to_rows(figures, sizes=sizes, rounds=rounds, seconds=seconds)


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
