"""kextstat: list the kexts loaded in the running Finch guest, in the
columns of Mac OS X 10.4's kextstat:

    Index Refs Address    Size       Wired      Name (Version) <Linked Against>

Index is the kmod id, Refs how many loaded kexts link against it, Address,
Size and Wired its memory (0x0 for the kernel's own components: the
kernel and its KPI bundles com.apple.kpi.*), and <Linked Against> the
ids it links against, highest first.

A kext whose stop routine ran but left something behind that still
points into it (kextunload said so) is kept in memory, "pinned"; its row
is followed by an indented line with its state and what holds it, with
the name of the kext's function after each address:

       12    0 0x19c000   0x1000     0x1000     com.example.leaky (1.0.0) <3 2>
          stopped, pinned: interface filter 'leaky' is still attached to lo0 ...

"pinned until reboot" means nothing will release it.

A kext whose start routine has not returned yet is "starting" (kextload
said "still starting"), one whose stop routine has not returned
"stopping"; the state line says how long the routine has run and which
thread runs it (`ps` in the guest):

       13    0 0x1a0000   0x1000     0x1000     com.example.sleepy (1.0.0) <3 2>
          starting: its start routine has run for 8.2 s (thread 14 in `ps`)

After ten seconds it adds that, should the routine never return, only a
reboot ends it: a kernel thread cannot be killed safely.  kextstat also
drops the host's record of a kext the kernel no longer lists (a start
routine that failed after kextload stopped waiting), with a note.  Also
installed as kmodstat, the 2001 name.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from finch.cli.kexttool import invoked_as, make_parser, run_tool, rundir, tell
from finch.kext.loaded import format_kextstat
from finch.kext.naming import KextNames
from finch.session import GuestSession


def parser(prog: str = "kextstat") -> argparse.ArgumentParser:
    p = make_parser(prog, __doc__ or "")
    p.add_argument("-l", "--no-header", action="store_true", help="leave out the header line")
    p.add_argument(
        "-k",
        "--no-kernel",
        action="store_true",
        help="leave out the kernel components (com.apple.kernel, com.apple.kpi.*)",
    )
    p.add_argument(
        "-b",
        "--bundle-id",
        action="append",
        default=[],
        metavar="ID",
        help="show only the kext with this bundle id (repeatable)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    prog = invoked_as("kextstat", ("kmodstat",))
    return run_tool(prog, parser(prog), _stat, argv)


def _stat(args: argparse.Namespace) -> int:
    with GuestSession.open(rundir(args), notify=tell(args)) as session:
        kexts = session.list_kexts()
        session.forget_unloaded(kexts)
        names = KextNames(session.records, kexts)
        kexts = [
            dataclasses.replace(k, reason=names.annotate(k.reason)) if not k.running else k
            for k in kexts
        ]
    sys.stdout.write(
        format_kextstat(
            kexts, header=not args.no_header, hide_kernel=args.no_kernel, bundle_ids=args.bundle_id
        )
    )
    return 0
