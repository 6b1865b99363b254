"""Set and list the rules of the firewall sample (kexts/firewall) through
its kernel control.

    finch firewall add 100 drop log icmp from 10.0.2.2 to any in
    finch firewall add allow udp from any to any port 7
    finch firewall list
    finch firewall delete 100
    finch firewall flush

Load the kext first (docs/samples.md, "firewall").  Rules are ipfw's
words: [NUMBER] allow|drop [log] PROTO from SRC [port N] to DST [port N]
[in|out]; the first rule that matches, lowest number first, decides, and
a datagram no rule matches passes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from finch.cli.kexttool import RUNDIR_HELP, run_tool, rundir
from finch.errors import FinchError
from finch.firewall import CONTROL, Firewall, parse_rule
from finch.session import GuestSession

NAME = "firewall"
HELP = "add, delete and list the rules of the firewall sample kext"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rundir", type=Path, default=None, metavar="DIR", help=RUNDIR_HELP)
    parser.add_argument(
        "--control", default=CONTROL, help=f"the kext's control name (default {CONTROL})"
    )
    parser.add_argument(
        "action",
        choices=("add", "delete", "list", "flush"),
        help="add RULE, delete NUMBER, list the rules and counters, flush them all",
    )
    parser.add_argument("words", nargs=argparse.REMAINDER, help="the rule, or its number")


def run(args: argparse.Namespace) -> int:
    rule = parse_rule(args.words) if args.action == "add" else None
    number = 0
    if args.action == "delete":
        if len(args.words) != 1 or not args.words[0].isdigit():
            raise FinchError("say which rule to delete by its number: finch firewall delete 100")
        number = int(args.words[0])
    elif args.action in ("list", "flush") and args.words:
        raise FinchError(f"`finch firewall {args.action}` takes no more words")
    with GuestSession.open(rundir(args)) as session, Firewall.connect(session, args.control) as fw:
        if rule is not None:
            fw.add(rule)
        elif args.action == "delete":
            fw.delete(number)
        elif args.action == "flush":
            fw.flush()
        rules = fw.rules()
        stats = fw.stats()
    for r in rules:
        print(r)
    counts = ", ".join(f"{k} {v}" for k, v in stats.items())
    print(f"{len(rules)} rules; datagrams: {counts}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="firewall", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run_tool("firewall", parser, run, argv)
