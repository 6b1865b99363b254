"""Interface filters against the rows of their contract: iff_ioctl's
return rules, iff_event for the DLIL's events about the interface
(flags, MTU, metric, a protocol attached), a filter for IPv4 attached before
IPv4 is (it sees nothing, then IPv4 traffic), and iflt_detach that is
asynchronous: a callback running on another thread finishes first, and
iff_detached comes last, in that callback's thread.

The tests share one guest.  `iflttest` makes an Ethernet interface of
its own, fk0 (its driver frees what it is given), and attaches three
filters before fk0 has any protocol:

    F1  IPv4 only: counts inbound and outbound packets, logs events
    F2  every protocol: answers ioctls, may sleep in iff_output
    F3  every protocol: answers ioctls

Through its kernel control:

    set 1 N  ifnet_ioctl(fk0, 0, N, NULL); F2, F3 and the driver log a
             digit or D when called, and answer by N (see IOCTLS)
    get 2    the last result and that log
    get 3    F1's events, each (subclass << 16 | code); set 5 clears it
    get 4    F1's counts: packets in, packets out
    set 6    receive one ICMP echo request for 10.77.0.1 on fk0
    set 7    F2 sleeps 300 ms in iff_output while a thread call runs
             iflt_detach(F2); get 8: b(callback begins) x(iflt_detach
             called) y(it returned) e(callback ends) d(iff_detached), and
             "=" if iff_detached ran in the callback's thread
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finch.kctl import KernelControl
from finch.kext.guest import KextGuest
from finch.kext.load import LoadResult
from finch.session import GuestSession

MakeKext = Callable[..., Path]

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}
CONTROL = "com.example.iflttest"
EPERM, EOPNOTSUPP = 1, 102  # as <sys/errno.h> has them
KEV_DL = 2
SIFFLAGS, SIFMETRICS, SIFMTU, PROTO_ATTACHED = 1, 2, 3, 14

IFLTTEST = r"""
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_control.h>
#include <sys/kern_event.h>
#include <kern/locks.h>
#include <kern/thread.h>
#include <kern/thread_call.h>
#include <net/if_types.h>
#include <net/if_dl.h>
#include <net/if_ether.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <netinet/in.h>

#define NEVENTS	32

kern_return_t iflttest_start(kmod_info_t *ki, void *data);
kern_return_t iflttest_stop(kmod_info_t *ki, void *data);

static const u_char mac[6] = { 2, 0, 0, 0, 0x77, 1 };
static const u_char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static lck_grp_t *grp;
static lck_mtx_t *mtx;
static ifnet_t fk;
static interface_filter_t f1, f2, f3;
static kern_ctl_ref ctlref;
static thread_call_t detacher;
static int detached[3], ifdetached;
static u_int32_t events[NEVENTS], nevents, in1, out1;
static int result;
static char iolog[8], story[8];
static int slow;
static thread_t slow_thread;

static void
logc(char *log, size_t size, char c)
{
	size_t n = strlen(log);

	if (n + 1 < size) {
		log[n] = c;
		log[n + 1] = '\0';
	}
}

/* The driver: every frame is freed, fk0 has no wire. */
static errno_t
fk_output(ifnet_t ifp, mbuf_t m)
{
	mbuf_freem(m);
	return 0;
}

static errno_t
fk_ioctl(ifnet_t ifp, u_int32_t cmd, void *data)
{
	if (cmd < 16) {
		logc(iolog, sizeof(iolog), 'D');
		return cmd == 5 ? 0 : EOPNOTSUPP;
	}
	return ether_ioctl(ifp, cmd, data);
}

static void
fk_detached(ifnet_t ifp)
{
	lck_mtx_lock(mtx);
	ifdetached = 1;
	lck_mtx_unlock(mtx);
	wakeup(&ifdetached);
}

static errno_t
f1_input(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *data,
    char **frame)
{
	lck_mtx_lock(mtx);
	in1++;
	lck_mtx_unlock(mtx);
	return 0;
}

static errno_t
f1_output(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *data)
{
	lck_mtx_lock(mtx);
	out1++;
	lck_mtx_unlock(mtx);
	return 0;
}

static void
f1_event(void *cookie, ifnet_t ifp, protocol_family_t pf,
    const struct kev_msg *ev)
{
	lck_mtx_lock(mtx);
	if (nevents < NEVENTS)
		events[nevents++] = ev->kev_subclass << 16 | ev->event_code;
	lck_mtx_unlock(mtx);
}

static errno_t
f2_output(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *data)
{
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	int chan;

	if (!slow)
		return 0;
	slow = 0;
	slow_thread = current_thread();
	logc(story, sizeof(story), 'b');
	thread_call_enter(detacher);
	msleep(&chan, NULL, 0, "iflttest", &ts);
	logc(story, sizeof(story), 'e');
	return 0;
}

/* F2, then F3: what each answers for ioctl N. */
static errno_t
f2_ioctl(void *cookie, ifnet_t ifp, protocol_family_t pf, u_long cmd,
    void *arg)
{
	if (cmd >= 16)
		return EOPNOTSUPP;
	logc(iolog, sizeof(iolog), '2');
	return cmd == 2 ? 0 : cmd == 3 ? EJUSTRETURN : EOPNOTSUPP;
}

static errno_t
f3_ioctl(void *cookie, ifnet_t ifp, protocol_family_t pf, u_long cmd,
    void *arg)
{
	if (cmd >= 16)
		return EOPNOTSUPP;
	logc(iolog, sizeof(iolog), '3');
	return cmd == 4 ? EPERM : EOPNOTSUPP;
}

static void
f_detached(void *cookie, ifnet_t ifp)
{
	int *flag = cookie;

	lck_mtx_lock(mtx);
	*flag = 1;
	if (flag == &detached[1]) {
		logc(story, sizeof(story), 'd');
		if (current_thread() == slow_thread)
			logc(story, sizeof(story), '=');
	}
	lck_mtx_unlock(mtx);
	wakeup(flag);
}

static void
f2_detach_call(thread_call_param_t p0, thread_call_param_t p1)
{
	logc(story, sizeof(story), 'x');
	iflt_detach(f2);
	logc(story, sizeof(story), 'y');
}

static u_int16_t
cksum(const u_char *p, int len)
{
	u_int32_t sum = 0;
	int i;

	for (i = 0; i < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u_int16_t)~sum;
}

/* An ICMP echo request from 10.77.0.2 to 10.77.0.1, received on fk0. */
static errno_t
fk_receive(void)
{
	u_char f[14 + 28];
	u_int16_t s;
	mbuf_t m;

	bzero(f, sizeof(f));
	memcpy(f, mac, 6);
	memcpy(f + 6, mac, 6);
	f[11] = 2;
	f[12] = 0x08;
	f[14] = 0x45; f[17] = 28; f[22] = 64; f[23] = 1;
	f[26] = 10; f[27] = 77; f[29] = 2;
	f[30] = 10; f[31] = 77; f[33] = 1;
	s = cksum(f + 14, 20); f[24] = s >> 8; f[25] = s & 0xff;
	f[34] = 8; f[39] = 1; f[41] = 1;
	s = cksum(f + 34, 8); f[36] = s >> 8; f[37] = s & 0xff;
	if (mbuf_allocpacket(MBUF_WAITOK, sizeof(f), NULL, &m) != 0)
		return ENOMEM;
	mbuf_copyback(m, 0, sizeof(f), f, MBUF_WAITOK);
	mbuf_pkthdr_setheader(m, mbuf_data(m));
	mbuf_setdata(m, (char *)mbuf_data(m) + 14, mbuf_len(m) - 14);
	mbuf_pkthdr_adjustlen(m, -14);
	return ifnet_input(fk, m, NULL);
}

/* One raw frame out of fk0: every filter of protocol 0 sees it. */
static errno_t
fk_send(void)
{
	mbuf_t m;

	if (mbuf_allocpacket(MBUF_WAITOK, 60, NULL, &m) != 0)
		return ENOMEM;
	bzero(mbuf_data(m), 60);
	return ifnet_output_raw(fk, 0, m);
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
	switch (opt) {
	case 1:
		if (len != sizeof(int))
			return EINVAL;
		iolog[0] = '\0';
		result = ifnet_ioctl(fk, 0, *(int *)data, NULL);
		return 0;
	case 5:
		lck_mtx_lock(mtx);
		nevents = 0;
		lck_mtx_unlock(mtx);
		return 0;
	case 6:
		return fk_receive();
	case 7:
		story[0] = '\0';
		slow = 1;
		return fk_send();
	}
	return ENOTSUP;
}

static errno_t
it_getopt(kern_ctl_ref r, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
	u_int32_t buf[NEVENTS + 2];
	size_t n;

	lck_mtx_lock(mtx);
	switch (opt) {
	case 2:
		buf[0] = result;
		memcpy(&buf[1], iolog, sizeof(iolog));
		n = 4 + strlen(iolog);
		break;
	case 3:
		memcpy(buf, events, nevents * 4);
		n = nevents * 4;
		break;
	case 4:
		buf[0] = in1;
		buf[1] = out1;
		n = 8;
		break;
	case 8:
		memcpy(buf, story, sizeof(story));
		n = strlen(story);
		break;
	default:
		lck_mtx_unlock(mtx);
		return ENOTSUP;
	}
	lck_mtx_unlock(mtx);
	if (data != NULL) {
		if (n > *len)
			n = *len;
		memcpy(data, buf, n);
	}
	*len = n;
	return 0;
}

static errno_t
fk_create(void)
{
	struct ifnet_init_params init;
	struct sockaddr_dl sdl;
	errno_t error;

	bzero(&init, sizeof(init));
	init.name = "fk";
	init.unit = 0;
	init.family = IFNET_FAMILY_ETHERNET;
	init.type = IFT_ETHER;
	init.output = fk_output;
	init.demux = ether_demux;
	init.add_proto = ether_add_proto;
	init.del_proto = ether_del_proto;
	init.check_multi = ether_check_multi;
	init.framer = ether_frameout;
	init.ioctl = fk_ioctl;
	init.detach = fk_detached;
	init.broadcast_addr = bcast;
	init.broadcast_len = sizeof(bcast);
	if ((error = ifnet_allocate(&init, &fk)) != 0)
		return error;
	ifnet_set_mtu(fk, ETHERMTU);
	ifnet_set_hdrlen(fk, ETHER_HDR_LEN);
	ifnet_set_addrlen(fk, ETHER_ADDR_LEN);
	ifnet_set_flags(fk, IFF_BROADCAST | IFF_SIMPLEX | IFF_UP, 0xffff);
	bzero(&sdl, sizeof(sdl));
	sdl.sdl_len = sizeof(sdl);
	sdl.sdl_family = AF_LINK;
	sdl.sdl_type = IFT_ETHER;
	sdl.sdl_alen = ETHER_ADDR_LEN;
	memcpy(LLADDR(&sdl), mac, ETHER_ADDR_LEN);
	return ifnet_attach(fk, &sdl);
}

static errno_t
flt_attach(protocol_family_t pf, iff_input_func in, iff_output_func out,
    iff_event_func ev, iff_ioctl_func io, int *flag, interface_filter_t *ref)
{
	struct iff_filter flt = { flag, "iflttest", pf, in, out, ev, io, f_detached };

	return iflt_attach(fk, &flt, ref);
}

static void
wait_for(int *flag)
{
	struct timespec ts = { 1, 0 };

	lck_mtx_lock(mtx);
	if (!*flag)
		msleep(flag, mtx, 0, "iflttest", &ts);
	lck_mtx_unlock(mtx);
}

kern_return_t
iflttest_stop(kmod_info_t *ki, void *data)
{
	if (ctlref != NULL && ctl_deregister(ctlref) != 0)
		return KERN_FAILURE;
	ctlref = NULL;
	thread_call_cancel_wait(detacher);
	iflt_detach(f1);
	iflt_detach(f2);
	iflt_detach(f3);
	wait_for(&detached[0]);
	wait_for(&detached[1]);
	wait_for(&detached[2]);
	ifnet_detach(fk);
	wait_for(&ifdetached);
	if (!ifdetached || !detached[0] || !detached[1] || !detached[2])
		return KERN_FAILURE;
	ifnet_release(fk);
	thread_call_free(detacher);
	lck_mtx_free(mtx, grp);
	lck_grp_free(grp);
	return KERN_SUCCESS;
}

kern_return_t
iflttest_start(kmod_info_t *ki, void *data)
{
	struct kern_ctl_reg reg;

	grp = lck_grp_alloc_init("iflttest", LCK_GRP_ATTR_NULL);
	mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL);
	detacher = thread_call_allocate(f2_detach_call, NULL);
	if (fk_create() != 0)
		return KERN_FAILURE;
	/* Before any protocol is attached to fk0: F1 is for IPv4. */
	if (flt_attach(PF_INET, f1_input, f1_output, f1_event, NULL, &detached[0], &f1) != 0)
		return KERN_FAILURE;
	if (flt_attach(0, NULL, f2_output, NULL, f2_ioctl, &detached[1], &f2) != 0)
		return KERN_FAILURE;
	if (flt_attach(0, NULL, NULL, NULL, f3_ioctl, &detached[2], &f3) != 0)
		return KERN_FAILURE;
	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, "com.example.iflttest", sizeof(reg.ctl_name));
	reg.ctl_connect = it_connect;
	reg.ctl_setopt = it_setopt;
	reg.ctl_getopt = it_getopt;
	return ctl_register(&reg, &ctlref) == 0 ? KERN_SUCCESS : KERN_FAILURE;
}
"""

# What ifnet_ioctl returns and who was called: F2 (2), F3 (3), the driver (D).
IOCTLS = {
    1: (EOPNOTSUPP, "23D"),  # nobody's: EOPNOTSUPP all the way
    2: (0, "23D"),  # F2 handled it and let it go on; nobody else did
    3: (0, "2"),  # F2 answered EJUSTRETURN: handled, stop, success
    4: (EPERM, "23"),  # F3's error stops it and is the answer
    5: (0, "23D"),  # the driver handled it
}


@pytest.fixture(scope="module")
def iflttest(module_kext_guest: KextGuest, module_make_kext: MakeKext) -> Iterator[LoadResult]:
    [result] = module_kext_guest.load(module_make_kext("iflttest", IFLTTEST, libraries=KPIS))
    yield result
    module_kext_guest.unload("com.example.iflttest")


@pytest.fixture
def session(module_kext_guest: KextGuest, iflttest: LoadResult) -> Iterator[GuestSession]:
    with module_kext_guest.session() as session:
        yield session


@pytest.fixture
def control(session: GuestSession) -> Iterator[KernelControl]:
    with KernelControl.connect(session, CONTROL) as ctl:
        yield ctl


def events(ctl: KernelControl) -> list[tuple[int, int]]:
    raw = ctl.getsockopt(3, 128)
    return [(v >> 16, v & 0xFFFF) for v in struct.unpack(f"<{len(raw) // 4}I", raw)]


def counts(ctl: KernelControl) -> tuple[int, int]:
    return struct.unpack("<2I", ctl.getsockopt(4, 8))


@pytest.mark.parametrize("command", sorted(IOCTLS))
def test_iff_ioctl_answers_follow_the_return_rules(control: KernelControl, command: int) -> None:
    control.setsockopt(1, command)

    raw = control.getsockopt(2, 12)
    result, log = struct.unpack("<i", raw[:4])[0], raw[4:].decode()

    assert (result, log) == IOCTLS[command]


def test_a_filter_for_ipv4_attached_before_ipv4_sees_nothing_then_ipv4_traffic(
    session: GuestSession, control: KernelControl
) -> None:
    control.setsockopt(5, 0)
    control.setsockopt(6, 0)  # an echo request: no protocol on fk0 yet
    before = counts(control)

    out = session.monitor("ifconfig fk0 inet 10.77.0.1/24")
    control.setsockopt(6, 0)
    session.monitor("ping -c 1 -i 0.2 10.77.0.9")  # ARP asks on fk0: nobody answers

    assert before == (0, 0), out
    packets_in, packets_out = counts(control)
    assert packets_in == 1
    assert packets_out >= 1
    heard = events(control)
    # The DLIL's events only: KEV_INET_* go to event sockets, as in XNU.
    assert heard == [(KEV_DL, PROTO_ATTACHED)]
    assert "inet 10.77.0.1 netmask 0xffffff00" in session.monitor("ifconfig fk0")


def test_iff_event_hears_the_mtu_metric_and_flags_of_its_interface(
    session: GuestSession, control: KernelControl
) -> None:
    control.setsockopt(5, 0)

    for change in ("mtu 1400", "metric 7", "down", "up"):
        assert session.monitor(f"ifconfig fk0 {change}") == ""

    heard = [e for e in events(control) if e[0] == KEV_DL]
    assert heard == [(KEV_DL, SIFMTU), (KEV_DL, SIFMETRICS), (KEV_DL, SIFFLAGS), (KEV_DL, SIFFLAGS)]
    assert "metric 7 mtu 1400" in session.monitor("ifconfig fk0")


def test_ifconfig_refuses_a_bad_mtu_and_leaves_the_interface_alone(session: GuestSession) -> None:
    out = session.monitor("ifconfig fk0 mtu 9000")
    bad = session.monitor("ifconfig fk0 mtu lots")

    assert "fk0: mtu 9000 refused: out of the range its driver allows" in out
    assert "mtu `lots' is not a number from 0 to 65535" in bad
    assert " mtu 1400 " in session.monitor("ifconfig fk0")


def test_iflt_detach_returns_at_once_and_iff_detached_comes_last_in_the_callbacks_thread(
    control: KernelControl,
) -> None:
    control.setsockopt(7, 0)

    assert control.getsockopt(8, 8).decode() == "bxyed="
