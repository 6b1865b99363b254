"""The toolkit's exceptions.

A FinchError is a user error: its message says what went wrong, where,
and what to do, and the `finch` command prints it without a traceback.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from finch.exitstatus import QemuExit
    from finch.panic import SymbolizedPanic


class FinchError(Exception):
    """A user error: the message says what, where, and what to do."""


def printable(text: object) -> str:
    """A name taken from a user's file, as text for an error message: its
    control characters escaped (\\n, \\x01), so that a damaged file cannot
    break a message across lines."""
    shown = str(text)
    return shown if shown.isprintable() else shown.encode("unicode_escape").decode("ascii")


class BuildError(FinchError):
    """The kernel (or a kext, or the benchmark floor) did not build."""


class LinkError(FinchError):
    """A kext object that cannot be linked: the wrong kind of file, a
    damaged one, or one whose symbols and relocations cannot be resolved.
    `problems` lists each reason on its own; `subject` is the kext or file."""

    def __init__(self, subject: str, problems: Sequence[str]) -> None:
        self.subject = subject
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"{subject}: {self.problems[0]}"
        else:
            message = f"{subject}: cannot link:\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message)


class PreflightError(FinchError):
    """A host tool Finch needs is missing or too old."""


class MachineError(FinchError):
    """Something went wrong with a running QEMU guest."""


class ExpectTimeout(MachineError):
    """The console did not show what was expected in time."""


class QmpError(MachineError):
    """A QMP command failed; error_class is QMP's (e.g. "GenericError")."""

    def __init__(self, message: str, error_class: str = "") -> None:
        super().__init__(message)
        self.error_class = error_class


class QemuExited(MachineError):
    """QEMU ended when the caller expected it to keep running, or ended
    some other way than by a guest halt."""

    def __init__(self, message: str, exit: QemuExit) -> None:
        super().__init__(message)
        self.exit = exit


class GuestPanic(MachineError):
    """The kernel panicked.  `raw` is the report as the kernel printed it,
    `symbolized` the same with every address named (function+offset and
    file:line), `panic` the parsed and symbolized record."""

    def __init__(self, message: str, raw: str, symbolized: str, panic: SymbolizedPanic) -> None:
        super().__init__(message)
        self.raw = raw
        self.symbolized = symbolized
        self.panic = panic
