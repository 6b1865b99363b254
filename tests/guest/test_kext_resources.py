"""Who owns what (issue 12) and leaks at unload (issue 9): what a kext makes
-- an OSMalloc tag, a lock group, a thread call, a timeout, mbufs, a
thread -- is charged to it by name in `mem`, `locks`, `callout`, `netstat
-m` and `kextres`; a kext that stops cleanly leaves nothing behind, and
what a leaky one leaves is listed by kind, count and bytes and stays
charged to "(unloaded) <its name>".

The tests share one guest, each with kexts of its own name made from one
source: `holder` and `tidy` give everything back in their stop routine;
`leaky` frees nothing (it only cancels what would call into it), and what
it leaked stays for the rest of the module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finch.kext.guest import KextGuest
from finch.kext.load import LoadResult
from finch.kext.unload import UnloadResult
from finch.symbolize import Symbolizer

MakeKext = Callable[..., Path]

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}

# One of everything a kext can own.  Stop always ends the thread and
# cancels the thread call and the timeout (else the unload is refused);
# with FREE_ALL it also frees the rest.
HOLDER = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <libkern/OSMalloc.h>
#include <kern/clock.h>
#include <kern/locks.h>
#include <kern/thread.h>
#include <kern/thread_call.h>

#define FREE_ALL	{free_all}
#define NBLOCKS		3
#define BLOCK_SIZE	128

kern_return_t {name}_start(kmod_info_t *ki, void *data);
kern_return_t {name}_stop(kmod_info_t *ki, void *data);
void {name}_tick(thread_call_param_t p0, thread_call_param_t p1);
void {name}_later(void *arg);
void {name}_loop(void *arg, wait_result_t wr);

static OSMallocTag tag;
static void *blocks[NBLOCKS];
static lck_grp_t *grp;
static lck_mtx_t *mtx;
static thread_call_t call;
static mbuf_t packet, plain;
static int quit, done;

void
{name}_tick(thread_call_param_t p0, thread_call_param_t p1)
{{
}}

void
{name}_later(void *arg)
{{
}}

void
{name}_loop(void *arg, wait_result_t wr)
{{
	struct timespec ts = {{ 0, 10 * 1000 * 1000 }};

	while (!*(volatile int *)&quit)
		msleep(&quit, NULL, 0, "{name}", &ts);
	done = 1;
}}

kern_return_t
{name}_start(kmod_info_t *ki, void *data)
{{
	uint64_t deadline;
	thread_t th;
	int i;

	tag = OSMalloc_Tagalloc("com.example.{name}", OSMT_DEFAULT);
	for (i = 0; i < NBLOCKS; i++)
		blocks[i] = OSMalloc(BLOCK_SIZE, tag);
	grp = lck_grp_alloc_init("{name}", LCK_GRP_ATTR_NULL);
	mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL);
	call = thread_call_allocate({name}_tick, NULL);
	clock_interval_to_deadline(600, kSecondScale, &deadline);
	thread_call_enter_delayed(call, deadline);
	timeout({name}_later, NULL, 600 * hz);
	mbuf_getpacket(MBUF_WAITOK, &packet);
	mbuf_get(MBUF_WAITOK, MBUF_TYPE_DATA, &plain);
	if (kernel_thread_start({name}_loop, NULL, &th) != KERN_SUCCESS)
		return KERN_FAILURE;
	thread_deallocate(th);
	return KERN_SUCCESS;
}}

kern_return_t
{name}_stop(kmod_info_t *ki, void *data)
{{
	struct timespec ts = {{ 0, 10 * 1000 * 1000 }};
	int i;

	quit = 1;
	wakeup(&quit);
	while (!*(volatile int *)&done)
		msleep(&done, NULL, 0, "{name}", &ts);
	msleep(&done, NULL, 0, "{name}", &ts);	/* let it end */
	thread_call_cancel(call);
	untimeout({name}_later, NULL);
	if (!FREE_ALL)
		return KERN_SUCCESS;
	thread_call_free(call);
	mbuf_freem(plain);
	mbuf_freem(packet);
	lck_mtx_free(mtx, grp);
	lck_grp_free(grp);
	for (i = 0; i < NBLOCKS; i++)
		OSFree(blocks[i], BLOCK_SIZE, tag);
	OSMalloc_Tagfree(tag);
	return KERN_SUCCESS;
}}
"""

HEX = r"0x[0-9a-f]{8}"


def holder_source(name: str, *, free_all: bool) -> str:
    return HOLDER.format(name=name, free_all=int(free_all))


@pytest.fixture(scope="module")
def holder(module_kext_guest: KextGuest, module_make_kext: MakeKext) -> Iterator[LoadResult]:
    """com.example.holder, loaded: it holds one of everything."""
    bundle = module_make_kext("holder", holder_source("holder", free_all=True), libraries=KPIS)
    [result] = module_kext_guest.load(bundle)
    yield result
    module_kext_guest.unload("com.example.holder")


@pytest.fixture(scope="module")
def leaky(
    module_kext_guest: KextGuest, module_make_kext: MakeKext
) -> tuple[LoadResult, Symbolizer, UnloadResult]:
    """com.example.leaky, loaded and unloaded: it left everything behind
    but what would have called into it.  Its symbols, read while loaded,
    and what kextunload said."""
    bundle = module_make_kext("leaky", holder_source("leaky", free_all=False), libraries=KPIS)
    [result] = module_kext_guest.load(bundle)
    symbols = symbols_of(result)
    unloaded = module_kext_guest.unload("com.example.leaky")
    return result, symbols, unloaded


def symbols_of(result: LoadResult) -> Symbolizer:
    """The host's names for a loaded kext's addresses (read while it is
    loaded: its symbol file goes when it is unloaded)."""
    symbols = Symbolizer()
    symbols.add_image(result.symbol_file, name=result.bundle.identifier)
    return symbols


def rows(text: str, first: str) -> list[str]:
    """The lines of a listing whose first column is `first`."""
    return [line for line in text.splitlines() if line.split()[:1] == [first]]


def unloaded_rows(text: str, name: str) -> list[str]:
    """The lines of `netstat -m` for the unloaded kext `name`."""
    return [line for line in text.splitlines() if line.startswith(f"(unloaded) {name} ")]


def without_times(text: str) -> str:
    return re.sub(r"\d+ ms", "N ms", text)


# -- a loaded kext is named as the owner of what it made -------------------


def test_mem_names_the_kext_that_made_an_osmalloc_tag(
    module_kext_guest: KextGuest, holder: LoadResult
) -> None:
    [row] = rows(module_kext_guest.monitor("mem"), "com.example.holder")

    assert row.split() == ["com.example.holder", "3", "384", "3", "com.example.holder"]


def test_the_kernels_own_tags_are_the_kernels(module_kext_guest: KextGuest) -> None:
    [row] = rows(module_kext_guest.monitor("mem"), "kernel")

    assert row.split()[-1] == "kernel"


def test_locks_names_the_kext_that_made_a_lock_group(
    module_kext_guest: KextGuest, holder: LoadResult
) -> None:
    [row] = rows(module_kext_guest.monitor("locks"), "holder")

    assert row.split()[1:4] == ["0", "1", "0"]  # spin, mtx, rw
    assert row.split()[-1] == "com.example.holder"


def test_callout_names_each_pending_call_by_address_function_and_kext(
    module_kext_guest: KextGuest, holder: LoadResult
) -> None:
    out = module_kext_guest.monitor("callout")

    mine = re.findall(
        rf"^(thread call|timeout) +\d+ ms  ({HEX}) (\w+) \(com\.example\.holder\)$", out, re.M
    )
    assert sorted(kind for kind, _, _ in mine) == ["thread call", "timeout"], out
    symbols = symbols_of(holder)
    named = {kind: symbols.lookup(int(address, 16)).function for kind, address, _ in mine}
    assert named == {"thread call": "holder_tick", "timeout": "holder_later"}
    assert {kind: name for kind, _, name in mine} == named  # the guest's names are the host's


def test_netstat_m_charges_the_mbufs_and_cluster_to_the_kext(
    module_kext_guest: KextGuest, holder: LoadResult
) -> None:
    [row] = rows(module_kext_guest.monitor("netstat -m"), "com.example.holder")

    assert row.split()[1:4] == ["2", "1", "0"]  # mbufs, 2 KB and 4 KB clusters


def test_kextres_lists_everything_one_kext_holds_by_kind_count_and_bytes(
    module_kext_guest: KextGuest, holder: LoadResult
) -> None:
    out = module_kext_guest.monitor(f"kextres {holder.kmod_id}")

    lines = out.splitlines()
    assert lines[0] == f"com.example.holder (id {holder.kmod_id}) holds:"
    assert lines[1] == "  OSMalloc tag 'com.example.holder': 3 blocks, 384 bytes"
    assert lines[2] == "  mbufs: 2 mbufs, 1 cluster (2 KB), 2560 bytes"
    assert re.fullmatch(r"  lock group 'holder': 1 mutex, \d+ bytes", lines[3])
    assert re.fullmatch(
        rf"  timeout to {HEX} holder_later\(0x00000000\): due in \d+ ms, \d+ bytes", lines[4]
    )
    assert re.fullmatch(
        rf"  thread call to {HEX} holder_tick: delayed, due in \d+ ms, \d+ bytes", lines[5]
    )
    assert re.fullmatch(
        rf"  thread 'thread\d+' \(\d+\) started at {HEX} holder_loop: \w+, \d+ bytes", lines[6]
    )
    assert re.fullmatch(r"  6 in all, \d+ bytes", lines[7])
    by_name = module_kext_guest.monitor("kextres com.example.holder")
    assert without_times(by_name) == without_times(out)


def test_kextres_without_an_argument_covers_every_loaded_kext(
    module_kext_guest: KextGuest, holder: LoadResult
) -> None:
    out = module_kext_guest.monitor("kextres")

    assert f"com.example.holder (id {holder.kmod_id}) holds:" in out


def test_kextres_says_what_to_type_for_an_id_that_is_not_loaded(
    module_kext_guest: KextGuest,
) -> None:
    out = module_kext_guest.monitor("kextres 999")

    assert out.strip() == (
        "kextres: no kext with id 999 is loaded; name an unloaded one by its bundle id"
    )


# -- after a clean stop nothing is left ------------------------------------


def test_a_kext_that_frees_everything_in_stop_leaves_nothing_behind(
    module_kext_guest: KextGuest, module_make_kext: MakeKext
) -> None:
    guest = module_kext_guest
    guest.load(module_make_kext("tidy", holder_source("tidy", free_all=True), libraries=KPIS))

    unloaded = guest.unload("com.example.tidy")

    assert unloaded.leaks == ""
    assert guest.monitor("kextres -l com.example.tidy").strip() == (
        "kextres: com.example.tidy would leak nothing"
    )
    assert guest.monitor("kextres com.example.tidy").strip() == (
        "com.example.tidy is not loaded; unloaded kexts of that name left: nothing"
    )
    for command in ("mem", "locks", "callout"):
        assert "com.example.tidy" not in guest.monitor(command), command
    [row] = unloaded_rows(guest.monitor("netstat -m"), "com.example.tidy")
    assert row.split()[2:5] == ["0", "0", "0"]


# -- a leaky kext's leaks are reported and stay charged to it ---------------


def test_a_leaky_kexts_leaks_are_listed_by_kind_count_and_bytes(
    module_kext_guest: KextGuest, leaky: tuple[LoadResult, Symbolizer, UnloadResult]
) -> None:
    _, symbols, _ = leaky

    report = module_kext_guest.monitor("kextres -l com.example.leaky").strip()
    head, _, items = report.partition(", which the kernel will not free: ")
    assert re.fullmatch(r"kmod: com\.example\.leaky: leaked \d+ bytes", head), report
    leaks = items.split("; ")
    assert leaks[:2] == [
        "OSMalloc tag 'com.example.leaky': 3 blocks, 384 bytes",
        "mbufs: 2 mbufs, 1 cluster (2 KB), 2560 bytes",
    ]
    assert re.fullmatch(r"lock group 'leaky': 1 mutex, \d+ bytes", leaks[2])
    call = re.fullmatch(rf"thread call to ({HEX}): idle, \d+ bytes", leaks[3])
    assert call
    assert symbols.lookup(int(call.group(1), 16)).function == "leaky_tick"
    assert len(leaks) == 4
    total = sum(int(leak.rsplit(", ", 1)[1].removesuffix(" bytes")) for leak in leaks)
    assert head.endswith(f"leaked {total} bytes")


def test_kextunload_reports_the_leaks_with_the_functions_named(
    leaky: tuple[LoadResult, Symbolizer, UnloadResult],
) -> None:
    """What kextunload prints after `unload ... succeeded`: the kernel's
    leak report, each kext address followed by its function's name (the
    kernel's: the kext was still there when it was written)."""
    _, _, unloaded = leaky

    assert unloaded.leaks.startswith("com.example.leaky: leaked ")
    assert "OSMalloc tag 'com.example.leaky': 3 blocks, 384 bytes" in unloaded.leaks
    assert "mbufs: 2 mbufs, 1 cluster (2 KB), 2560 bytes" in unloaded.leaks
    assert re.search(rf"thread call to {HEX} leaky_tick: idle", unloaded.leaks)


def test_leaks_stay_charged_to_the_unloaded_kext_by_name(
    module_kext_guest: KextGuest, leaky: tuple[LoadResult, Symbolizer, UnloadResult]
) -> None:
    guest = module_kext_guest

    [tag] = rows(guest.monitor("mem"), "com.example.leaky")
    [group] = rows(guest.monitor("locks"), "leaky")
    [mbufs] = unloaded_rows(guest.monitor("netstat -m"), "com.example.leaky")
    left = guest.monitor("kextres com.example.leaky").splitlines()

    assert tag.endswith("(unloaded) com.example.leaky")
    assert group.endswith("(unloaded) com.example.leaky")
    assert mbufs.split()[2:5] == ["2", "1", "0"]
    assert left[0] == "com.example.leaky is not loaded; unloaded kexts of that name left:"
    assert len(left) == 6  # the heading, four leaks, the total
