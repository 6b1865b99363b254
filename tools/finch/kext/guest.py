"""A booted guest ready for kexts, with the kext tools pointed at it: what
the kext_guest pytest fixture hands a test and what `finch bench` times.

    guest = KextGuest(machine, kexts_dir)       # machine booted with kext_options()
    guest.load(guest.bundle("hello"))           # kextload, in-process
    guest.kextstat()                            # KMOD_LIST rows
    guest.unload("com.finch.sample.hello")      # kextunload
    guest.heap()                                # `mem`, as a HeapSnapshot

The machine has COM2 on a unix socket (the host link) and RAM shared with
the host, as `finch run` starts it; every call opens a session through the
machine's run directory, as the commands do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from finch.heapstats import HeapSnapshot, parse_mem
from finch.kext.load import Echo, LoadResult, load_kexts, quiet
from finch.kext.loaded import LoadedKext
from finch.kext.unload import UnloadResult, unload_kext
from finch.machine import Machine
from finch.qemu_args import HOSTLINK_SOCKET, QemuOptions, SerialSocket
from finch.session import GuestSession


def kext_options(options: QemuOptions | None = None) -> QemuOptions:
    """`options` (default: the defaults) with the host link on COM2 and
    guest RAM shared with the host."""
    return replace(
        options or QemuOptions(), serial=(SerialSocket(HOSTLINK_SOCKET),), shared_ram=True
    )


@dataclass
class KextGuest:
    machine: Machine
    kexts_dir: Path  # the built sample kexts: <dir>/<name>.kext

    @property
    def rundir(self) -> Path:
        return self.machine.paths.rundir

    def bundle(self, name: str) -> Path:
        return self.kexts_dir / f"{name}.kext"

    def session(self) -> GuestSession:
        return GuestSession.open(self.rundir)

    def wait_ready(self) -> None:
        """Return once the kernel answers HELLO on the host link."""
        self.session().close()

    def load(
        self,
        *bundles: Path,
        dependencies: Sequence[Path] = (),
        search_dirs: Sequence[Path] = (),
        echo: Echo = quiet,
    ) -> list[LoadResult]:
        return load_kexts(
            self.rundir, bundles, dependencies=dependencies, search_dirs=search_dirs, echo=echo
        )

    def unload(self, identifier: str) -> UnloadResult:
        with self.session() as session:
            return unload_kext(session, identifier)

    def kextstat(self) -> list[LoadedKext]:
        with self.session() as session:
            return session.list_kexts()

    def monitor(self, command: str) -> str:
        with self.session() as session:
            return session.monitor(command)

    def heap(self) -> HeapSnapshot:
        return parse_mem(self.monitor("mem"))
