"""The guest names functions itself (issue 12): `callout` and `kextres`
print each function's name after its address, from the kernel's own
symbol table and from the one the host linker appends to every kext --
the same names the host's symbolizer gives.  A kext that writes over its
table gets no names, and the kernel does not fault reading it.

The tests share one guest.  Each kext is made from one source: it arms
a thread call and a timeout ten minutes out and starts a thread, and,
with DAMAGE set, first writes over its own symbol table the way a buggy
kext overrunning the end of its block would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finch.kext.guest import KextGuest
from finch.kext.load import LoadResult
from finch.symbolize import Symbolizer

MakeKext = Callable[..., Path]

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}
HEX = r"0x[0-9a-f]{8}"

SOURCE = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <kern/clock.h>
#include <kern/thread.h>
#include <kern/thread_call.h>

#define DAMAGE	{damage}

kern_return_t {name}_start(kmod_info_t *ki, void *data);
kern_return_t {name}_stop(kmod_info_t *ki, void *data);
void {name}_later(void *arg);

static thread_call_t call;
static int quit, done;

static void
{name}_tick(thread_call_param_t p0, thread_call_param_t p1)
{{
}}

void
{name}_later(void *arg)
{{
}}

static void
{name}_loop(void *arg, wait_result_t wr)
{{
	struct timespec ts = {{ 0, 10 * 1000 * 1000 }};

	while (!*(volatile int *)&quit)
		msleep(&quit, NULL, 0, "{name}", &ts);
	done = 1;
}}

/*
 * The bug: a write past the end of the kext's data that lands in the
 * function names the host linker put at the end of its block (the
 * trailer is the block's last 16 bytes: magic, version, offset, count).
 */
static void
{name}_scribble(kmod_info_t *ki)
{{
	uint32_t *trailer = (uint32_t *)(ki->address + ki->size - 16);
	uint32_t *entries = (uint32_t *)(ki->address + trailer[2]);
	char *names = (char *)(entries + 3 * trailer[3]);

	switch (DAMAGE) {{
	case 1:		/* a count that runs far past the block */
		trailer[3] = 0xffffffff;
		break;
	case 2:		/* two functions at one address: not sorted */
		entries[3] = entries[0];
		break;
	case 3:		/* no name ends before the trailer */
		while (names < (char *)trailer)
			*names++ = 'x';
		break;
	}}
}}

kern_return_t
{name}_start(kmod_info_t *ki, void *data)
{{
	uint64_t deadline;
	thread_t th;

	{name}_scribble(ki);
	call = thread_call_allocate({name}_tick, NULL);
	clock_interval_to_deadline(600, kSecondScale, &deadline);
	thread_call_enter_delayed(call, deadline);
	timeout({name}_later, NULL, 600 * hz);
	if (kernel_thread_start({name}_loop, NULL, &th) != KERN_SUCCESS)
		return KERN_FAILURE;
	thread_deallocate(th);
	return KERN_SUCCESS;
}}

kern_return_t
{name}_stop(kmod_info_t *ki, void *data)
{{
	struct timespec ts = {{ 0, 10 * 1000 * 1000 }};

	quit = 1;
	wakeup(&quit);
	while (!*(volatile int *)&done)
		msleep(&done, NULL, 0, "{name}", &ts);
	msleep(&done, NULL, 0, "{name}", &ts);	/* let it end */
	thread_call_cancel(call);
	thread_call_free(call);
	untimeout({name}_later, NULL);
	return KERN_SUCCESS;
}}
"""


def load(guest: KextGuest, make_kext: MakeKext, name: str, damage: int = 0) -> LoadResult:
    bundle = make_kext(name, SOURCE.format(name=name, damage=damage), libraries=KPIS)
    [result] = guest.load(bundle)
    return result


@pytest.fixture(scope="module")
def namer(module_kext_guest: KextGuest, module_make_kext: MakeKext) -> Iterator[LoadResult]:
    """com.example.namer, loaded with its table intact."""
    result = load(module_kext_guest, module_make_kext, "namer")
    yield result
    module_kext_guest.unload("com.example.namer")


def host_names(result: LoadResult) -> Symbolizer:
    """The host's names for a loaded kext: the reference."""
    symbols = Symbolizer()
    symbols.add_image(result.symbol_file, name=result.bundle.identifier)
    return symbols


def callout_rows(guest: KextGuest, owner: str) -> dict[str, tuple[int, str]]:
    """`callout`'s thread call and timeout of `owner`: kind -> (address,
    the name printed after it, "" for none)."""
    out = guest.monitor("callout")
    found = re.findall(
        rf"^(thread call|timeout) +(?:\d+ ms|now)  ({HEX})(?: (\S+))? \({re.escape(owner)}\)$",
        out,
        re.M,
    )
    return {kind: (int(address, 16), name) for kind, address, name in found}


def test_callout_names_the_kernels_own_functions(module_kext_guest: KextGuest) -> None:
    out = module_kext_guest.monitor("callout")
    kernel = Symbolizer.for_kernel(module_kext_guest.machine.kernel)

    rows = re.findall(rf"  ({HEX}) (\w+) \(kernel\)$", out, re.M)

    assert rows, out  # in_slowtimo at least, every second
    for address, name in rows:
        assert kernel.lookup(int(address, 16)).function == name


def test_callout_names_a_kexts_functions_static_or_global(
    module_kext_guest: KextGuest, namer: LoadResult
) -> None:
    rows = callout_rows(module_kext_guest, "com.example.namer")

    assert {kind: name for kind, (_, name) in rows.items()} == {
        "thread call": "namer_tick",  # static
        "timeout": "namer_later",
    }
    host = host_names(namer)
    assert all(host.lookup(address).function == name for address, name in rows.values())


def test_kextres_names_the_thread_call_the_timeout_and_the_thread(
    module_kext_guest: KextGuest, namer: LoadResult
) -> None:
    out = module_kext_guest.monitor("kextres com.example.namer")

    assert re.search(rf"^  timeout to {HEX} namer_later\(0x00000000\): due in ", out, re.M), out
    assert re.search(rf"^  thread call to {HEX} namer_tick: delayed, ", out, re.M), out
    assert re.search(rf"^  thread 'thread\d+' \(\d+\) started at {HEX} namer_loop: ", out, re.M)


@pytest.mark.parametrize(
    ("damage", "how"),
    [(1, "count past the block"), (2, "entries out of order"), (3, "names without an end")],
)
def test_a_kext_that_wrote_over_its_table_gets_no_names_and_no_fault(
    module_kext_guest: KextGuest, module_make_kext: MakeKext, damage: int, how: str
) -> None:
    guest = module_kext_guest
    name = f"scribble{damage}"
    result = load(guest, module_make_kext, name, damage)

    rows = callout_rows(guest, f"com.example.{name}")
    res = guest.monitor(f"kextres com.example.{name}")
    host = host_names(result)  # the host still knows them, from the symbol file
    guest.unload(f"com.example.{name}")

    assert {kind: printed for kind, (_, printed) in rows.items()} == {
        "thread call": "",
        "timeout": "",
    }, how
    assert {host.lookup(address).function for address, _ in rows.values()} == {
        f"{name}_tick",
        f"{name}_later",
    }
    assert re.search(rf"^  thread call to {HEX}: delayed, ", res, re.M), res
    assert re.search(rf"^  timeout to {HEX}\(0x00000000\): due in ", res, re.M), res
    assert "Finch" in guest.monitor("version")  # and the guest is fine
