"""One row of the `finch bench` table, and the table: a name, samples
(seconds; bytes for a leak row; microseconds, frames per second or percent
for the network rows; MB/s, 10**6 bytes a second, for TCP throughput), an
optional target for the median, and pass/fail.
A target is a ceiling (the median must stay below it) unless the row says
at_least (a rate or a ratio: the median must reach it).  A row that cannot
be measured yet, for a reason that is no failure, carries a note instead
of samples ("n/a (no TCP)"): neither pass nor fail.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class BenchRow:
    name: str
    samples: list[float] = field(default_factory=list)  # in `unit`
    target: float | None = None  # the median must stay below this; None: for reference
    error: str | None = None
    unit: str = "s"  # "s" (shown as ms or s), "B" (bytes), "us", "/s" (a rate), "MB/s" or "%"
    at_least: bool = False  # the median must be at least the target, not below it
    note: str | None = None  # why there is nothing to measure; shown as the result

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None for a reference row."""
        if self.error is not None:
            return False
        if self.target is None or (self.note is not None and not self.samples):
            return None
        if self.median is None:
            return False
        return self.median >= self.target if self.at_least else self.median < self.target


def format_table(rows: list[BenchRow]) -> str:
    header = ("benchmark", "median", "spread (min-max)", "target", "result")
    lines = [header]
    for row in rows:
        show = _SHOW[row.unit]
        median = show(row.median)
        spread = "-"
        if len(row.samples) > 1:
            spread = f"{show(min(row.samples))} - {show(max(row.samples))}"
        target = "-" if row.note and not row.samples else "(reference)"
        if row.target is not None:
            sign = ">=" if row.at_least else "<"
            target = f"{sign} {show(row.target)}" + (" median" if len(row.samples) > 1 else "")
        passed = row.passed
        result = (row.note or "-") if passed is None else ("pass" if passed else "FAIL")
        lines.append((row.name, median, spread, target, result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    out += [f"{row.name}: {row.error}" for row in rows if row.error]
    return "\n".join(out)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 10:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s".replace(".0 s", " s")


def _bytes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} B"


def _microseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} us"


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f}k/s" if value >= 1000 else f"{value:.0f}/s"


def _megabytes_per_second(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} MB/s"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


_SHOW = {
    "s": _seconds,
    "B": _bytes,
    "us": _microseconds,
    "/s": _rate,
    "MB/s": _megabytes_per_second,
    "%": _percent,
}
