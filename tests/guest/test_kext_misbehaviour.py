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
from finch.hostlink.client import GuestGone
from finch.kext.guest import KextGuest
from finch.kext.load import LoadError
from finch.panic import run_symbolizer

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}

HEADER = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <kern/locks.h>
#include <kern/thread.h>
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

# Each kext breaks the rule at one boundary: start returns holding a
# mutex, a thread call returns with interrupts off, a timeout returns
# holding a spin lock, a thread ends holding a read-write lock.
HOLDER = (
    HEADER
    + """
kern_return_t holder_start(kmod_info_t *ki, void *data);
kern_return_t holder_stop(kmod_info_t *ki, void *data);

static lck_grp_t *holder_grp;
static lck_mtx_t *holder_mtx;

kern_return_t
holder_start(kmod_info_t *ki, void *data)
{
	holder_grp = lck_grp_alloc_init("holder", LCK_GRP_ATTR_NULL);
	holder_mtx = lck_mtx_alloc_init(holder_grp, LCK_ATTR_NULL);
	lck_mtx_lock(holder_mtx);
	return KERN_SUCCESS;	/* still holding it */
}

kern_return_t
holder_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

STOPHOLDER = (
    HEADER
    + """
kern_return_t stopholder_start(kmod_info_t *ki, void *data);
kern_return_t stopholder_stop(kmod_info_t *ki, void *data);

static lck_grp_t *stopholder_grp;
static lck_mtx_t *stopholder_mtx;

kern_return_t
stopholder_start(kmod_info_t *ki, void *data)
{
	stopholder_grp = lck_grp_alloc_init("stopholder", LCK_GRP_ATTR_NULL);
	stopholder_mtx = lck_mtx_alloc_init(stopholder_grp, LCK_ATTR_NULL);
	return KERN_SUCCESS;
}

kern_return_t
stopholder_stop(kmod_info_t *ki, void *data)
{
	lck_mtx_lock(stopholder_mtx);
	return KERN_SUCCESS;	/* still holding it */
}
"""
)

CLITC = (
    HEADER
    + """
kern_return_t clitc_start(kmod_info_t *ki, void *data);
kern_return_t clitc_stop(kmod_info_t *ki, void *data);
void clitc_call(thread_call_param_t p0, thread_call_param_t p1);

static thread_call_t clitc_tc;

/* ml_set_interrupts_enabled is not exported, but a kext runs in ring 0. */
void
clitc_call(thread_call_param_t p0, thread_call_param_t p1)
{
	__asm__ volatile("cli" ::: "memory");
}

kern_return_t
clitc_start(kmod_info_t *ki, void *data)
{
	clitc_tc = thread_call_allocate(clitc_call, NULL);
	thread_call_enter(clitc_tc);
	return KERN_SUCCESS;
}

kern_return_t
clitc_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

SPINTO = (
    HEADER
    + """
kern_return_t spinto_start(kmod_info_t *ki, void *data);
kern_return_t spinto_stop(kmod_info_t *ki, void *data);
void spinto_fire(void *arg);

static lck_grp_t *spinto_grp;
static lck_spin_t *spinto_lock;

void
spinto_fire(void *arg)
{
	lck_spin_lock(spinto_lock);
}

kern_return_t
spinto_start(kmod_info_t *ki, void *data)
{
	spinto_grp = lck_grp_alloc_init("spinto", LCK_GRP_ATTR_NULL);
	spinto_lock = lck_spin_alloc_init(spinto_grp, LCK_ATTR_NULL);
	timeout(spinto_fire, NULL, 1);
	return KERN_SUCCESS;
}

kern_return_t
spinto_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

RWTHREAD = (
    HEADER
    + """
kern_return_t rwthread_start(kmod_info_t *ki, void *data);
kern_return_t rwthread_stop(kmod_info_t *ki, void *data);
void rwthread_main(void *arg, wait_result_t wr);

static lck_grp_t *rwthread_grp;
static lck_rw_t *rwthread_lock;

void
rwthread_main(void *arg, wait_result_t wr)
{
	lck_rw_lock_exclusive(rwthread_lock);
}

kern_return_t
rwthread_start(kmod_info_t *ki, void *data)
{
	thread_t th;

	rwthread_grp = lck_grp_alloc_init("rwthread", LCK_GRP_ATTR_NULL);
	rwthread_lock = lck_rw_alloc_init(rwthread_grp, LCK_ATTR_NULL);
	if (kernel_thread_start(rwthread_main, NULL, &th) != KERN_SUCCESS)
		return KERN_FAILURE;
	thread_deallocate(th);
	return KERN_SUCCESS;
}

kern_return_t
rwthread_stop(kmod_info_t *ki, void *data)
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


def load_then_panic(kext_guest: KextGuest, bundle: Path) -> GuestPanic:
    """Load a kext that starts fine and brings the guest down a moment
    later (before or after kextload hears that it started); the panic
    it caused."""
    try:
        kext_guest.load(bundle)
    except LoadError as refused:
        if "the guest panicked: panic(cpu 0 caller" not in str(refused):
            raise
    with pytest.raises(GuestPanic) as panicked:
        kext_guest.machine.expect("never printed", timeout=5)
    return panicked.value


def callback_in_message(panic: GuestPanic) -> int:
    found = re.search(r"kext callback (0x[0-9a-f]{8}) ", panic.panic.report.message)
    assert found, panic.panic.report.message
    return int(found.group(1), 16)


def function_at(kext_guest: KextGuest, address: int) -> str | None:
    """The function holding `address`, named as the host's symbolizer does
    with the kernel and the kexts this guest loaded."""
    machine = kext_guest.machine
    return run_symbolizer(machine.kernel, machine.paths.rundir).lookup(address).function


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
    assert "Thread: kmod start com.example.overflow" in panic.raw  # start's own thread
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
    assert panic.panic.frames[1].function == "kmod_call_thread"  # which called start


def test_a_start_routine_that_returns_holding_a_mutex_panics_at_once(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    panic = load_and_panic(kext_guest, make_kext("holder", HOLDER))

    message = panic.panic.report.message
    assert re.fullmatch(
        r"kext callback 0x[0-9a-f]{8} holder_start \(com\.example\.holder\) returned holding "
        r"mutex 'holder' taken at 0x[0-9a-f]{8} holder_start\+0x[0-9a-f]+ "
        r"\(com\.example\.holder\)",
        message,
    ), message
    taken = panic.panic.frames[0]  # where the lock was taken starts the backtrace
    assert taken.function == "holder_start"
    offset = f"+{taken.offset:#x}"  # the guest names the frame as the host does
    assert panic.panic.report.frames[0].guest_name == f"holder_start{offset} (com.example.holder)"
    assert f"taken at {taken.address:#010x} holder_start{offset} " in message
    assert f"holder.c:{line_in(HOLDER, 'lck_mtx_lock(holder_mtx);')}" in panic.symbolized
    assert function_at(kext_guest, callback_in_message(panic)) == ("holder_start")


def test_a_stop_routine_that_returns_holding_a_mutex_panics_at_once(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    kext_guest.load(make_kext("stopholder", STOPHOLDER))

    with pytest.raises(GuestGone):
        kext_guest.unload("com.example.stopholder")
    with pytest.raises(GuestPanic) as panicked:
        kext_guest.machine.expect("finch> ", timeout=5)

    panic = panicked.value
    assert "(com.example.stopholder) returned holding mutex 'stopholder'" in panic.raw
    assert panic.panic.frames[0].function == "stopholder_stop"


def test_a_thread_call_that_returns_with_interrupts_off_panics_at_once(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    panic = load_then_panic(kext_guest, make_kext("clitc", CLITC, libraries=KPIS))

    message = panic.panic.report.message
    assert "(com.example.clitc) returned with interrupts disabled; they were enabled" in message
    assert "Thread: thread_call" in panic.raw
    assert function_at(kext_guest, callback_in_message(panic)) == ("clitc_call")
    assert panic.panic.caller.function == "thread_call_thread"  # the boundary it crossed


def test_a_timeout_that_returns_holding_a_spin_lock_panics_at_once(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    panic = load_then_panic(kext_guest, make_kext("spinto", SPINTO, libraries=KPIS))

    message = panic.panic.report.message
    assert "(com.example.spinto) returned holding spin lock 'spinto' taken at" in message
    assert panic.panic.frames[0].function == "spinto_fire"
    assert function_at(kext_guest, callback_in_message(panic)) == ("spinto_fire")


def test_a_thread_that_ends_holding_a_lock_panics_at_once(
    kext_guest: KextGuest, make_kext: Callable[..., Path]
) -> None:
    panic = load_then_panic(kext_guest, make_kext("rwthread", RWTHREAD, libraries=KPIS))

    message = panic.panic.report.message
    assert re.search(
        r"thread \d+ '\w+' \(started at 0x[0-9a-f]{8} rwthread_main "
        r"\(com\.example\.rwthread\)\) ended holding read-write lock \(exclusive\) "
        r"'rwthread' taken at 0x[0-9a-f]{8} rwthread_main\+0x[0-9a-f]+ "
        r"\(com\.example\.rwthread\)",
        message,
    ), message
    assert panic.panic.frames[0].function == "rwthread_main"
