"""finch.inetdbench without a guest: the rows of a kernel without TCP, and
the arithmetic of the memory an idle connection costs."""

from __future__ import annotations

from finch.benchrow import BenchRow, format_table
from finch.heapstats import HeapClass, HeapSnapshot, TagUsage
from finch.inetdbench import NO_TCP, idle_memory, no_tcp_rows
from finch.linuxbench import FINCH_TAP, FINCH_USER
from finch.services import INETD_ID


def snapshot(blocks_64: int, inetd_bytes: int) -> HeapSnapshot:
    return HeapSnapshot(
        pages_in_use=100,
        classes=(HeapClass(64, blocks_64, 0, 4),),
        large_pages=0,
        tags=(TagUsage(INETD_ID, 1, inetd_bytes),),
    )


def test_without_tcp_every_tcp_row_is_na_and_neither_passes_nor_fails() -> None:
    rows = no_tcp_rows((FINCH_USER, FINCH_TAP))
    assert len(rows) == 3 + 3 + 6 + 1
    assert all(row.passed is None and row.note == NO_TCP for row in rows)
    table = format_table(rows)
    assert "TCP host->guest: Finch, tap / Linux, tap" in table
    assert table.count(NO_TCP) == len(rows)
    assert "FAIL" not in table


def test_only_the_user_network_rows_without_the_tap() -> None:
    names = [row.name for row in no_tcp_rows((FINCH_USER,))]
    assert not any("tap" in name for name in names)
    assert "TCP connections/s: Finch, user net / Linux, user net" in names


def test_a_note_does_not_hide_a_failure() -> None:
    assert BenchRow("x", note=NO_TCP, error="broke").passed is False


def test_idle_memory_counts_the_kernel_heap_and_inetd_apart() -> None:
    memory = idle_memory(snapshot(10, 64), snapshot(10 + 4 * 256, 64 + 64 * 256), 256)
    assert memory.inetd_bytes == 64 * 256
    assert memory.heap_bytes == 64 * 4 * 256 - 64 * 256
    assert memory.per_connection == 192
