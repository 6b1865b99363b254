"""Read the connection log of the tcplog sample (kexts/tcplog) through
its kernel control.

    finch tcplog              # the last 64 connections that closed, oldest first
    finch tcplog --follow     # each connection as it closes, until Ctrl-C
    finch tcplog --clear      # empty the log

Load the kext first (docs/samples.md, "tcplog").  While --follow runs it
holds the host link, which QEMU serves to one host tool at a time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finch.cli.kexttool import RUNDIR_HELP, rundir
from finch.session import GuestSession
from finch.tcplog import CONTROL, TcpLog

NAME = "tcplog"
HELP = "print the TCP connections the tcplog sample kext logged"
ACCEPTS_PASSTHROUGH = False
POLL_SECONDS = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rundir", type=Path, default=None, metavar="DIR", help=RUNDIR_HELP)
    parser.add_argument(
        "--control", default=CONTROL, help=f"the kext's control name (default {CONTROL})"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "-f", "--follow", action="store_true", help="print each connection as it closes"
    )
    what.add_argument("--clear", action="store_true", help="empty the log")


def run(args: argparse.Namespace) -> int:
    with GuestSession.open(rundir(args)) as session, TcpLog.connect(session, args.control) as log:
        if args.clear:
            log.clear()
            return 0
        if args.follow:
            log.follow()
            while True:
                if (record := log.next_record(POLL_SECONDS)) is not None:
                    print(record, flush=True)
        for record in log.table():
            print(record)
        s = log.stats()
        print(
            f"{s['in_ring']} logged here of {s['logged']} since the kext started; "
            f"{s['open']} open now on {s['sockets']} filtered sockets"
        )
    return 0
