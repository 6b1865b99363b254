"""kextunload: stop kexts in the running Finch guest and free them.

Name each kext by bundle id (-b) or by its bundle (Foo.kext, whose
Info.plist gives the id).  The kernel refuses while other loaded kexts
link against it (unload those first), and keeps it loaded when its stop
routine returns anything but KERN_SUCCESS; kextunload then says what stop
returned.  If stop succeeds but something the kext registered still
points into it (an interface filter it did not detach, a pending timeout,
...), the kernel keeps the kext in memory, stopped and "pinned", and
kextunload says what is left and which call stop was missing; unloading
it again frees it once nothing points into it.

A stop routine that has just called an asynchronous detach (iflt_detach:
iff_detached may come later, on the DLIL thread) is right to refuse until
the detach is over.  -w SECONDS tries again until the unload succeeds or
the time is up, printing each refusal once.

The kernel runs a stop routine in a thread of its own and waits for it
about two seconds.  One that runs longer is left running: the kext stays
loaded, "stopping", and the kernel unloads it (or keeps it running, if
stop refuses) when stop returns; kextunload says "still stopping" and
exits with status 3, or with -w waits for it.  A kext whose start
routine still runs cannot be unloaded yet: kextunload says for how long
it has run (-w waits for it).  A routine that never returns keeps its
kext until the guest reboots: a kernel thread cannot be killed safely.

Exit status: 0 every kext unloaded; 1 refused, or an error; 3 a stop
routine was still running (the unload goes on in the guest).  Also
installed as kmodunload, the 2001 name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from finch.cli.kexttool import EXIT_UNDER_WAY, invoked_as, make_parser, run_tool, rundir, tell
from finch.errors import FinchError
from finch.kext.unload import UnloadRefused, bundle_identifier, ignore_refusal, unload_kext
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
        "-w",
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help=(
            "when the kernel refuses, try again every quarter second for up to SECONDS: "
            "a stop routine waiting for an asynchronous detach (iff_detached) refuses "
            "until it is over, a pinned kext is freed once its last callback returns, and "
            "a start or stop routine that still runs is waited for.  Each refusal is "
            "printed once; a kext that nothing will ever release is not waited for"
        ),
    )
    p.add_argument(
        "bundles",
        nargs="*",
        metavar="BUNDLE",
        type=Path,
        help="unload the kext this bundle holds (its CFBundleIdentifier)",
    )
    return p


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} seconds: say 0 to 3600")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    prog = invoked_as("kextunload", ("kmodunload",))
    p = parser(prog)
    return run_tool(prog, p, lambda args: _unload(prog, p, args), argv)


def _unload(prog: str, p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if not args.bundle_id and not args.bundles:
        p.error("name a kext to unload: -b ID or a BUNDLE")
    targets = [(f"id {i}", i) for i in args.bundle_id]
    targets += [(f"kext {b}", bundle_identifier(b)) for b in args.bundles]

    def say(refused: UnloadRefused) -> None:
        print(f"{prog}: {refused}", file=sys.stderr, flush=True)

    status = 0
    with GuestSession.open(rundir(args), notify=tell(args)) as session:
        for what, identifier in targets:
            try:
                result = unload_kext(
                    session,
                    identifier,
                    wait=args.wait,
                    on_refusal=say if args.wait else ignore_refusal,
                )
            except UnloadRefused as refused:
                if refused.stopping is not None:  # under way, not refused
                    if not args.wait:
                        say(refused)
                    else:
                        print(
                            f"{prog}: unload {what}: its stop routine still runs after "
                            f"{args.wait:g} s (see above); the kernel finishes the unload "
                            "when stop returns",
                            file=sys.stderr,
                            flush=True,
                        )
                    status = EXIT_UNDER_WAY
                    continue
                if not args.wait:
                    raise
                if refused.hopeless:
                    raise FinchError(
                        f"unload {what} failed: nothing will release it, so waiting cannot help"
                    ) from None
                raise FinchError(
                    f"unload {what} failed: still refused after {args.wait:g} s (see above)"
                ) from None
            print(f"{prog}: unload {what} succeeded", flush=True)
            if result.leaks:
                print(f"{prog}: warning: {result.leaks}", file=sys.stderr, flush=True)
    return status
