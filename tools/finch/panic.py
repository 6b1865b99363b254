"""The kernel's panic report: find it in console output, parse it, and
name every address in it.

The kernel prints, on COM1:

    panic(cpu 0 caller 0x0010abcd): <message>
    ...register lines...
    Backtrace (frame : return address):
      0x0011fe8c : 0x00101234
    Kernel version: Finch 0.1.0 (build 0123456789abcdef)
    ==== end of panic report ====

For a CPU exception the message is "Kernel trap at 0x00101234, type
14=page fault, error code 0x00000000".  The trap address is symbolized
as it is; the caller and each return address at address-1 (the call),
except a caller that is the trap address itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finch.symbolize import Location, Symbolizer

PANIC_START = re.compile(r"^panic\(cpu (\d+) caller 0x([0-9a-f]+)\): (.*)$", re.MULTILINE)
PANIC_END = "==== end of panic report ===="
# How long to wait for the end marker once the first line has arrived.
PANIC_COLLECT_SECONDS = 2.0

_TRAP = re.compile(r"Kernel trap at 0x([0-9a-f]+), type (\d+)=([^,]*), error code 0x([0-9a-f]+)")
_FRAME = re.compile(r"^\s*0x([0-9a-f]+) : 0x([0-9a-f]+)\s*$", re.MULTILINE)
_VERSION = re.compile(r"^Kernel version: (.*?)(?: \(build ([0-9a-f]+)\))?\s*$", re.MULTILINE)


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


@dataclass(frozen=True)
class PanicReport:
    text: str  # as printed, "\r\n" turned into "\n"
    cpu: int
    caller: int
    message: str
    trap: Trap | None
    frames: tuple[Frame, ...]
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
    backtrace_at = text.find("Backtrace")
    frames = (
        tuple(
            Frame(int(m.group(1), 16), int(m.group(2), 16))
            for m in _FRAME.finditer(text, backtrace_at)
        )
        if backtrace_at >= 0
        else ()
    )
    version = _VERSION.search(text)
    return PanicReport(
        text=text,
        cpu=int(first.group(1)),
        caller=int(first.group(2), 16),
        message=message,
        trap=trap,
        frames=frames,
        kernel_version=version.group(1) if version else None,
        build_id=version.group(2) if version else None,
        complete=complete,
    )


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
        lines.append("Backtrace:")
        lines += [f"#{i} {loc.address:#010x} {loc}" for i, loc in enumerate(self.frames)]
        if not self.frames:
            lines.append("  (no frames)")
        if r.kernel_version:
            build = f" (build {r.build_id})" if r.build_id else ""
            lines.append(f"Kernel version: {r.kernel_version}{build}")
        if not r.complete:
            lines.append("(the report ended before its end marker)")
        return "\n".join(lines) + "\n"


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
