"""CPU exceptions the kernel must survive long enough to explain: a
kernel stack overflow is a double fault, handled on a stack of its own,
and its report names the thread and the function that recursed."""

from __future__ import annotations

import re

import pytest

from finch.errors import GuestPanic
from finch.machine import Machine


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
    assert "==== end of panic report ====" in panic.raw


def test_a_kernel_stack_overflow_does_not_reset_the_machine(guest: Machine) -> None:
    crash(guest, "overflow")

    assert guest.running
    banners = re.findall(r"^Finch \S+ \(build", guest.console_text(), re.M)
    assert len(banners) == 1
