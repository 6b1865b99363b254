"""What is loaded: a row of the kernel's kmod table (KMOD_LIST), and
kextstat's lines for it, as Tiger's kextstat printed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from finch.hostlink.messages import KmodEntry


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
        )


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
    lines = ([KEXTSTAT_HEADER] if header else []) + [kextstat_row(k) for k in selected]
    return "\n".join(lines) + ("\n" if lines else "")
