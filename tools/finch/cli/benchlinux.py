"""Measure the Linux reference guest alone: Debian's i386 kernel and
busybox (fetched once with apt into build/linux-guest/), booted on the
same QEMU as Finch with an e1000, on user networking and on a tap in a
private network namespace.  Rows: host-to-guest throughput (64 MiB into
its discard service until it confirms), guest-to-host throughput (64 MiB
from its source service), short connections per second (connect, 64 B
echo, close) against a single-process echo server and against busybox
`nc -ll -e cat`, the kernel memory one idle connection holds, the time
to boot to the network, and the size of the cache.  These are what
`finch bench` will set Finch's TCP rows against.  With --twin, a second
Linux guest is measured in turn with the first and set against it as
Finch will be: how far from 100% noise alone takes those ratios.  Prints
a table; exits non-zero if a measurement failed.
"""

from __future__ import annotations

import argparse
import os

from finch.benchrow import format_table
from finch.build import Tree
from finch.linuxbench import run_linux_benchmarks
from finch.tcpbench import CONNECT_SECONDS, ROUNDS, TRANSFER_BYTES

NAME = "bench-linux"
HELP = "measure TCP on the Linux reference guest that Finch's TCP rows compare against"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, metavar="N", help=f"rounds (default {ROUNDS})"
    )
    parser.add_argument(
        "--mib",
        type=int,
        default=TRANSFER_BYTES >> 20,
        metavar="N",
        help=f"MiB per transfer (default {TRANSFER_BYTES >> 20})",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=CONNECT_SECONDS,
        metavar="S",
        help=f"seconds of short connections per round (default {CONNECT_SECONDS:g})",
    )
    parser.add_argument(
        "--no-tap", action="store_true", help="skip the tap path (it needs root and iproute2)"
    )
    parser.add_argument(
        "--twin",
        action="store_true",
        help="also boot a second, identical Linux guest and show its ratio to the first: "
        "how far noise alone moves the Finch/Linux ratio rows on this machine",
    )


def run(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    rows = run_linux_benchmarks(
        Tree.find(),
        rounds=args.rounds,
        size=args.mib << 20,
        seconds=args.seconds,
        tap=not args.no_tap,
        twin=args.twin,
        echo=print,
    )
    print()
    print(format_table(rows))
    print(
        f"\nhost load average (1 min, {os.cpu_count()} CPUs): {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    return 1 if any(row.error for row in rows) else 0
