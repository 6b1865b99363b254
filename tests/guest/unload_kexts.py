"""The C sources of the test kexts of test_kext_unload.py: each makes one
kind of registration through the KPI and, in most, a stop routine that
"forgets" to take it back -- the mistake the unload checks catch.  Each
is built inside the test with make_kext (tests/guest/conftest.py); NAME
is the kext's name (com.example.NAME, NAME_start, NAME_stop)."""

from __future__ import annotations

KPIS = {
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
    "com.apple.kpi.bsd": "8.0.0",
}

PRELUDE = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <sys/kpi_mbuf.h>
#include <kern/clock.h>
#include <kern/locks.h>
#include <kern/thread.h>
#include <kern/thread_call.h>
#include <libkern/OSMalloc.h>
#include <net/bpf.h>
#include <net/if.h>
#include <net/if_types.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <net/kpi_protocol.h>

kern_return_t NAME_start(kmod_info_t *ki, void *data);
kern_return_t NAME_stop(kmod_info_t *ki, void *data);

/* Sleep until *flag is set (its setter wakes it), at most `secs`
 * seconds; 0 if it was set. */
static __attribute__((unused)) int
NAME_wait(volatile int *flag, int secs)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	int n;

	for (n = 0; !*flag && n < secs * 20; n++)
		msleep((void *)flag, NULL, 0, "NAME", &tick);
	return *flag ? 0 : 1;
}
"""


def source(name: str, body: str) -> str:
    """The prelude and `body`, with NAME replaced by the kext's name."""
    return (PRELUDE + body).replace("NAME", name)


# An interface the test owns: a well-behaved driver of a "discard"
# interface (its output frees every packet) whose stop detaches it and
# waits for its detach callback.  Other kexts hang registrations on it;
# unloading it takes them off.  IFNAME, UNIT and FAMILY are filled in.
DISCARD = """
static ifnet_t NAME_ifp;
static volatile int NAME_detached;

static errno_t
NAME_output(ifnet_t ifp, mbuf_t m)
{
	mbuf_freem(m);
	return 0;
}

static errno_t
NAME_demux(ifnet_t ifp, mbuf_t m, char *frame, protocol_family_t *pf)
{
	return ENOENT;
}

static errno_t
NAME_add_proto(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_demux_desc *demux, u_int32_t count)
{
	return 0;
}

static errno_t
NAME_del_proto(ifnet_t ifp, protocol_family_t pf)
{
	return 0;
}

static errno_t
NAME_ioctl(ifnet_t ifp, u_int32_t cmd, void *arg)
{
	return 0;
}

static void
NAME_detach(ifnet_t ifp)
{
	NAME_detached = 1;
	wakeup((void *)&NAME_detached);
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	static const u_char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct ifnet_init_params init;

	bzero(&init, sizeof(init));
	init.name = "IFNAME";
	init.unit = UNIT;
	init.family = FAMILY;
	init.type = IFT_OTHER;
	init.output = NAME_output;
	init.demux = NAME_demux;
	init.add_proto = NAME_add_proto;
	init.del_proto = NAME_del_proto;
	init.ioctl = NAME_ioctl;
	init.detach = NAME_detach;
	init.broadcast_addr = bcast;
	init.broadcast_len = sizeof(bcast);
	if (ifnet_allocate(&init, &NAME_ifp) != 0)
		return KERN_FAILURE;
	ifnet_set_flags(NAME_ifp, IFF_UP | IFF_RUNNING, IFF_UP | IFF_RUNNING);
	if (ifnet_attach(NAME_ifp, NULL) != 0) {
		ifnet_release(NAME_ifp);
		return KERN_FAILURE;
	}
	return KERN_SUCCESS;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	static int detaching;

	if (!detaching && ifnet_detach(NAME_ifp) != 0)
		return KERN_FAILURE;
	detaching = 1;
	if (NAME_wait(&NAME_detached, 5) != 0)
		return KERN_FAILURE;
	ifnet_release(NAME_ifp);
	return KERN_SUCCESS;
}
"""


def discard(name: str, ifname: str, unit: int, family: str = "IFNET_FAMILY_DISC") -> str:
    body = DISCARD.replace("IFNAME", ifname).replace("UNIT", str(unit))
    return source(name, body.replace("FAMILY", family))


# Find an interface by name for a start routine: NAME_find("lo0").
FIND = """
static __attribute__((unused)) ifnet_t
NAME_find(const char *name)
{
	ifnet_t ifp;

	return ifnet_find_by_name(name, &ifp) == 0 ? ifp : NULL;
}
"""

# An interface filter on IFNAME whose stop forgets iflt_detach.
FILTER = (
    FIND
    + """
static interface_filter_t NAME_ref;

static __attribute__((unused)) errno_t
NAME_input(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    char **frame)
{
	printf("NAME: input on %s%u\\n", ifnet_name(ifp), ifnet_unit(ifp));
	return 0;
}

static void
NAME_event(void *cookie, ifnet_t ifp, protocol_family_t pf,
    const struct kev_msg *ev)
{
	printf("NAME: event %u on %s%u\\n", ev->event_code, ifnet_name(ifp),
		ifnet_unit(ifp));
}

static void
NAME_detached(void *cookie, ifnet_t ifp)
{
	printf("NAME: detached from %s%u\\n", ifnet_name(ifp), ifnet_unit(ifp));
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	char name[] = "NAME";	/* on the stack: the kernel copies it */
	struct iff_filter filter = { NULL, name, 0, INPUT, NULL, NAME_event,
		NULL, NAME_detached };
	ifnet_t ifp = NAME_find("IFNAME");
	errno_t error;

	if (ifp == NULL)
		return KERN_FAILURE;
	error = iflt_attach(ifp, &filter, &NAME_ref);
	ifnet_release(ifp);
	return error == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot: iflt_detach(NAME_ref) */
}
"""
)


def filter_on(name: str, ifname: str, *, input: bool = True) -> str:
    body = FILTER.replace("IFNAME", ifname).replace("INPUT", "NAME_input" if input else "NULL")
    return source(name, body)


# A protocol attached to IFNAME whose stop forgets ifnet_detach_protocol.
PROTOCOL = (
    FIND
    + """
#define NAME_PF		0x4e4b	/* a family nobody else uses */

static errno_t
NAME_input(ifnet_t ifp, protocol_family_t pf, mbuf_t m, char *header)
{
	mbuf_freem(m);
	return 0;
}

static errno_t
NAME_preout(ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    const struct sockaddr *dest, void *route, char *type, char *lladdr)
{
	return ENOTSUP;
}

static void
NAME_event(ifnet_t ifp, protocol_family_t pf, const struct kev_msg *ev)
{
	printf("NAME: event %u on %s%u\\n", ev->event_code, ifnet_name(ifp),
		ifnet_unit(ifp));
}

static errno_t
NAME_detached(ifnet_t ifp, protocol_family_t pf)
{
	printf("NAME: detached from %s%u\\n", ifnet_name(ifp), ifnet_unit(ifp));
	return 0;
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	struct ifnet_attach_proto_param param;
	ifnet_t ifp = NAME_find("IFNAME");
	errno_t error;

	if (ifp == NULL)
		return KERN_FAILURE;
	bzero(&param, sizeof(param));
	param.input = NAME_input;
	param.pre_output = NAME_preout;
	param.event = NAME_event;
	param.detached = NAME_detached;
	error = ifnet_attach_protocol(ifp, NAME_PF, &param);
	ifnet_release(ifp);
	return error == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot: ifnet_detach_protocol */
}
"""
)


def protocol_on(name: str, ifname: str) -> str:
    return source(name, PROTOCOL.replace("IFNAME", ifname))


# A plumber for IPv4 on interfaces of FAMILY whose stop forgets
# proto_unregister_plumber.  Its plumb only says that it ran.
PLUMBER = """
static errno_t
NAME_plumb(ifnet_t ifp, protocol_family_t pf)
{
	printf("NAME: plumb %u on %s%u\\n", pf, ifnet_name(ifp), ifnet_unit(ifp));
	return ENOTSUP;
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	return proto_register_plumber(PF_INET, FAMILY, NAME_plumb, NULL) == 0 ?
		KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot: proto_unregister_plumber */
}
"""


def plumber(name: str, family: str) -> str:
    return source(name, PLUMBER.replace("FAMILY", family))


# An interface of its own (IFNAME0) whose stop forgets ifnet_detach --
# or, with LATE, detaches it but does not wait for the detach callback,
# which takes a second.
INTERFACE = """
static ifnet_t NAME_ifp;

static errno_t
NAME_output(ifnet_t ifp, mbuf_t m)
{
	mbuf_freem(m);
	return 0;
}

static errno_t
NAME_demux(ifnet_t ifp, mbuf_t m, char *frame, protocol_family_t *pf)
{
	return ENOENT;
}

static errno_t
NAME_add_proto(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_demux_desc *demux, u_int32_t count)
{
	return 0;
}

static errno_t
NAME_del_proto(ifnet_t ifp, protocol_family_t pf)
{
	return 0;
}

static errno_t
NAME_ioctl(ifnet_t ifp, u_int32_t cmd, void *arg)
{
	printf("NAME: ioctl 0x%08x on %s%u\\n", cmd, ifnet_name(ifp),
		ifnet_unit(ifp));
	return 0;
}

static void
NAME_detach(ifnet_t ifp)
{
	struct timespec second = { 1, 0 };
	int nobody;

	msleep(&nobody, NULL, 0, "NAME", &second);	/* a slow driver */
	printf("NAME: detached\\n");
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	struct ifnet_init_params init;

	bzero(&init, sizeof(init));
	init.name = "IFNAME";
	init.unit = 0;
	init.family = IFNET_FAMILY_DISC;
	init.type = IFT_OTHER;
	init.output = NAME_output;
	init.demux = NAME_demux;
	init.add_proto = NAME_add_proto;
	init.del_proto = NAME_del_proto;
	init.ioctl = NAME_ioctl;
	init.detach = NAME_detach;
	init.softc = &NAME_ifp;
	if (ifnet_allocate(&init, &NAME_ifp) != 0)
		return KERN_FAILURE;
	if (ifnet_attach(NAME_ifp, NULL) != 0) {
		ifnet_release(NAME_ifp);
		return KERN_FAILURE;
	}
	return KERN_SUCCESS;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
#ifdef LATE
	ifnet_detach(NAME_ifp);		/* forgot: wait for NAME_detach */
	ifnet_release(NAME_ifp);
#endif
	return KERN_SUCCESS;		/* forgot: ifnet_detach */
}
"""


def interface(name: str, ifname: str, *, late: bool = False) -> str:
    return source(name, ("#define LATE\n" if late else "") + INTERFACE.replace("IFNAME", ifname))


# A packet tap function on IFNAME (bpf_attach) that stop forgets to take
# back.
TAP = (
    FIND
    + """
static errno_t
NAME_tap(ifnet_t ifp, u_int32_t dlt, bpf_tap_mode mode)
{
	printf("NAME: tap mode %u on %s%u\\n", mode, ifnet_name(ifp),
		ifnet_unit(ifp));
	return 0;
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	ifnet_t ifp = NAME_find("IFNAME");
	errno_t error;

	if (ifp == NULL)
		return KERN_FAILURE;
	error = bpf_attach(ifp, DLT_RAW, 0, NULL, NAME_tap);
	ifnet_release(ifp);
	return error == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot: bpf_attach(ifp, DLT_RAW, 0, NULL, NULL) */
}
"""
)


def tap_on(name: str, ifname: str) -> str:
    return source(name, TAP.replace("IFNAME", ifname))


# A timeout in a second that stop forgets to untimeout -- or, with
# REARM, one that re-arms itself every REARM ticks.
TIMEOUT = """
static void
NAME_fire(void *arg)
{
	printf("NAME: fired\\n");
#ifdef REARM
	timeout(NAME_fire, NULL, REARM);
#endif
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	timeout(NAME_fire, NULL, hz);
	return KERN_SUCCESS;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot: untimeout(NAME_fire, NULL) */
}
"""


def timeout(name: str, *, rearm_ticks: str = "") -> str:
    """rearm_ticks: a C expression ("hz"); empty: a one-shot timeout."""
    rearm = f"#define REARM ({rearm_ticks})\n" if rearm_ticks else ""
    return source(name, rearm + TIMEOUT)


# A thread call a second from now that stop forgets to cancel; it frees
# itself when it runs.
THREAD_CALL = """
static thread_call_t NAME_call;

static void
NAME_fire(thread_call_param_t p0, thread_call_param_t p1)
{
	printf("NAME: fired\\n");
	thread_call_free(NAME_call);
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	uint64_t deadline;

	NAME_call = thread_call_allocate(NAME_fire, NULL);
	if (NAME_call == NULL)
		return KERN_FAILURE;
	clock_interval_to_deadline(1, kSecondScale, &deadline);
	thread_call_enter_delayed(NAME_call, deadline);
	return KERN_SUCCESS;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;	/* forgot: thread_call_cancel, thread_call_free */
}
"""

# A thread that stop asks to end but does not wait for: it takes a second
# to finish.
THREAD = """
static volatile int NAME_stopping;

static void
NAME_main(void *arg, wait_result_t wr)
{
	struct timespec second = { 1, 0 };
	int nobody;

	NAME_wait(&NAME_stopping, 3600);
	msleep(&nobody, NULL, 0, "NAME", &second);	/* tidying up */
	printf("NAME: thread ends\\n");
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	thread_t th;

	if (kernel_thread_start(NAME_main, NULL, &th) != KERN_SUCCESS)
		return KERN_FAILURE;
	thread_deallocate(th);
	return KERN_SUCCESS;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	NAME_stopping = 1;
	wakeup((void *)&NAME_stopping);
	return KERN_SUCCESS;	/* forgot: wait until the thread has ended */
}
"""

# A filter on lo0 whose stop does it right: iflt_detach, then refuse
# until iff_detached has come.  Its iff_input sleeps SLEEP seconds on
# the first packet, so a detach made meanwhile completes only then, on
# the DLIL thread.
PATIENT = (
    FIND
    + """
static interface_filter_t NAME_ref;
static volatile int NAME_detached, NAME_slept;
static int NAME_detaching;

static errno_t
NAME_input(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    char **frame)
{
	struct timespec pause = { SLEEP, 0 };
	int nobody;

	if (!NAME_slept) {
		NAME_slept = 1;
		printf("NAME: input, sleeping\\n");
		msleep(&nobody, NULL, 0, "NAME", &pause);
		printf("NAME: input returns\\n");
	}
	return 0;
}

static void
NAME_detached_cb(void *cookie, ifnet_t ifp)
{
	NAME_detached = 1;
	printf("NAME: detached\\n");
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	struct iff_filter filter = { NULL, "NAME", 0, NAME_input, NULL, NULL,
		NULL, NAME_detached_cb };
	ifnet_t ifp = NAME_find("lo0");
	errno_t error;

	if (ifp == NULL)
		return KERN_FAILURE;
	error = iflt_attach(ifp, &filter, &NAME_ref);
	ifnet_release(ifp);
	return error == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	if (!NAME_detaching) {
		iflt_detach(NAME_ref);	/* iff_detached may come later */
		NAME_detaching = 1;
	}
	return NAME_detached ? KERN_SUCCESS : KERN_FAILURE;
}
"""
)


def patient(name: str, sleep_seconds: int) -> str:
    return source(name, PATIENT.replace("SLEEP", str(sleep_seconds)))


# A kext that registers every kind the checks know, and a vendor code,
# an mbuf tag id, a lock group and an OSMalloc tag, and whose stop takes
# each back and waits for every asynchronous detach: it unloads at once.
TIDY = (
    FIND
    + """
static ifnet_t NAME_ifp;
static interface_filter_t NAME_lo_ref, NAME_if_ref;
static thread_call_t NAME_call;
static lck_grp_t *NAME_grp;
static lck_mtx_t *NAME_mtx;
static OSMallocTag NAME_tag;
static void *NAME_block;
static volatile int NAME_if_gone, NAME_proto_gone, NAME_lo_filter_gone,
    NAME_if_filter_gone, NAME_stopping, NAME_thread_gone;
static volatile int NAME_ticks;

static errno_t
NAME_output(ifnet_t ifp, mbuf_t m)
{
	mbuf_freem(m);
	return 0;
}

static errno_t
NAME_demux(ifnet_t ifp, mbuf_t m, char *frame, protocol_family_t *pf)
{
	return ENOENT;
}

static errno_t
NAME_add_proto(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_demux_desc *demux, u_int32_t count)
{
	return 0;
}

static errno_t
NAME_del_proto(ifnet_t ifp, protocol_family_t pf)
{
	return 0;
}

static void
NAME_detach(ifnet_t ifp)
{
	NAME_if_gone = 1;
	wakeup((void *)&NAME_if_gone);
}

static errno_t
NAME_tap(ifnet_t ifp, u_int32_t dlt, bpf_tap_mode mode)
{
	return 0;
}

static errno_t
NAME_pinput(ifnet_t ifp, protocol_family_t pf, mbuf_t m, char *header)
{
	mbuf_freem(m);
	return 0;
}

static errno_t
NAME_preout(ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    const struct sockaddr *dest, void *route, char *type, char *lladdr)
{
	return ENOTSUP;
}

static errno_t
NAME_pdetached(ifnet_t ifp, protocol_family_t pf)
{
	NAME_proto_gone = 1;
	wakeup((void *)&NAME_proto_gone);
	return 0;
}

static errno_t
NAME_plumb(ifnet_t ifp, protocol_family_t pf)
{
	return ENOTSUP;
}

static errno_t
NAME_finput(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    char **frame)
{
	return 0;
}

static void
NAME_fdetached(void *cookie, ifnet_t ifp)
{
	volatile int *gone = cookie;

	*gone = 1;
	wakeup((void *)gone);
}

static void
NAME_tick(void *arg)
{
	NAME_ticks++;
	timeout(NAME_tick, NULL, 1);
}

static void
NAME_later(thread_call_param_t p0, thread_call_param_t p1)
{
}

static void
NAME_main(void *arg, wait_result_t wr)
{
	NAME_wait(&NAME_stopping, 3600);
	NAME_thread_gone = 1;
	wakeup((void *)&NAME_thread_gone);
}

static errno_t
NAME_filter(ifnet_t ifp, volatile int *gone, interface_filter_t *ref)
{
	struct iff_filter filter = { (void *)gone, "NAME", 0, NAME_finput,
		NULL, NULL, NULL, NAME_fdetached };

	return iflt_attach(ifp, &filter, ref);
}

static kern_return_t
NAME_start_net(void)
{
	struct ifnet_init_params init;
	struct ifnet_attach_proto_param param;
	ifnet_t lo = NAME_find("lo0");
	errno_t error;

	bzero(&init, sizeof(init));
	init.name = "NAME";
	init.unit = 0;
	init.family = IFNET_FAMILY_STF;
	init.type = IFT_OTHER;
	init.output = NAME_output;
	init.demux = NAME_demux;
	init.add_proto = NAME_add_proto;
	init.del_proto = NAME_del_proto;
	init.detach = NAME_detach;
	init.softc = &NAME_ifp;
	if (lo == NULL || ifnet_allocate(&init, &NAME_ifp) != 0)
		return KERN_FAILURE;
	bpf_attach(NAME_ifp, DLT_RAW, 0, NULL, NAME_tap);
	if (ifnet_attach(NAME_ifp, NULL) != 0)
		return KERN_FAILURE;
	bzero(&param, sizeof(param));
	param.input = NAME_pinput;
	param.pre_output = NAME_preout;
	param.detached = NAME_pdetached;
	error = ifnet_attach_protocol(NAME_ifp, 0x4e4c, &param);
	if (error == 0)
		error = NAME_filter(NAME_ifp, &NAME_if_filter_gone, &NAME_if_ref);
	if (error == 0)
		error = NAME_filter(lo, &NAME_lo_filter_gone, &NAME_lo_ref);
	if (error == 0)
		error = proto_register_plumber(PF_INET, IFNET_FAMILY_STF,
			NAME_plumb, NULL);
	ifnet_release(lo);
	return error == 0 ? KERN_SUCCESS : KERN_FAILURE;
}

kern_return_t
NAME_start(kmod_info_t *ki, void *data)
{
	u_int32_t vendor;
	mbuf_tag_id_t tag;
	uint64_t deadline;
	thread_t th;

	if (kev_vendor_code_find("com.example.NAME", &vendor) != 0 ||
		mbuf_tag_id_find("com.example.NAME", &tag) != 0)
		return KERN_FAILURE;
	NAME_grp = lck_grp_alloc_init("NAME", LCK_GRP_ATTR_NULL);
	NAME_mtx = lck_mtx_alloc_init(NAME_grp, LCK_ATTR_NULL);
	NAME_tag = OSMalloc_Tagalloc("com.example.NAME", 0);
	NAME_block = OSMalloc(64, NAME_tag);
	timeout(NAME_tick, NULL, 1);
	NAME_call = thread_call_allocate(NAME_later, NULL);
	clock_interval_to_deadline(60, kSecondScale, &deadline);
	thread_call_enter_delayed(NAME_call, deadline);
	if (kernel_thread_start(NAME_main, NULL, &th) != KERN_SUCCESS)
		return KERN_FAILURE;
	thread_deallocate(th);
	return NAME_start_net();
}

kern_return_t
NAME_stop(kmod_info_t *ki, void *data)
{
	proto_unregister_plumber(PF_INET, IFNET_FAMILY_STF);
	iflt_detach(NAME_lo_ref);
	iflt_detach(NAME_if_ref);
	ifnet_detach_protocol(NAME_ifp, 0x4e4c);
	ifnet_detach(NAME_ifp);		/* the tap goes with it */
	NAME_stopping = 1;
	wakeup((void *)&NAME_stopping);
	if (NAME_wait(&NAME_lo_filter_gone, 5) || NAME_wait(&NAME_if_filter_gone, 5) ||
		NAME_wait(&NAME_proto_gone, 5) || NAME_wait(&NAME_if_gone, 5) ||
		NAME_wait(&NAME_thread_gone, 5))
		return KERN_FAILURE;
	ifnet_release(NAME_ifp);
	untimeout(NAME_tick, NULL);
	thread_call_cancel(NAME_call);
	thread_call_free(NAME_call);
	OSFree(NAME_block, 64, NAME_tag);
	OSMalloc_Tagfree(NAME_tag);
	lck_mtx_free(NAME_mtx, NAME_grp);
	lck_grp_free(NAME_grp);
	printf("NAME: all taken back\\n");
	return KERN_SUCCESS;
}
"""
)
