"""The TCP rows of `finch bench`: Finch serving kexts/inetd, measured
against the Linux reference guest in the same run (finch.linuxbench,
finch.tcpbench).

    rows = run_tcp_benchmarks(tree, kernel, rundir, tap=True, echo=print)

Finch boots on QEMU's user networking (host ports forwarded to inetd's
discard, chargen and echo) and, with `tap`, on a tap in a private network
namespace (finch.netns), each with `noudpecho` and inetd loaded over the
host link (an InetdGuest).  Then linuxbench.run_tcp_comparison boots the
Linux guests beside them and measures every guest in turn, round after
round: 64 MiB into discard, 64 MiB out of chargen, short connections; the
rows are each guest's figures and Finch over Linux, in percent.

Besides those: the kernel memory one idle established connection costs
on Finch (the heap bytes `mem` shows in use, over IDLE_CONNECTIONS
connections to echo, each confirmed by an echoed byte; inetd's own
per-connection record is counted apart, as the Linux row counts the
kernel only), and where Finch's time goes during one transfer each way
on user networking: each kernel thread's share of the CPU ticks `ps`
counted meanwhile (the DLIL input thread runs IP and TCP input; inetd's
worker runs the sends, and TCP output with them; idle is time the guest
waited for the host), and the functions the kernel's profiler (`prof`)
sampled most, each with the chain of callers it was reached from most.

A kernel without TCP gets every TCP row as "n/a (no TCP)", neither pass
nor fail: inetd loads and says it offers no TCP service, and the Linux
guests are not booted for nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from finch.benchrow import BenchRow
from finch.build import Tree
from finch.errors import FinchError
from finch.heapstats import HeapSnapshot
from finch.kext.guest import KextGuest, kext_options
from finch.linuxbench import (
    FINCH_TAP,
    FINCH_USER,
    IDLE_CONNECTIONS,
    PAIRS,
    run_tcp_comparison,
)
from finch.linuxguest import GATEWAY, GUEST_ADDRESS, PREFIX_LEN
from finch.machine import Machine
from finch.netns import private_netns
from finch.qemu_args import QemuOptions
from finch.services import INETD, INETD_ID, NO_UDP_ECHO
from finch.tcpbench import (
    CONNECT_SECONDS,
    ROUNDS,
    ROW_KINDS,
    TRANSFER_BYTES,
    GuestNetwork,
    LocalClient,
    TcpBenchError,
    TcpGuest,
    TcpService,
    Turns,
    receive_from_source,
    row_name,
    send_to_discard,
    tap_network,
    user_network,
)

NO_TCP = "n/a (no TCP)"
NO_TCP_LINE = "not offered: this kernel has no TCP"
SERVING = r"inetd: serving[^\n]*\n"
LOAD_TIMEOUT = 30.0
READY_TIMEOUT = 30.0
MEMORY_ROW = "Finch kernel memory per idle TCP connection (heap, {n} connections)"

Echo = Callable[[str], None]


class InetdGuest:
    """A Finch guest on `network` with inetd loaded: boot() launches it,
    loads inetd over the host link and says whether inetd offers TCP;
    always shut down on exit."""

    def __init__(self, kernel: Path, kexts_dir: Path, rundir: Path, network: GuestNetwork) -> None:
        self.network = network
        base = QemuOptions(extra_args=("-append", NO_UDP_ECHO))
        self.machine = Machine(kernel, rundir, kext_options(network.qemu_options(base)))
        self.guest = KextGuest(self.machine, kexts_dir)
        self.has_tcp = False

    def __enter__(self) -> InetdGuest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.machine.shutdown()

    def boot(self) -> bool:
        """Boot, load inetd; True if it serves TCP (then its echo answers)."""
        self.machine.boot()
        self.guest.wait_ready()
        start = len(self.machine.console_text())
        self.guest.load(self.guest.bundle(INETD))
        self.machine.expect(SERVING, timeout=LOAD_TIMEOUT)
        self.has_tcp = NO_TCP_LINE not in self.machine.console_text()[start:]
        if self.has_tcp:
            self.network.client.wait_ready(READY_TIMEOUT)
        return self.has_tcp

    def heap(self) -> HeapSnapshot:
        return self.guest.heap()


# --------------------------------------------------------------------------
# Kernel memory per idle connection


@dataclass(frozen=True)
class FinchIdleMemory:
    connections: int
    heap_bytes: int  # the kernel heap in use, inetd's records left out
    inetd_bytes: int  # inetd's OSMalloc tag: its record of each connection

    @property
    def per_connection(self) -> float:
        return self.heap_bytes / self.connections


def tag_bytes(snapshot: HeapSnapshot, tag: str) -> int:
    return sum(t.bytes for t in snapshot.tags if t.name == tag)


def idle_memory(before: HeapSnapshot, after: HeapSnapshot, connections: int) -> FinchIdleMemory:
    """What `connections` idle connections added, kernel and inetd apart."""
    inetd = tag_bytes(after, INETD_ID) - tag_bytes(before, INETD_ID)
    return FinchIdleMemory(connections, before.leaked_bytes(after) - inetd, inetd)


def measure_idle_memory(
    guest: InetdGuest, service: TcpService, connections: int = IDLE_CONNECTIONS
) -> FinchIdleMemory:
    """Open `connections` to echo, each confirmed by one echoed byte, take
    `mem`, and close them."""
    before = guest.heap()
    with contextlib.ExitStack() as stack:
        for _ in range(connections):
            sock = stack.enter_context(
                socket.create_connection((service.host, service.echo), timeout=10.0)
            )
            sock.sendall(b"!")
            if sock.recv(1) != b"!":
                raise TcpBenchError(
                    f"inetd's echo at {service.host}:{service.echo} stopped echoing"
                )
        after = guest.heap()
    return idle_memory(before, after, connections)


def memory_row(memory: FinchIdleMemory) -> BenchRow:
    return BenchRow(
        MEMORY_ROW.format(n=memory.connections), samples=[memory.per_connection], unit="B"
    )


# --------------------------------------------------------------------------
# Where the time goes


_PS_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+\S+\s+(\S+)\s+0x[0-9a-f]+\s+(\d+)\s+\d+\s*$", re.M)
WORKER = "inetd worker"


def parse_ps(text: str) -> dict[int, tuple[str, str, int]]:
    """The monitor's `ps`: thread id -> (name, what it waits for, CPU ticks)."""
    return {int(m[1]): (m[2], m[3], int(m[4])) for m in _PS_ROW.finditer(text)}


def cpu_shares(
    before: dict[int, tuple[str, str, int]], after: dict[int, tuple[str, str, int]]
) -> dict[str, float]:
    """Each thread's share of the ticks counted between two `ps`, in
    percent, largest first.  inetd's worker has no name of its own (the
    KPI gives a kext's thread none): it is the thread asleep on "inetd"."""
    ticks: dict[str, int] = {}
    for tid, (name, _, count) in after.items():
        old = before.get(tid)
        waits = {old[1] if old else "", after[tid][1]}
        label = WORKER if "inetd" in waits else name
        ticks[label] = ticks.get(label, 0) + count - (old[2] if old else 0)
    total = sum(ticks.values())
    if total <= 0:
        return {}
    shares = {name: 100.0 * n / total for name, n in ticks.items() if n > 0}
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


_PROF_ROW = re.compile(r"^\s*(\d+)\s+(\d+)%  (.+)$", re.M)
PROFILE_ROWS = 6  # functions per direction


def parse_prof(text: str, top: int = PROFILE_ROWS) -> list[tuple[str, float]]:
    """The monitor's `prof` report: (function < its callers most sampled,
    share in percent) for the `top` functions sampled most."""
    found = []
    for m in _PROF_ROW.finditer(text):
        function, _, chains = m.group(3).partition(", from ")
        chain = re.sub(r" \(\d+\)$", "", chains.split(", ")[0]) if chains else ""
        found.append((f"{function} < {chain}" if chain else function, float(m.group(2))))
    return found[:top]


def measure_cpu(guest: InetdGuest, service: TcpService, size: int) -> list[BenchRow]:
    """One transfer each way: each thread's share of the guest's CPU
    (`ps`), and the functions the profiler sampled most (`prof`), each
    with the callers it was reached from most."""
    rows = []
    for what, transfer in (("in", send_to_discard), ("out", receive_from_source)):
        before = parse_ps(guest.machine.command("ps"))
        guest.machine.command("prof start")
        transfer(service, size)
        profile = parse_prof(guest.machine.command("prof stop"))
        shares = cpu_shares(before, parse_ps(guest.machine.command("ps")))
        where = f"{size >> 20} MiB {what} ({FINCH_USER})"
        rows += [
            BenchRow(f"Finch CPU during {where}: {name}", samples=[share], unit="%")
            for name, share in shares.items()
        ]
        rows += [
            BenchRow(f"Finch profile during {where}: {name}", samples=[share], unit="%")
            for name, share in profile
        ]
    return rows


# --------------------------------------------------------------------------
# Rows


def no_tcp_rows(networks: tuple[str, ...], size: int = TRANSFER_BYTES) -> list[BenchRow]:
    """Every TCP row of Finch, marked n/a: the kernel has no TCP."""
    rows = [BenchRow(row_name(kind, net, size), note=NO_TCP) for net in networks
            for kind in ROW_KINDS]  # fmt: skip
    short = {"sent": "host->guest", "received": "guest->host", "connections": "connections/s"}
    rows += [
        BenchRow(f"TCP {short[kind]}: {guest} / {reference}", unit="%", note=NO_TCP)
        for guest, reference, _ in PAIRS
        if guest in networks
        for kind in ROW_KINDS
    ]
    rows.append(BenchRow(MEMORY_ROW.format(n=IDLE_CONNECTIONS), unit="B", note=NO_TCP))
    return rows


@contextlib.contextmanager
def finch_guests(
    kernel: Path,
    kexts_dir: Path,
    rundir: Path,
    turns: Turns,
    *,
    tap: bool,
    echo: Echo,
) -> Iterator[list[tuple[InetdGuest, TcpGuest]]]:
    """Finch with inetd on user networking and, with `tap`, on a tap in a
    private namespace; each with its TcpGuest (turns from `turns`).
    Empty when the kernel has no TCP."""
    with contextlib.ExitStack() as stack:
        network = user_network()
        user = stack.enter_context(InetdGuest(kernel, kexts_dir, rundir / "finch-user", network))
        echo("booting Finch on user networking and loading inetd ...")
        if not user.boot():
            yield []
            return
        guests = [(user, TcpGuest(FINCH_USER, network.client, turns.turn_for(user.machine)))]
        if tap:
            ns = stack.enter_context(
                private_netns(f"{GATEWAY}/{PREFIX_LEN}", name=f"finch-{os.getpid()}-finch")
            )
            tap_net = tap_network(ns, GUEST_ADDRESS, rundir / "finch-tap")
            guest = stack.enter_context(
                InetdGuest(kernel, kexts_dir, rundir / "finch-tap", tap_net)
            )
            turn = turns.turn_for(guest.machine)
            turn()  # the user-net guest waits, paused
            echo(f"booting Finch on a tap in network namespace {ns.name} ...")
            guest.boot()
            guests.append((guest, TcpGuest(FINCH_TAP, tap_net.client, turn)))
        yield guests


def run_tcp_benchmarks(
    tree: Tree,
    kernel: Path,
    kexts_dir: Path,
    rundir: Path,
    *,
    tap: bool = True,
    rounds: int = ROUNDS,
    size: int = TRANSFER_BYTES,
    seconds: float = CONNECT_SECONDS,
    echo: Echo = lambda line: None,
) -> list[BenchRow]:
    """Finch's TCP rows against the Linux reference, and Finch's memory
    per idle connection."""
    networks = (FINCH_USER, FINCH_TAP) if tap else (FINCH_USER,)
    turns = Turns()
    rows: list[BenchRow] = []
    try:
        with finch_guests(kernel, kexts_dir, rundir, turns, tap=tap, echo=echo) as finch:
            if not finch:
                echo("inetd offers no TCP service: the kernel has no TCP; TCP rows are n/a")
                return no_tcp_rows(networks, size)
            user, user_guest = finch[0]
            user_guest.turn()
            echo(f"measuring the kernel memory of {IDLE_CONNECTIONS} idle connections ...")
            assert isinstance(user.network.client, LocalClient)
            try:
                memory = measure_idle_memory(user, user.network.client.service)
                echo(
                    f"  {memory.per_connection:.0f} B per connection in the kernel heap "
                    f"(and {memory.inetd_bytes // memory.connections} B of inetd's own)"
                )
                rows.append(memory_row(memory))
            except FinchError as e:
                rows.append(BenchRow(MEMORY_ROW.format(n=IDLE_CONNECTIONS), unit="B",
                                     error=str(e).splitlines()[0]))  # fmt: skip
            echo("measuring where Finch's time goes (`ps` per thread, `prof` per function) ...")
            try:
                rows += measure_cpu(user, user.network.client.service, size)
            except FinchError as e:
                rows.append(BenchRow("Finch CPU per thread", error=str(e).splitlines()[0]))
            rows[:0] = run_tcp_comparison(
                tree,
                rundir,
                [g for _, g in finch],
                turns,
                rounds=rounds,
                size=size,
                seconds=seconds,
                memory=True,  # Linux's row, just before Finch's
                echo=echo,
            )
    except FinchError as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        rows.append(BenchRow("TCP: Finch with inetd", error=message))
    return rows
