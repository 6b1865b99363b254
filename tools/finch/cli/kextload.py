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

The kernel runs a start routine in a thread of its own and waits for it
about two seconds.  A start routine that runs longer (a loop, a long
sleep) is left running: the kext IS loaded, in state "starting" until
start returns -- kextstat shows when it is running, `ps` in the guest
shows its thread ("kmod start <bundle id>") -- and kextload says so, keeps
its symbol file (a panic in it later is still symbolized) and exits with
status 3.  Not 0: a script that goes on to use the kext would find it not
ready, or gone if start fails after all.  Not 1: it is loaded, and
loading it again would be refused.  A kext whose library is still
starting is refused: load it again once the library runs.

Exit status: 0 every kext loaded and running; 1 an error (the kexts
before it stay loaded); 3 loaded, but a start routine was still running.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from finch.build import Tree
from finch.cli.kexttool import EXIT_UNDER_WAY, invoked_as, make_parser, run_tool, rundir, tell
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

    note = tell(args)

    def loaded(result: LoadResult) -> None:
        path = _shown(result.bundle.path)
        say(f"{path} loaded as {result.kmod_id} ({result.bundle.identifier})")
        if result.starting:
            note(result.still_starting())
        if args.verbose:
            say(f"symbols for gdb: {result.gdb_command}")

    results = load_kexts(
        rundir(args),
        args.bundles,
        dependencies=args.dependency,
        search_dirs=search_dirs,
        echo=say if args.verbose else _quiet,
        on_loaded=loaded,
        notify=note,
    )
    return EXIT_UNDER_WAY if any(r.starting for r in results) else 0


def _quiet(line: str) -> None:
    pass


def _shown(path: Path) -> str:
    """`path` relative to the current directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
