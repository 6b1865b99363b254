"""Measure Finch: boot time from QEMU launch to the first `finch> ` prompt
(median and spread of several boots; plain, and with COM2 and shared RAM
as `finch run` boots), the same for a trivial Multiboot kernel that exits
at once (the floor: QEMU's own cost), kextload's round trip for hello and
a generated 100 KB kext, a thousand load/unload cycles and the kernel
memory they leak, and the wall time of `make test`.  Prints a table with
the targets; exits non-zero when a row misses its target or fails.
"""

from __future__ import annotations

import argparse

from finch.bench import run_benchmarks
from finch.benchrow import format_table
from finch.build import Tree
from finch.kextbench import CYCLES

NAME = "bench"
HELP = "time boots, kextload and the test suite"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--boots", type=int, default=10, metavar="N", help="boots per boot-time row (default 10)"
    )
    parser.add_argument(
        "--cycles",
        type=int,
        default=CYCLES,
        metavar="N",
        help=f"kext load/unload cycles for the leak row (default {CYCLES})",
    )
    parser.add_argument("--skip-test-time", action="store_true", help="do not time `make test`")


def run(args: argparse.Namespace) -> int:
    rows = run_benchmarks(
        Tree.find(), boots=args.boots, cycles=args.cycles, test_time=not args.skip_test_time
    )
    print()
    print(format_table(rows))
    return 1 if any(row.passed is False for row in rows) else 0
