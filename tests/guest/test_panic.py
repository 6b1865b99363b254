"""A kernel crash is caught by the host: the panic report is symbolized
against the kernel ELF and names the function and line that faulted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from finch.errors import ExpectTimeout, GuestPanic
from finch.machine import Machine

CRASH_C = Path(__file__).resolve().parents[2] / "kernel" / "kern" / "crash.c"


def line_of(statement: str) -> int:
    """The line of crash.c holding `statement` (so the test follows edits)."""
    for number, text in enumerate(CRASH_C.read_text().splitlines(), start=1):
        if statement in text:
            return number
    raise AssertionError(f"{statement!r} not found in {CRASH_C}")


def crash(guest: Machine, how: str) -> GuestPanic:
    guest.sendline(f"crash {how}")
    with pytest.raises(GuestPanic) as caught:
        guest.expect(r"finch> ", timeout=10)
    return caught.value


def test_null_dereference_names_the_function_and_line(guest: Machine) -> None:
    panic = crash(guest, "null")
    assert "type 14=page fault" in panic.raw
    assert "NULL pointer dereference" in panic.raw
    line = line_of("= *crash_null_pointer;")
    assert "crash_null_deref" in panic.symbolized
    assert f"kernel/kern/crash.c:{line}" in panic.symbolized, panic.symbolized


def test_divide_by_zero_names_the_function_and_line(guest: Machine) -> None:
    panic = crash(guest, "div0")
    assert "type 0=divide error" in panic.raw
    line = line_of("crash_dividend / crash_zero")
    assert "crash_divide_by_zero" in panic.symbolized
    assert f"kernel/kern/crash.c:{line}" in panic.symbolized, panic.symbolized


def test_panic_call_reports_its_message_and_a_backtrace(guest: Machine) -> None:
    panic = crash(guest, "panic")
    assert "crash: panic requested from the monitor" in panic.raw
    assert "Backtrace" in panic.raw
    assert "crash_panic" in panic.symbolized
    assert "==== end of panic report ====" in panic.raw
    # The guest named each frame itself, as the host does.
    frames = zip(panic.panic.report.frames, panic.panic.frames, strict=True)
    named = [(frame.guest_name, f"{host.function}+{host.offset:#x}") for frame, host in frames]
    assert named[0][1].startswith("crash_panic+")
    assert all(guest_name == host_name for guest_name, host_name in named), named


def test_panic_stops_the_machine_without_rebooting(guest: Machine) -> None:
    crash(guest, "panic")
    guest.send(b"version\n")
    with pytest.raises(ExpectTimeout):  # nothing answers any more
        guest.expect(r"build [0-9a-f]{16}, ", timeout=1.5)
    banners = re.findall(r"^Finch \S+ \(build", guest.console_text(), re.M)
    assert len(banners) == 1  # and it did not boot again
