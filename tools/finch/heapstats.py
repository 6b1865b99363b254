"""The kernel's memory figures, from the monitor's `mem` command, in a form
that two snapshots can be compared in: did a load/unload leak anything?

`mem` prints (kernel/kern/kalloc.c):

    pages: 32480 total, 32341 free, 139 in use (129364 KiB free), 93 kernel image
    page allocations: 37, failed: 0
    heap: class     inuse     free  pages
          32            0        0      0
          ...
          large         -        -      0
    heap allocations failed: 0
    OSMalloc tag                       blocks      bytes      total  owner
    kernel                                  3        372          3  kernel

A snapshot keeps what is held now (pages in use, each heap class's blocks
in use, free and pages, large pages, each OSMalloc tag's blocks and
bytes) and leaves out the running totals (allocations made, tag totals),
which grow with every operation even when nothing leaks, and the tags'
owners.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finch.errors import FinchError

PAGE_SIZE = 4096

_PAGES = re.compile(r"^pages: (\d+) total, (\d+) free, (\d+) in use", re.M)
_CLASS = re.compile(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", re.M)
_LARGE = re.compile(r"^\s+large\s+-\s+-\s+(\d+)\s*$", re.M)
_TAGS_HEADER = re.compile(r"^OSMalloc tag\s+blocks\s+bytes\s+total\s+owner\s*$", re.M)
_TAG = re.compile(r"^(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)(.*)$")


class HeapStatsError(FinchError):
    """The `mem` output is not in the expected format."""


@dataclass(frozen=True)
class HeapClass:
    size: int
    inuse: int
    free: int
    pages: int


@dataclass(frozen=True)
class TagUsage:
    name: str
    blocks: int
    bytes: int


@dataclass(frozen=True)
class HeapSnapshot:
    pages_in_use: int
    classes: tuple[HeapClass, ...]
    large_pages: int
    tags: tuple[TagUsage, ...]

    @property
    def heap_bytes_in_use(self) -> int:
        return sum(c.size * c.inuse for c in self.classes)

    @property
    def other_pages(self) -> int:
        """Pages in use outside the heap: kext images, thread stacks, ..."""
        return self.pages_in_use - sum(c.pages for c in self.classes) - self.large_pages

    def differences(self, after: HeapSnapshot) -> list[str]:
        """What changed from this snapshot to `after`, one line each."""
        lines = []
        if after.pages_in_use != self.pages_in_use:
            lines.append(f"pages in use: {self.pages_in_use} -> {after.pages_in_use}")
        before_classes = {c.size: c for c in self.classes}
        for c in after.classes:
            b = before_classes.get(c.size)
            if b != c:
                lines.append(f"heap class {c.size}: {b} -> {c}")
        if after.large_pages != self.large_pages:
            lines.append(f"large heap pages: {self.large_pages} -> {after.large_pages}")
        before_tags = {t.name: t for t in self.tags}
        after_tags = {t.name: t for t in after.tags}
        for name in sorted(before_tags.keys() | after_tags.keys()):
            if before_tags.get(name) != after_tags.get(name):
                lines.append(
                    f"OSMalloc tag {name}: {before_tags.get(name)} -> {after_tags.get(name)}"
                )
        return lines

    def leaked_bytes(self, after: HeapSnapshot) -> int:
        """Bytes held after and not before: heap blocks in use, large heap
        pages and other pages (a heap page that holds only free blocks is
        not counted: the heap keeps those for the next allocation)."""
        return (
            (after.heap_bytes_in_use - self.heap_bytes_in_use)
            + (after.large_pages - self.large_pages) * PAGE_SIZE
            + (after.other_pages - self.other_pages) * PAGE_SIZE
        )


def parse_mem(text: str) -> HeapSnapshot:
    """A snapshot from the text `mem` printed."""
    text = text.replace("\r\n", "\n")
    pages = _PAGES.search(text)
    large = _LARGE.search(text)
    header = _TAGS_HEADER.search(text)
    if pages is None or large is None or header is None:
        raise HeapStatsError(
            "the kernel's `mem` output is not in the format finch.heapstats reads:\n" + text
        )
    heap_part = text[: large.start()]
    classes = tuple(
        HeapClass(*(int(g) for g in m.groups())) for m in _CLASS.finditer(heap_part, pages.end())
    )
    tags = []
    for line in text[header.end() :].splitlines():
        m = _TAG.match(line.strip())
        if m:
            tags.append(TagUsage(m.group(1), int(m.group(2)), int(m.group(3))))
    return HeapSnapshot(int(pages.group(3)), classes, int(large.group(1)), tuple(tags))
