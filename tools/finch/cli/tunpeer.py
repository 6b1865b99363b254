"""Be the far end of the utun sample's tunnel (kexts/utun): connect to
its kernel control, print every packet the guest routes to utun0, and
answer ICMP echo requests, so that the guest's `ping` gets its replies.

    finch tunpeer                 # answer 4 pings, then print the counters
    finch tunpeer -c 10 -t 30     # answer 10; give up after 30 s of silence

Load the kext and give utun0 an address first (docs/samples.md, "utun").
While it runs it holds the host link, which QEMU serves to one host tool
at a time: run kextload and kextunload before or after it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finch.cli.kexttool import RUNDIR_HELP, rundir
from finch.errors import FinchError
from finch.session import GuestSession
from finch.tunpeer import CONTROL, TunPeer

NAME = "tunpeer"
HELP = "be the far end of the utun sample's tunnel: print its packets, answer pings"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rundir", type=Path, default=None, metavar="DIR", help=RUNDIR_HELP)
    parser.add_argument(
        "-c", "--count", type=int, default=4, help="echo requests to answer, then stop (default 4)"
    )
    parser.add_argument(
        "-t",
        "--timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="stop when no packet came for this long (default 20)",
    )
    parser.add_argument(
        "--control", default=CONTROL, help=f"the kext's control name (default {CONTROL})"
    )


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise FinchError(f"--count must be 1 or more, not {args.count}")
    with GuestSession.open(rundir(args)) as session, TunPeer.connect(session, args.control) as peer:
        print(f"tunpeer: connected to {args.control}; the far end of {peer.interface()}")
        answered = 0
        for packet in peer.serve(args.count, args.timeout):
            replied = packet.is_echo_request()
            answered += replied
            print(f"  {packet.summary()}" + ("  -> echo reply" if replied else ""))
        counts = ", ".join(f"{k} {v}" for k, v in peer.stats().items())
        print(f"tunpeer: answered {answered} of {args.count}; the kext counted: {counts}")
    return 0 if answered == args.count else 1
