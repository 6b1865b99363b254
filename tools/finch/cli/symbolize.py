"""Name the addresses in a panic report: read a saved console log (a file,
or standard input), find every panic report in it, and print each with
its trap address, caller and backtrace as function+offset (file:line),
looked up in images/finch.elf and in the symbol files kextload left in
build/run/symbols/ for the kexts it loaded.

    finch symbolize build/run/console.log
    finch symbolize -a 0x00101234 -a 0x00105678
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from finch.build import Tree
from finch.errors import FinchError
from finch.panic import run_symbolizer, symbolize_panics
from finch.symbolize import Symbolizer

NAME = "symbolize"
HELP = "name the addresses in a panic report from a console log"
ACCEPTS_PASSTHROUGH = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "log", nargs="?", default="-", help="console log to read (default: standard input)"
    )
    parser.add_argument(
        "--elf",
        type=Path,
        default=None,
        help="kernel ELF with the symbols (default images/finch.elf)",
    )
    parser.add_argument(
        "--rundir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the run directory whose symbols/ hold the loaded kexts' symbol files "
        "(default build/run)",
    )
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="ELF@ADDRESS",
        help="also an image loaded at ADDRESS, e.g. a kext: Foo.elf@0x400000",
    )
    parser.add_argument(
        "-a",
        "--address",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="name this address instead of reading a log",
    )


def run(args: argparse.Namespace) -> int:
    tree = Tree.find()
    elf = args.elf or tree.kernel_elf
    symbolizer = run_symbolizer(elf, args.rundir or tree.run_dir)
    for spec in args.image:
        path, _, address = spec.partition("@")
        symbolizer.add_image(Path(path), _parse_address(address or "0"))
    if args.address:
        for text in args.address:
            location = symbolizer.lookup(_parse_address(text))
            print(f"{location.address:#010x} {location}")
        _note_problems(symbolizer)
        return 0

    source = "standard input" if args.log == "-" else args.log
    text = sys.stdin.read() if args.log == "-" else _read(Path(args.log))
    panics = symbolize_panics(text, lambda: symbolizer)
    if not panics:
        raise FinchError(
            f"no panic report in {source}: looked for a line starting with "
            "'panic(cpu N caller 0x...): '"
        )
    for panic in panics:
        print(panic.format())
    _note_problems(symbolizer)
    return 0


def _note_problems(symbolizer: Symbolizer) -> None:
    """Say why an image has no file:line (a kext's damaged debug info)."""
    for image in symbolizer.images:
        if image.problem is not None:
            print(f"finch symbolize: note: {image.problem}", file=sys.stderr)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        raise FinchError(f"{path} does not exist: give the path of a saved console log") from None


def _parse_address(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise FinchError(f"{text!r} is not a hexadecimal address (e.g. 0x00101234)") from None
