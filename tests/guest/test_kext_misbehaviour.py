"""A kext that misbehaves is named, never silently fatal (issue 9): a
kernel stack overflow, a call through a NULL function pointer, a callback
that returns holding a lock or with interrupts off -- each panics at once
with a report whose backtrace the host symbolizes into the kext."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.errors import GuestPanic
from finch.kextguest import KextGuest
from finch.kextload import LoadError

MACH = {"com.apple.kpi.libkern": "8.0.0", "com.apple.kpi.mach": "8.0.0"}

HEADER = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <kern/locks.h>
#include <kern/thread_call.h>
"""

OVERFLOW = (
    HEADER
    + """
kern_return_t overflow_start(kmod_info_t *ki, void *data);
kern_return_t overflow_stop(kmod_info_t *ki, void *data);
int overflow_recurse(int depth) __attribute__((noinline));

static volatile int overflow_deeper = 1;	/* the compiler cannot see the end */

int
overflow_recurse(int depth)
{
	volatile char frame[64];

	frame[0] = (char)depth;
	if (overflow_deeper)
		return overflow_recurse(depth + 1) + frame[0];
	return frame[0];
}

kern_return_t
overflow_start(kmod_info_t *ki, void *data)
{
	return overflow_recurse(0) == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
overflow_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

NULLCALL = (
    HEADER
    + """
kern_return_t nullcall_start(kmod_info_t *ki, void *data);
kern_return_t nullcall_stop(kmod_info_t *ki, void *data);

/* A hook nobody set: volatile, so the compiler keeps the call. */
static void (*volatile nullcall_hook)(void);

kern_return_t
nullcall_start(kmod_info_t *ki, void *data)
{
	nullcall_hook();
	return KERN_SUCCESS;
}

kern_return_t
nullcall_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

WEAKCALL = (
    HEADER
    + """
kern_return_t weakcall_start(kmod_info_t *ki, void *data);
kern_return_t weakcall_stop(kmod_info_t *ki, void *data);

/* No kernel exports it: the linker makes an unresolved weak symbol 0. */
void weakcall_missing(void) __attribute__((weak));

kern_return_t
weakcall_start(kmod_info_t *ki, void *data)
{
	weakcall_missing();
	return KERN_SUCCESS;
}

kern_return_t
weakcall_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)


def line_in(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def load_and_panic(kext_guest: KextGuest, bundle: Path) -> GuestPanic:
    """Load a kext that brings the guest down; the panic it caused."""
    with pytest.raises(LoadError) as refused:
        kext_guest.load(bundle)
    assert "the guest panicked: panic(cpu 0 caller" in str(refused.value)
    with pytest.raises(GuestPanic) as panicked:
        kext_guest.machine.expect("finch> ", timeout=5)
    return panicked.value


def assert_still_stopped(kext_guest: KextGuest) -> None:
    """The guest halted in its panic: QEMU runs on, nothing rebooted."""
    machine = kext_guest.machine
    assert machine.running
    banners = re.findall(r"^Finch \S+ \(build", machine.console_text(), re.M)
    assert len(banners) == 1


def test_a_kernel_stack_overflow_panics_naming_the_thread_and_the_kext(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    panic = load_and_panic(kext_guest, make_kext("overflow", OVERFLOW))

    assert "type 8=double fault" in panic.raw
    assert "kernel stack overflow" in panic.raw
    assert "Thread: hostlink" in panic.raw
    assert "Kernel extensions in backtrace:\n  com.example.overflow (1.0.0) @ " in panic.raw
    assert panic.panic.fault.function == "overflow_recurse"
    assert "more frames with that return address" in panic.raw  # the recursion, once
    assert "overflow_start+0x" in panic.symbolized  # and where it began
    assert_still_stopped(kext_guest)


@pytest.mark.parametrize(
    ("name", "source", "call"),
    [("nullcall", NULLCALL, "nullcall_hook();"), ("weakcall", WEAKCALL, "weakcall_missing();")],
)
def test_a_call_through_null_names_the_kext_function_that_made_it(
    kext_guest: KextGuest, make_kext: Callable[..., Path], name: str, source: str, call: str
) -> None:
    panic = load_and_panic(kext_guest, make_kext(name, source))

    report = panic.panic.report
    assert "Kernel trap at 0x00000000" in report.message
    assert f"call through a NULL function pointer from {report.caller:#010x}" in report.message
    caller = panic.panic.caller
    assert caller.image == f"com.example.{name}"
    assert caller.function == f"{name}_start"
    assert f"{name}.c:{line_in(source, call)}" in panic.symbolized
    assert panic.panic.frames[0] == caller  # the backtrace starts in the kext
    assert panic.panic.frames[1].function == "kmod_load"  # which called start
