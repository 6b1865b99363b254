"""The timing contracts of the KPI headers (issue 12), in the real kernel.

The pktcount sample counts en0's frames per ethertype, prints a summary
every 5 s from a thread call, and stops in the safe order: the timer
(thread_call_cancel_wait), then the filter (iflt_detach and a bounded
wait for iff_detached), then the rest in reverse.  It unloads with no
leak, nothing pinned, and its timer never runs again.

The mistakes the contracts warn about panic at once, naming them,
instead of hanging the host link: waiting for a thread call from its own
function or while holding the mutex its function waits for, and holding
your own mutex across iflt_detach when iff_detached takes it -- it runs
inside iflt_detach when no callback is running.  Each panic gets a
guest of its own."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.errors import FinchError, GuestPanic
from finch.kext.guest import KextGuest, kext_options
from finch.kext.load import LoadError
from finch.machine import Machine
from finch.qemu_args import QemuOptions

MakeKext = Callable[..., Path]
PKTCOUNT = "com.finch.sample.pktcount"
PERIOD = 5.0  # seconds between two summaries (PKTCOUNT_PERIOD)
KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}
SUMMARY = re.compile(
    r"pktcount: summary (\d+): frames on en0 since start\r?\n((?:pktcount:   .*\n)*)"
)
COUNTS = re.compile(
    r"pktcount:   0x([0-9a-f]{4}) (\S+)\s+in (\d+) frames (\d+) bytes, out (\d+) frames (\d+) bytes"
)


@pytest.fixture
def net_kext_guest(machine_factory: Callable[..., Machine], built_kexts: Path) -> KextGuest:
    """A guest with en0 on user networking (the gateway is 10.0.2.2) and
    the host link, ready for kexts."""
    options = kext_options(QemuOptions(netdevs=["user,id=net0"], devices=["e1000,netdev=net0"]))
    machine = machine_factory(options)
    machine.boot()
    guest = KextGuest(machine, built_kexts)
    guest.wait_ready()
    return guest


def counts(lines: str) -> dict[str, tuple[int, int, int, int]]:
    """Ethertype name -> (frames in, bytes in, frames out, bytes out)."""
    return {
        m.group(2): (int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)))
        for m in COUNTS.finditer(lines)
    }


def summary_with_traffic(machine: Machine) -> dict[str, tuple[int, int, int, int]]:
    """The first summary that counts the ping (3 echoes each way) and
    the ARP exchange before it."""
    deadline = time.monotonic() + 4 * PERIOD
    while True:
        match = machine.expect(SUMMARY, timeout=max(deadline - time.monotonic(), 0.1))
        seen = counts(match.group(2))
        ipv4, arp = seen.get("IPv4", (0,) * 4), seen.get("ARP", (0,) * 4)
        if ipv4[0] >= 3 and ipv4[2] >= 3 and arp[0] >= 1 and arp[2] >= 1:
            return seen


def test_pktcount_counts_en0_per_ethertype_and_stops_its_timer_and_filter_for_good(
    net_kext_guest: KextGuest,
) -> None:
    guest = net_kext_guest
    guest.load(guest.bundle("pktcount"))
    guest.machine.expect("pktcount: counting frames on en0; a summary every 5 s")
    guest.monitor("arp -d 10.0.2.2")  # so that ping asks for the gateway's address
    assert "3 packets received" in guest.monitor("ping -c 3 -i 0.2 10.0.2.2")

    seen = summary_with_traffic(guest.machine)
    result = guest.unload(PKTCOUNT)
    unloaded = time.monotonic()

    ipv4, arp = seen["IPv4"], seen["ARP"]
    assert min(ipv4[1], ipv4[3]) >= 3 * 98  # bytes of 3 echoes: 14 + 20 + 8 + 56 each
    assert min(arp[1], arp[3]) >= 42  # 14 + 28
    assert result.leaks == ""  # lock, group, table and tag: all freed
    assert guest.machine.expect(r"pktcount: stopped; (\d+) summar(y|ies) printed")
    assert PKTCOUNT not in [k.identifier for k in guest.kextstat()]  # not pinned
    left = guest.monitor(f"kextres {PKTCOUNT}").strip()
    assert left == f"{PKTCOUNT} is not loaded; unloaded kexts of that name left: nothing"
    # The next summary would have come within a period of the last one.
    time.sleep(max(0.0, unloaded + PERIOD + 1.0 - time.monotonic()))
    after = guest.machine.console_text().split("pktcount: stopped", 1)[1]
    assert "pktcount: summary" not in after
    assert "pktcount" not in guest.monitor("callout")


# -- the mistakes: each panics, naming itself --------------------------------------

PRELUDE = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <kern/locks.h>
#include <kern/thread_call.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>

kern_return_t NAME_start(kmod_info_t *ki, void *data);
kern_return_t NAME_stop(kmod_info_t *ki, void *data);

static __attribute__((unused)) lck_grp_t *NAME_grp;
static __attribute__((unused)) lck_mtx_t *NAME_lock;
static __attribute__((unused)) thread_call_t NAME_call;
static __attribute__((unused)) volatile int NAME_started;
"""

# A thread call that waits for itself.
SELF_WAIT = """
static void
NAME_tick(thread_call_param_t p0, thread_call_param_t p1)
{
	thread_call_cancel_wait(NAME_call);	/* wrong: use thread_call_cancel */
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	NAME_call = thread_call_allocate(NAME_tick, NULL);
	thread_call_enter(NAME_call);
	return KERN_SUCCESS;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""

# A stop that holds the mutex its timer is waiting for.
HELD_WAIT = """
static void
NAME_tick(thread_call_param_t p0, thread_call_param_t p1)
{
	NAME_started = 1;
	wakeup((void *)&NAME_started);
	lck_mtx_lock(NAME_lock);
	lck_mtx_unlock(NAME_lock);
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	NAME_grp = lck_grp_alloc_init("NAME", LCK_GRP_ATTR_NULL);
	NAME_lock = lck_mtx_alloc_init(NAME_grp, LCK_ATTR_NULL);
	NAME_call = thread_call_allocate(NAME_tick, NULL);
	return KERN_SUCCESS;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int n;

	lck_mtx_lock(NAME_lock);		/* wrong: held across the wait */
	thread_call_enter(NAME_call);
	for (n = 0; !NAME_started && n < 100; n++)
		msleep((void *)&NAME_started, NULL, 0, "NAME", &tick);
	thread_call_cancel_wait(NAME_call);
	lck_mtx_unlock(NAME_lock);
	return KERN_SUCCESS;
}
"""

# A stop that holds the mutex its iff_detached takes, across iflt_detach.
HELD_DETACH = """
static interface_filter_t NAME_ref;

static void
NAME_detached(void *cookie, ifnet_t ifp)
{
	lck_mtx_lock(NAME_lock);
	lck_mtx_unlock(NAME_lock);
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	struct iff_filter filter = { NULL, "NAME", 0, NULL, NULL, NULL, NULL,
		NAME_detached };
	ifnet_t ifp;
	errno_t error;

	NAME_grp = lck_grp_alloc_init("NAME", LCK_GRP_ATTR_NULL);
	NAME_lock = lck_mtx_alloc_init(NAME_grp, LCK_ATTR_NULL);
	if (ifnet_find_by_name("lo0", &ifp) != 0)
		return KERN_FAILURE;
	error = iflt_attach(ifp, &filter, &NAME_ref);
	ifnet_release(ifp);
	return error == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	lck_mtx_lock(NAME_lock);		/* wrong: held across iflt_detach */
	iflt_detach(NAME_ref);
	lck_mtx_unlock(NAME_lock);
	return KERN_SUCCESS;
}
"""


def build(make_kext: MakeKext, name: str, body: str) -> Path:
    return make_kext(name, (PRELUDE + body).replace("NAME", name), libraries=KPIS)


def panic_of(guest: KextGuest) -> GuestPanic:
    with pytest.raises(GuestPanic) as panicked:
        guest.machine.expect("finch> ", timeout=10)
    return panicked.value


def load_then_panic(guest: KextGuest, bundle: Path) -> GuestPanic:
    """Load a kext whose start arms something that panics at once: the
    panic may come before or after kextload hears that it started."""
    try:
        guest.load(bundle)
    except LoadError as refused:
        if "the guest panicked" not in str(refused):
            raise
    return panic_of(guest)


def test_a_thread_call_that_waits_for_itself_panics_naming_the_mistake(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    panic = load_then_panic(kext_guest, build(make_kext, "selfwait", SELF_WAIT))

    assert re.search(
        r"thread_call_cancel_wait: called by the function of the call it waits for "
        r"\(thread call 0x[0-9a-f]{8} to 0x[0-9a-f]{8}, com\.example\.selfwait\): it would "
        r"wait for itself for ever\.  Inside the call, use thread_call_cancel",
        panic.raw,
    ), panic.raw
    assert "selfwait_tick" in panic.symbolized


def test_waiting_for_a_thread_call_holding_the_mutex_it_waits_for_panics(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    kext_guest.load(build(make_kext, "heldwait", HELD_WAIT))

    with pytest.raises(FinchError):  # the guest panicked during stop
        kext_guest.unload("com.example.heldwait")

    panic = panic_of(kext_guest)
    assert re.search(
        r"thread_call_cancel_wait: deadlock: the function of thread call 0x[0-9a-f]{8} "
        r"\(0x[0-9a-f]{8}, com\.example\.heldwait\) waits for mutex 'heldwait', which thread "
        r"'kmod stop com\.example\.heldwait' took at 0x[0-9a-f]{8} and holds while it "
        r"waits for the call",
        panic.raw,
    ), panic.raw
    assert "heldwait_stop" in panic.symbolized


def test_iff_detached_runs_inside_iflt_detach_so_a_lock_held_across_it_panics(
    kext_guest: KextGuest, make_kext: MakeKext
) -> None:
    kext_guest.load(build(make_kext, "helddetach", HELD_DETACH))

    with pytest.raises(FinchError):  # the guest panicked during stop
        kext_guest.unload("com.example.helddetach")

    panic = panic_of(kext_guest)
    assert "is already held by this thread (kmod stop com.example.helddetach)" in panic.raw, (
        panic.raw
    )
    assert "helddetach_detached" in panic.symbolized
    assert "helddetach_stop" in panic.symbolized
