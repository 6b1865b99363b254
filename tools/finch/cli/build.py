"""Build the kernel: compile what changed under kernel/ into build/kernel/
and link images/finch.elf when anything did (with a new build id).  Then
build every kext under kexts/ into build/kexts/<Name>.kext, ready for
kextload.
"""

from __future__ import annotations

import argparse

from finch.build import Tree, build_floor, build_kernel
from finch.kext.build import build_all_kexts

NAME = "build"
HELP = "build images/finch.elf and the kexts under kexts/"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show every compiler and linker command"
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="compile N files at once (default: one per CPU)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also build the benchmark floor kernel, build/bench/floor.elf",
    )


def run(args: argparse.Namespace) -> int:
    tree = Tree.find()
    result = build_kernel(tree, verbose=args.verbose, jobs=args.jobs)
    if result.compiled or result.linked:
        print(
            f"built {tree.relative(result.elf)}: {len(result.compiled)} files compiled"
            + (f", linked as build {result.build_id}" if result.linked else "")
        )
    build_all_kexts(tree, verbose=args.verbose)
    if args.floor:
        build_floor(tree, verbose=args.verbose)
    return 0
