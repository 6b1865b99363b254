"""IP filters (issue 11): a kext registers IPv4 filters and watches real
datagrams -- a ping of 127.0.0.1 goes out through ip_output and comes back
in through ip_input, so every filter sees it both ways.  The newest filter
runs first; a filter that keeps a datagram (EJUSTRETURN) and injects it
with its own reference is skipped, with the filters before it, when the
datagram comes round again; ipf_remove waits for a callback still running
before it calls ipf_detach; ipf_inject_output nested without end is cut
off; and a kext that leaves a filter registered is kept, in words.

The tests share one guest.  `ipftest` registers three filters, A then B
then C (so they run C, B, A), each acting only on ICMP.  Through its
kernel control:

    set 1  (filter 0..2 for A..C, mode): 0 pass, 1 keep and re-inject with
           its own reference, 2 drop (EPERM), 3 re-inject with no reference
           (a loop), 4 slow: sleep 300 ms in ipf_input while a thread call
           runs ipf_remove on this filter (A is gone afterwards: this
           test comes last but one)
    get 2  the letters of the filters' ipf_input calls, in order ("*" kept,
           "!" dropped); get 3 the same for ipf_output; set 4 clears both
    get 5  the slow removal's story: b(callback begins) r(ipf_remove
           called) e(callback ends) d(ipf_detach) R(ipf_remove returned)
    get 6  four errnos: ipf_addv4 with no name, with no callbacks,
           ipf_addv6, ipf_remove of a removed filter
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finch.kctl import KernelControl
from finch.kext.guest import KextGuest
from finch.kext.load import LoadResult
from finch.kext.unload import UnloadRefused
from finch.session import GuestSession
from finch.wirepeer import netstat_s

MakeKext = Callable[..., Path]

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}
CONTROL = "com.example.ipftest"
PASS, REINJECT, DROP, LOOP, SLOW = 0, 1, 2, 3, 4
A, B, C = 0, 1, 2
EINVAL, ENOENT, EAFNOSUPPORT = 22, 2, 47

IPFTEST = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_control.h>
#include <kern/locks.h>
#include <kern/thread_call.h>
#include <netinet/in.h>
#include <netinet/kpi_ipfilter.h>

#define NFILTERS	3
#define LOGMAX		120

kern_return_t ipftest_start(kmod_info_t *ki, void *data);
kern_return_t ipftest_stop(kmod_info_t *ki, void *data);

struct flt {
	char		letter;
	ipfilter_t	ref;
	int		mode;
};

static struct flt flts[NFILTERS] = {
	{ 'A', NULL, 0 }, { 'B', NULL, 0 }, { 'C', NULL, 0 },
};
static lck_grp_t *grp;
static lck_mtx_t *mtx;
static char inlog[LOGMAX], outlog[LOGMAX], story[16];
static kern_ctl_ref ctlref;
static thread_call_t remover;
static int checks[4];
static int slowdone;

static void
logc(char *log, char c)
{
	size_t n;

	lck_mtx_lock(mtx);
	n = strlen(log);
	if (n + 1 < LOGMAX) {
		log[n] = c;
		log[n + 1] = '\0';
	}
	lck_mtx_unlock(mtx);
}

static errno_t
it_input(void *cookie, mbuf_t *data, int offset, u_int8_t protocol)
{
	struct flt *f = cookie;
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	errno_t error;
	int chan;

	if (protocol != IPPROTO_ICMP)
		return 0;
	logc(inlog, f->letter);
	switch (f->mode) {
	case 1:
		error = ipf_inject_input(*data, f->ref);
		if (error == 0) {
			logc(inlog, '*');
			return EJUSTRETURN;
		}
		return error;
	case 2:
		logc(inlog, '!');
		return EPERM;
	case 4:
		if (slowdone++)
			return 0;
		logc(story, 'b');
		thread_call_enter(remover);
		msleep(&chan, NULL, 0, "ipftest", &ts);
		logc(story, 'e');
		return 0;
	}
	return 0;
}

static errno_t
it_output(void *cookie, mbuf_t *data, ipf_pktopts_t options)
{
	struct flt *f = cookie;
	u_int8_t p;

	if (mbuf_copydata(*data, 9, 1, &p) != 0 || p != IPPROTO_ICMP)
		return 0;
	logc(outlog, f->letter);
	switch (f->mode) {
	case 1:
		logc(outlog, '*');
		ipf_inject_output(*data, f->ref, NULL);
		return EJUSTRETURN;
	case 2:
		logc(outlog, '!');
		return EPERM;
	case 3:
		logc(outlog, '*');
		ipf_inject_output(*data, NULL, NULL);
		return EJUSTRETURN;
	}
	return 0;
}

static void
it_detach(void *cookie)
{
	struct flt *f = cookie;

	if (f->mode == 4)
		logc(story, 'd');
}

static void
it_remove(thread_call_param_t p0, thread_call_param_t p1)
{
	logc(story, 'r');
	ipf_remove(flts[0].ref);
	flts[0].ref = NULL;
	logc(story, 'R');
}

static errno_t
it_add(struct flt *f)
{
	struct ipf_filter flt = { f, "", it_input, it_output, it_detach };
	char name[16] = "ipftest.x";

	name[8] = f->letter - 'A' + 'a';
	flt.name = name;
	return ipf_addv4(&flt, &f->ref);
}

static void
it_checks(void)
{
	struct ipf_filter none = { NULL, NULL, it_input, NULL, NULL };
	struct ipf_filter nocb = { NULL, "nocb", NULL, NULL, NULL };
	struct ipf_filter ok = { NULL, "tmp", it_input, NULL, NULL };
	ipfilter_t ref;

	checks[0] = ipf_addv4(&none, &ref);
	checks[1] = ipf_addv4(&nocb, &ref);
	checks[2] = ipf_addv6(&ok, &ref);
	if (ipf_addv4(&ok, &ref) == 0) {
		ipf_remove(ref);
		checks[3] = ipf_remove(ref);
	}
}

static errno_t
it_connect(kern_ctl_ref r, struct sockaddr_ctl *sac, void **unitinfo)
{
	return 0;
}

static errno_t
it_setopt(kern_ctl_ref r, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t len)
{
	int *v = data;

	switch (opt) {
	case 1:
		if (len != 2 * sizeof(int) || v[0] < 0 || v[0] >= NFILTERS)
			return EINVAL;
		flts[v[0]].mode = v[1];
		slowdone = 0;
		return 0;
	case 4:
		lck_mtx_lock(mtx);
		inlog[0] = outlog[0] = story[0] = '\0';
		lck_mtx_unlock(mtx);
		return 0;
	}
	return ENOTSUP;
}

static errno_t
it_getopt(kern_ctl_ref r, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
	const void *src;
	size_t n;

	lck_mtx_lock(mtx);
	switch (opt) {
	case 2: src = inlog; n = strlen(inlog); break;
	case 3: src = outlog; n = strlen(outlog); break;
	case 5: src = story; n = strlen(story); break;
	case 6: src = checks; n = sizeof(checks); break;
	default:
		lck_mtx_unlock(mtx);
		return ENOTSUP;
	}
	if (data != NULL) {
		if (n > *len)
			n = *len;
		memcpy(data, src, n);
	}
	*len = n;
	lck_mtx_unlock(mtx);
	return 0;
}

kern_return_t
ipftest_stop(kmod_info_t *ki, void *data)
{
	int i;

	if (ctlref != NULL && ctl_deregister(ctlref) != 0)
		return KERN_FAILURE;
	ctlref = NULL;
	for (i = NFILTERS - 1; i >= 0; i--)
		if (flts[i].ref != NULL)
			ipf_remove(flts[i].ref);	/* ipf_detach has run */
	thread_call_cancel_wait(remover);
	thread_call_free(remover);
	lck_mtx_free(mtx, grp);
	lck_grp_free(grp);
	return KERN_SUCCESS;
}

kern_return_t
ipftest_start(kmod_info_t *ki, void *data)
{
	struct kern_ctl_reg reg;
	int i;

	grp = lck_grp_alloc_init("ipftest", LCK_GRP_ATTR_NULL);
	mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL);
	remover = thread_call_allocate(it_remove, NULL);
	it_checks();
	for (i = 0; i < NFILTERS; i++)
		if (it_add(&flts[i]) != 0)
			return KERN_FAILURE;
	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, "com.example.ipftest", sizeof(reg.ctl_name));
	reg.ctl_connect = it_connect;
	reg.ctl_setopt = it_setopt;
	reg.ctl_getopt = it_getopt;
	if (ctl_register(&reg, &ctlref) != 0)
		return KERN_FAILURE;
	return KERN_SUCCESS;
}
"""

# Registers a filter and forgets it at stop.
IPFLEAK = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <netinet/kpi_ipfilter.h>

kern_return_t ipfleak_start(kmod_info_t *ki, void *data);
kern_return_t ipfleak_stop(kmod_info_t *ki, void *data);

static ipfilter_t ref;

static errno_t
il_input(void *cookie, mbuf_t *data, int offset, u_int8_t protocol)
{
	return 0;
}

kern_return_t
ipfleak_start(kmod_info_t *ki, void *data)
{
	struct ipf_filter f = { NULL, "leak", il_input, NULL, NULL };

	return ipf_addv4(&f, &ref) == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
ipfleak_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot ipf_remove */
}
"""


@pytest.fixture(scope="module")
def ipftest(module_kext_guest: KextGuest, module_make_kext: MakeKext) -> Iterator[LoadResult]:
    [result] = module_kext_guest.load(module_make_kext("ipftest", IPFTEST, libraries=KPIS))
    yield result
    module_kext_guest.unload("com.example.ipftest")


@pytest.fixture
def session(module_kext_guest: KextGuest, ipftest: LoadResult) -> Iterator[GuestSession]:
    """The test's host session (QEMU serves one at a time)."""
    with module_kext_guest.session() as session:
        yield session


@pytest.fixture
def control(session: GuestSession) -> Iterator[KernelControl]:
    """A client of the test kext, every filter passing, logs empty."""
    with KernelControl.connect(session, CONTROL) as ctl:
        for which in (A, B, C):
            ctl.setsockopt(1, struct.pack("<ii", which, PASS))
        ctl.setsockopt(4, 0)
        yield ctl
        for which in (A, B, C):
            ctl.setsockopt(1, struct.pack("<ii", which, PASS))


def ping(session: GuestSession) -> str:
    return session.monitor("ping -c 1 -i 0.2 127.0.0.1")


def answered(out: str) -> bool:
    return "1 packets transmitted, 1 packets received" in out


def logs(ctl: KernelControl) -> tuple[str, str]:
    return ctl.getsockopt(2, 120).decode(), ctl.getsockopt(3, 120).decode()


def test_bad_registrations_are_refused_and_ipv6_is_not_supported(control: KernelControl) -> None:
    no_name, no_callbacks, v6, removed_twice = struct.unpack("<4i", control.getsockopt(6, 16))

    assert (no_name, no_callbacks) == (EINVAL, EINVAL)
    assert v6 == EAFNOSUPPORT
    assert removed_twice == ENOENT


def test_the_newest_filter_runs_first_both_ways(
    module_kext_guest: KextGuest, session: GuestSession, control: KernelControl
) -> None:
    out = ping(session)

    assert answered(out), out
    # Echo request, then reply: out through ip_output, back in through ip_input.
    assert logs(control) == ("CBACBA", "CBACBA")
    listing = session.monitor("ipf")
    assert (
        listing.index("'ipftest.c'") < listing.index("'ipftest.b'") < listing.index("'ipftest.a'")
    )
    assert "'ipftest.a' (com.example.ipftest): input output; in " in listing


def test_a_kept_datagram_reinjected_with_its_ref_skips_that_filter_and_newer_ones(
    module_kext_guest: KextGuest, session: GuestSession, control: KernelControl
) -> None:
    control.setsockopt(1, struct.pack("<ii", B, REINJECT))
    before = netstat_s(module_kext_guest.machine)

    out = ping(session)

    assert answered(out), out
    # Each datagram: C, then B keeps it ("*"); injected again, only A sees it.
    assert logs(control) == ("CB*ACB*A", "CB*ACB*A")
    after = netstat_s(module_kext_guest.machine)
    assert after["ipf.in_swallowed"] - before["ipf.in_swallowed"] == 2
    assert after["ipf.injected_in"] - before["ipf.injected_in"] == 2
    assert after["ipf.injected_out"] - before["ipf.injected_out"] == 2


def test_a_filter_returning_an_error_drops_the_datagram_counted(
    module_kext_guest: KextGuest, session: GuestSession, control: KernelControl
) -> None:
    control.setsockopt(1, struct.pack("<ii", B, DROP))
    before = netstat_s(module_kext_guest.machine)

    out = ping(session)

    assert "0 packets received" in out, out
    assert logs(control) == ("", "CB!")  # the request never left
    after = netstat_s(module_kext_guest.machine)
    assert after["ipf.out_rejected"] - before["ipf.out_rejected"] == 1


def test_injecting_from_inside_a_filter_without_end_is_cut_off(
    module_kext_guest: KextGuest, session: GuestSession, control: KernelControl
) -> None:
    control.setsockopt(1, struct.pack("<ii", C, LOOP))
    before = netstat_s(module_kext_guest.machine)

    out = ping(session)

    assert "0 packets received" in out, out
    assert logs(control)[1] == "C*" * 5
    after = netstat_s(module_kext_guest.machine)
    assert after["ipf.inject_nested"] - before["ipf.inject_nested"] == 1


def test_ipf_remove_waits_for_the_running_callback_then_calls_ipf_detach(
    module_kext_guest: KextGuest, session: GuestSession, control: KernelControl
) -> None:
    control.setsockopt(1, struct.pack("<ii", A, SLOW))

    out = ping(session)
    story = control.getsockopt(5, 16).decode()
    listing = session.monitor("ipf")

    assert answered(out), out
    assert story == "bredR"
    assert "'ipftest.a'" not in listing
    assert "2 filters registered, 0 being removed" in listing


def test_a_kext_that_leaves_its_filter_registered_is_kept_with_the_reason(
    module_kext_guest: KextGuest, module_make_kext: MakeKext
) -> None:
    module_kext_guest.load(module_make_kext("ipfleak", IPFLEAK, libraries=KPIS))

    with pytest.raises(UnloadRefused) as refused:
        module_kext_guest.unload("com.example.ipfleak")

    assert (
        "ipf filter 'leak' still registered: stop must call ipf_remove and wait for ipf_detach"
        in str(refused.value)
    )
