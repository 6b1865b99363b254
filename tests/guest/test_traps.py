"""CPU exceptions the kernel must survive long enough to explain: a
kernel stack overflow is a double fault, handled on a stack of its own,
and its report names the thread and the function that recursed; a call
through a NULL function pointer names the function that made the call."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from finch.errors import GuestPanic
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


def test_a_kernel_stack_overflow_is_a_double_fault_with_a_full_report(guest: Machine) -> None:
    panic = crash(guest, "overflow")

    assert "type 8=double fault" in panic.raw
    assert "kernel stack overflow: thread " in panic.raw
    assert "'monitor' ran past the end of its stack" in panic.raw
    trap = panic.panic.report.trap
    assert trap is not None
    assert f"EIP: {trap.address:#010x}" in panic.raw  # the registers of the fault
    assert "Thread: monitor" in panic.raw
    assert panic.panic.fault.function == "crash_stack_overflow"
    assert "mon_crash+0x" in panic.symbolized  # the recursion's frames print once
    assert "==== end of panic report ====" in panic.raw


def test_a_kernel_stack_overflow_does_not_reset_the_machine(guest: Machine) -> None:
    crash(guest, "overflow")

    assert guest.running
    banners = re.findall(r"^Finch \S+ \(build", guest.console_text(), re.M)
    assert len(banners) == 1


def test_a_call_through_a_null_function_pointer_names_the_caller(guest: Machine) -> None:
    panic = crash(guest, "nullcall")

    report = panic.panic.report
    assert "Kernel trap at 0x00000000, type 14=page fault" in report.message
    assert f"call through a NULL function pointer from {report.caller:#010x}" in report.message
    assert report.frames[0].return_address == report.caller  # the backtrace starts there
    assert panic.panic.caller.function == "crash_null_call"
    assert f"kernel/kern/crash.c:{line_of('crash_null_function();')}" in panic.symbolized
    assert "mon_crash" in panic.symbolized  # and goes on from its frame
