"""Create a new kext source bundle, kexts/NAME/, from a template: an
Info.plist with the bundle id, a C file with the start and stop routines,
and a README.  It builds (`make build`) and loads (`kextload
build/kexts/NAME.kext`) as it is.  An existing folder is never touched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finch.build import Tree
from finch.newkext import available_templates, new_kext

NAME = "new-kext"
HELP = "create a kext source bundle from a template"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        metavar="NAME",
        help="the kext's name: a C identifier; its CFBundleExecutable and the prefix of "
        "NAME_start and NAME_stop",
    )
    parser.add_argument(
        "--id",
        required=True,
        dest="bundle_id",
        metavar="ID",
        help="its reverse-DNS bundle id (CFBundleIdentifier), e.g. com.example.name",
    )
    parser.add_argument(
        "--template",
        default="generic",
        help="what to start from: " + ", ".join(available_templates()) + " (default generic)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="the folder to create NAME/ in (default kexts/ of this checkout)",
    )


def run(args: argparse.Namespace) -> int:
    tree = Tree.find()
    dest = args.dir if args.dir is not None else tree.root / "kexts"
    made = new_kext(args.name, args.bundle_id, dest, args.template)
    print(f"created {tree.relative(made.path)}/:")
    for path in made.files:
        print(f"  {path.relative_to(made.path)}")
    print(f"build it with `make build`, load it with `kextload build/kexts/{args.name}.kext`")
    return 0
