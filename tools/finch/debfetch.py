"""Debian packages of a foreign architecture, fetched with apt and
unpacked with dpkg-deb, for finch.linuxguest (Debian's i386 kernel and
busybox for the Linux reference guest).

    apt = Apt()                                       # runs apt-get, apt-cache, dpkg
    apt.ensure_architecture("i386")                   # dpkg --add-architecture, apt-get update
    name = apt.resolve("linux-image-686", "i386")     # the kernel image the metapackage names
    deb = apt.download(name, "i386", into=scratch)    # apt-get download
    unpack(deb, into=scratch / "tree")                # dpkg-deb -x

Nothing here is cached: the caller decides when to fetch.  Every failure
says what apt said and which command to run by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from finch.errors import FinchError

APT_TIMEOUT = 600.0  # seconds for one apt command (apt-get update on a slow mirror)
_OUTPUT_TAIL = 1500


class FetchError(FinchError):
    """apt or dpkg could not give us a package."""


@dataclass(frozen=True)
class Package:
    name: str  # "linux-image-6.1.0-57-686"
    version: str  # "6.1.192-3"
    arch: str  # "i386"

    @property
    def spec(self) -> str:
        """name:arch=version, as apt-get download takes it."""
        return f"{self.name}:{self.arch}={self.version}"


def apt_errors(output: str) -> str:
    """apt's "E:" lines, or all of its output if it printed none (its "W:"
    lines, such as the one about the _apt sandbox, are noise next to them)."""
    errors = [line for line in output.splitlines() if line.startswith("E:")]
    return "\n".join(errors) if errors else output.strip()


def parse_depends(output: str) -> list[str]:
    """The package names after "Depends:" in `apt-cache depends` output,
    architecture suffixes dropped, alternatives ("|Depends:") included."""
    names = []
    for line in output.splitlines():
        match = re.match(r"\s*\|?Depends:\s+<?([^\s:>]+)", line)
        if match:
            names.append(match.group(1))
    return names


def kernel_image_of(metapackage: str, depends: Sequence[str]) -> str:
    """The real kernel image a metapackage such as linux-image-686 points at:
    its one dependency named linux-image-<version>-<flavour>."""
    flavour = metapackage.removeprefix("linux-image-")
    images = [name for name in depends if re.fullmatch(rf"linux-image-\d[\w.+-]*-{flavour}", name)]
    if len(images) != 1:
        raise FetchError(
            f"{metapackage} depends on {', '.join(depends) or 'nothing'}: expected exactly one "
            f"linux-image-<version>-{flavour}; run `apt-cache depends {metapackage}` to see why"
        )
    return images[0]


def parse_candidate(output: str) -> str | None:
    """The candidate version in `apt-cache policy` output (None if apt has none)."""
    match = re.search(r"^\s*Candidate:\s*(\S+)", output, re.MULTILINE)
    if match is None or match.group(1) == "(none)":
        return None
    return match.group(1)


@dataclass
class Apt:
    """apt-get, apt-cache and dpkg, run as subprocesses."""

    timeout: float = APT_TIMEOUT
    updated: bool = field(default=False)  # apt-get update ran in this process

    def ensure_architecture(self, arch: str) -> None:
        """Make dpkg know `arch` (and apt fetch its package lists)."""
        native = self._run(["dpkg", "--print-architecture"]).strip()
        foreign = self._run(["dpkg", "--print-foreign-architectures"]).split()
        if arch == native or arch in foreign:
            return
        if os.geteuid() != 0:
            raise FetchError(
                f"dpkg does not know the {arch} architecture and only root can add it: run "
                f"`sudo dpkg --add-architecture {arch} && sudo apt-get update`, then try again"
            )
        self._run(["dpkg", "--add-architecture", arch])
        self.update()

    def update(self) -> None:
        if os.geteuid() != 0:
            raise FetchError("apt's package lists need refreshing: run `sudo apt-get update`")
        self._run(["apt-get", "update"], what="apt-get update (is Debian's mirror reachable?)")
        self.updated = True

    def candidate(self, name: str, arch: str) -> Package:
        """The version apt would download, refreshing the lists once if apt
        does not know the package yet."""
        version = parse_candidate(self._run(["apt-cache", "policy", f"{name}:{arch}"]))
        if version is None and not self.updated:
            self.update()
            version = parse_candidate(self._run(["apt-cache", "policy", f"{name}:{arch}"]))
        if version is None:
            raise FetchError(
                f"apt knows no {name}:{arch}: run `dpkg --add-architecture {arch} && "
                "apt-get update` and check that Debian's mirror is reachable"
            )
        return Package(name, version, arch)

    def resolve(self, metapackage: str, arch: str) -> Package:
        """The kernel image package (and version) that `metapackage` depends on."""
        self.candidate(metapackage, arch)  # refreshes the lists if needed
        depends = parse_depends(
            self._run(["apt-cache", "depends", "--no-recommends", f"{metapackage}:{arch}"])
        )
        return self.candidate(kernel_image_of(metapackage, depends), arch)

    def download(self, package: Package, into: Path) -> Path:
        """apt-get download `package` into the directory `into`; the .deb."""
        into.mkdir(parents=True, exist_ok=True)
        before = set(into.glob("*.deb"))
        self._run(
            ["apt-get", "download", package.spec],
            cwd=into,
            what=f"apt-get download {package.spec} (is Debian's mirror reachable?)",
        )
        new = [deb for deb in into.glob("*.deb") if deb not in before]
        if len(new) != 1:
            raise FetchError(
                f"apt-get download {package.spec} left {len(new)} .deb files in {into}"
            )
        return new[0]

    def _run(self, argv: list[str], cwd: Path | None = None, what: str | None = None) -> str:
        what = what or " ".join(argv)
        try:
            proc = subprocess.run(
                argv, cwd=cwd, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except FileNotFoundError as e:
            raise FetchError(
                f"{argv[0]} was not found: fetching needs Debian's apt and dpkg"
            ) from e
        except subprocess.TimeoutExpired as e:
            raise FetchError(f"{what} took more than {self.timeout:g} s; try it by hand") from e
        if proc.returncode != 0:
            said = apt_errors(proc.stderr or proc.stdout)[-_OUTPUT_TAIL:]
            raise FetchError(f"{what} failed (exit {proc.returncode}):\n{said}")
        return proc.stdout


def unpack(deb: Path, into: Path) -> Path:
    """dpkg-deb -x: the package's files under `into`."""
    into.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["dpkg-deb", "-x", str(deb), str(into)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise FetchError(
            f"dpkg-deb -x {deb} failed (exit {proc.returncode}): {proc.stderr.strip()}; "
            f"delete {deb.parent} and fetch again"
        )
    return into
