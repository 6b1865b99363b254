"""kextunload: stop kexts in the running Finch guest and free them.

Name each kext by bundle id (-b) or by its bundle (Foo.kext, whose
Info.plist gives the id).  The kernel refuses while other loaded kexts
link against it (unload those first), and keeps it loaded when its stop
routine returns anything but KERN_SUCCESS; kextunload then says what stop
returned.  Also installed as kmodunload, the 2001 name.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from finch.cli.kexttool import invoked_as, make_parser, run_tool, rundir
from finch.kext.unload import bundle_identifier, unload_kext
from finch.session import GuestSession


def parser(prog: str = "kextunload") -> argparse.ArgumentParser:
    p = make_parser(prog, __doc__ or "")
    p.add_argument(
        "-b",
        "--bundle-id",
        action="append",
        default=[],
        metavar="ID",
        help="unload the kext with this bundle id (repeatable)",
    )
    p.add_argument(
        "bundles",
        nargs="*",
        metavar="BUNDLE",
        type=Path,
        help="unload the kext this bundle holds (its CFBundleIdentifier)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    prog = invoked_as("kextunload", ("kmodunload",))
    p = parser(prog)
    return run_tool(prog, p, lambda args: _unload(prog, p, args), argv)


def _unload(prog: str, p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if not args.bundle_id and not args.bundles:
        p.error("name a kext to unload: -b ID or a BUNDLE")
    targets = [(f"id {i}", i) for i in args.bundle_id]
    targets += [(f"kext {b}", bundle_identifier(b)) for b in args.bundles]
    with GuestSession.open(rundir(args)) as session:
        for what, identifier in targets:
            unload_kext(session, identifier)
            print(f"{prog}: unload {what} succeeded", flush=True)
    return 0
