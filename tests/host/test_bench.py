"""The benchmark table: medians, spreads, targets and pass/fail; the
generated kext the kextload benchmark loads."""

from finch.benchrow import BenchRow, format_table
from finch.build import Tree
from finch.kext.bench import build_big_kext
from finch.link import plan


def test_a_row_passes_when_its_median_is_under_the_target():
    row = BenchRow("boot", samples=[0.08, 0.2, 0.09], target=0.150)
    assert row.median == 0.09
    assert row.passed is True


def test_a_row_fails_when_its_median_misses_the_target():
    assert BenchRow("boot", samples=[0.2, 0.3, 0.1], target=0.150).passed is False


def test_a_reference_row_neither_passes_nor_fails():
    assert BenchRow("floor", samples=[0.05]).passed is None


def test_a_row_that_could_not_run_fails_and_says_why():
    row = BenchRow("boot", target=0.150, error="QEMU is not installed")
    assert row.passed is False
    assert "boot: QEMU is not installed" in format_table([row])


def test_the_table_shows_median_spread_target_and_result():
    rows = [
        BenchRow("boot to prompt", samples=[0.081, 0.077, 0.111], target=0.150),
        BenchRow("floor", samples=[0.061, 0.067, 0.074]),
        BenchRow("make test", samples=[95.24], target=180.0),
    ]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["benchmark", "median", "spread", "(min-max)", "target", "result"]
    assert lines[2].split() == ["boot", "to", "prompt", "81", "ms", "77", "ms", "-", "111", "ms",
                                "<", "150", "ms", "median", "pass"]  # fmt: skip
    assert lines[3].split()[-2:] == ["(reference)", "-"]
    assert lines[4].split() == ["make", "test", "95.2", "s", "-", "<", "180", "s", "pass"]


def test_a_leak_row_is_shown_in_bytes():
    row = BenchRow("leaked", samples=[0.0], target=1, unit="B")

    line = format_table([row]).splitlines()[2]

    assert line.split() == ["leaked", "0", "B", "-", "<", "1", "B", "pass"]


def test_the_generated_benchmark_kext_links_to_about_100_kb(tmp_path):
    bundle = build_big_kext(Tree.find(), tmp_path, echo=lambda line: None)

    size = plan(bundle / "Contents" / "MacOS" / "bigkext").size
    assert 90 * 1024 <= size <= 110 * 1024


def test_the_socket_filter_rows_give_the_ratio_of_each_round_against_95_percent():
    from finch.sfltbench import rows_from_rates

    rows = rows_from_rates({64: [100.0, 200.0]}, {64: [96.0, 180.0]}, sizes=(64,))

    assert [r.name for r in rows] == [
        "UDP echo via a kext socket, 64 B",
        "UDP echo, no-op socket filter, 64 B",
        "no-op socket filter vs none, 64 B",
    ]
    ratio = rows[2]
    assert ratio.samples == [96.0, 90.0]
    assert (ratio.target, ratio.at_least, ratio.passed) == (95.0, True, False)


def test_the_socket_filter_tcp_rows_are_throughputs_and_their_ratio():
    from finch.sfltbench import tcp_rows_from_rates

    rows = tcp_rows_from_rates([40.0, 50.0], [39.0, 49.0])

    assert [r.unit for r in rows] == ["MB/s", "MB/s", "%"]
    assert rows[2].passed is True  # 97.5% and 98%


def test_the_tcp_filter_rows_give_each_filter_its_ratio_against_none_round_by_round():
    from finch.tcpfilterbench import rows_from_rates

    rows = rows_from_rates({"none": [40.0, 50.0], "ipf": [39.0, 49.0], "iflt": [30.0, 40.0]})

    assert [r.name for r in rows] == [
        "TCP into discard (8 MiB), no filter",
        "TCP into discard (8 MiB), no-op IP filter",
        "TCP into discard (8 MiB), no-op interface filter",
        "no-op IP filter vs none, TCP",
        "no-op interface filter vs none, TCP",
    ]
    assert rows[3].samples == [97.5, 98.0]
    assert (rows[3].passed, rows[4].passed) == (True, False)


def test_each_state_goes_first_in_turn():
    from finch.tcpfilterbench import round_order

    assert [round_order(i)[0] for i in range(4)] == ["none", "ipf", "iflt", "none"]
