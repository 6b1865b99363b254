"""Measure Finch: boot time from QEMU launch to the first `finch> ` prompt
(median and spread of several boots), the same for a trivial Multiboot
kernel that exits at once (the floor: QEMU's own cost), and the wall time
of `make test`.  Prints a table with the targets; exits non-zero when a
row misses its target or fails.
"""

from __future__ import annotations

import argparse

from finch.bench import format_table, run_benchmarks
from finch.build import Tree

NAME = "bench"
HELP = "time boots and the test suite"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--boots", type=int, default=10, metavar="N", help="boots per boot-time row (default 10)"
    )
    parser.add_argument("--skip-test-time", action="store_true", help="do not time `make test`")


def run(args: argparse.Namespace) -> int:
    rows = run_benchmarks(Tree.find(), boots=args.boots, test_time=not args.skip_test_time)
    print()
    print(format_table(rows))
    return 1 if any(row.passed is False for row in rows) else 0
