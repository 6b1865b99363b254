"""Write the KPI reference, docs/kpi/: one page per public header
(kernel/include) with every declaration, the comment that is its contract
and the bundle that exports it (kernel/exports), and an index, README.md.

    finch kpidoc            # bring docs/kpi/ up to date
    finch kpidoc --check    # change nothing; fail if a page is stale

Both fail when an exported function has no contract comment in its header.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from finch.build import Tree
from finch.errors import FinchError
from finch.kpidoc import (
    CONTRACT_HINT,
    REGENERATE,
    load_reference,
    render_pages,
    stale_pages,
    write_pages,
)

NAME = "kpidoc"
HELP = "generate the KPI reference (docs/kpi) from the public headers"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing: fail if a page differs from what the headers say",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="the folder of the pages (default docs/kpi of this checkout)",
    )


def run(args: argparse.Namespace) -> int:
    tree = Tree.find()
    out = args.out if args.out is not None else tree.root / "docs" / "kpi"
    reference = load_reference(tree.root)
    pages = render_pages(reference)
    problems = reference.missing_contracts()
    if problems:
        problems.append(f"for each: {CONTRACT_HINT}")
    if args.check:
        stale = stale_pages(pages, out)
        if stale:
            problems.append(
                f"{tree.relative(out)}: stale: {', '.join(stale)}: run `{REGENERATE}` "
                "and commit the pages"
            )
    else:
        changed = write_pages(pages, out)
        print(f"{tree.relative(out)}: {len(pages)} pages, {len(changed)} changed")
    for symbol, bundle in sorted(reference.undeclared_exports().items()):
        print(
            f"finch {NAME}: note: {symbol} is exported by {bundle} but declared in no "
            "public header",
            file=sys.stderr,
        )
    if problems:
        raise FinchError("\n".join(problems))
    return 0
