"""The kernel's panic report: find it in console output, parse it, and
name every address in it.  Machine (a panic while a test waits), `finch
run` (a panic before QEMU ended) and `finch symbolize` (a saved console
log) all go through symbolize_panics() and run_symbolizer(), so that a report
reads the same wherever it is shown.

The kernel prints, on COM1:

    panic(cpu 0 caller 0x0010abcd): <message>
    ...register lines, the thread...
    Backtrace (frame : return address):
      0x0011fe8c : 0x00101234 ip_input+0x4c
      0x0011fea8 : 0x00401234 tick+0x10 (com.example.foo)
    Kernel extensions loaded:
      com.example.foo (1.0.0) @ 0x00400000-0x00400fff
    Kernel version: Finch 0.1.0 (build 0123456789abcdef)
    ==== end of panic report ====

For a CPU exception the message is "Kernel trap at 0x00101234, type
14=page fault, error code 0x00000000".  The trap address is symbolized
as it is; the caller and each return address at address-1 (the call),
except a caller that is the trap address itself.  The addresses are
looked up in the kernel ELF and in the symbol file kextload left in the
run directory for each kext it loaded (finch.kext.records).  The name the
guest printed after a frame's address (kern/ksyms.c) is kept, and shown
for a frame the host cannot name: a kext it has no symbol file for.  The
symbolized report keeps every line of the raw one.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finch.build import Tree
from finch.errors import BuildError
from finch.kext.records import KextRecords
from finch.symbolize import Location, Symbolizer

PANIC_START = re.compile(r"^panic\(cpu (\d+) caller 0x([0-9a-f]+)\): (.*)$", re.MULTILINE)
PANIC_END = "==== end of panic report ===="
# How long to wait for the end marker once the first line has arrived.
PANIC_COLLECT_SECONDS = 2.0

_TRAP = re.compile(r"Kernel trap at 0x([0-9a-f]+), type (\d+)=([^,]*), error code 0x([0-9a-f]+)")
# "  0x0011fe8c : 0x00401234", then what the guest named it, if anything.
_FRAME = re.compile(r"^\s*0x([0-9a-f]+) : 0x([0-9a-f]+)(?:[ \t]+(\S.*?))?\s*$", re.MULTILINE)
_VERSION = re.compile(r"^Kernel version: (.*?)(?: \(build ([0-9a-f]+)\))?\s*$", re.MULTILINE)
_BACKTRACE = "Backtrace"


@dataclass(frozen=True)
class Trap:
    address: int
    type: int
    name: str  # "page fault"
    error_code: int


@dataclass(frozen=True)
class Frame:
    frame_pointer: int
    return_address: int
    guest_name: str | None = None  # "tick+0x10 (com.example.foo)", as the guest printed it


@dataclass(frozen=True)
class PanicReport:
    text: str  # as printed, "\r\n" turned into "\n"
    cpu: int
    caller: int
    message: str
    trap: Trap | None
    registers: tuple[str, ...]  # the lines before the backtrace, as printed (and the thread)
    frames: tuple[Frame, ...]
    loaded_kexts: tuple[str, ...]  # the lines after it, as printed: the kexts loaded
    kernel_version: str | None  # "Finch 0.1.0"
    build_id: str | None
    complete: bool  # the end marker was seen


def find_panic(text: str, start: int = 0) -> tuple[int, int | None] | None:
    """Where the first panic report at or after `start` begins, and where
    it ends (just past the end marker's line), or None for the end while
    the marker has not arrived yet.  None when there is no panic."""
    match = PANIC_START.search(text, start)
    if match is None:
        return None
    marker = text.find(PANIC_END, match.start())
    if marker < 0:
        return match.start(), None
    newline = text.find("\n", marker)
    return match.start(), (len(text) if newline < 0 else newline + 1)


def parse_panic(text: str) -> PanicReport:
    """Parse one report; `text` starts at its "panic(" line."""
    text = text.replace("\r\n", "\n").replace("\r", "")
    first = PANIC_START.search(text)
    if first is None:
        raise ValueError("no panic(cpu N caller 0x...) line in the text")
    text = text[first.start() :]
    end = text.find(PANIC_END)
    complete = end >= 0
    if complete:
        text = text[: end + len(PANIC_END)] + "\n"
    message = first.group(3).strip()
    trap_match = _TRAP.search(message)
    trap = (
        Trap(
            int(trap_match.group(1), 16),
            int(trap_match.group(2)),
            trap_match.group(3).strip(),
            int(trap_match.group(4), 16),
        )
        if trap_match
        else None
    )
    lines = text.splitlines()[1:]
    backtrace_at = next((i for i, line in enumerate(lines) if line.startswith(_BACKTRACE)), None)
    before = lines if backtrace_at is None else lines[:backtrace_at]
    after = [] if backtrace_at is None else lines[backtrace_at + 1 :]
    frames = tuple(
        Frame(int(m.group(1), 16), int(m.group(2), 16), m.group(3))
        for m in (_FRAME.match(line) for line in after)
        if m
    )
    version = _VERSION.search(text)
    return PanicReport(
        text=text,
        cpu=int(first.group(1)),
        caller=int(first.group(2), 16),
        message=message,
        trap=trap,
        registers=tuple(line for line in before if _is_detail(line)),
        frames=frames,
        loaded_kexts=tuple(line for line in after if _is_detail(line) and not _FRAME.match(line)),
        kernel_version=version.group(1) if version else None,
        build_id=version.group(2) if version else None,
        complete=complete,
    )


def _is_detail(line: str) -> bool:
    """A line of the report that parse_panic() does not take apart itself."""
    return bool(line.strip()) and not _VERSION.match(line) and not line.startswith(PANIC_END)


@dataclass(frozen=True)
class SymbolizedPanic:
    report: PanicReport
    caller: Location
    trap: Location | None
    frames: tuple[Location, ...]
    image_build_id: str | None  # the build id in the kernel ELF used to symbolize

    @property
    def fault(self) -> Location:
        """Where it went wrong: the trapping instruction for a CPU
        exception, else the caller of panic()."""
        return self.trap or self.caller

    @property
    def build_mismatch(self) -> bool:
        return (
            self.report.build_id is not None
            and self.image_build_id is not None
            and self.report.build_id != self.image_build_id
        )

    def format(self) -> str:
        r = self.report
        lines = [f"panic(cpu {r.cpu} caller {r.caller:#010x}): {r.message}"]
        if self.build_mismatch:
            lines.append(
                f"warning: the panic came from build {r.build_id} but the symbols are from "
                f"build {self.image_build_id}: names and lines may be wrong"
            )
        if self.trap is not None:
            lines.append(f"trap at   {self.trap.address:#010x} {self.trap}")
        lines.append(f"caller    {self.caller.address:#010x} {self.caller}")
        lines += r.registers
        lines.append("Backtrace:")
        lines += [
            f"#{i} {loc.address:#010x} {_frame_name(loc, frame)}"
            for i, (loc, frame) in enumerate(zip(self.frames, r.frames, strict=True))
        ]
        if not self.frames:
            lines.append("  (no frames)")
        lines += r.loaded_kexts
        if r.kernel_version:
            build = f" (build {r.build_id})" if r.build_id else ""
            lines.append(f"Kernel version: {r.kernel_version}{build}")
        if not r.complete:
            lines.append("(the report ended before its end marker)")
        return "\n".join(lines) + "\n"


def _frame_name(location: Location, frame: Frame) -> str:
    """The host's name for a frame (with file:line); the guest's when the
    host has none."""
    if location.function is None and frame.guest_name:
        return f"{frame.guest_name} (named by the guest)"
    return str(location)


def symbolize_panic(report: PanicReport, symbolizer: Symbolizer) -> SymbolizedPanic:
    kernel = symbolizer.kernel
    return SymbolizedPanic(
        report=report,
        # A trap panic names the faulting instruction as its caller: that
        # address is exact, not a return address.
        caller=symbolizer.lookup(
            report.caller,
            return_address=report.trap is None or report.caller != report.trap.address,
        ),
        trap=symbolizer.lookup(report.trap.address) if report.trap else None,
        frames=tuple(
            symbolizer.lookup(f.return_address, return_address=True) for f in report.frames
        ),
        image_build_id=kernel.string_symbol("finch_build_id") if kernel else None,
    )


def run_symbolizer(kernel: Path, rundir: Path) -> Symbolizer:
    """Names for the addresses of a guest's panic: the kernel ELF, and the
    symbol file of each kext kextload loaded into the guest of `rundir`
    (read anew: a kext reloaded since has a new one)."""
    symbolizer = Symbolizer.for_kernel(kernel)
    for identifier, path in KextRecords.in_rundir(rundir).symbol_files():
        symbolizer.add_image(path, name=identifier)
    return symbolizer


def symbolize_command(console_log: Path, kernel: Path) -> str:
    """The `finch symbolize` command that names a panic's addresses later,
    as run_symbolizer() does now: for the console log of a run directory
    (whose symbols/ holds the loaded kexts' symbol files) and the kernel
    ELF the guest ran.  --rundir and --elf are given when they are not the
    command's defaults (build/run, images/finch.elf); without the right
    --rundir, every frame in a kext would show as ??."""
    try:
        tree: Tree | None = Tree.find()
    except BuildError:
        tree = None  # not in a checkout: there are no defaults to rely on
    rundir = console_log.parent
    words = ["finch", "symbolize"]
    if tree is None or not _same_file(kernel, tree.kernel_elf):
        words += ["--elf", _as_typed(kernel)]
    if tree is None or not _same_file(rundir, tree.run_dir):
        words += ["--rundir", _as_typed(rundir)]
    return shlex.join([*words, _as_typed(console_log)])


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _as_typed(path: Path) -> str:
    """`path` relative to the current directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def symbolize_panics(text: str, symbols: Callable[[], Symbolizer]) -> list[SymbolizedPanic]:
    """Every panic report in console output `text`, in order, each with its
    addresses named; a report still arriving is taken as far as it goes.
    symbols() gives the Symbolizer (usually run_symbolizer()); it is called
    only if there is a report: reading the kernel's DWARF takes a while."""
    reports: list[PanicReport] = []
    position = 0
    while (found := find_panic(text, position)) is not None:
        start, end = found
        reports.append(parse_panic(text[start:end]))
        position = len(text) if end is None else end
    if not reports:
        return []
    symbolizer = symbols()
    return [symbolize_panic(report, symbolizer) for report in reports]
