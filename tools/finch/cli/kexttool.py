"""What kextload, kextstat and kextunload share: the --rundir option that
finds the guest, the name the command was run under (kmodstat is
kextstat), the rule that a user error is one line on stderr and a
non-zero exit, never a traceback, and notes (a guest that rebooted since
the last tool, a reply that was lost) as lines on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from finch.build import Tree
from finch.errors import FinchError

# The exit status of kextload and kextunload when a kext's start (stop)
# routine had not returned when the kernel stopped waiting for it: the
# work is under way, neither done (0) nor refused (1).
EXIT_UNDER_WAY = 3

RUNDIR_HELP = (
    "the run directory of the guest to talk to: the one `finch run` uses (its "
    "machine.json says where the guest's host link is); default build/run"
)


def invoked_as(default: str, aliases: Sequence[str]) -> str:
    """The command's name: an alias when run under one (kmodstat)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name in aliases else default


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rundir", type=Path, default=None, metavar="DIR", help=RUNDIR_HELP)
    return parser


def rundir(args: argparse.Namespace) -> Path:
    return args.rundir if args.rundir is not None else Tree.find().run_dir


def tell(args: argparse.Namespace) -> Callable[[str], None]:
    """Where the library's notes go: `prog: note` lines on stderr."""
    prog = getattr(args, "tool", "finch")

    def note(text: str) -> None:
        print(f"{prog}: {text}", file=sys.stderr, flush=True)

    return note


def run_tool(
    prog: str,
    parser: argparse.ArgumentParser,
    action: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
) -> int:
    """Parse argv and run `action`; a FinchError becomes `prog: message`
    on stderr and exit status 1.  args.tool is `prog`, for tell()."""
    args = parser.parse_args(argv)
    args.tool = prog
    try:
        return action(args)
    except FinchError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
