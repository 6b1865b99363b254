"""finch.filterbench: the filter rows of `finch bench`, from rates measured
in the same rounds, without a guest."""

from __future__ import annotations

from pathlib import Path

from finch.build import Tree
from finch.filterbench import RATIO_TARGET, build_filter_kexts, error_rows, rates_to_rows


def test_each_filter_row_is_its_rate_over_the_unfiltered_rate_of_the_same_round() -> None:
    rates = {"none": [100.0, 200.0], "ipf": [90.0, 200.0], "iflt": [100.0, 100.0]}

    rows = {row.name: row for row in rates_to_rows(rates)}

    ipf = rows["UDP echo rate with a no-op IP filter / with none, 64 B"]
    iflt = rows["UDP echo rate with a no-op interface filter / with none, 64 B"]
    assert ipf.samples == [90.0, 100.0]
    assert iflt.samples == [100.0, 50.0]
    assert (ipf.target, ipf.at_least, ipf.unit) == (RATIO_TARGET, True, "%")
    assert ipf.passed is True  # median 95%
    assert iflt.passed is False  # median 75%
    assert len(rows) == 5


def test_when_the_guest_cannot_run_both_ratio_rows_fail_with_the_reason() -> None:
    rows = error_rows("QEMU would not start")

    assert [row.passed for row in rows] == [False, False]
    assert all(row.error == "QEMU would not start" for row in rows)


def test_the_no_op_filter_kexts_build_against_the_kpi_headers(tmp_path: Path) -> None:
    bundles = build_filter_kexts(Tree.find(), tmp_path, lambda line: None)

    assert sorted(bundles) == ["iflt", "ipf"]
    assert all((bundle / "Contents" / "Info.plist").is_file() for bundle in bundles.values())
