"""Benchmarks: how fast Finch boots and how long its tests take.

Each benchmark is a row: a name, samples in seconds, and an optional
target for the median.  Rows today:

    boot to prompt   QEMU launch (Popen) to the first "finch> " prompt
    floor            QEMU launch to exit for a kernel that exits at once
    make test        the wall time of `make test`

Add a row by writing a function that returns a BenchRow and listing it
in run_benchmarks().
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from finch.build import Tree, build_floor, build_kernel
from finch.errors import FinchError
from finch.machine import Machine

BOOT_TARGET = 0.150
MAKE_TEST_TARGET = 180.0

Echo = Callable[[str], None]


@dataclass
class BenchRow:
    name: str
    samples: list[float] = field(default_factory=list)  # seconds
    target: float | None = None  # the median must stay below this; None: for reference
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None for a reference row."""
        if self.error is not None:
            return False
        if self.target is None:
            return None
        return self.median is not None and self.median < self.target


def time_boot_to_prompt(kernel: Path, rundir: Path, boots: int) -> BenchRow:
    row = BenchRow(f"boot to prompt ({boots} boots)", target=BOOT_TARGET)
    for i in range(boots):
        machine = Machine(kernel, rundir / f"boot{i}")
        try:
            machine.launch(connect_qmp=False)
            machine.expect("finch> ", timeout=30)
            assert machine.launched_at is not None
            row.samples.append(time.monotonic() - machine.launched_at)
        except FinchError as e:
            row.error = str(e).splitlines()[0]
            break
        finally:
            machine.shutdown()
    return row


def time_floor(floor: Path, rundir: Path, boots: int) -> BenchRow:
    row = BenchRow(f"floor: trivial kernel to exit ({boots} boots)")
    for i in range(boots):
        machine = Machine(floor, rundir / f"floor{i}")
        try:
            machine.launch(connect_qmp=False)
            machine.wait_exit(timeout=30)
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
    tree: Tree, *, boots: int = 10, test_time: bool = True, echo: Echo = print
) -> list[BenchRow]:
    rundir = tree.bench_dir / "runs"
    shutil.rmtree(rundir, ignore_errors=True)
    rows: list[BenchRow] = []

    try:
        kernel = build_kernel(tree, echo=echo).elf
        echo(f"timing {boots} boots of {tree.relative(kernel)} ...")
        rows.append(time_boot_to_prompt(kernel, rundir, boots))
    except FinchError as e:
        rows.append(BenchRow("boot to prompt", target=BOOT_TARGET, error=_first_line(e)))

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


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def format_table(rows: list[BenchRow]) -> str:
    header = ("benchmark", "median", "spread (min-max)", "target", "result")
    lines = [header]
    for row in rows:
        median = _seconds(row.median)
        spread = "-"
        if len(row.samples) > 1:
            spread = f"{_seconds(min(row.samples))} - {_seconds(max(row.samples))}"
        target = "(reference)"
        if row.target is not None:
            target = f"< {_seconds(row.target)}" + (" median" if len(row.samples) > 1 else "")
        passed = row.passed
        result = "-" if passed is None else ("pass" if passed else "FAIL")
        lines.append((row.name, median, spread, target, result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    out += [f"{row.name}: {row.error}" for row in rows if row.error]
    return "\n".join(out)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 10:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s".replace(".0 s", " s")
