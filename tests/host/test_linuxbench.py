"""The Linux reference's own figures without a guest: the kernel memory
one idle connection holds (from /proc/meminfo and /proc/slabinfo), the
boot and memory rows, and the namespace the tap path sets up."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from finch.benchrow import format_table
from finch.cli import make_parser
from finch.linuxbench import (
    FINCH_TAP,
    FINCH_USER,
    LINUX_TAP,
    LINUX_TWIN,
    LINUX_USER,
    MemorySnapshot,
    boot_rows,
    comparison_error_rows,
    comparison_rows,
    idle_memory,
    memory_rows,
    parse_meminfo,
    parse_slabinfo,
)
from finch.linuxguest import BootTimes
from finch.netns import Netns, private_netns, setup_commands
from finch.tcpbench import Connections, TcpFigures, Transfer

MEMINFO = """\
MemTotal:         109812 kB
MemFree:           70000 kB
Slab:               9000 kB
SReclaimable:       2000 kB
"""

SLABINFO = """\
slabinfo - version: 2.1
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables ...
TCP                   {tcp}     24   2112   15    8 : tunables    0    0    0 : slabdata 2 2 0
sock_inode_cache      {inode}   50    640   25    4 : tunables    0    0    0 : slabdata 2 2 0
kmalloc-64          1000   1024     64   64    1 : tunables    0    0    0 : slabdata 16 16 0
"""


def test_meminfo_figures_are_read_in_bytes():
    assert parse_meminfo(MEMINFO) == {
        "MemTotal": 109812 * 1024,
        "MemFree": 70000 * 1024,
        "Slab": 9000 * 1024,
        "SReclaimable": 2000 * 1024,
    }


def test_slabinfo_gives_each_caches_objects_in_use_and_their_size():
    caches = parse_slabinfo(SLABINFO.format(tcp=3, inode=40))

    assert caches["TCP"].active_objects == 3
    assert caches["TCP"].object_size == 2112
    assert caches["kmalloc-64"].active_objects == 1000
    assert "slabinfo" not in caches


def test_an_idle_connection_costs_the_slab_growth_and_its_socket_objects_per_connection():
    before = MemorySnapshot(
        parse_meminfo(MEMINFO), parse_slabinfo(SLABINFO.format(tcp=3, inode=40))
    )
    after = MemorySnapshot(
        parse_meminfo(MEMINFO.replace("9000 kB", "9700 kB")),
        parse_slabinfo(SLABINFO.format(tcp=259, inode=296)),
    )

    memory = idle_memory(before, after, 256)

    assert memory.slab_bytes == 700 * 1024
    assert memory.socket_caches == {"TCP": 256, "sock_inode_cache": 256}
    assert memory.socket_per_connection == 2112 + 640
    assert memory.slab_per_connection == 2800


def test_memory_and_boot_rows_are_references_in_bytes_and_seconds():
    before = MemorySnapshot({"Slab": 0}, parse_slabinfo(SLABINFO.format(tcp=0, inode=0)))
    after = MemorySnapshot(
        {"Slab": 1024 * 256}, parse_slabinfo(SLABINFO.format(tcp=256, inode=256))
    )
    boots = [BootTimes(4.9, 5.4, 8.5, 8.6, {}), BootTimes(5.0, 5.5, 8.6, 8.8, {})]

    rows = memory_rows(idle_memory(before, after, 256)) + boot_rows(boots)

    table = format_table(rows)
    assert "1024 B" in table
    assert "2752 B" in table
    assert "8700 ms  8600 ms - 8800 ms" in table
    assert all(row.passed is None for row in rows)


def test_the_namespace_gets_its_tap_up_with_the_gateways_address():
    ns = Netns("finch-42", "finchtap0", "10.0.2.2/24")

    assert setup_commands(ns) == [
        ["ip", "netns", "add", "finch-42"],
        ["ip", "-n", "finch-42", "link", "set", "lo", "up"],
        ["ip", "-n", "finch-42", "tuntap", "add", "dev", "finchtap0", "mode", "tap"],
        ["ip", "-n", "finch-42", "addr", "add", "10.0.2.2/24", "dev", "finchtap0"],
        ["ip", "-n", "finch-42", "link", "set", "finchtap0", "up"],
        ["ip", "netns", "exec", "finch-42", "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"],
    ]


def test_qemu_runs_in_the_namespace_through_an_executable_wrapper(tmp_path: Path):
    wrapper = Netns("finch-42", "finchtap0", "10.0.2.2/24").qemu_wrapper(tmp_path)

    assert wrapper.read_text() == ('#!/bin/sh\nexec ip netns exec finch-42 qemu-system-i386 "$@"\n')
    assert wrapper.stat().st_mode & 0o111


def test_bench_linux_is_a_finch_subcommand_with_its_options():
    args = make_parser().parse_args(["bench-linux", "--no-tap", "--rounds", "7", "--mib", "16"])

    assert (args.command, args.no_tap, args.rounds, args.mib) == ("bench-linux", True, 7, 16)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and ip")
def test_the_namespace_and_its_tap_are_gone_after_a_failure_inside():
    seen: list[str] = []
    name = f"finch-test-{os.getpid()}"  # suites of several worktrees may run at once

    def benchmark_that_fails() -> None:
        with private_netns("10.0.2.2/24", name=name) as ns:
            argv = ns.exec_argv(["ip", "-brief", "addr"])
            seen.append(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
            raise RuntimeError("the benchmark failed")

    with pytest.raises(RuntimeError):
        benchmark_that_fails()

    assert "finchtap0" in seen[0]
    assert "10.0.2.2/24" in seen[0]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert name not in listed.split()


def _figures(rate: float) -> TcpFigures:
    return TcpFigures(
        sent=[Transfer(int(rate * 1e6), 1.0)] * 5,
        received=[Transfer(int(rate * 1e6), 1.0)] * 5,
        connections=[Connections(int(rate), 1.0)] * 5,
    )


def test_linux_alone_gets_reference_rows_and_no_ratio():
    rows = comparison_rows({LINUX_USER: _figures(100), LINUX_TAP: _figures(120)})

    assert len(rows) == 6
    assert all(row.target is None for row in rows)


def test_finch_is_set_against_linux_on_the_same_network_with_a_100_percent_target():
    figures = {
        FINCH_USER: _figures(110),
        LINUX_USER: _figures(100),
        LINUX_TAP: _figures(120),
    }

    rows = comparison_rows(figures)

    ratios = [row for row in rows if row.target is not None]
    assert [row.name for row in ratios] == [
        "TCP host->guest: Finch, user net / Linux, user net",
        "TCP guest->host: Finch, user net / Linux, user net",
        "TCP connections/s: Finch, user net / Linux, user net",
    ]
    assert [row.median for row in ratios] == pytest.approx([110.0] * 3)
    assert all(row.passed for row in ratios)


def test_the_linux_twin_is_set_against_linux_for_reference_only():
    rows = comparison_rows({LINUX_USER: _figures(100), LINUX_TWIN: _figures(95)})

    ratios = [row for row in rows if "/" in row.name]
    assert [row.median for row in ratios] == pytest.approx([95.0] * 3)
    assert all(row.target is None and row.passed is None for row in ratios)


def test_a_comparison_that_could_not_run_fails_each_ratio_row_with_the_reason():
    rows = comparison_error_rows("apt-get download failed", (FINCH_USER, FINCH_TAP))

    assert len(rows) == 6
    assert {row.error for row in rows} == {"apt-get download failed"}
    assert all(row.passed is False for row in rows)
