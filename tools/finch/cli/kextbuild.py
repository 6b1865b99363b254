"""Build one kext folder, wherever it is, into a bundle kextload takes.

FOLDER holds Info.plist and the kext's .c (and .S) sources, as an Xcode
kext project did, optionally with Finch.toml for the build settings
Xcode kept in the project (sources to leave out, such as a user-space
tool kept beside the kext; header search paths; definitions; the start
and stop routines' names): see docs/kexts.md.  The bundle goes to
OUT/<CFBundleExecutable>.kext (default OUT: build/kexts of this Finch
checkout, where kextload also looks for library kexts).  Warnings are
printed and do not stop the build, as in Xcode, unless Finch.toml sets
GCC_TREAT_WARNINGS_AS_ERRORS = true or -W is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finch.build import Tree
from finch.kext.build import build_kext

NAME = "kextbuild"
HELP = "build a kext folder (anywhere on disk) into a <Name>.kext bundle"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", type=Path, metavar="FOLDER", help="the kext's folder: Info.plist and sources"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="OUT",
        help="the folder to put <Name>.kext in (default: build/kexts)",
    )
    parser.add_argument(
        "-W",
        "--warnings-as-errors",
        action="store_true",
        help="stop at the first warning (unless Finch.toml says otherwise)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show every compiler and linker command"
    )


def run(args: argparse.Namespace) -> int:
    tree = Tree.find()
    built = build_kext(
        args.folder,
        tree=tree,
        out_dir=args.output,
        warnings_as_errors=args.warnings_as_errors,
        verbose=args.verbose,
    )
    print(f"built {built.bundle.path} ({built.bundle.identifier} {built.bundle.version})")
    return 0
