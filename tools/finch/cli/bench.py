"""Measure Finch: boot time from QEMU launch to the first `finch> ` prompt
(median and spread of several boots; plain, and with COM2 and shared RAM
as `finch run` boots), the same for a trivial Multiboot kernel that exits
at once (the floor: QEMU's own cost), kextload's round trip for hello and
a generated 100 KB kext, a thousand load/unload cycles and the kernel
memory they leak, the network (ICMP echo round trips; ICMP and UDP echo
rates with 32 frames in flight from a host peer on a `-netdev dgram`; the
same peer against the kernel's e1000echo loop, the ceiling, on the same
QEMU; target: the stack answers at 50% or more of the ceiling's rate;
UDP echo with a no-op IP filter and a no-op interface filter against
none, and through a kext's socket with a no-op socket filter against the
same without it, each in the same run; target: 95% or more),
TCP (kexts/inetd's discard, chargen and echo against the Linux reference
guest booted in the same run, on user networking and on a tap; target:
Finch at 100% of Linux or more; kernel memory per idle connection; the
discard with a global no-op socket filter, a no-op IP filter and a
no-op interface filter, each against none), and
the wall time of `make test`.  Prints a table with the targets; exits
non-zero when a row misses its target or fails.
"""

from __future__ import annotations

import argparse

from finch.bench import TCP_ROUNDS, run_benchmarks, run_tcp_filters_only, run_tcp_only
from finch.benchrow import format_table
from finch.build import Tree
from finch.errors import FinchError
from finch.kext.bench import CYCLES

NAME = "bench"
HELP = "time boots, kextload, the network stack and the test suite"
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
    parser.add_argument(
        "--skip-net",
        action="store_true",
        help="do not measure the network stack and the filters (~2 min)",
    )

    parser.add_argument(
        "--skip-tcp",
        action="store_true",
        help="do not measure TCP against the Linux reference guest (a few minutes)",
    )
    parser.add_argument(
        "--tcp-only",
        action="store_true",
        help="measure only TCP (Finch with inetd against the Linux guest), nothing else",
    )
    parser.add_argument(
        "--tcp-filters-only",
        action="store_true",
        help="measure only TCP into inetd's discard with each no-op filter (socket, IP, "
        "interface) against none, nothing else (about a minute)",
    )
    parser.add_argument(
        "--no-tap",
        action="store_true",
        help="measure TCP on user networking only (the tap path needs root)",
    )
    parser.add_argument(
        "--tcp-rounds",
        type=int,
        default=TCP_ROUNDS,
        metavar="N",
        help=f"interleaved rounds of the TCP rows (default {TCP_ROUNDS})",
    )


def run(args: argparse.Namespace) -> int:
    if args.tcp_rounds < 1:
        raise FinchError(f"--tcp-rounds must be at least 1, not {args.tcp_rounds}")
    if args.tcp_only and args.skip_tcp:
        raise FinchError("--tcp-only and --skip-tcp leave nothing to measure: give one of them")
    if args.tcp_only and args.tcp_filters_only:
        raise FinchError("give --tcp-only or --tcp-filters-only, not both")
    if args.tcp_filters_only:
        rows = run_tcp_filters_only(Tree.find(), rounds=args.tcp_rounds)
    elif args.tcp_only:
        rows = run_tcp_only(Tree.find(), tap=not args.no_tap, rounds=args.tcp_rounds)
    else:
        rows = run_benchmarks(
            Tree.find(),
            boots=args.boots,
            cycles=args.cycles,
            test_time=not args.skip_test_time,
            net=not args.skip_net,
            tcp=not args.skip_tcp,
            tap=not args.no_tap,
            tcp_rounds=args.tcp_rounds,
        )
    print()
    print(format_table(rows))
    return 1 if any(row.passed is False for row in rows) else 0
