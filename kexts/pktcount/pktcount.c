/*
 * pktcount -- a first network kernel extension: an interface filter on
 * en0 that counts the frames and bytes going in and out, per ethertype,
 * and a thread call that prints the totals every 5 seconds.
 *
 * Its stop routine is the lesson.  The kernel does not clean up after
 * you, and your callbacks may still be running -- on other threads --
 * when stop begins.  So stop takes things down in a safe order:
 *
 *   1. the timer: stop it re-arming, cancel it, wait for a run in
 *      progress (thread_call_cancel_wait), free it;
 *   2. the filter: iflt_detach, then sleep -- a bounded sleep -- until
 *      iff_detached says no callback is running any more;
 *   3. everything else, in the reverse order of start: the table, the
 *      lock, the lock group, the OSMalloc tag.
 *
 * When each callback runs, and what it may do there, is told in
 * <net/kpi_interfacefilter.h> and <kern/thread_call.h>.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/clock.h>
#include <kern/locks.h>
#include <kern/thread_call.h>
#include <libkern/OSMalloc.h>
#include <net/if_ether.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <netinet/in.h>

#define PKTCOUNT_NAME		"com.finch.sample.pktcount"
#define PKTCOUNT_IFNAME		"en0"
#define PKTCOUNT_PERIOD		5	/* seconds between two summaries */
#define PKTCOUNT_DETACH_WAIT	1	/* seconds stop waits, at most */
#define PKTCOUNT_TYPES		8	/* ethertypes counted one by one */

kern_return_t	pktcount_start(kmod_info_t *ki, void *data);
kern_return_t	pktcount_stop(kmod_info_t *ki, void *data);

/* The counts of one ethertype (host byte order; 0: a free slot). */
struct pktcount_type {
	u_int16_t	pt_type;
	u_int32_t	pt_in_frames;
	u_int32_t	pt_in_bytes;
	u_int32_t	pt_out_frames;
	u_int32_t	pt_out_bytes;
};

/* One slot per ethertype seen, and a last one for the rest. */
#define PKTCOUNT_SLOTS		(PKTCOUNT_TYPES + 1)
#define PKTCOUNT_TABLE_SIZE	(PKTCOUNT_SLOTS * sizeof(struct pktcount_type))

/* Made by start, in this order; taken down by stop in the reverse one. */
static OSMallocTag		pc_tag;
static lck_grp_attr_t		*pc_grp_attr;
static lck_grp_t		*pc_grp;
static lck_attr_t		*pc_lck_attr;
static lck_mtx_t		*pc_lock;
static struct pktcount_type	*pc_table;	/* pc_lock */
static thread_call_t		pc_timer;
static interface_filter_t	pc_filter;

/* The callbacks' and stop's news for each other (pc_lock). */
static boolean_t	pc_stopping;	/* the timer must not re-arm */
static boolean_t	pc_detached;	/* iff_detached has run */
static u_int32_t	pc_summaries;	/* summaries printed */

/* Only stop touches it: iflt_detach was called. */
static boolean_t	pc_detaching;

/* ---- Counting: the filter's callbacks ---- */

/* The slot of `type`, claiming a free one if it has none.  pc_lock. */
static struct pktcount_type *
pktcount_slot(u_int16_t type)
{
	int i;

	if (type <= ETHERMTU)		/* an 802.3 length, not a type */
		return &pc_table[PKTCOUNT_TYPES];
	for (i = 0; i < PKTCOUNT_TYPES; i++) {
		if (pc_table[i].pt_type == type)
			return &pc_table[i];
		if (pc_table[i].pt_type == 0) {
			pc_table[i].pt_type = type;
			return &pc_table[i];
		}
	}
	return &pc_table[PKTCOUNT_TYPES];	/* "other" */
}

/*
 * Count one frame.  The filter's callbacks run on several threads at
 * once (input on the DLIL input thread, output on whichever thread
 * sends), so the table is only touched with pc_lock held.
 */
static void
pktcount_count(u_int16_t type, size_t bytes, boolean_t in)
{
	struct pktcount_type *pt;

	lck_mtx_lock(pc_lock);
	pt = pktcount_slot(type);
	if (in) {
		pt->pt_in_frames++;
		pt->pt_in_bytes += bytes;
	} else {
		pt->pt_out_frames++;
		pt->pt_out_bytes += bytes;
	}
	lck_mtx_unlock(pc_lock);
}

/* iff_input: *data starts after the link header, which *frame_ptr
 * points at.  Counted, and let through (0). */
static errno_t
pktcount_input(void *cookie, ifnet_t ifp, protocol_family_t protocol,
    mbuf_t *data, char **frame_ptr)
{
	const struct ether_header *eh = (const struct ether_header *)*frame_ptr;

	pktcount_count(ntohs(eh->ether_type),
	    ifnet_hdrlen(ifp) + mbuf_pkthdr_len(*data), TRUE);
	return 0;
}

/* iff_output: *data is the whole frame, link header included; the
 * header may span mbufs, so it is copied out (0 if it cannot be: a
 * frame too short to have one, counted as "other"). */
static errno_t
pktcount_output(void *cookie, ifnet_t ifp, protocol_family_t protocol,
    mbuf_t *data)
{
	struct ether_header eh;
	u_int16_t type = 0;

	if (mbuf_copydata(*data, 0, sizeof(eh), &eh) == 0)
		type = ntohs(eh.ether_type);
	pktcount_count(type, mbuf_pkthdr_len(*data), FALSE);
	return 0;
}

/*
 * iff_detached: the filter's last call; no other callback is running
 * or will run.  Tell stop, which may be asleep waiting for this.  It
 * may run inside stop's own iflt_detach, in stop's thread: that is why
 * stop does not hold pc_lock around iflt_detach (lck_mtx_lock here
 * would panic: "mutex already held by this thread").
 */
static void
pktcount_detached(void *cookie, ifnet_t ifp)
{
	lck_mtx_lock(pc_lock);
	pc_detached = TRUE;
	lck_mtx_unlock(pc_lock);
	wakeup(&pc_detached);
}

/* ---- The summary: a thread call ---- */

static const char *
pktcount_type_name(u_int16_t type)
{
	switch (type) {
	case ETHERTYPE_IP:	return "IPv4";
	case ETHERTYPE_ARP:	return "ARP";
	case ETHERTYPE_IPV6:	return "IPv6";
	case ETHERTYPE_VLAN:	return "VLAN";
	default:		return "?";
	}
}

/* Summary number n, from a copy of the table: one line per ethertype. */
static void
pktcount_print(const struct pktcount_type *table, u_int32_t n)
{
	const struct pktcount_type *pt;
	int i;

	printf("pktcount: summary %u: frames on %s since start\n", n,
	    PKTCOUNT_IFNAME);
	for (i = 0; i < PKTCOUNT_SLOTS; i++) {
		pt = &table[i];
		if (pt->pt_in_frames == 0 && pt->pt_out_frames == 0)
			continue;
		if (i == PKTCOUNT_TYPES)
			printf("pktcount:   other         ");
		else
			printf("pktcount:   0x%04x %-6s ", pt->pt_type,
			    pktcount_type_name(pt->pt_type));
		printf("in %u frames %u bytes, out %u frames %u bytes\n",
		    pt->pt_in_frames, pt->pt_in_bytes, pt->pt_out_frames,
		    pt->pt_out_bytes);
	}
}

/* Arm the timer for the next summary.  pc_lock held. */
static void
pktcount_arm(void)
{
	uint64_t deadline;

	clock_interval_to_deadline(PKTCOUNT_PERIOD, kSecondScale, &deadline);
	thread_call_enter_delayed(pc_timer, deadline);
}

/*
 * The thread call, on the thread_call thread.  It copies the counts
 * and re-arms under pc_lock, so that stop, which sets pc_stopping under
 * the same lock, either finds it armed (and cancels it) or stops it
 * re-arming; it prints from the copy, without the lock.
 */
static void
pktcount_tick(thread_call_param_t param0, thread_call_param_t param1)
{
	struct pktcount_type copy[PKTCOUNT_SLOTS];
	u_int32_t n;

	lck_mtx_lock(pc_lock);
	bcopy(pc_table, copy, sizeof(copy));
	n = ++pc_summaries;
	if (!pc_stopping)
		pktcount_arm();
	lck_mtx_unlock(pc_lock);
	pktcount_print(copy, n);
}

/* ---- Start and stop ---- */

/*
 * Free what start made, newest first: each thing is used by the ones
 * made after it.  The table is guarded by the lock and allocated with
 * the tag; the lock belongs to the group.  Safe on a half-made set (a
 * failed start): what was not made is NULL.
 */
static void
pktcount_free(void)
{
	if (pc_table != NULL)
		OSFree(pc_table, PKTCOUNT_TABLE_SIZE, pc_tag);
	if (pc_lock != NULL)
		lck_mtx_free(pc_lock, pc_grp);
	if (pc_lck_attr != NULL)
		lck_attr_free(pc_lck_attr);
	if (pc_grp != NULL)
		lck_grp_free(pc_grp);
	if (pc_grp_attr != NULL)
		lck_grp_attr_free(pc_grp_attr);
	if (pc_tag != NULL)
		OSMalloc_Tagfree(pc_tag);
	pc_table = NULL;
	pc_lock = NULL;
	pc_lck_attr = NULL;
	pc_grp = NULL;
	pc_grp_attr = NULL;
	pc_tag = NULL;
}

kern_return_t
pktcount_start(kmod_info_t *ki, void *data)
{
	/* Tiger's order of fields: cookie, name, protocol (0: all),
	 * input, output, event, ioctl, detached.  Copied by iflt_attach. */
	struct iff_filter filter = { NULL, PKTCOUNT_NAME, 0, pktcount_input,
		pktcount_output, NULL, NULL, pktcount_detached };
	ifnet_t ifp;
	errno_t error;

	pc_tag = OSMalloc_Tagalloc(PKTCOUNT_NAME, OSMT_DEFAULT);
	pc_grp_attr = lck_grp_attr_alloc_init();
	if (pc_tag == NULL || pc_grp_attr == NULL)
		goto fail;
	lck_grp_attr_setdefault(pc_grp_attr);
	pc_grp = lck_grp_alloc_init("pktcount", pc_grp_attr);
	pc_lck_attr = lck_attr_alloc_init();
	if (pc_grp == NULL || pc_lck_attr == NULL)
		goto fail;
	lck_attr_setdefault(pc_lck_attr);
	pc_lock = lck_mtx_alloc_init(pc_grp, pc_lck_attr);
	pc_table = OSMalloc(PKTCOUNT_TABLE_SIZE, pc_tag);
	if (pc_lock == NULL || pc_table == NULL)
		goto fail;
	bzero(pc_table, PKTCOUNT_TABLE_SIZE);
	pc_timer = thread_call_allocate(pktcount_tick, NULL);
	if (pc_timer == NULL)
		goto fail;

	/* Everything the callbacks use is ready: they may run before
	 * iflt_attach returns. */
	if (ifnet_find_by_name(PKTCOUNT_IFNAME, &ifp) != 0) {
		printf("pktcount: no interface %s\n", PKTCOUNT_IFNAME);
		goto fail;
	}
	error = iflt_attach(ifp, &filter, &pc_filter);
	ifnet_release(ifp);	/* the filter holds its own reference */
	if (error != 0) {
		printf("pktcount: iflt_attach on %s failed: %d\n",
		    PKTCOUNT_IFNAME, error);
		goto fail;
	}
	lck_mtx_lock(pc_lock);
	pktcount_arm();
	lck_mtx_unlock(pc_lock);
	printf("pktcount: counting frames on %s; a summary every %d s\n",
	    PKTCOUNT_IFNAME, PKTCOUNT_PERIOD);
	return KERN_SUCCESS;

fail:
	if (pc_timer != NULL)
		thread_call_free(pc_timer);	/* never entered */
	pc_timer = NULL;
	pktcount_free();
	return KERN_FAILURE;
}

/*
 * Stop runs in a thread of its own and kextunload waits 2 s for it
 * before it says "still stopping", so every wait here is bounded.  It
 * may be called again after it returned KERN_FAILURE: each step checks
 * whether it was done already, and the detach is never repeated.
 */
kern_return_t
pktcount_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { PKTCOUNT_DETACH_WAIT, 0 };
	boolean_t detached;

	/*
	 * 1. The timer.  thread_call_cancel alone would not wait for a
	 * pktcount_tick running right now, which goes on using pc_lock,
	 * pc_table and the call itself (it re-arms).  So: no re-arming
	 * from now on, then cancel and wait.  pc_lock is not held while
	 * waiting: pktcount_tick takes it, and would wait for us while we
	 * wait for it.
	 */
	if (pc_timer != NULL) {
		lck_mtx_lock(pc_lock);
		pc_stopping = TRUE;
		lck_mtx_unlock(pc_lock);
		thread_call_cancel_wait(pc_timer);
		if (!thread_call_free(pc_timer))
			return KERN_FAILURE;	/* cannot be: it is idle */
		pc_timer = NULL;
	}

	/*
	 * 2. The filter.  iflt_detach takes it off en0 at once, but a
	 * callback may be running on another thread: iff_detached comes
	 * when the last one returns -- maybe inside iflt_detach, maybe
	 * later.  Hold no lock of ours across iflt_detach (iff_detached
	 * takes pc_lock), and call it once only, and not if en0 went away
	 * and detached the filter already.
	 */
	if (pc_filter != NULL) {
		lck_mtx_lock(pc_lock);
		detached = pc_detached;
		lck_mtx_unlock(pc_lock);
		if (!pc_detaching && !detached) {
			pc_detaching = TRUE;
			iflt_detach(pc_filter);
		}
		/*
		 * Sleep until iff_detached has run, but not for ever: while
		 * stop sleeps, the host link is stuck too.  msleep releases
		 * pc_lock while asleep, so the callback can take it.  If it
		 * has not come, refuse: the kext stays loaded and running,
		 * and `kextunload -w` calls stop again, which picks up here.
		 */
		lck_mtx_lock(pc_lock);
		if (!pc_detached)
			msleep(&pc_detached, pc_lock, 0, "pktcount", &wait);
		detached = pc_detached;
		lck_mtx_unlock(pc_lock);
		if (!detached) {
			printf("pktcount: a callback is still running; "
			    "iff_detached has not come yet: try again "
			    "(kextunload -w)\n");
			return KERN_FAILURE;
		}
		pc_filter = NULL;
	}

	/*
	 * 3. Nothing can call us any more: free the rest, in the reverse
	 * order of start.  (Freeing the lock first, while a callback might
	 * still take it, is the crash steps 1 and 2 prevent.)
	 */
	printf("pktcount: stopped; %u summar%s printed\n", pc_summaries,
	    pc_summaries == 1 ? "y" : "ies");
	pktcount_free();
	return KERN_SUCCESS;
}
