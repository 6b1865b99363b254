/*
 * ethlog -- an Ethernet logger: an interface filter on en0 that counts
 * the frames and bytes going in and out, per ethertype; a thread call
 * that prints the table on the console every few seconds; and a kernel
 * control (com.finch.sample.ethlog, ethlog.h) from which a program reads
 * the table -- as a struct array through an option, or as text by
 * sending any record to the control.
 *
 * The lessons: what an interface filter sees (iff_input gets the packet
 * after its link header, which *frame_ptr points at; iff_output the
 * whole frame), counting from callbacks that run on several threads at
 * once, and a stop routine that takes down, in order, the three ways in:
 * the control (refused while a client is connected), the timer (cancel
 * and wait), the filter (iflt_detach, then a bounded sleep until
 * iff_detached).
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_control.h>
#include <kern/clock.h>
#include <kern/locks.h>
#include <kern/thread_call.h>
#include <net/if_ether.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <netinet/in.h>
#include "ethlog.h"

#define ETHLOG_IFNAME		"en0"
#define ETHLOG_DEFAULT_PERIOD	10	/* seconds between summaries */
#define ETHLOG_DETACH_WAIT	1	/* seconds stop waits, at most */
#define ETHLOG_SLOTS		(ETHLOG_TYPES + 1)	/* and "other" */
#define ETHLOG_TEXT_MAX		(104 * (ETHLOG_SLOTS + 1))	/* a line with
						   ten-digit counts: 101 */

kern_return_t	ethlog_start(kmod_info_t *ki, void *data);
kern_return_t	ethlog_stop(kmod_info_t *ki, void *data);

/* Made by start, in this order; taken down by stop in the reverse one. */
static lck_grp_t		*el_grp;
static lck_mtx_t		*el_lock;
static thread_call_t		el_timer;
static interface_filter_t	el_filter;
static kern_ctl_ref		el_ctlref;

/* The callbacks' and stop's news for each other (el_lock). */
static struct ethlog_count	el_table[ETHLOG_SLOTS];	/* last: other */
static u_int32_t		el_period = ETHLOG_DEFAULT_PERIOD;
static boolean_t		el_stopping;	/* the timer must not re-arm */
static boolean_t		el_detached;	/* iff_detached has run */

/* Only stop touches it: iflt_detach was called. */
static boolean_t		el_detaching;

/* ---- Counting: the filter's callbacks ---- */

/* The slot of `type`, claiming a free one if it has none.  el_lock. */
static struct ethlog_count *
ethlog_slot(u_int16_t type)
{
	int i;

	if (type <= ETHERMTU)		/* an 802.3 length, not a type */
		return &el_table[ETHLOG_TYPES];
	for (i = 0; i < ETHLOG_TYPES; i++) {
		if (el_table[i].ec_type == type)
			return &el_table[i];
		if (el_table[i].ec_type == 0) {
			el_table[i].ec_type = type;
			return &el_table[i];
		}
	}
	return &el_table[ETHLOG_TYPES];
}

/* Input on the DLIL input thread, output on whichever thread sends:
 * the table is only touched with el_lock held. */
static void
ethlog_count(u_int16_t type, size_t bytes, boolean_t in)
{
	struct ethlog_count *ec;

	lck_mtx_lock(el_lock);
	ec = ethlog_slot(type);
	if (in) {
		ec->ec_in_frames++;
		ec->ec_in_bytes += bytes;
	} else {
		ec->ec_out_frames++;
		ec->ec_out_bytes += bytes;
	}
	lck_mtx_unlock(el_lock);
}

/* iff_input: *data starts after the link header, at *frame_ptr. */
static errno_t
ethlog_input(void *cookie, ifnet_t ifp, protocol_family_t protocol,
    mbuf_t *data, char **frame_ptr)
{
	const struct ether_header *eh = (const struct ether_header *)*frame_ptr;

	ethlog_count(ntohs(eh->ether_type),
	    ifnet_hdrlen(ifp) + mbuf_pkthdr_len(*data), TRUE);
	return 0;
}

/* iff_output: *data is the whole frame; its header may span mbufs, so
 * the type is copied out. */
static errno_t
ethlog_output(void *cookie, ifnet_t ifp, protocol_family_t protocol,
    mbuf_t *data)
{
	struct ether_header eh;
	u_int16_t type = 0;

	if (mbuf_copydata(*data, 0, sizeof(eh), &eh) == 0)
		type = ntohs(eh.ether_type);
	ethlog_count(type, mbuf_pkthdr_len(*data), FALSE);
	return 0;
}

/* iff_detached: the filter's last call.  It may run inside stop's own
 * iflt_detach: stop holds no el_lock around that call. */
static void
ethlog_detached(void *cookie, ifnet_t ifp)
{
	lck_mtx_lock(el_lock);
	el_detached = TRUE;
	lck_mtx_unlock(el_lock);
	wakeup(&el_detached);
}

/* ---- The table as text: the console and the control ---- */

static const char *
ethlog_type_name(u_int16_t type)
{
	switch (type) {
	case 0:			return "other";
	case ETHERTYPE_IP:	return "IPv4";
	case ETHERTYPE_ARP:	return "ARP";
	case ETHERTYPE_IPV6:	return "IPv6";
	case ETHERTYPE_VLAN:	return "VLAN";
	default:		return "";
	}
}

/* The table, one line per ethertype seen, into buf; its length. */
static size_t
ethlog_format(const struct ethlog_count *table, char *buf, size_t size)
{
	const struct ethlog_count *ec;
	size_t n;
	int i;

	n = snprintf(buf, size, "ethlog: %s since start (type, frames and "
	    "bytes in, out)\n", ETHLOG_IFNAME);
	for (i = 0; i < ETHLOG_SLOTS && n < size; i++) {
		ec = &table[i];
		if (ec->ec_in_frames == 0 && ec->ec_out_frames == 0)
			continue;
		n += snprintf(buf + n, size - n, "ethlog:   0x%04x %-5s in %u "
		    "frames %u bytes, out %u frames %u bytes\n", ec->ec_type,
		    ethlog_type_name(ec->ec_type), ec->ec_in_frames,
		    ec->ec_in_bytes, ec->ec_out_frames, ec->ec_out_bytes);
	}
	return n < size ? n : size - 1;
}

/* Arm the timer for the next summary.  el_lock held. */
static void
ethlog_arm(void)
{
	uint64_t deadline;

	clock_interval_to_deadline(el_period, kSecondScale, &deadline);
	thread_call_enter_delayed(el_timer, deadline);
}

/*
 * The thread call.  It copies the table and re-arms under el_lock, so
 * that stop, which sets el_stopping under the same lock, either finds
 * it armed (and cancels it) or stops it re-arming; it prints from the
 * copy, without the lock.
 */
static void
ethlog_tick(thread_call_param_t param0, thread_call_param_t param1)
{
	struct ethlog_count copy[ETHLOG_SLOTS];
	char text[ETHLOG_TEXT_MAX];

	lck_mtx_lock(el_lock);
	bcopy(el_table, copy, sizeof(copy));
	if (!el_stopping && el_period != 0)
		ethlog_arm();
	lck_mtx_unlock(el_lock);
	ethlog_format(copy, text, sizeof(text));
	printf("%s", text);
}

/* ---- The kernel control ---- */

static errno_t
ethlog_ctl_connect(kern_ctl_ref ref, struct sockaddr_ctl *sac,
    void **unitinfo)
{
	return 0;
}

/* Whatever the client sends, it gets the table back as one text record. */
static errno_t
ethlog_ctl_send(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, mbuf_t m,
    int flags)
{
	struct ethlog_count copy[ETHLOG_SLOTS];
	char text[ETHLOG_TEXT_MAX];
	size_t len;

	mbuf_freem(m);			/* ours: ctl_send hands it over */
	lck_mtx_lock(el_lock);
	bcopy(el_table, copy, sizeof(copy));
	lck_mtx_unlock(el_lock);
	len = ethlog_format(copy, text, sizeof(text));
	return ctl_enqueuedata(ref, unit, text, len, CTL_DATA_EOR);
}

static errno_t
ethlog_ctl_setopt(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t len)
{
	int period;

	switch (opt) {
	case ETHLOG_RESET:
		lck_mtx_lock(el_lock);
		bzero(el_table, sizeof(el_table));
		lck_mtx_unlock(el_lock);
		return 0;
	case ETHLOG_PERIOD:
		if (len != sizeof(int))
			return EINVAL;
		period = *(int *)data;
		if (period < 0 || period > 3600)
			return EINVAL;
		lck_mtx_lock(el_lock);
		el_period = period;
		if (period != 0)
			ethlog_arm();	/* the next summary in `period` s */
		else
			thread_call_cancel(el_timer);	/* a running tick
							   will not re-arm */
		lck_mtx_unlock(el_lock);
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

/* data NULL: say how much room the answer needs. */
static errno_t
ethlog_ctl_getopt(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
	struct ethlog_count copy[ETHLOG_SLOTS];
	size_t n = 0;
	int i, period;

	lck_mtx_lock(el_lock);
	bcopy(el_table, copy, sizeof(copy));
	period = (int)el_period;
	lck_mtx_unlock(el_lock);
	switch (opt) {
	case ETHLOG_TABLE:
		/* The slots in use, "other" last if it counted anything. */
		for (i = 0; i < ETHLOG_SLOTS; i++)
			if (copy[i].ec_in_frames != 0 ||
			    copy[i].ec_out_frames != 0)
				copy[n++] = copy[i];
		n *= sizeof(copy[0]);
		if (data != NULL && *len < n)
			return EMSGSIZE;
		if (data != NULL)
			memcpy(data, copy, n);
		break;
	case ETHLOG_PERIOD:
		n = sizeof(period);
		if (data != NULL && *len < n)
			return EMSGSIZE;
		if (data != NULL)
			memcpy(data, &period, n);
		break;
	default:
		return ENOPROTOOPT;
	}
	*len = n;
	return 0;
}

/* ---- Start and stop ---- */

static void
ethlog_free(void)
{
	if (el_timer != NULL)
		thread_call_free(el_timer);
	if (el_lock != NULL)
		lck_mtx_free(el_lock, el_grp);
	if (el_grp != NULL)
		lck_grp_free(el_grp);
	el_timer = NULL;
	el_lock = NULL;
	el_grp = NULL;
}

kern_return_t
ethlog_start(kmod_info_t *ki, void *data)
{
	/* Tiger's order of fields: cookie, name, protocol (0: all),
	 * input, output, event, ioctl, detached. */
	struct iff_filter filter = { NULL, ETHLOG_NAME, 0, ethlog_input,
		ethlog_output, NULL, NULL, ethlog_detached };
	struct kern_ctl_reg reg;
	ifnet_t ifp;
	errno_t error;

	el_grp = lck_grp_alloc_init("ethlog", LCK_GRP_ATTR_NULL);
	if (el_grp == NULL)
		return KERN_FAILURE;
	el_lock = lck_mtx_alloc_init(el_grp, LCK_ATTR_NULL);
	el_timer = thread_call_allocate(ethlog_tick, NULL);
	if (el_lock == NULL || el_timer == NULL)
		goto fail;

	/* The table and the lock are ready: the callbacks may run before
	 * iflt_attach returns. */
	if (ifnet_find_by_name(ETHLOG_IFNAME, &ifp) != 0) {
		printf("ethlog: no interface %s\n", ETHLOG_IFNAME);
		goto fail;
	}
	error = iflt_attach(ifp, &filter, &el_filter);
	ifnet_release(ifp);	/* the filter holds its own reference */
	if (error != 0) {
		printf("ethlog: iflt_attach on %s failed: %d\n",
		    ETHLOG_IFNAME, error);
		goto fail;
	}

	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, ETHLOG_NAME, sizeof(reg.ctl_name));
	reg.ctl_connect = ethlog_ctl_connect;
	reg.ctl_send = ethlog_ctl_send;
	reg.ctl_setopt = ethlog_ctl_setopt;
	reg.ctl_getopt = ethlog_ctl_getopt;
	if ((error = ctl_register(&reg, &el_ctlref)) != 0) {
		printf("ethlog: ctl_register failed: %d\n", error);
		ethlog_stop(ki, data);	/* detaches the filter, waits */
		return KERN_FAILURE;
	}
	lck_mtx_lock(el_lock);
	ethlog_arm();
	lck_mtx_unlock(el_lock);
	printf("ethlog: counting frames on %s; a summary every %u s\n",
	    ETHLOG_IFNAME, el_period);
	return KERN_SUCCESS;

fail:
	ethlog_free();
	return KERN_FAILURE;
}

/*
 * Every wait is bounded (kextunload waits for stop), and stop may be
 * called again after it returned KERN_FAILURE: each step checks whether
 * it was done already.
 */
kern_return_t
ethlog_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { ETHLOG_DETACH_WAIT, 0 };
	boolean_t detached;
	errno_t error;

	/* 1. The control: refused while a client is connected. */
	if (el_ctlref != NULL) {
		if ((error = ctl_deregister(el_ctlref)) != 0) {
			printf("ethlog: cannot stop: %s has a client (error "
			    "%d); close it, then unload again\n", ETHLOG_NAME,
			    error);
			return KERN_FAILURE;
		}
		el_ctlref = NULL;
	}

	/* 2. The timer: no re-arming from now on, then cancel and wait
	 * for a tick running now (not holding el_lock: it takes it). */
	lck_mtx_lock(el_lock);
	el_stopping = TRUE;
	lck_mtx_unlock(el_lock);
	thread_call_cancel_wait(el_timer);

	/* 3. The filter: off en0 at once, but a callback may be running
	 * on another thread; iff_detached comes when it returns. */
	if (el_filter != NULL) {
		if (!el_detaching) {
			el_detaching = TRUE;
			iflt_detach(el_filter);
		}
		lck_mtx_lock(el_lock);
		if (!el_detached)
			msleep(&el_detached, el_lock, 0, "ethlog", &wait);
		detached = el_detached;
		lck_mtx_unlock(el_lock);
		if (!detached) {
			printf("ethlog: iff_detached has not come yet: try "
			    "again (kextunload -w)\n");
			return KERN_FAILURE;
		}
		el_filter = NULL;
	}

	/* 4. Nothing can call us any more. */
	printf("ethlog: stopped\n");
	ethlog_free();
	return KERN_SUCCESS;
}
