"""The Linux reference for the TCP rows of `finch bench`: the Linux guest
(finch.linuxguest) booted on QEMU's user networking and, in a private
network namespace, on a tap, measured with finch.tcpbench.

    turns = Turns()
    with linux_reference(tree, rundir, turns, tap=True) as linux:
        figures = measure_rounds(linux.guests, rounds=5)
    rows = comparison_rows(figures)

`finch bench-linux` runs it alone (run_linux_benchmarks).  Once Finch has
TCP, `finch bench` boots Finch on a user_network() (and, for the tap
rows, on a tap_network() in a namespace of its own), gives each a turn
from one Turns, and calls run_tcp_comparison() with those TcpGuests,
named FINCH_USER and FINCH_TAP: Finch and Linux are measured in turn,
round after round, and the rows include Finch over Linux, round by
round, with a target of 100% (tcpbench.ratio_rows).

Besides the three measurements per network it reports how long the guest
takes to boot (QEMU launch to /init, and to the first echo through its
network), what a fork per connection costs (busybox `nc -ll -e cat`
against the single-process echo server), the kernel memory one idle
established connection holds (/proc/meminfo's Slab and /proc/slabinfo,
over IDLE_CONNECTIONS connections to the echo server, which forks
nothing), and the size of the cache under build/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from finch.benchrow import BenchRow
from finch.build import Tree
from finch.errors import FinchError
from finch.linuxguest import (
    FORKING_ECHO_PORT,
    GATEWAY,
    GUEST_ADDRESS,
    PREFIX_LEN,
    BootTimes,
    LinuxGuest,
    LinuxImages,
    ensure_images,
)
from finch.netns import private_netns
from finch.tcpbench import (
    CONNECT_SECONDS,
    RATIO_TARGET,
    ROUNDS,
    TRANSFER_BYTES,
    LocalClient,
    TcpFigures,
    TcpGuest,
    TcpService,
    Turns,
    free_tcp_port,
    measure_rounds,
    ratio_rows,
    short_connections,
    tap_network,
    tcp_rows,
    user_network,
)

LINUX_USER = "Linux, user net"
LINUX_TAP = "Linux, tap"
LINUX_TWIN = "Linux twin, user net"
IDLE_CONNECTIONS = 256
SLAB_CACHES = ("TCP", "sock_inode_cache")  # what an accepted TCP socket is made of

Echo = Callable[[str], None]


def linux_cache(tree: Tree) -> Path:
    return tree.build_dir / "linux-guest"


# --------------------------------------------------------------------------
# Kernel memory per idle connection (pure parts)


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo: name -> bytes (its figures are in kB)."""
    found = re.findall(r"^(\w+):\s+(\d+) kB$", text, re.MULTILINE)
    return {name: int(kb) * 1024 for name, kb in found}


@dataclass(frozen=True)
class SlabCache:
    active_objects: int
    object_size: int


def parse_slabinfo(text: str) -> dict[str, SlabCache]:
    """/proc/slabinfo (version 2.1): cache name -> objects in use and their size."""
    caches = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1].isdigit() and fields[3].isdigit():
            caches[fields[0]] = SlabCache(int(fields[1]), int(fields[3]))
    return caches


@dataclass(frozen=True)
class MemorySnapshot:
    meminfo: dict[str, int]
    slabs: dict[str, SlabCache]


@dataclass(frozen=True)
class IdleMemory:
    """What `connections` idle established connections added."""

    connections: int
    slab_bytes: int  # /proc/meminfo Slab
    socket_bytes: int  # the objects of SLAB_CACHES
    socket_caches: dict[str, int]  # cache -> objects added

    @property
    def slab_per_connection(self) -> float:
        return self.slab_bytes / self.connections

    @property
    def socket_per_connection(self) -> float:
        return self.socket_bytes / self.connections


def idle_memory(before: MemorySnapshot, after: MemorySnapshot, connections: int) -> IdleMemory:
    added = {
        name: after.slabs[name].active_objects - before.slabs[name].active_objects
        for name in SLAB_CACHES
        if name in before.slabs and name in after.slabs
    }
    socket = sum(count * after.slabs[name].object_size for name, count in added.items())
    slab = after.meminfo.get("Slab", 0) - before.meminfo.get("Slab", 0)
    return IdleMemory(connections, slab, socket, added)


def describe_idle_memory(memory: IdleMemory) -> str:
    objects = ", ".join(f"{name} +{count}" for name, count in memory.socket_caches.items())
    return (
        f"{memory.connections} idle connections: Slab +{memory.slab_bytes // 1024} KiB; "
        f"objects {objects or 'not in /proc/slabinfo'} ({memory.socket_bytes} B)"
    )


def memory_snapshot(guest: LinuxGuest) -> MemorySnapshot:
    return MemorySnapshot(
        parse_meminfo(guest.shell("cat /proc/meminfo")),
        parse_slabinfo(guest.shell("cat /proc/slabinfo")),
    )


def measure_idle_memory(
    guest: LinuxGuest, service: TcpService, connections: int = IDLE_CONNECTIONS
) -> IdleMemory:
    """Open `connections` to the echo server, each confirmed by one echoed
    byte (so the guest holds it established and idle), take the guest's
    memory figures, and close them."""
    before = memory_snapshot(guest)
    with contextlib.ExitStack() as stack:
        for _ in range(connections):
            sock = stack.enter_context(
                socket.create_connection((service.host, service.echo), timeout=10.0)
            )
            sock.sendall(b"!")
            if sock.recv(1) != b"!":
                raise FinchError(
                    f"the echo service at {service.host}:{service.echo} stopped echoing"
                )
        after = memory_snapshot(guest)
    return idle_memory(before, after, connections)


# --------------------------------------------------------------------------
# The guests


@dataclass
class LinuxReference:
    """The Linux guests, booted, each a TcpGuest for measure_rounds."""

    images: LinuxImages
    guests: list[TcpGuest] = field(default_factory=list)
    boots: list[BootTimes] = field(default_factory=list)
    user: LinuxGuest | None = None  # the guest on user networking
    forking_echo: TcpService | None = None  # its busybox nc -ll -e cat


@contextlib.contextmanager
def linux_reference(
    tree: Tree,
    rundir: Path,
    turns: Turns,
    *,
    tap: bool = True,
    twin: bool = False,
    echo: Echo = lambda line: None,
) -> Iterator[LinuxReference]:
    """Fetch (once) and boot the Linux guest on user networking, with
    `twin` a second one there too (LINUX_TWIN), and with `tap` one on a
    tap in a private namespace; every QEMU and the namespace are gone
    when this exits."""
    images = ensure_images(linux_cache(tree), echo=echo)
    if images.fetched:
        echo(
            f"cached {images.manifest.kernel_package} and busybox in {tree.relative(images.cache)}"
        )
    reference = LinuxReference(images)
    with contextlib.ExitStack() as stack:
        fork_port = free_tcp_port()
        network = user_network(extra=[(fork_port, FORKING_ECHO_PORT)])
        user = stack.enter_context(LinuxGuest(images, rundir / "linux-user", network))
        echo("booting the Linux guest on user networking ...")
        reference.boots.append(user.boot())
        reference.user = user
        reference.forking_echo = TcpService("127.0.0.1", echo=fork_port)
        reference.guests.append(TcpGuest(LINUX_USER, network.client, turns.turn_for(user.machine)))
        if twin:
            twin_net = user_network()
            guest = stack.enter_context(LinuxGuest(images, rundir / "linux-twin", twin_net))
            turn = turns.turn_for(guest.machine)
            turn()
            echo("booting its twin on user networking ...")
            reference.boots.append(guest.boot())
            reference.guests.append(TcpGuest(LINUX_TWIN, twin_net.client, turn))
        if tap:
            ns = stack.enter_context(
                private_netns(f"{GATEWAY}/{PREFIX_LEN}", name=f"finch-{os.getpid()}-linux")
            )
            tap_net = tap_network(ns, GUEST_ADDRESS, rundir / "linux-tap")
            guest = stack.enter_context(LinuxGuest(images, rundir / "linux-tap", tap_net))
            turn = turns.turn_for(guest.machine)
            turn()  # the guests booted before wait, paused
            echo(f"booting the Linux guest on a tap in network namespace {ns.name} ...")
            reference.boots.append(guest.boot())
            reference.guests.append(TcpGuest(LINUX_TAP, tap_net.client, turn))
        yield reference


# --------------------------------------------------------------------------
# Finch against Linux


FINCH_USER = "Finch, user net"
FINCH_TAP = "Finch, tap"
# A guest, its reference, and the target of its ratio rows.  The twin is a
# second Linux guest on user networking: its ratio to the first shows
# how far from 100% noise alone takes a ratio row on this machine.
PAIRS: tuple[tuple[str, str, float | None], ...] = (
    (FINCH_USER, LINUX_USER, RATIO_TARGET),
    (FINCH_TAP, LINUX_TAP, RATIO_TARGET),
    (LINUX_TWIN, LINUX_USER, None),
)


def comparison_rows(figures: dict[str, TcpFigures], size: int = TRANSFER_BYTES) -> list[BenchRow]:
    """Each guest's three rows, then each Finch guest over its Linux
    reference on the same network (PAIRS)."""
    rows: list[BenchRow] = []
    for name, mine in figures.items():
        rows += tcp_rows(name, mine, size)
    for guest, reference, target in PAIRS:
        if guest in figures and reference in figures:
            rows += ratio_rows(guest, figures[guest], reference, figures[reference], target)
    return rows


def comparison_error_rows(
    message: str, networks: tuple[str, ...] = (FINCH_USER,)
) -> list[BenchRow]:
    """The ratio rows, failed, when the comparison could not run."""
    rows: list[BenchRow] = []
    for guest, reference, _ in PAIRS:
        if guest in networks:
            rows += ratio_rows(guest, TcpFigures(error=message), reference, TcpFigures())
    return rows


def run_tcp_comparison(
    tree: Tree,
    rundir: Path,
    finch: list[TcpGuest],
    turns: Turns,
    *,
    rounds: int = ROUNDS,
    size: int = TRANSFER_BYTES,
    seconds: float = CONNECT_SECONDS,
    memory: bool = False,
    echo: Echo = lambda line: None,
) -> list[BenchRow]:
    """Boot the Linux reference next to the Finch guests given (booted,
    their turns from `turns`), measure them all in turn, and make the
    rows.  The tap reference boots if a Finch guest is FINCH_TAP.  With
    `memory`, also Linux's kernel memory per idle connection (the rows
    of bench-linux), to set beside Finch's."""
    tap = any(guest.name == FINCH_TAP for guest in finch)
    extra: list[BenchRow] = []
    try:
        with linux_reference(tree, rundir, turns, tap=tap, echo=echo) as linux:
            guests = [*finch, *linux.guests]
            echo(f"timing TCP: {rounds} rounds, {', '.join(g.name for g in guests)} in turn ...")
            figures = measure_rounds(guests, rounds=rounds, size=size, seconds=seconds, echo=echo)
            if memory:
                extra = _linux_memory_rows(linux, echo)
    except FinchError as e:
        return comparison_error_rows(str(e).splitlines()[0], tuple(g.name for g in finch))
    return comparison_rows(figures, size) + extra


def _linux_memory_rows(linux: LinuxReference, echo: Echo) -> list[BenchRow]:
    """The Linux guest on user networking: memory per idle connection."""
    assert linux.user is not None
    assert isinstance(linux.guests[0].client, LocalClient)
    linux.guests[0].turn()
    echo(f"measuring Linux's kernel memory of {IDLE_CONNECTIONS} idle connections ...")
    try:
        memory = measure_idle_memory(linux.user, linux.guests[0].client.service)
    except FinchError as e:
        return [BenchRow("Linux kernel memory per idle TCP connection", unit="B",
                         error=str(e).splitlines()[0])]  # fmt: skip
    echo(f"  {describe_idle_memory(memory)}")
    return memory_rows(memory)


# --------------------------------------------------------------------------
# `finch bench-linux`


def boot_rows(boots: list[BootTimes]) -> list[BenchRow]:
    return [
        BenchRow("Linux guest: QEMU launch to /init", samples=[b.init for b in boots]),
        BenchRow(
            "Linux guest: QEMU launch to its echo answering (boot to network)",
            samples=[b.network for b in boots],
        ),
    ]


def memory_rows(memory: IdleMemory) -> list[BenchRow]:
    n = memory.connections
    caches = " + ".join(SLAB_CACHES)
    return [
        BenchRow(
            f"Linux kernel memory per idle TCP connection (Slab, {n} connections)",
            samples=[memory.slab_per_connection],
            unit="B",
        ),
        BenchRow(
            f"Linux kernel memory per idle TCP connection ({caches} objects)",
            samples=[memory.socket_per_connection],
            unit="B",
        ),
    ]


def run_linux_benchmarks(
    tree: Tree,
    *,
    rounds: int = ROUNDS,
    size: int = TRANSFER_BYTES,
    seconds: float = CONNECT_SECONDS,
    tap: bool = True,
    twin: bool = False,
    echo: Echo = lambda line: None,
) -> list[BenchRow]:
    """Everything about the Linux reference, as rows."""
    rundir = tree.bench_dir / "linux-runs"
    shutil.rmtree(rundir, ignore_errors=True)
    turns = Turns()
    rows: list[BenchRow] = []
    with linux_reference(tree, rundir, turns, tap=tap, twin=twin, echo=echo) as linux:
        echo(
            f"timing TCP: {rounds} rounds of {size >> 20} MiB in, {size >> 20} MiB out and "
            f"{seconds:g} s of short connections, {' and '.join(g.name for g in linux.guests)} "
            "in turn ..."
        )
        figures = measure_rounds(linux.guests, rounds=rounds, size=size, seconds=seconds, echo=echo)
        rows += comparison_rows(figures, size)
        assert linux.user is not None
        assert linux.forking_echo is not None
        linux.guests[0].turn()
        echo("timing short connections to busybox `nc -ll -e cat` (a fork per connection) ...")
        forking = BenchRow(
            f"TCP short connections, busybox nc -e cat, fork each ({LINUX_USER})", unit="/s"
        )
        try:
            forking.samples = [
                short_connections(linux.forking_echo, seconds).per_s for _ in range(rounds)
            ]
        except FinchError as e:
            forking.error = str(e).splitlines()[0]
        rows.append(forking)
        echo(f"measuring the kernel memory of {IDLE_CONNECTIONS} idle connections ...")
        assert isinstance(linux.guests[0].client, LocalClient)
        try:
            memory = measure_idle_memory(linux.user, linux.guests[0].client.service)
            echo(f"  {describe_idle_memory(memory)}")
            rows += memory_rows(memory)
        except FinchError as e:
            rows.append(BenchRow("Linux kernel memory per idle TCP connection", unit="B",
                                 error=str(e).splitlines()[0]))  # fmt: skip
        rows += boot_rows(linux.boots)
        rows.append(
            BenchRow(
                f"Linux guest cache ({tree.relative(linux.images.cache)})",
                samples=[float(linux.images.cache_bytes())],
                unit="B",
            )
        )
    shutil.rmtree(rundir, ignore_errors=True)
    return rows
