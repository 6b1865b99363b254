"""Is this host able to run Finch?  Checked before booting, so that a
missing or old QEMU, or a gcc without 32-bit support, gets a message that
says what to install instead of a confusing failure later.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from finch.errors import PreflightError
from finch.qemu_args import QEMU

MIN_QEMU = (7, 2)  # -netdev dgram
_INSTALL_QEMU = "`apt-get install qemu-system-x86`, or run `make run`, which installs it"


@dataclass(frozen=True)
class QemuInfo:
    path: str
    version: tuple[int, int, int]
    netdevs: tuple[str, ...]


def check_qemu(qemu: str = QEMU) -> QemuInfo:
    """QEMU is installed, recent enough, and has user networking."""
    path = shutil.which(qemu)
    if path is None:
        raise PreflightError(
            f"{qemu} is not installed (not found on PATH): install it with {_INSTALL_QEMU}"
        )
    out = _run([path, "--version"], what=f"{qemu} --version")
    found = re.search(r"version (\d+)\.(\d+)(?:\.(\d+))?", out)
    if found is None:
        raise PreflightError(
            f"could not read the version of {path} from `{qemu} --version`, which printed "
            f"{out.strip()[:200]!r}: reinstall QEMU with {_INSTALL_QEMU}"
        )
    version = (int(found.group(1)), int(found.group(2)), int(found.group(3) or 0))
    if version[:2] < MIN_QEMU:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_QEMU))
        raise PreflightError(
            f"{path} is QEMU {have}, but Finch needs QEMU {need} or newer (for -netdev dgram): "
            f"upgrade with {_INSTALL_QEMU} on Debian 12 or newer"
        )
    listing = _run([path, "-netdev", "help"], what=f"{qemu} -netdev help")
    netdevs = tuple(
        line.strip() for line in listing.splitlines()[1:] if line.strip() and " " not in line
    )
    if "user" not in netdevs:
        raise PreflightError(
            f"{path} was built without user networking (`{qemu} -netdev help` lists no "
            f"'user'): install Debian's QEMU, which has it, with {_INSTALL_QEMU}"
        )
    return QemuInfo(path, version, netdevs)


def check_gcc(gcc: str = "gcc") -> None:
    """gcc can compile 32-bit freestanding code."""
    if shutil.which(gcc) is None:
        raise PreflightError(f"{gcc} is not installed: `apt-get install gcc gcc-multilib`")
    with tempfile.TemporaryDirectory(prefix="finch-preflight-") as tmp:
        source = Path(tmp) / "probe.c"
        source.write_text("#include <stdint.h>\nuint32_t finch_probe(void) { return 0; }\n")
        proc = subprocess.run(
            [gcc, "-m32", "-ffreestanding", "-c", str(source), "-o", str(Path(tmp) / "probe.o")],
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        raise PreflightError(
            f"{gcc} cannot compile 32-bit freestanding code (`{gcc} -m32 -ffreestanding -c` "
            f"failed: {proc.stderr.strip()[:300]}): install gcc-multilib with "
            "`apt-get install gcc-multilib`"
        )


def preflight(qemu: str = QEMU, gcc: str = "gcc") -> QemuInfo:
    """Every check; raises PreflightError on the first problem."""
    check_gcc(gcc)
    return check_qemu(qemu)


def _run(argv: list[str], what: str) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PreflightError(
            f"`{what}` could not run ({e}): reinstall QEMU with {_INSTALL_QEMU}"
        ) from e
    if proc.returncode != 0:
        raise PreflightError(
            f"`{what}` failed with exit code {proc.returncode} "
            f"({(proc.stderr or proc.stdout).strip()[:300]}): reinstall QEMU with {_INSTALL_QEMU}"
        )
    return proc.stdout
