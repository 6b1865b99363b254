"""QEMU's exit code turned back into the guest's halt status.

The kernel's `halt N` writes N to the isa-debug-exit port and QEMU exits
with code 2N+1.  Every other way out (a reset under -no-reboot, `quit`,
a signal, QEMU failing to start) has an even code, a signal, or (code 1)
a message in qemu.log, and is described as what it is.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

HALT_STATUS_MAX = 127

# A QEMU error line on stderr (warnings do not count).
_QEMU_ERROR = re.compile(r"^qemu(?:-system-\w+)?: (?!warning:)", re.MULTILINE)


def exit_code_for_status(status: int) -> int:
    """The QEMU exit code for `halt status`."""
    if not 0 <= status <= HALT_STATUS_MAX:
        raise ValueError(f"halt status {status} is outside 0..{HALT_STATUS_MAX}")
    return 2 * status + 1


@dataclass(frozen=True)
class QemuExit:
    """How a QEMU process ended.  returncode is Popen's: negative for a
    signal.  qemu_log is what QEMU wrote to its stderr."""

    returncode: int
    qemu_log: str = ""

    @property
    def qemu_failed(self) -> bool:
        """QEMU itself gave up (bad option, missing file): it exits with 1,
        like `halt 0`, but first says why on stderr ("qemu-system-i386:
        -foo: invalid option", "qemu: could not open kernel file")."""
        return self.returncode == 1 and _QEMU_ERROR.search(self.qemu_log) is not None

    @property
    def guest_status(self) -> int | None:
        """N for a guest `halt N`, else None."""
        code = self.returncode
        if code > 0 and code % 2 == 1 and not self.qemu_failed:
            return (code - 1) // 2
        return None

    def describe(self) -> str:
        code = self.returncode
        status = self.guest_status
        if status is not None:
            return f"the guest halted with status {status} (QEMU exit code {code})"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"QEMU was killed by {name}"
        if code == 0:
            return (
                "QEMU exited with code 0 without a guest halt: the guest reset or "
                "rebooted (with -no-reboot that ends QEMU), or QEMU was told to quit"
            )
        return f"QEMU failed with exit code {code}"
