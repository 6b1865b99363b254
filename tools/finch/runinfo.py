"""machine.json: how host tools find a running guest.

Machine writes it into its run directory when QEMU starts and removes it
when QEMU is gone.  `finch run` uses build/run/, so kextload and friends
read build/run/machine.json to reach the guest the student is typing into:
serial2 is its host link's socket, and shared_ram, when set, the file that
backs its RAM, where kextload writes kext images.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from finch.errors import MachineError

FILE_NAME = "machine.json"


@dataclass(frozen=True)
class RunInfo:
    pid: int  # QEMU's process id
    qmp_socket: str
    kernel: str
    console_log: str
    qemu_log: str
    serial2: str | None  # COM2's unix socket: the host link
    argv: list[str]
    started: str  # UTC, ISO 8601
    shared_ram: str | None = None  # the guest RAM file (offset == guest-physical address)

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> RunInfo:
        """The guest described by `path`; an error that says how to start
        one when there is none."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise MachineError(
                f"no Finch guest is running: {path} does not exist; start one with `make run`"
            ) from None
        except json.JSONDecodeError as e:
            raise MachineError(f"{path} is not valid JSON ({e}); remove it and retry") from e
        fields = {f.name for f in dataclasses.fields(cls)}
        info = cls(**{k: v for k, v in data.items() if k in fields})
        if not info.is_running():
            raise MachineError(
                f"the guest in {path} (QEMU pid {info.pid}) is no longer running; "
                "start one with `make run`"
            )
        return info

    def is_running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
