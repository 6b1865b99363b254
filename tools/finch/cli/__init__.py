"""The `finch` command: one entry point, one module per subcommand.

Each subcommand module has NAME, HELP, add_arguments(parser) and
run(args) -> exit status.  A FinchError is printed as one message without
a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from finch import __version__
from finch.cli import (
    bench,
    benchlinux,
    build,
    events,
    firewall,
    kctl,
    kextbuild,
    kpidoc,
    newkext,
    preflight,
    run,
    symbolize,
    tcplog,
    tunpeer,
)
from finch.errors import FinchError

SUBCOMMANDS: tuple[ModuleType, ...] = (
    build,
    kextbuild,
    run,
    events,
    kctl,
    tunpeer,
    firewall,
    tcplog,
    newkext,
    symbolize,
    bench,
    benchlinux,
    preflight,
    kpidoc,
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="finch",
        description="Build, boot and test Finch, a teaching OS for network kernel extensions.",
    )
    parser.add_argument("--version", action="version", version=f"finch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        sub = commands.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run, accepts_passthrough=module.ACCEPTS_PASSTHROUGH)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, passthrough = args_list[:cut], args_list[cut + 1 :]
    parser = make_parser()
    args = parser.parse_args(args_list)
    if passthrough and not args.accepts_passthrough:
        parser.error(f"`finch {args.command}` takes no arguments after --")
    args.passthrough = passthrough
    try:
        return int(args.handler(args))
    except FinchError as e:
        print(f"finch {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"finch {args.command}: interrupted", file=sys.stderr)
        return 130
