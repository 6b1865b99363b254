"""Timers fire at the rate asked for, and the guest's clock keeps pace
with the host's (QEMU's TCG virtual clock follows real time)."""

from __future__ import annotations

import re
import time

import pytest

from finch.machine import Machine

HZ = 100  # the guest's clock interrupts per second (`timer` refuses rates that do not divide it)


@pytest.mark.parametrize(("rate", "ms"), [(50, 1000), (100, 500), (5, 2000)])
def test_periodic_timeout_fires_at_the_requested_rate(
    module_guest: Machine, rate: int, ms: int
) -> None:
    start = time.monotonic()
    out = module_guest.command(f"timer {rate} {ms}", timeout=ms / 1000 + 10)
    host_seconds = time.monotonic() - start
    match = re.search(r"fired (\d+) times in (\d+\.\d+) s, (\d+) clock ticks taken", out)
    assert match, out
    fired, guest_seconds, ticks = int(match.group(1)), float(match.group(2)), int(match.group(3))
    expected = rate * ms // 1000
    # Timeouts are looked at on ticks: at most one firing per tick taken,
    # and none missed -- one at least every `period` ticks.
    period = HZ // rate
    assert ticks // period - 1 <= fired <= ticks + 1, out
    # The ticks keep pace with the clock, unless the host did not run the
    # guest for a while: QEMU then folds several clock periods into one
    # interrupt, which loses ticks and never adds any.  Only then may the
    # timer fall behind its rate; it never runs ahead of it.
    assert ticks <= HZ * guest_seconds * 1.05 + 1, out
    assert fired <= expected + max(1, expected // 20), out
    if ticks >= HZ * guest_seconds * 0.95:
        assert abs(fired - expected) <= max(1, expected // 20), out  # within 5 %, or one
    assert abs(guest_seconds - ms / 1000) <= 0.05 + ms / 1000 * 0.05, out
    # The guest cannot have seen more time pass than the host did.
    assert guest_seconds <= host_seconds + 0.05
    assert host_seconds < guest_seconds + 5  # and the host was not kept waiting


def test_timer_refuses_a_rate_the_clock_cannot_give(module_guest: Machine) -> None:
    out = module_guest.command("timer 7 100")
    assert "must divide" in out
