"""Reading the kernel's `mem` output to tell whether anything leaked."""

from __future__ import annotations

import pytest

from finch.heapstats import HeapStatsError, parse_mem

MEM = """\
pages: 32480 total, 32341 free, 139 in use (129364 KiB free), 93 kernel image
page allocations: 37, failed: 0
heap: class     inuse     free  pages
      32            0        0      0
      64            2      126      1
      256           3       13      1
      large         -        -      2
heap allocations failed: 0
OSMalloc tag                       blocks      bytes      total  owner
kernel                                  3        372          3  kernel
com.example.hello                       1         64         90  (unloaded) com.example.hello
"""


def test_a_snapshot_holds_what_is_in_use_now() -> None:
    snapshot = parse_mem(MEM)

    assert snapshot.pages_in_use == 139
    assert [(c.size, c.inuse, c.free, c.pages) for c in snapshot.classes] == [
        (32, 0, 0, 0),
        (64, 2, 126, 1),
        (256, 3, 13, 1),
    ]
    assert snapshot.large_pages == 2
    assert [(t.name, t.blocks, t.bytes) for t in snapshot.tags] == [
        ("kernel", 3, 372),
        ("com.example.hello", 1, 64),
    ]


def test_running_totals_are_not_differences() -> None:
    later = MEM.replace("page allocations: 37", "page allocations: 4037").replace(
        "372          3", "372       1003"
    )

    assert parse_mem(MEM).differences(parse_mem(later)) == []


def test_a_block_still_held_is_a_difference_and_counts_as_leaked() -> None:
    later = MEM.replace("64            2      126", "64            3      125")

    before, after = parse_mem(MEM), parse_mem(later)

    assert before.differences(after) == [
        "heap class 64: HeapClass(size=64, inuse=2, free=126, pages=1) -> "
        "HeapClass(size=64, inuse=3, free=125, pages=1)"
    ]
    assert before.leaked_bytes(after) == 64


def test_a_page_still_held_outside_the_heap_counts_as_leaked() -> None:
    later = MEM.replace("32341 free, 139 in use", "32340 free, 140 in use")

    assert parse_mem(MEM).leaked_bytes(parse_mem(later)) == 4096


def test_output_in_another_format_is_reported() -> None:
    with pytest.raises(HeapStatsError, match="not in the format"):
        parse_mem("unknown command\n")
