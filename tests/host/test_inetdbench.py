"""finch.inetdbench without a guest: the rows of a kernel without TCP, and
the arithmetic of the memory an idle connection costs."""

from __future__ import annotations

from finch.benchrow import BenchRow, format_table
from finch.heapstats import HeapClass, HeapSnapshot, TagUsage
from finch.inetdbench import (
    NO_TCP,
    cpu_shares,
    idle_memory,
    no_tcp_rows,
    parse_prof,
    parse_ps,
)
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


PS_BEFORE = """\
 TID NAME             STATE     WAIT              EVENT    TICKS SWITCHES
   1 idle             runnable  -            0x00000000       98       19
   3 dlil_input       waiting   -            0x00187850        0        7
   4 e1000_tx         runnable  -            0x00000000        0        6
   8 thread8          waiting   inetd        0x00291548        0        4
"""
PS_AFTER = """\
 TID NAME             STATE     WAIT              EVENT    TICKS SWITCHES
   1 idle             runnable  -            0x00000000      108      114
   3 dlil_input       waiting   -            0x00187850       30      561
   4 e1000_tx         waiting   -            0x001925e4       20      571
   8 thread8          runnable  -            0x00000000       40      560
   9 kmod stop x      runnable  -            0x00000000        0        1
"""


def test_cpu_shares_name_inetds_worker_and_add_up_to_100() -> None:
    shares = cpu_shares(parse_ps(PS_BEFORE), parse_ps(PS_AFTER))
    assert shares == {"inetd worker": 40.0, "dlil_input": 30.0, "e1000_tx": 20.0, "idle": 10.0}


def test_parse_ps_reads_names_waits_and_ticks() -> None:
    assert parse_ps(PS_BEFORE)[8] == ("thread8", "inetd", 0)
    assert parse_ps(PS_AFTER)[4] == ("e1000_tx", "-", 20)


PROF = """\
prof: off, 133 samples at 100 Hz
samples   share  function
     49     37%  simple_unlock, from lck_spin_unlock < e1000_output < dlil_output (32), ip_input (4)
     33     25%  pit_uptime_ns, from mach_absolute_time < tcp_now_ms < tcp_output (23)
      6      5%  sched_idle_loop
      1      1%  chargen_tcp (com.finch.sample.inetd), from inetd_worker < thread_trampoline (1)
(19 more functions)
"""


def test_parse_prof_names_each_function_by_its_callers_most_sampled() -> None:
    assert parse_prof(PROF, top=3) == [
        ("simple_unlock < lck_spin_unlock < e1000_output < dlil_output", 37.0),
        ("pit_uptime_ns < mach_absolute_time < tcp_now_ms < tcp_output", 25.0),
        ("sched_idle_loop", 5.0),
    ]
    assert parse_prof(PROF)[3] == (
        "chargen_tcp (com.finch.sample.inetd) < inetd_worker < thread_trampoline",
        1.0,
    )
