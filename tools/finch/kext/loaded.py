"""What is loaded: a row of the kernel's kmod table (KMOD_LIST), and
kextstat's lines for it, as Tiger's kextstat printed them -- plus, under
the row of a kext that is not simply running, an indented line with its
state and the kernel's words about it: what holds a pinned kext, how long
the start or stop routine of a starting or stopping one has run (Tiger
had no such states: a row stays one line that Tiger's format reads, and
the state line is told apart by its indentation).

    Index Refs Address    Size       Wired      Name (Version) <Linked Against>
       12    0 0x19c000   0x1000     0x1000     com.example.leaky (1.0.0) <3 2>
          stopped, pinned: interface filter 'leaky' is still attached to lo0 ...
       13    0 0x1a0000   0x1000     0x1000     com.example.sleepy (1.0.0) <3 2>
          starting: its start routine has run for 8.2 s (thread 14 in `ps`)

parse_kextstat() reads that back, from the host's kextstat or the guest's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from finch.hostlink.messages import (
    KMOD_PINNED,
    KMOD_PINNED_FOREVER,
    KMOD_RUNNING,
    KMOD_STARTING,
    KMOD_STOPPING,
    KmodEntry,
)

# How kextstat names a state other than running (the guest's kextstat
# says the same: kernel/kern/kmod.c, kmod_state_name).
STATE_NAMES = {
    KMOD_PINNED: "stopped, pinned",
    KMOD_PINNED_FOREVER: "stopped, pinned until reboot",
    KMOD_STARTING: "starting",
    KMOD_STOPPING: "stopping",
}
STATE_INDENT = " " * 6


@dataclass(frozen=True)
class LoadedKext:
    """One row of the kernel's kmod table."""

    index: int
    refs: int
    address: int
    size: int
    wired: int
    identifier: str
    version: str
    linked_against: tuple[int, ...] = ()
    compatible_version: str = ""
    image_crc: int = 0
    kernel_component: bool = False
    state: int = KMOD_RUNNING  # KMOD_RUNNING, KMOD_PINNED, ... KMOD_STOPPING
    reason: str = ""  # pinned: what still points into it; starting, stopping: for how long
    busy_ms: int = 0  # starting, stopping: how long its routine has run

    @classmethod
    def from_entry(cls, e: KmodEntry) -> LoadedKext:
        return cls(
            index=e.kmod_id,
            refs=e.refs,
            address=e.address,
            size=e.size,
            wired=e.wired,
            identifier=e.name,
            version=e.version,
            linked_against=e.dependencies,
            compatible_version=e.compatible_version,
            image_crc=e.image_crc,
            kernel_component=e.kernel_component,
            state=e.state,
            reason=e.reason,
            busy_ms=e.busy_ms,
        )

    @property
    def running(self) -> bool:
        return self.state == KMOD_RUNNING

    @property
    def pinned(self) -> bool:
        """Stopped, but kept in memory: something still points into it."""
        return self.state in (KMOD_PINNED, KMOD_PINNED_FOREVER)

    @property
    def starting(self) -> bool:
        """Loaded, and its start routine has not returned yet."""
        return self.state == KMOD_STARTING

    @property
    def stopping(self) -> bool:
        """Its stop routine has not returned yet."""
        return self.state == KMOD_STOPPING

    @property
    def busy(self) -> bool:
        """Its start or stop routine runs: nothing can be done to it until
        that returns."""
        return self.starting or self.stopping

    @property
    def state_name(self) -> str:
        """'running', 'starting', 'stopped, pinned', ..."""
        if self.running:
            return "running"
        return STATE_NAMES.get(self.state, f"state {self.state}")

    @property
    def pinned_forever(self) -> bool:
        """Pinned, and nothing will release it before the guest reboots."""
        return self.state == KMOD_PINNED_FOREVER

    def state_line(self) -> str | None:
        """The line kextstat prints under the row of a kext that is not
        simply running; None when it is."""
        if self.running:
            return None
        return f"{STATE_INDENT}{self.state_name}: {self.reason}"


KEXTSTAT_HEADER = "Index Refs Address    Size       Wired      Name (Version) <Linked Against>"


def kextstat_row(k: LoadedKext) -> str:
    """One line as Tiger's kextstat printed it: %5d %4d %-10p %-10p %-10p %s (%s)."""
    line = (
        f"{k.index:5d} {k.refs:4d} {f'{k.address:#x}':<10} {f'{k.size:#x}':<10} "
        f"{f'{k.wired:#x}':<10} {k.identifier} ({k.version})"
    )
    if k.linked_against:
        line += " <" + " ".join(str(i) for i in sorted(k.linked_against, reverse=True)) + ">"
    return line


def format_kextstat(
    rows: Sequence[LoadedKext],
    *,
    header: bool = True,
    hide_kernel: bool = False,
    bundle_ids: Sequence[str] = (),
) -> str:
    """kextstat's output: -l is header=False, -k hide_kernel, -b bundle_ids."""
    selected = [
        k
        for k in sorted(rows, key=lambda k: k.index)
        if not (hide_kernel and k.kernel_component)
        and (not bundle_ids or k.identifier in bundle_ids)
    ]
    lines = [KEXTSTAT_HEADER] if header else []
    for k in selected:
        lines.append(kextstat_row(k))
        state = k.state_line()
        if state is not None:
            lines.append(state)
    return "\n".join(lines) + ("\n" if lines else "")


class KextstatParseError(ValueError):
    """A line of kextstat output that is neither a row nor a state line."""


_ROW = re.compile(
    r"^\s*(\d+)\s+(-?\d+)\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+"
    r"(\S+) \(([^)]*)\)(?: <([\d ]+)>)?\s*$"
)
_STATE = re.compile(r"^\s+(starting|stopping|stopped, [^:]+): (.*)$")
_STATE_VALUES = {name: value for value, name in STATE_NAMES.items()}


def parse_kextstat(text: str) -> list[LoadedKext]:
    """The rows of kextstat output (the host's or the guest's monitor
    command: both print Tiger's columns), each with the state its state
    line gives.  What kextstat does not print (image CRC, compatible
    version) is left at its default; a row with address and size 0 is
    taken for a kernel component."""
    rows: list[LoadedKext] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("Index "):
            continue
        if (m := _ROW.match(line)) is not None:
            address, size = int(m.group(3), 16), int(m.group(4), 16)
            rows.append(
                LoadedKext(
                    index=int(m.group(1)),
                    refs=int(m.group(2)),
                    address=address,
                    size=size,
                    wired=int(m.group(5), 16),
                    identifier=m.group(6),
                    version=m.group(7),
                    linked_against=tuple(int(i) for i in (m.group(8) or "").split()),
                    kernel_component=address == 0 and size == 0,
                )
            )
        elif (s := _STATE.match(line)) is not None and rows and s.group(1) in _STATE_VALUES:
            rows[-1] = dataclasses.replace(
                rows[-1], state=_STATE_VALUES[s.group(1)], reason=s.group(2)
            )
        else:
            raise KextstatParseError(f"line {number} is not a kextstat row: {line!r}")
    return rows
