"""Benchmarks: how fast Finch boots, loads kexts, and runs its tests.

Each benchmark is a row (finch.benchrow): a name, samples, and an
optional target for the median.  Rows today:

    boot to prompt   QEMU launch (Popen) to the first "finch> " prompt,
                     plain and as `finch run` starts it (COM2, shared RAM)
    floor            QEMU launch to exit for a kernel that exits at once
    kexts            kextload round trips, load/unload cycles and what they
                     leak (finch.kext.bench)
    network          ICMP echo round trips, ICMP and UDP echo rates with 32
                     in flight, the same against the e1000echo loop (the
                     ceiling) and the stack's share of it (finch.netbench)
    filters          UDP echo rate with a no-op IP filter and a no-op
                     interface filter over the rate with none, in the same
                     run (finch.filterbench)
    socket filter    UDP echo through a kext's socket with a no-op socket
                     filter against the same without it, as a ratio in the
                     same run; with TCP, inetd's discard with and without a
                     global no-op filter (finch.sfltbench)
    TCP filters      inetd's discard with a no-op IP filter and a no-op
                     interface filter against none (finch.tcpfilterbench)
    TCP              64 MiB into inetd's discard, 64 MiB out of its chargen,
                     short connections, on user networking and on a tap,
                     each against the Linux reference guest in the same
                     run; kernel memory per idle connection
                     (finch.inetdbench; "n/a (no TCP)" on a kernel
                     without TCP)
    make test        the wall time of `make test`

Add a row by writing a function that returns a BenchRow and listing it
in run_benchmarks().
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from finch.benchrow import BenchRow
from finch.build import Tree, build_floor, build_kernel
from finch.errors import FinchError
from finch.filterbench import run_filter_benchmarks
from finch.inetdbench import run_tcp_benchmarks
from finch.kext.bench import CYCLES, run_kext_benchmarks
from finch.kext.build import build_all_kexts
from finch.kext.guest import kext_options
from finch.machine import Machine
from finch.netbench import error_rows, run_net_benchmarks
from finch.qemu_args import QemuOptions
from finch.sfltbench import error_rows as sflt_error_rows
from finch.sfltbench import run_sflt_benchmarks, run_sflt_tcp_benchmarks
from finch.tcpfilterbench import run_tcp_filter_benchmarks

BOOT_TARGET = 0.150
MAKE_TEST_TARGET = 180.0
TCP_ROUNDS = 5

Echo = Callable[[str], None]


def time_boot_to_prompt(
    kernel: Path, rundir: Path, boots: int, options: QemuOptions | None = None, what: str = ""
) -> BenchRow:
    row = BenchRow(f"boot to prompt{what} ({boots} boots)", target=BOOT_TARGET)
    return _time_boots(
        row, kernel, rundir / "boot", boots, options, lambda m: m.expect("finch> ", timeout=30)
    )


def time_floor(floor: Path, rundir: Path, boots: int) -> BenchRow:
    row = BenchRow(f"floor: trivial kernel to exit ({boots} boots)")
    return _time_boots(row, floor, rundir / "floor", boots, None, lambda m: m.wait_exit(timeout=30))


def _time_boots(
    row: BenchRow,
    kernel: Path,
    rundir_prefix: Path,
    boots: int,
    options: QemuOptions | None,
    until: Callable[[Machine], object],
) -> BenchRow:
    """Launch `kernel` `boots` times; each sample is launch to `until` done."""
    for i in range(boots):
        machine = Machine(kernel, Path(f"{rundir_prefix}{i}"), options)
        try:
            machine.launch(connect_qmp=False)
            until(machine)
            assert machine.launched_at is not None
            row.samples.append(time.monotonic() - machine.launched_at)
        except FinchError as e:
            row.error = str(e).splitlines()[0]
            break
        finally:
            machine.shutdown()
    return row


def time_make_test(tree: Tree, log: Path) -> BenchRow:
    row = BenchRow("make test (wall time)", target=MAKE_TEST_TARGET)
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(["make", "test"], cwd=tree.root, stdout=out, stderr=subprocess.STDOUT)
    row.samples.append(time.monotonic() - start)
    if proc.returncode != 0:
        row.error = f"make test failed (exit {proc.returncode}); see {log}"
    return row


def run_benchmarks(
    tree: Tree,
    *,
    boots: int = 10,
    cycles: int = CYCLES,
    test_time: bool = True,
    net: bool = True,
    tcp: bool = True,
    tap: bool = True,
    tcp_rounds: int = TCP_ROUNDS,
    echo: Echo = print,
) -> list[BenchRow]:
    rundir = tree.bench_dir / "runs"
    shutil.rmtree(rundir, ignore_errors=True)
    rows: list[BenchRow] = []

    kernel: Path | None = None
    try:
        kernel = build_kernel(tree, echo=echo).elf
        echo(f"timing {boots} boots of {tree.relative(kernel)} ...")
        rows.append(time_boot_to_prompt(kernel, rundir, boots))
        echo(f"timing {boots} boots with COM2 and shared RAM, as `finch run` boots ...")
        rows.append(
            time_boot_to_prompt(
                kernel, rundir / "kextopts", boots, kext_options(), ", COM2 + shared RAM"
            )
        )
        rows += run_kext_benchmarks(tree, kernel, rundir, cycles=cycles, echo=echo)
    except FinchError as e:
        rows.append(BenchRow("boot to prompt", target=BOOT_TARGET, error=_first_line(e)))

    if net:
        if kernel is None:
            rows += error_rows("the kernel did not build (see above)")
            rows += sflt_error_rows("the kernel did not build (see above)")
        else:
            rows += run_net_benchmarks(kernel, rundir, echo=echo)
            rows += run_filter_benchmarks(tree, kernel, rundir, echo=echo)
            rows += run_sflt_benchmarks(tree, kernel, rundir / "sflt", echo=echo)
    if tcp:
        rows += _tcp_rows(tree, kernel, rundir, tap=tap, rounds=tcp_rounds, echo=echo)
        if kernel is not None:
            rows += _tcp_filter_rows(tree, kernel, rundir, rounds=tcp_rounds, echo=echo)

    try:
        floor = build_floor(tree, echo=echo)
        echo(f"timing {boots} boots of {tree.relative(floor)} ...")
        rows.append(time_floor(floor, rundir, boots))
    except FinchError as e:
        rows.append(BenchRow("floor: trivial kernel to exit", error=_first_line(e)))

    if test_time:
        log = tree.bench_dir / "make-test.log"
        echo(f"timing `make test` (output in {tree.relative(log)}) ...")
        rows.append(time_make_test(tree, log))
    shutil.rmtree(rundir, ignore_errors=True)
    return rows


def run_tcp_only(
    tree: Tree, *, tap: bool = True, rounds: int = TCP_ROUNDS, echo: Echo = print
) -> list[BenchRow]:
    """The TCP rows alone (`finch bench --tcp-only`)."""
    rundir = tree.bench_dir / "runs"
    shutil.rmtree(rundir, ignore_errors=True)
    try:
        kernel: Path | None = build_kernel(tree, echo=echo).elf
    except FinchError as e:
        echo(_first_line(e))
        kernel = None
    rows = _tcp_rows(tree, kernel, rundir, tap=tap, rounds=rounds, echo=echo)
    shutil.rmtree(rundir, ignore_errors=True)
    return rows


def run_tcp_filters_only(
    tree: Tree, *, rounds: int = TCP_ROUNDS, echo: Echo = print
) -> list[BenchRow]:
    """The TCP rows with no-op filters alone (`finch bench --tcp-filters-only`)."""
    rundir = tree.bench_dir / "runs"
    shutil.rmtree(rundir, ignore_errors=True)
    try:
        kernel = build_kernel(tree, echo=echo).elf
    except FinchError as e:
        return [BenchRow("TCP with no-op filters", error=_first_line(e))]
    rows = _tcp_filter_rows(tree, kernel, rundir, rounds=rounds, echo=echo)
    shutil.rmtree(rundir, ignore_errors=True)
    return rows


def _tcp_filter_rows(
    tree: Tree, kernel: Path, rundir: Path, *, rounds: int, echo: Echo
) -> list[BenchRow]:
    """inetd's discard with a no-op socket filter, IP filter and interface
    filter, each against none in the same run."""
    rows = run_sflt_tcp_benchmarks(tree, kernel, rundir / "sflt-tcp", rounds=rounds, echo=echo)
    return rows + run_tcp_filter_benchmarks(
        tree, kernel, rundir / "tcp-filters", rounds=rounds, echo=echo
    )


def _tcp_rows(
    tree: Tree, kernel: Path | None, rundir: Path, *, tap: bool, rounds: int, echo: Echo
) -> list[BenchRow]:
    """Finch's TCP rows (finch.inetdbench), or one failed row saying why not."""
    if kernel is None:
        return [BenchRow("TCP: Finch with inetd", error="the kernel did not build (see above)")]
    try:
        build_all_kexts(tree, echo=lambda line: None)  # build/kexts/inetd.kext
    except FinchError as e:
        return [BenchRow("TCP: Finch with inetd", error=_first_line(e))]
    return run_tcp_benchmarks(
        tree, kernel, tree.build_dir / "kexts", rundir / "tcp", tap=tap, rounds=rounds, echo=echo
    )


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
