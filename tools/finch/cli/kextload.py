"""kextload: load kexts into the running Finch guest.

Each BUNDLE is a built kext (build/kexts/Foo.kext).  kextload checks its
Info.plist, resolves its OSBundleLibraries (KPI bundles and loaded kexts
are reused when their versions fit; library kexts are found among the -d
bundles, the -r folders and build/kexts, and loaded first), links it on
the host at the address the kernel hands out, copies it in and calls its
start routine.  Every problem the linker can find (unresolved symbols,
colliding globals, unsupported relocations, an image too large) is
reported before the kernel is asked for memory.  It prints the id each
kext was loaded as, and leaves a symbol file for gdb in
<rundir>/symbols/ (-v prints the add-symbol-file command).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from finch.build import Tree
from finch.cli.kexttool import invoked_as, make_parser, run_tool, rundir, tell
from finch.kext.load import LoadResult, load_kexts


def parser(prog: str = "kextload") -> argparse.ArgumentParser:
    p = make_parser(prog, __doc__ or "")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say what happens at each step, and print the gdb command that "
        "loads each kext's symbols",
    )
    p.add_argument(
        "-d",
        "--dependency",
        action="append",
        default=[],
        metavar="DEPENDENCY",
        help="a library kext bundle to load first if BUNDLE needs it (repeatable)",
    )
    p.add_argument(
        "-r",
        "--repository",
        action="append",
        default=[],
        metavar="SEARCHDIR",
        help="a folder of built kext bundles to find libraries in (repeatable)",
    )
    p.add_argument(
        "-e",
        "--no-default-repository",
        action="store_true",
        help="do not look for libraries in build/kexts (only -d and -r)",
    )
    p.add_argument("bundles", nargs="+", metavar="BUNDLE", help="a built kext bundle (Foo.kext)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    prog = invoked_as("kextload", ())
    return run_tool(prog, parser(prog), lambda args: _load(prog, args), argv)


def _load(prog: str, args: argparse.Namespace) -> int:
    search_dirs = list(args.repository)
    if not args.no_default_repository:
        default = Path(_shown(Tree.find().build_dir / "kexts"))
        if default.is_dir() and default not in search_dirs:
            search_dirs.append(default)

    def say(line: str) -> None:
        print(f"{prog}: {line}", flush=True)

    def loaded(result: LoadResult) -> None:
        path = _shown(result.bundle.path)
        say(f"{path} loaded as {result.kmod_id} ({result.bundle.identifier})")
        if args.verbose:
            say(f"symbols for gdb: {result.gdb_command}")

    load_kexts(
        rundir(args),
        args.bundles,
        dependencies=args.dependency,
        search_dirs=search_dirs,
        echo=say if args.verbose else _quiet,
        on_loaded=loaded,
        notify=tell(args),
    )
    return 0


def _quiet(line: str) -> None:
    pass


def _shown(path: Path) -> str:
    """`path` relative to the current directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
