"""TCP measurements against any guest whose services a client can reach:
the Linux reference guest today (finch.linuxbench), Finch once it has
TCP.  Each function takes a TcpService (an address and three ports) and
knows nothing about the guest behind it.

The guest offers three services (the classic ports inside the guest):

    discard, 9   reads until the client shuts down its sending side, then
                 answers with the number of bytes it received in decimal
                 and a newline, and closes ("discard and count")
    source, 19   sends bytes (zeros, say, as chargen sends text) until the
                 client closes, or at least as many as the client reads
    echo, 7      sends back what it reads until the client closes

The measurements, from the client (the host, or a process in the tap
path's network namespace):

    host->guest  connect, send `size` bytes, shut down, read the count:
                 timed from connect to the count, which must be `size`
    guest->host  connect, read `size` bytes: timed from connect to the
                 last byte
    short conns  one after another for `seconds`: connect, send 64 bytes,
                 read the 64 back, close; connections per second

measure_rounds() interleaves guests round after round (each guest runs
all three per round, alone if its `turn` pauses the others), and
tcp_rows() / ratio_rows() make finch.benchrow rows of the figures.  The
network a guest's e1000 sits on is a GuestNetwork: QEMU's user networking
with host ports forwarded (user_network), or a tap in a private network
namespace (finch.netns), whose client runs there under `ip netns exec`
(NetnsClient runs finch.cli.tcpprobe).
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from finch.benchrow import BenchRow
from finch.errors import FinchError
from finch.netns import Netns
from finch.qemu_args import QEMU, QemuOptions

DISCARD_PORT = 9
SOURCE_PORT = 19
ECHO_PORT = 7
GUEST_PORTS = (DISCARD_PORT, SOURCE_PORT, ECHO_PORT)

TRANSFER_BYTES = 64 << 20
ECHO_BYTES = 64
CONNECT_SECONDS = 2.0  # per round of short connections
ROUNDS = 5
TRANSFER_TIMEOUT = 120.0  # 64 MiB at 0.5 MB/s: a guest this slow is broken
CONNECT_TIMEOUT = 10.0
READY_TIMEOUT = 60.0
RATIO_TARGET = 100.0  # percent: Finch at or above the Linux guest

CHUNK = 1 << 20
MB = 1e6  # throughput rows are in MB/s: 10**6 bytes per second
E1000 = "e1000,netdev=net0"
NETDEV_ID = "net0"


class TcpBenchError(FinchError):
    """A guest's TCP service did not do what the measurement needs."""


@dataclass(frozen=True)
class TcpService:
    """Where a client reaches a guest's discard, source and echo services."""

    host: str
    discard: int = DISCARD_PORT
    source: int = SOURCE_PORT
    echo: int = ECHO_PORT


@dataclass(frozen=True)
class Transfer:
    bytes: int
    seconds: float

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / MB


@dataclass(frozen=True)
class Connections:
    count: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds


# --------------------------------------------------------------------------
# One measurement


def parse_count(reply: bytes) -> int:
    """The byte count a discard service answered: decimal digits and a
    newline.  Anything else says what the service said."""
    text = reply.decode("ascii", errors="replace").strip()
    if not text.isdigit():
        raise TcpBenchError(
            f"the discard service answered {text[:80]!r}, not a byte count: "
            "it must answer the number of bytes it received when the client shuts down"
        )
    return int(text)


def _connect(service: TcpService, port: int, timeout: float) -> socket.socket:
    try:
        sock = socket.create_connection((service.host, port), timeout=timeout)
    except OSError as e:
        raise TcpBenchError(f"cannot connect to {service.host}:{port}: {e}") from e
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_to_discard(
    service: TcpService, size: int = TRANSFER_BYTES, timeout: float = TRANSFER_TIMEOUT
) -> Transfer:
    """`size` bytes into the discard service, timed until it confirms."""
    zeros = memoryview(bytes(CHUNK))
    start = time.perf_counter()
    with _connect(service, service.discard, timeout) as sock:
        try:
            left = size
            while left:
                left -= sock.send(zeros[: min(left, CHUNK)])
            sock.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := sock.recv(256):
                reply += chunk
        except OSError as e:
            raise TcpBenchError(
                f"sending {size} B to the discard service at {service.host}:{service.discard} "
                f"failed with {size - left} B sent: {e}"
            ) from e
        elapsed = time.perf_counter() - start
    got = parse_count(reply)
    if got != size:
        raise TcpBenchError(
            f"the discard service at {service.host}:{service.discard} received {got} B "
            f"of the {size} B sent"
        )
    return Transfer(size, elapsed)


def receive_from_source(
    service: TcpService, size: int = TRANSFER_BYTES, timeout: float = TRANSFER_TIMEOUT
) -> Transfer:
    """`size` bytes out of the source service, timed at the last byte."""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    start = time.perf_counter()
    got = 0
    with _connect(service, service.source, timeout) as sock:
        try:
            while got < size:
                n = sock.recv_into(view, min(size - got, CHUNK))
                if n == 0:
                    break
                got += n
        except OSError as e:
            raise TcpBenchError(
                f"reading from the source service at {service.host}:{service.source} failed "
                f"after {got} of {size} B: {e}"
            ) from e
        elapsed = time.perf_counter() - start
    if got < size:
        raise TcpBenchError(
            f"the source service at {service.host}:{service.source} closed after {got} of {size} B"
        )
    return Transfer(size, elapsed)


def echo_once(service: TcpService, payload: bytes, timeout: float = CONNECT_TIMEOUT) -> None:
    """One short connection: connect, send `payload`, read it back, close."""
    with _connect(service, service.echo, timeout) as sock:
        try:
            sock.sendall(payload)
            back = b""
            while len(back) < len(payload):
                chunk = sock.recv(len(payload) - len(back))
                if not chunk:
                    break
                back += chunk
        except OSError as e:
            raise TcpBenchError(
                f"the echo service at {service.host}:{service.echo} failed: {e}"
            ) from e
    if back != payload:
        raise TcpBenchError(
            f"the echo service at {service.host}:{service.echo} sent back {len(back)} B "
            f"that differ from the {len(payload)} B sent"
        )


def short_connections(
    service: TcpService, seconds: float = CONNECT_SECONDS, size: int = ECHO_BYTES
) -> Connections:
    """Short connections one after another for `seconds` (the last one
    started is finished and counted)."""
    payload = bytes(0x20 + i % 95 for i in range(size))  # printable
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        echo_once(service, payload)
        count += 1
    return Connections(count, time.perf_counter() - start)


def wait_until_echoes(service: TcpService, timeout: float = READY_TIMEOUT) -> float:
    """Try one short connection every 100 ms or so until one works;
    returns how long that took.  Through user networking a connection is
    accepted by QEMU at once and fails only once QEMU cannot reach the
    guest, so each try has a short timeout."""
    start = time.perf_counter()
    deadline = start + timeout
    last: Exception | None = None
    while (left := deadline - time.perf_counter()) > 0:
        try:
            echo_once(service, b"ready?\n", timeout=min(1.0, max(left, 0.05)))
            return time.perf_counter() - start
        except TcpBenchError as e:
            last = e
            time.sleep(0.1)
    raise TcpBenchError(
        f"the guest's echo service at {service.host}:{service.echo} did not answer "
        f"within {timeout:g} s (last: {last})"
    )


# --------------------------------------------------------------------------
# Clients: in this process, or in a network namespace


class Client(Protocol):
    """Runs the three measurements against one guest."""

    def send(self, size: int) -> Transfer: ...
    def receive(self, size: int) -> Transfer: ...
    def connections(self, seconds: float) -> Connections: ...
    def wait_ready(self, timeout: float) -> float: ...


@dataclass(frozen=True)
class LocalClient:
    service: TcpService

    def send(self, size: int) -> Transfer:
        return send_to_discard(self.service, size)

    def receive(self, size: int) -> Transfer:
        return receive_from_source(self.service, size)

    def connections(self, seconds: float) -> Connections:
        return short_connections(self.service, seconds)

    def wait_ready(self, timeout: float) -> float:
        return wait_until_echoes(self.service, timeout)


@dataclass(frozen=True)
class NetnsClient:
    """Each measurement in a fresh `ip netns exec NETNS python -m
    finch.cli.tcpprobe ...`, which times itself and prints JSON."""

    service: TcpService
    netns: str
    python: str = sys.executable

    def argv(self, kind: str, port: int, amount: int | float) -> list[str]:
        return [
            "ip", "netns", "exec", self.netns,
            self.python, "-m", "finch.cli.tcpprobe", kind, self.service.host, str(port),
            str(amount),
        ]  # fmt: skip

    def send(self, size: int) -> Transfer:
        got = self._run(self.argv("send", self.service.discard, size))
        return Transfer(int(got["bytes"]), float(got["seconds"]))

    def receive(self, size: int) -> Transfer:
        got = self._run(self.argv("receive", self.service.source, size))
        return Transfer(int(got["bytes"]), float(got["seconds"]))

    def connections(self, seconds: float) -> Connections:
        got = self._run(self.argv("connect", self.service.echo, seconds))
        return Connections(int(got["count"]), float(got["seconds"]))

    def wait_ready(self, timeout: float) -> float:
        got = self._run(self.argv("ready", self.service.echo, timeout))
        return float(got["seconds"])

    def _run(self, argv: list[str]) -> dict[str, float]:
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=TRANSFER_TIMEOUT + 30, check=False
            )
        except subprocess.TimeoutExpired as e:
            raise TcpBenchError(f"{' '.join(argv)} did not finish in time") from e
        return parse_probe_output(proc.stdout, proc.stderr, proc.returncode, argv)


def parse_probe_output(stdout: str, stderr: str, returncode: int, argv: list[str]) -> dict:
    """What finch.cli.tcpprobe printed: one JSON object, with "error" on failure."""
    try:
        got = json.loads(stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        got = None
    if not isinstance(got, dict):
        raise TcpBenchError(
            f"{' '.join(argv)} exited {returncode} without a result: {stderr.strip()[-500:]}"
        )
    if "error" in got:
        raise TcpBenchError(str(got["error"]))
    return got


def probe_result(kind: str, result: Transfer | Connections | float) -> dict[str, object]:
    """The JSON object finch.cli.tcpprobe prints for a result (a float:
    the seconds wait_until_echoes waited)."""
    if isinstance(result, float):
        return {"kind": kind, "seconds": result}
    if isinstance(result, Transfer):
        return {"kind": kind, "bytes": result.bytes, "seconds": result.seconds}
    return {"kind": kind, "count": result.count, "seconds": result.seconds}


# --------------------------------------------------------------------------
# Networks: where the guest's e1000 is, and how a client reaches it


@dataclass(frozen=True)
class GuestNetwork:
    """A -netdev for the guest's e1000 and the client that reaches its
    services.  `qemu` is argv[0] (a wrapper that enters the namespace of
    a tap)."""

    netdev: str
    client: Client
    qemu: str = QEMU

    def qemu_options(self, base: QemuOptions | None = None) -> QemuOptions:
        """`base` (default: Finch's defaults) with an e1000 on this network."""
        base = base or QemuOptions()
        return replace(
            base,
            netdevs=[*base.netdevs, self.netdev],
            devices=[*base.devices, E1000],
            qemu=self.qemu,
        )


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hostfwd_netdev(forwards: Sequence[tuple[int, int]]) -> str:
    """QEMU's user networking with (host port, guest port) pairs forwarded
    from 127.0.0.1, as `finch run` sets it up for UDP."""
    rules = "".join(f",hostfwd=tcp:127.0.0.1:{host}-:{guest}" for host, guest in forwards)
    return f"user,id={NETDEV_ID}{rules}"


def user_network(
    host_ports: Sequence[int] | None = None, extra: Sequence[tuple[int, int]] = ()
) -> GuestNetwork:
    """User networking with the three services forwarded from host ports
    (free ones unless given: discard, source, echo), and the `extra`
    (host port, guest port) pairs."""
    ports = list(host_ports) if host_ports else [free_tcp_port() for _ in GUEST_PORTS]
    service = TcpService("127.0.0.1", *ports)
    forwards = [*zip(ports, GUEST_PORTS, strict=True), *extra]
    return GuestNetwork(hostfwd_netdev(forwards), LocalClient(service))


def tap_network(ns: Netns, guest_ip: str, wrapper_dir: Path) -> GuestNetwork:
    """The e1000 on the tap of a private namespace (finch.netns): QEMU runs
    there through a wrapper script in `wrapper_dir`, and so does the
    client, which reaches the guest's own ports at `guest_ip`."""
    return GuestNetwork(
        ns.netdev,
        NetnsClient(TcpService(guest_ip), ns.name),
        qemu=str(ns.qemu_wrapper(wrapper_dir)),
    )


# --------------------------------------------------------------------------
# Rounds and rows


@dataclass
class TcpFigures:
    """One guest's samples, a round each."""

    sent: list[Transfer] = field(default_factory=list)  # host->guest
    received: list[Transfer] = field(default_factory=list)  # guest->host
    connections: list[Connections] = field(default_factory=list)
    error: str | None = None


class Pausable(Protocol):
    def qmp(self, cmd: str, /) -> object: ...


class Turns:
    """Guests that take turns: at most one runs, the others wait paused
    (QMP stop and cont), so that each is measured with the host's CPUs
    to itself, as netbench does with its two guests."""

    def __init__(self) -> None:
        self._machines: list[Pausable] = []
        self._running: dict[int, bool] = {}

    def turn_for(self, machine: Pausable) -> Callable[[], None]:
        """A TcpGuest.turn for `machine`: pause the others, resume it."""
        self._machines.append(machine)
        self._running[id(machine)] = True

        def turn() -> None:
            for other in self._machines:
                if other is not machine and self._running[id(other)]:
                    other.qmp("stop")
                    self._running[id(other)] = False
            if not self._running[id(machine)]:
                machine.qmp("cont")
                self._running[id(machine)] = True

        return turn


@dataclass
class TcpGuest:
    """A guest in the rounds: a name for its rows, its client, and what
    to do before its turn (resume it, pause the others)."""

    name: str
    client: Client
    turn: Callable[[], None] = lambda: None


Echo = Callable[[str], None]


def measure_rounds(
    guests: Sequence[TcpGuest],
    *,
    rounds: int = ROUNDS,
    size: int = TRANSFER_BYTES,
    seconds: float = CONNECT_SECONDS,
    echo: Echo = lambda line: None,
) -> dict[str, TcpFigures]:
    """Round after round, each guest in turn: host->guest, guest->host,
    short connections.  A guest that fails keeps its error and sits out
    the rounds that follow; the others go on."""
    figures = {guest.name: TcpFigures() for guest in guests}
    for round_ in range(1, rounds + 1):
        for guest in guests:
            mine = figures[guest.name]
            if mine.error is not None:
                continue
            try:
                guest.turn()
                mine.sent.append(guest.client.send(size))
                mine.received.append(guest.client.receive(size))
                mine.connections.append(guest.client.connections(seconds))
            except FinchError as e:
                mine.error = str(e).splitlines()[0]
                continue
            echo(
                f"  round {round_}/{rounds} {guest.name}: "
                f"{mine.sent[-1].mb_per_s:.1f} MB/s in, {mine.received[-1].mb_per_s:.1f} MB/s "
                f"out, {mine.connections[-1].per_s:.0f} conn/s"
            )
    return figures


ROW_KINDS = ("sent", "received", "connections")


def row_name(kind: str, guest: str, size: int = TRANSFER_BYTES) -> str:
    mib = f"{size / (1 << 20):g} MiB"
    return {
        "sent": f"TCP host->guest, {mib} into discard ({guest})",
        "received": f"TCP guest->host, {mib} from source ({guest})",
        "connections": f"TCP short connections, {ECHO_BYTES} B echo ({guest})",
    }[kind]


def samples(figures: TcpFigures, kind: str) -> list[float]:
    if kind == "connections":
        return [c.per_s for c in figures.connections]
    return [t.mb_per_s for t in getattr(figures, kind)]


def tcp_rows(guest: str, figures: TcpFigures, size: int = TRANSFER_BYTES) -> list[BenchRow]:
    """Three reference rows: MB/s in, MB/s out, connections per second."""
    return [
        BenchRow(
            row_name(kind, guest, size),
            samples=samples(figures, kind),
            unit="/s" if kind == "connections" else "MB/s",
            error=figures.error,
        )
        for kind in ROW_KINDS
    ]


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Round by round, numerator / denominator in percent (pairs where
    both exist and the denominator is not zero)."""
    return [100.0 * n / d for n, d in zip(numerators, denominators, strict=False) if d]


def ratio_rows(
    guest: str,
    figures: TcpFigures,
    reference: str,
    reference_figures: TcpFigures,
    target: float | None = RATIO_TARGET,
) -> list[BenchRow]:
    """Three rows: `guest` over `reference`, round by round, in percent,
    with `target` for the median (None: for reference)."""
    error = figures.error or reference_figures.error
    short = {"sent": "host->guest", "received": "guest->host", "connections": "connections/s"}
    return [
        BenchRow(
            f"TCP {short[kind]}: {guest} / {reference}",
            samples=ratios(samples(figures, kind), samples(reference_figures, kind)),
            target=target,
            unit="%",
            at_least=True,
            error=error,
        )
        for kind in ROW_KINDS
    ]


def spread(values: Sequence[float]) -> float:
    """(max - min) / median, in percent: how noisy a row was."""
    if len(values) < 2:
        return 0.0
    return 100.0 * (max(values) - min(values)) / statistics.median(values)
