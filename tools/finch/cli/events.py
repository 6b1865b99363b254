"""Print the kernel events of the running guest as they happen, one line
each (KEV_DL_LINK_OFF en0, KEV_CTL_REGISTERED, ...).  They are read from a
PF_SYSTEM event socket in the guest (socket(PF_SYSTEM, SOCK_RAW,
SYSPROTO_EVENT)) whose struct kev_request filter the options set: by
default every event; --vendor, --class and --subclass narrow it, each
by number or name (vendor: apple; class: network, iokit, system;
subclass: inet, dl, ctl).  A field left out matches anything, and so do
the fields after it.  The guest's `kevents` monitor command shows the
recent ones.

QEMU serves the host link to one tool at a time: while this runs,
kextload and kextstat wait.  Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from finch.cli.kexttool import RUNDIR_HELP, rundir
from finch.errors import FinchError
from finch.kctl import EventFilter, EventSocket
from finch.kevents import (
    KEV_ANY,
    KEV_CTL_SUBCLASS,
    KEV_DL_SUBCLASS,
    KEV_INET_SUBCLASS,
    KEV_NETWORK_CLASS,
    KEV_SYSTEM_CLASS,
    KEV_VENDOR_APPLE,
    KernelEvent,
)
from finch.session import GuestSession

NAME = "events"
HELP = "stream the guest's kernel events"
ACCEPTS_PASSTHROUGH = False

VENDORS = {"apple": KEV_VENDOR_APPLE}
CLASSES = {"network": KEV_NETWORK_CLASS, "iokit": 2, "system": KEV_SYSTEM_CLASS}
SUBCLASSES = {"inet": KEV_INET_SUBCLASS, "dl": KEV_DL_SUBCLASS, "ctl": KEV_CTL_SUBCLASS}


def _code(names: dict[str, int], what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if text.lower() in names:
            return names[text.lower()]
        try:
            value = int(text, 0)
        except ValueError:
            known = ", ".join(names)
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {what}: give a number or one of {known}"
            ) from None
        if not 0 <= value <= 0xFFFFFFFF:
            raise argparse.ArgumentTypeError(f"{what} {value} does not fit 32 bits")
        return value

    return parse


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
    parser.add_argument(
        "--vendor",
        type=_code(VENDORS, "vendor"),
        default=KEV_ANY,
        help="only this vendor's events: apple (1), or a kext's vendor code",
    )
    parser.add_argument(
        "--class",
        dest="kev_class",
        type=_code(CLASSES, "class"),
        default=KEV_ANY,
        help="only this class (needs --vendor): network, iokit, system, or a number",
    )
    parser.add_argument(
        "--subclass",
        type=_code(SUBCLASSES, "subclass"),
        default=KEV_ANY,
        help="only this subclass (needs --class): inet, dl, ctl, or a number",
    )


def event_filter(args: argparse.Namespace) -> EventFilter:
    """The kev_request the options ask for."""
    if args.kev_class != KEV_ANY and args.vendor == KEV_ANY:
        raise FinchError("--class needs --vendor: a class is a vendor's")
    if args.subclass != KEV_ANY and args.kev_class == KEV_ANY:
        raise FinchError("--subclass needs --class: a subclass is a class's")
    return EventFilter(args.vendor, args.kev_class, args.subclass)


def run(args: argparse.Namespace) -> int:
    wanted = event_filter(args)
    end = time.monotonic() + args.timeout if args.timeout > 0 else None
    with GuestSession.open(rundir(args)) as session, EventSocket.open(session, wanted) as sock:
        try:
            for event in stream(sock, end):
                print(event, flush=True)
                args.count -= 1
                if args.count == 0:
                    break
        except KeyboardInterrupt:
            pass
    return 0


def stream(sock: EventSocket, end: float | None) -> Iterator[KernelEvent]:
    """The events the socket hears as they come, until `end` (monotonic)."""
    while end is None or time.monotonic() < end:
        wait = 1.0 if end is None else max(0.0, min(1.0, end - time.monotonic()))
        event = sock.next(wait)
        if event is not None:
            yield event
