"""Print the kernel events of the running guest as they happen, one line
each (KEV_DL_LINK_OFF en0, KEV_INET_NEW_ADDR en0, ...), streamed over the
host link.  The guest's `kevents` monitor command shows the recent ones.

QEMU serves the host link to one tool at a time: while this runs,
kextload and kextstat wait.  Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

from finch.cli.kexttool import RUNDIR_HELP, rundir
from finch.hostlink.messages import EVENT_KEV, HELLO_EVENTS
from finch.kevents import KernelEvent
from finch.session import GuestSession

NAME = "events"
HELP = "stream the guest's kernel events"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rundir", type=Path, default=None, metavar="DIR", help=RUNDIR_HELP)
    parser.add_argument(
        "-c", "--count", type=int, default=0, metavar="N", help="stop after N events"
    )
    parser.add_argument(
        "-t",
        "--timeout",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until Ctrl-C)",
    )


def run(args: argparse.Namespace) -> int:
    end = time.monotonic() + args.timeout if args.timeout > 0 else None
    with GuestSession.open(rundir(args)) as session:
        session.link.hello(HELLO_EVENTS)  # from now on the guest sends its events
        try:
            for event in stream(session, end):
                print(event, flush=True)
                args.count -= 1
                if args.count == 0:
                    break
        except KeyboardInterrupt:
            pass
    return 0


def stream(session: GuestSession, end: float | None) -> Iterator[KernelEvent]:
    """The guest's kernel events as they come, until `end` (monotonic)."""
    while end is None or time.monotonic() < end:
        wait = 0.5 if end is None else min(0.5, end - time.monotonic())
        for event in session.link.wait_events(max(wait, 0.0)):
            if event.kind == EVENT_KEV:
                yield KernelEvent.decode(event.data)
