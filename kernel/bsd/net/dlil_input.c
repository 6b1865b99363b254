/*
 * The DLIL's input path:
 *   driver -> ifnet_input -> input queue -> "dlil_input" thread ->
 *   bpf tap -> demux -> interface filters -> protocol input
 * The same thread does the interfaces' deferred work (link events, the
 * end of a detach).  Output is dlil_output.c; the rest of the DLIL dlil.c.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/kext_call.h>
#include <kern/sched_prim.h>
#include <kern/simple_lock.h>
#include <bsd/net/dlil_var.h>
#include <bsd/net/netstat_var.h>

/*
 * The input queue: packets from every interface, linked by nextpkt, in
 * arrival order, waiting for the DLIL thread.  Bounded, so that a flood
 * costs a fixed amount of memory and then drops (counted).  Also the list
 * of interfaces with work for the thread.  (q) dlil_input_lock.
 */
#define DLIL_INPUT_QMAX		512
static simple_lock_data_t dlil_input_lock =
    SIMPLE_LOCK_INITIALIZER("dlil_input");
static mbuf_t		dlil_inq_head, dlil_inq_tail;	/* (q) */
static u_int32_t	dlil_inq_len;			/* (q) */
static TAILQ_HEAD(, ifnet) dlil_work_head =		/* (q) */
    TAILQ_HEAD_INITIALIZER(dlil_work_head);
static bool		dlil_inject_pending;		/* (q) */
static int		dlil_input_event;	/* the thread sleeps on it */

/* ---- Dropping ---- */

/* dlil_drop on the input path: the interface counts it as dropped too. */
static void
dlil_drop_in(ifnet_t ifp, mbuf_t m, volatile u_int32_t *reason)
{
	simple_lock(&ifp->if_lock);
	ifp->if_stats.dropped++;
	if (reason == &dlil_stat.input_no_protocol)
		ifp->if_stats.no_protocol++;
	simple_unlock(&ifp->if_lock);
	dlil_drop(m, reason);
}

/* ---- Work for the DLIL thread ---- */

/* Queue work (IF_WORK_*) for ifp; safe from an interrupt handler. */
void
dlil_work_post(ifnet_t ifp, u_int32_t work)
{
	bool queued;

	dlil_ifnet_reference(ifp);	/* the work list's */
	simple_lock(&dlil_input_lock);
	queued = ifp->if_work != 0;
	ifp->if_work |= work;
	if (!queued)
		TAILQ_INSERT_TAIL(&dlil_work_head, ifp, if_work_link);
	simple_unlock(&dlil_input_lock);
	thread_wakeup(&dlil_input_event);
	if (queued)
		dlil_ifnet_release(ifp);	/* the list has one already */
}

void
dlil_wakeup(void)
{
	simple_lock(&dlil_input_lock);
	dlil_inject_pending = true;
	simple_unlock(&dlil_input_lock);
	thread_wakeup(&dlil_input_event);
}

static void
dlil_do_work(ifnet_t ifp, u_int32_t work)
{
	if (work & IF_WORK_LINK)
		dlil_link_post(ifp);
	if (work & IF_WORK_DETACH)
		dlil_if_detach_final(ifp);
	dlil_ifnet_release(ifp);	/* the work list's */
}

/* ---- Input ---- */

/*
 * Prepare a list from a driver: mark each packet as received on ifp and
 * count packets and bytes.  Returns the number of packets; *tailp is the
 * last one.
 */
static u_int32_t
dlil_input_prepare(ifnet_t ifp, mbuf_t list, mbuf_t *tailp, u_int32_t *bytes)
{
	u_int32_t n = 0;
	mbuf_t m;

	*bytes = 0;
	for (m = list; m != NULL; m = mbuf_nextpkt(m)) {
		mbuf_pkthdr_setrcvif(m, ifp);
		*bytes += (u_int32_t)mbuf_pkthdr_len(m);
		*tailp = m;
		n++;
	}
	return n;
}

/* Cut the list after `keep` packets; returns the rest. */
static mbuf_t
dlil_list_split(mbuf_t list, u_int32_t keep, mbuf_t *tailp)
{
	mbuf_t m = list, rest;

	while (--keep > 0)
		m = mbuf_nextpkt(m);
	rest = mbuf_nextpkt(m);
	mbuf_setnextpkt(m, NULL);
	*tailp = m;
	return rest;
}

/* Drop each packet of a list that did not fit the queue. */
static void
dlil_input_overflow(ifnet_t ifp, mbuf_t list)
{
	mbuf_t m, next;

	for (m = list; m != NULL; m = next) {
		next = mbuf_nextpkt(m);
		mbuf_setnextpkt(m, NULL);
		dlil_drop_in(ifp, m, &dlil_stat.input_queue_full);
		dlil_ifnet_unuse(ifp);
	}
}

/*
 * ifnet_input: append the driver's packets to the input queue and wake
 * the DLIL thread.  Called from interrupt handlers: only spin locks, no
 * allocation, no sleeping.  Each queued packet holds a use of ifp.
 */
errno_t
dlil_input(ifnet_t ifp, mbuf_t list, const struct ifnet_stat_increment_param *stats)
{
	struct ifnet_stat_increment_param counted = { 0 };
	mbuf_t tail = NULL, rest = NULL;
	u_int32_t n, bytes, room;

	if (ifp == NULL || list == NULL) {
		if (list != NULL)
			mbuf_freem_list(list);
		return EINVAL;
	}
	n = dlil_input_prepare(ifp, list, &tail, &bytes);
	if (!dlil_ifnet_use_n(ifp, n)) {
		NETSTAT_ADD(dlil_stat.input_if_not_attached, n);
		mbuf_freem_list(list);
		return ENXIO;
	}
	if (stats == NULL) {
		counted.packets_in = n;
		counted.bytes_in = bytes;
		stats = &counted;
	}
	if_stat_add(ifp, stats);
	NETSTAT_ADD(dlil_stat.input_packets, n);

	simple_lock(&dlil_input_lock);
	room = DLIL_INPUT_QMAX - dlil_inq_len;
	if (n > room) {
		rest = room > 0 ? dlil_list_split(list, room, &tail) : list;
		n = room;
		if (room == 0)
			list = NULL;
	}
	if (list != NULL) {
		if (dlil_inq_tail != NULL)
			mbuf_setnextpkt(dlil_inq_tail, list);
		else
			dlil_inq_head = list;
		dlil_inq_tail = tail;
		dlil_inq_len += n;
	}
	simple_unlock(&dlil_input_lock);
	thread_wakeup(&dlil_input_event);

	if (rest != NULL)
		dlil_input_overflow(ifp, rest);
	return 0;
}

/* Give the packet to the protocol the demux named. */
static void
dlil_input_deliver(ifnet_t ifp, protocol_family_t pf, mbuf_t m, char *frame)
{
	struct if_proto *proto;
	struct kext_call kc;
	errno_t error;

	proto = dlil_proto_find(ifp, pf);
	if (proto == NULL) {
		dlil_drop_in(ifp, m, &dlil_stat.input_no_protocol);
		return;
	}
	kext_call_begin(&kc);
	error = proto->ip_kpi.input(ifp, pf, m, frame);
	kext_call_end(&kc, proto->ip_kpi.input);
	if (error == 0 || error == EJUSTRETURN)
		NETSTAT_INC(dlil_stat.input_delivered);
	else
		dlil_drop_in(ifp, m, &dlil_stat.input_proto_error);
	dlil_proto_release(proto);
}

/*
 * One received packet, in the DLIL thread.  Its data starts after the
 * link header, which the pkthdr's header pointer still reaches.
 */
static void
dlil_input_packet(ifnet_t ifp, mbuf_t m)
{
	char *frame = mbuf_pkthdr_header(m);
	protocol_family_t pf = 0;
	struct kext_call kc;
	errno_t error;

	dlil_bpf_tap(ifp, m, frame, ifp->if_hdrlen, false);
	if ((ifp->if_flags & IFF_UP) == 0) {
		dlil_drop_in(ifp, m, &dlil_stat.input_if_down);
		return;
	}
	/* Demux first: filters are told which protocol the packet is for. */
	kext_call_begin(&kc);
	error = ifp->if_demux(ifp, m, frame, &pf);
	kext_call_end(&kc, ifp->if_demux);
	if (error != 0) {
		if (error != EJUSTRETURN)
			dlil_drop_in(ifp, m, &dlil_stat.input_no_protocol);
		return;
	}
	error = iflt_input(ifp, pf, &m, &frame);
	if (error != 0) {
		if (error != EJUSTRETURN)
			dlil_drop_in(ifp, m, &dlil_stat.input_filter_drop);
		return;
	}
	/* Heard only because the interface is promiscuous (tcpdump saw it). */
	if (mbuf_flags(m) & MBUF_PROMISC) {
		dlil_drop_in(ifp, m, &dlil_stat.input_not_for_us);
		return;
	}
	dlil_input_deliver(ifp, pf, m, frame);
}

/* A list taken off the input queue, one packet at a time. */
static void
dlil_input_list(mbuf_t list)
{
	mbuf_t m, next;
	ifnet_t ifp;

	for (m = list; m != NULL; m = next) {
		next = mbuf_nextpkt(m);
		mbuf_setnextpkt(m, NULL);
		ifp = mbuf_pkthdr_rcvif(m);
		dlil_input_packet(ifp, m);
		dlil_ifnet_unuse(ifp);		/* taken by dlil_input */
	}
}

/*
 * The "dlil_input" thread: sleeps until there are packets, injected
 * packets or interface work, then does all of it.  Everything the
 * protocols do on input runs here, in thread context.
 */
void
dlil_input_thread(void *arg, int wr)
{
	mbuf_t list;
	ifnet_t ifp;
	u_int32_t work;
	bool inject;

	for (;;) {
		simple_lock(&dlil_input_lock);
		while (dlil_inq_head == NULL && TAILQ_EMPTY(&dlil_work_head) &&
		    !dlil_inject_pending) {
			assert_wait(&dlil_input_event, THREAD_UNINT);
			simple_unlock(&dlil_input_lock);
			thread_block();
			simple_lock(&dlil_input_lock);
		}
		list = dlil_inq_head;
		dlil_inq_head = dlil_inq_tail = NULL;
		dlil_inq_len = 0;
		work = 0;
		ifp = TAILQ_FIRST(&dlil_work_head);
		if (ifp != NULL) {
			TAILQ_REMOVE(&dlil_work_head, ifp, if_work_link);
			work = ifp->if_work;
			ifp->if_work = 0;
		}
		inject = dlil_inject_pending;
		dlil_inject_pending = false;
		simple_unlock(&dlil_input_lock);

		dlil_input_list(list);
		if (inject)
			proto_input_run();
		if (ifp != NULL)
			dlil_do_work(ifp, work);
	}
}
