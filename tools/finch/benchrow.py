"""One row of the `finch bench` table, and the table: a name, samples
(seconds, or bytes for a leak row), an optional target for the median, and
pass/fail.
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
    unit: str = "s"  # "s" (shown as ms or s) or "B" (bytes)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None for a reference row."""
        if self.error is not None:
            return False
        if self.target is None:
            return None
        return self.median is not None and self.median < self.target


def format_table(rows: list[BenchRow]) -> str:
    header = ("benchmark", "median", "spread (min-max)", "target", "result")
    lines = [header]
    for row in rows:
        show = _bytes if row.unit == "B" else _seconds
        median = show(row.median)
        spread = "-"
        if len(row.samples) > 1:
            spread = f"{show(min(row.samples))} - {show(max(row.samples))}"
        target = "(reference)"
        if row.target is not None:
            target = f"< {show(row.target)}" + (" median" if len(row.samples) > 1 else "")
        passed = row.passed
        result = "-" if passed is None else ("pass" if passed else "FAIL")
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
