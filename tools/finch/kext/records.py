"""What the host remembers about the kexts it loaded into a running guest.

kextload links each kext on the host, so only the host knows where the
kext's symbols went.  For every kext it loads it leaves two files in the
run directory's symbols/ folder (build/run/symbols/ for `finch run`):

    <bundle id>.sym    the kext's object with its load addresses in the
                       section headers: for gdb (`add-symbol-file`) and
                       for the panic symbolizer
    <bundle id>.json   the load: kmod id, address, size, image CRC,
                       version, bundle path, and the kext's exported
                       globals, which a kext linked against it resolves to

They are written before KMOD_LOAD (a panic in the start routine is then
symbolized too) and removed when the load fails or the kext is unloaded.
A kext whose start routine still runs when the kernel answers is loaded
("starting"), so its record stays; if that start fails after all, the
kernel unloads the kext by itself, and kextstat or kextload drops the
record once the kernel no longer lists the kext
(GuestSession.forget_unloaded).  Whoever starts a guest in a run
directory used before (`finch run`, the kext benchmark) clears the folder
first.  A record is trusted only
while the kernel lists a kext of that name at that address with that
image CRC: only then are its symbols where the record says.

The folder's boot-id file holds the guest's boot id (from its HELLO
reply) when the records were last looked after: once the guest reboots,
the records describe kexts that are gone (finch.session drops them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from finch.kext.loaded import LoadedKext
from finch.link import LinkedImage

SYMBOLS_DIR = "symbols"
BOOT_ID_FILE = "boot-id"


@dataclass(frozen=True)
class KextRecord:
    identifier: str
    version: str
    address: int
    size: int  # image bytes
    image_crc: int
    bundle: str  # the bundle it was loaded from
    kmod_id: int = 0  # 0 until KMOD_LOAD succeeded
    symbols: dict[str, int] = field(default_factory=dict, repr=False)

    def describes(self, loaded: LoadedKext) -> bool:
        """Is `loaded` (a KMOD_LIST row) the image this record was written for?"""
        return (
            loaded.identifier == self.identifier
            and loaded.address == self.address
            and loaded.image_crc == self.image_crc
        )


@dataclass(frozen=True)
class KextRecords:
    """The symbols/ folder of one run directory."""

    directory: Path

    @classmethod
    def in_rundir(cls, rundir: Path) -> KextRecords:
        return cls(rundir / SYMBOLS_DIR)

    def symbol_file(self, identifier: str) -> Path:
        return self.directory / f"{identifier}.sym"

    def _record_file(self, identifier: str) -> Path:
        return self.directory / f"{identifier}.json"

    def write(self, record: KextRecord, linked: LinkedImage | None = None) -> Path:
        """Write the record (and, given the linked image, the symbol file);
        returns the symbol file's path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        sym = self.symbol_file(record.identifier)
        if linked is not None:
            linked.write_symbol_file(sym)
        path = self._record_file(record.identifier)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(record), indent=1) + "\n")
        tmp.replace(path)
        return sym

    def read(self, identifier: str) -> KextRecord | None:
        try:
            data = json.loads(self._record_file(identifier).read_text())
            return KextRecord(**data)
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return None

    def for_loaded(self, loaded: LoadedKext) -> KextRecord | None:
        """The record of the kext the kernel lists as `loaded`, if it is one."""
        record = self.read(loaded.identifier)
        return record if record is not None and record.describes(loaded) else None

    def all(self) -> list[KextRecord]:
        if not self.directory.is_dir():
            return []
        records = (self.read(p.stem) for p in sorted(self.directory.glob("*.json")))
        return [r for r in records if r is not None]

    def symbol_files(self) -> list[tuple[str, Path]]:
        """(bundle id, symbol file) of each recorded kext that has one."""
        files = ((r.identifier, self.symbol_file(r.identifier)) for r in self.all())
        return [(identifier, path) for identifier, path in files if path.is_file()]

    def remove(self, identifier: str) -> None:
        for path in (self._record_file(identifier), self.symbol_file(identifier)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def boot_id(self) -> str | None:
        """The guest boot these records belong to, if one was noted."""
        try:
            return (self.directory / BOOT_ID_FILE).read_text().strip() or None
        except FileNotFoundError:
            return None

    def set_boot_id(self, boot_id: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / BOOT_ID_FILE).write_text(boot_id + "\n")
