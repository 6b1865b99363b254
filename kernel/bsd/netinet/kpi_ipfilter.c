/*
 * IP filters (<netinet/kpi_ipfilter.h>): ipf_addv4, ipf_remove, the two
 * injections, and the hooks IP calls -- ip_input.c after reassembly and
 * before the transport, ip_output.c before fragmentation.  Every call
 * into a filter is checked on its return (kern/kext_call.h); a kext
 * that stops with a filter still registered is kept in memory (the
 * unload check at the end).  Counters: `netstat -s`, group "ipf";
 * state: the `ipf` command.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <net/kpi_protocol.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/kmod_var.h>
#include <kern/locks.h>
#include <kern/monitor.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/kpi_ipfilter_var.h>

/*
 * Walking without a lock.  Every datagram walks the list, so the walk
 * takes no lock and allocates nothing: it counts itself in ipf_walkers
 * (one atomic add) and follows ipf_next.  Writers hold ipf_mtx.  A new
 * filter is linked in whole at the head; a removed one is unlinked but
 * keeps its ipf_next, so a walker standing on it goes on.  It is freed
 * -- after its ipf_detach -- only once ipf_walkers has been seen at 0
 * after the unlink: from then on no walker can reach it.  ipf_remove
 * sleeps for that moment; walkers that end at 0 wake it.  (Traffic on
 * several threads that never leaves a gap would keep it waiting; with
 * one CPU and one input thread the count falls to 0 between datagrams.)
 */
struct ipfilter *ipf_head;		/* newest first; see above */
static struct ipfilter *ipf_all;	/* until ipf_detach (ipf_mtx) */
static struct ipfilter *ipf_deferred;	/* removed in a callback (ipf_mtx) */
static u_int32_t ipf_walkers;		/* __atomic_* only */
static u_int32_t ipf_waiting;		/* ipf_remove asleep (ipf_mtx) */
static u_int32_t ipf_next_id = 1;	/* ipf_mtx */
static lck_mtx_t *ipf_mtx;

/* An injected datagram carries the id of the filter that injected it. */
#define IPF_TAG_INJECTED	1
static mbuf_tag_id_t ipf_tag_id;

static struct {
	u_int32_t	in_seen, in_passed, in_swallowed, in_rejected,
			in_nomem;
	u_int32_t	out_seen, out_passed, out_swallowed, out_rejected,
			out_nomem;
	u_int32_t	inj_in, inj_out, inj_badref, inj_nested;
} ipfstat;

static const struct netstat_counter ipf_counters[] = {
	{ "in_seen", "inbound datagrams the filters saw", &ipfstat.in_seen },
	{ "in_passed", "inbound datagrams every filter let through",
	    &ipfstat.in_passed },
	{ "in_swallowed", "inbound datagrams a filter kept (EJUSTRETURN)",
	    &ipfstat.in_swallowed },
	{ "in_rejected", "dropped on input: a filter returned an error",
	    &ipfstat.in_rejected },
	{ "in_nomem", "dropped on input: out of mbufs (a filter's changed "
	    "header could not be made contiguous)", &ipfstat.in_nomem },
	{ "out_seen", "outbound datagrams the filters saw", &ipfstat.out_seen },
	{ "out_passed", "outbound datagrams every filter let through",
	    &ipfstat.out_passed },
	{ "out_swallowed", "outbound datagrams a filter kept (EJUSTRETURN)",
	    &ipfstat.out_swallowed },
	{ "out_rejected", "dropped on output: a filter returned an error",
	    &ipfstat.out_rejected },
	{ "out_nomem", "dropped on output: out of mbufs (a filter's changed "
	    "header could not be made contiguous)", &ipfstat.out_nomem },
	{ "injected_in", "datagrams put back on input (ipf_inject_input)",
	    &ipfstat.inj_in },
	{ "injected_out", "datagrams sent by ipf_inject_output",
	    &ipfstat.inj_out },
	{ "inject_badref", "dropped on injection: the reference is not a "
	    "registered filter", &ipfstat.inj_badref },
	{ "inject_nested", "dropped on injection: ipf_inject_output nested "
	    "too deep in one thread (ELOOP)", &ipfstat.inj_nested },
};
NETSTAT_GROUP(ipf, ipf_counters);

void
ipf_init(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("ipf", LCK_GRP_ATTR_NULL);

	ipf_mtx = grp != NULL ? lck_mtx_alloc_init(grp, LCK_ATTR_NULL) : NULL;
	if (ipf_mtx == NULL ||
	    mbuf_tag_id_find("com.apple.net.ipfilter", &ipf_tag_id) != 0)
		panic("ipf_init: out of memory");
}

/* ---- Walkers ---- */

static struct ipfilter *
ipf_walk_begin(void)
{
	__atomic_add_fetch(&ipf_walkers, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&ipf_head, __ATOMIC_SEQ_CST);
}

static struct ipfilter *
ipf_walk_next(struct ipfilter *f)
{
	return __atomic_load_n(&f->ipf_next, __ATOMIC_ACQUIRE);
}

static void ipf_reap(void);

/* The last walker out wakes ipf_remove and detaches what was removed
 * from inside a callback; ipf_mtx only then, never per datagram. */
static void
ipf_walk_end(void)
{
	if (__atomic_sub_fetch(&ipf_walkers, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	if (__atomic_load_n(&ipf_waiting, __ATOMIC_SEQ_CST) != 0 ||
	    __atomic_load_n(&ipf_deferred, __ATOMIC_SEQ_CST) != NULL)
		ipf_reap();
}

/* Call the kext's ipf_detach, forget the filter.  No lock held. */
static void
ipf_free(struct ipfilter *f)
{
	struct ipfilter **p;
	struct kext_call kc;

	if (f->ipf_kpi.ipf_detach != NULL) {
		kext_call_begin(&kc);
		f->ipf_kpi.ipf_detach(f->ipf_kpi.cookie);
		kext_call_end(&kc, f->ipf_kpi.ipf_detach);
	}
	/* Only now: until ipf_detach returns, the kext must stay. */
	lck_mtx_lock(ipf_mtx);
	for (p = &ipf_all; *p != f; p = &(*p)->ipf_all_next)
		continue;
	*p = f->ipf_all_next;
	lck_mtx_unlock(ipf_mtx);
	kfree(f, sizeof(*f));
}

static void
ipf_reap(void)
{
	struct ipfilter *list = NULL, *f;

	lck_mtx_lock(ipf_mtx);
	if (__atomic_load_n(&ipf_walkers, __ATOMIC_SEQ_CST) == 0) {
		wakeup(&ipf_walkers);
		list = ipf_deferred;
		__atomic_store_n(&ipf_deferred, NULL, __ATOMIC_SEQ_CST);
	}
	/* else a walker is in: the last one out comes here again. */
	lck_mtx_unlock(ipf_mtx);
	for (; list != NULL; list = f) {
		f = list->ipf_defer_next;
		ipf_free(list);
	}
}

/* Is this thread inside a filter's callback? */
static bool
ipf_in_callback(void)
{
	return sched_current->th_ipf_depth != 0;
}

/* ---- Registering ---- */

errno_t
ipf_addv4(const struct ipf_filter *filter, ipfilter_t *filter_ref)
{
	const kmod_info_t *ki;
	struct ipfilter *f;

	if (filter == NULL || filter->name == NULL || filter_ref == NULL ||
	    (filter->ipf_input == NULL && filter->ipf_output == NULL))
		return EINVAL;
	if ((f = kalloc(sizeof(*f))) == NULL)
		return ENOMEM;
	bzero(f, sizeof(*f));
	f->ipf_kpi = *filter;
	/* Copied: the unload check names it after the kext has gone. */
	strlcpy(f->ipf_name, filter->name, sizeof(f->ipf_name));
	f->ipf_kpi.name = f->ipf_name;
	ki = kmod_lookup_address((u_int32_t)__builtin_return_address(0));
	strlcpy(f->ipf_owner, ki != NULL ? ki->name : "kernel",
	    sizeof(f->ipf_owner));

	lck_mtx_lock(ipf_mtx);
	f->ipf_id = ipf_next_id++;
	f->ipf_all_next = ipf_all;
	ipf_all = f;
	f->ipf_next = ipf_head;
	__atomic_store_n(&ipf_head, f, __ATOMIC_SEQ_CST);	/* whole now */
	lck_mtx_unlock(ipf_mtx);
	*filter_ref = (ipfilter_t)f;
	return 0;
}

errno_t
ipf_addv6(const struct ipf_filter *filter, ipfilter_t *filter_ref)
{
	return EAFNOSUPPORT;		/* no IPv6 in Finch */
}

errno_t
ipf_remove(ipfilter_t filter_ref)
{
	struct ipfilter *f = (struct ipfilter *)filter_ref, **p;

	if (f == NULL)
		return EINVAL;
	lck_mtx_lock(ipf_mtx);
	for (p = &ipf_head; *p != NULL && *p != f; p = &(*p)->ipf_next)
		continue;
	if (*p == NULL) {
		lck_mtx_unlock(ipf_mtx);
		return ENOENT;
	}
	__atomic_store_n(p, f->ipf_next, __ATOMIC_SEQ_CST);
	f->ipf_removed = true;
	if (ipf_in_callback()) {
		/* This thread is a walker: waiting would be for itself. */
		f->ipf_defer_next = ipf_deferred;
		__atomic_store_n(&ipf_deferred, f, __ATOMIC_SEQ_CST);
		lck_mtx_unlock(ipf_mtx);
		return 0;
	}
	__atomic_add_fetch(&ipf_waiting, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&ipf_walkers, __ATOMIC_SEQ_CST) != 0)
		msleep(&ipf_walkers, ipf_mtx, 0, "ipf_remove", NULL);
	__atomic_sub_fetch(&ipf_waiting, 1, __ATOMIC_SEQ_CST);
	lck_mtx_unlock(ipf_mtx);
	ipf_free(f);
	return 0;
}

/* ---- The hooks ---- */

/* The id of the filter that injected m (and forget the tag); 0 if none. */
static u_int32_t
ipf_injected_by(mbuf_t m)
{
	u_int32_t *id, found;
	size_t len;

	if (SLIST_EMPTY(&m->m_pkthdr.tags))	/* nearly every datagram */
		return 0;
	if (mbuf_tag_find(m, ipf_tag_id, IPF_TAG_INJECTED, &len,
	    (void **)&id) != 0)
		return 0;
	found = *id;
	mbuf_tag_free(m, ipf_tag_id, IPF_TAG_INJECTED);
	return found;
}

/* The IP header of a datagram a filter handed back, contiguous again
 * in its first mbuf (a failed pullup frees the chain). */
static errno_t
ipf_pullup_header(mbuf_t *m, int *hlen, u_int8_t *proto)
{
	struct ip *ip;

	if (mbuf_len(*m) < sizeof(*ip) &&
	    mbuf_pullup(m, sizeof(*ip)) != 0)
		return ENOMEM;
	ip = mbuf_data(*m);
	*hlen = ip->ip_hl << 2;
	if ((size_t)*hlen > mbuf_len(*m) && mbuf_pullup(m, *hlen) != 0)
		return ENOMEM;
	*proto = ((struct ip *)mbuf_data(*m))->ip_p;
	return 0;
}

/* One filter's ipf_input, counted. */
static errno_t
ipf_call_input(struct ipfilter *f, mbuf_t *m, int hlen, u_int8_t proto)
{
	struct kext_call kc;
	errno_t error;

	NETSTAT_INC(f->ipf_in);
	sched_current->th_ipf_depth++;
	kext_call_begin(&kc);
	error = f->ipf_kpi.ipf_input(f->ipf_kpi.cookie, m, hlen, proto);
	kext_call_end(&kc, f->ipf_kpi.ipf_input);
	sched_current->th_ipf_depth--;
	if (error == EJUSTRETURN)
		NETSTAT_INC(f->ipf_swallowed);
	else if (error != 0)
		NETSTAT_INC(f->ipf_rejected);
	return error;
}

errno_t
ipf_input_hook(mbuf_t *m)
{
	struct ipfilter *f;
	u_int32_t after;
	errno_t error = 0;
	u_int8_t proto;
	int hlen;

	NETSTAT_INC(ipfstat.in_seen);
	/* Injected with a ref: skip that filter and those before it (all,
	 * if it was removed meanwhile: its place in the order is gone). */
	after = ipf_injected_by(*m);
	for (f = ipf_walk_begin(); f != NULL && error == 0;
	    f = ipf_walk_next(f)) {
		if (after != 0) {
			if (f->ipf_id == after)
				after = 0;
			continue;
		}
		if (f->ipf_kpi.ipf_input == NULL)
			continue;
		if ((error = ipf_pullup_header(m, &hlen, &proto)) != 0) {
			NETSTAT_INC(ipfstat.in_nomem);	/* pullup freed it */
			break;
		}
		error = ipf_call_input(f, m, hlen, proto);
		if (error != 0 && error != EJUSTRETURN) {
			NETSTAT_INC(ipfstat.in_rejected);
			if (*m != NULL)
				mbuf_freem(*m);
		}
	}
	ipf_walk_end();
	/* The last filter may have handed back any chain: ip_deliver
	 * reads the header from the first mbuf. */
	if (error == 0 && (error = ipf_pullup_header(m, &hlen, &proto)) != 0)
		NETSTAT_INC(ipfstat.in_nomem);
	if (error == EJUSTRETURN)
		NETSTAT_INC(ipfstat.in_swallowed);
	else if (error == 0)
		NETSTAT_INC(ipfstat.in_passed);
	return error;
}

static errno_t
ipf_call_output(struct ipfilter *f, mbuf_t *m, ipf_pktopts_t options)
{
	struct kext_call kc;
	errno_t error;

	NETSTAT_INC(f->ipf_out);
	sched_current->th_ipf_depth++;
	kext_call_begin(&kc);
	error = f->ipf_kpi.ipf_output(f->ipf_kpi.cookie, m, options);
	kext_call_end(&kc, f->ipf_kpi.ipf_output);
	sched_current->th_ipf_depth--;
	if (error == EJUSTRETURN)
		NETSTAT_INC(f->ipf_swallowed);
	else if (error != 0)
		NETSTAT_INC(f->ipf_rejected);
	return error;
}

/* The filters from `first` on, the caller being a walker. */
static errno_t
ipf_output_walk(struct ipfilter *first, mbuf_t *m, ipf_pktopts_t options)
{
	struct ipfilter *f;
	errno_t error = 0;

	for (f = first; f != NULL && error == 0; f = ipf_walk_next(f))
		if (f->ipf_kpi.ipf_output != NULL)
			error = ipf_call_output(f, m, options);
	return error;
}

static errno_t
ipf_output_count(mbuf_t m, errno_t error)
{
	if (error == EJUSTRETURN)
		NETSTAT_INC(ipfstat.out_swallowed);
	else if (error != 0) {
		NETSTAT_INC(ipfstat.out_rejected);
		if (m != NULL)
			mbuf_freem(m);
	} else
		NETSTAT_INC(ipfstat.out_passed);
	return error;
}

errno_t
ipf_output_hook(mbuf_t *m, ipf_pktopts_t options)
{
	errno_t error;

	int hlen;
	u_int8_t proto;

	NETSTAT_INC(ipfstat.out_seen);
	error = ipf_output_walk(ipf_walk_begin(), m, options);
	ipf_walk_end();
	/* As on input: the header contiguous again for ip_output_send. */
	if (error == 0 && ipf_pullup_header(m, &hlen, &proto) != 0) {
		NETSTAT_INC(ipfstat.out_nomem);
		return ENOBUFS;			/* the pullup freed it */
	}
	return ipf_output_count(*m, error);
}

/* ---- Injecting ---- */

/* Is f on the list?  The caller walks, so nothing is freed meanwhile. */
static bool
ipf_registered(struct ipfilter *f)
{
	struct ipfilter *g;

	for (g = __atomic_load_n(&ipf_head, __ATOMIC_SEQ_CST); g != NULL;
	    g = ipf_walk_next(g))
		if (g == f)
			return true;
	return false;
}

errno_t
ipf_inject_input(mbuf_t data, ipfilter_t filter_ref)
{
	struct ipfilter *f = (struct ipfilter *)filter_ref;
	u_int32_t *tag, id = 0;
	errno_t error;

	if (data == NULL || !(mbuf_flags(data) & MBUF_PKTHDR) ||
	    mbuf_pkthdr_rcvif(data) == NULL)
		return EINVAL;
	if (f != NULL) {
		ipf_walk_begin();
		if (ipf_registered(f))
			id = f->ipf_id;
		ipf_walk_end();
		if (id == 0)
			return EINVAL;
		mbuf_tag_free(data, ipf_tag_id, IPF_TAG_INJECTED);
		if (mbuf_tag_allocate(data, ipf_tag_id, IPF_TAG_INJECTED,
		    sizeof(*tag), MBUF_DONTWAIT, (void **)&tag) != 0)
			return ENOMEM;
		*tag = id;
	}
	/* Queued for the input thread: input never nests. */
	if ((error = proto_inject(PF_INET, data)) == 0)
		NETSTAT_INC(ipfstat.inj_in);
	return error;
}

/*
 * The filters after filter_ref see the datagram in this thread; then
 * IP sends it.  The walk ends before the send: what runs below IP
 * (interface filters, the driver) is not inside the IP filters.
 */
errno_t
ipf_inject_output(mbuf_t data, ipfilter_t filter_ref, ipf_pktopts_t options)
{
	struct ipfilter *f = (struct ipfilter *)filter_ref, *first;
	errno_t error;

	if (data == NULL)
		return EINVAL;
	if (sched_current->th_ipf_depth > IPF_INJECT_DEPTH_MAX) {
		NETSTAT_INC(ipfstat.inj_nested);
		mbuf_freem(data);
		return ELOOP;
	}
	first = ipf_walk_begin();
	if (f != NULL) {
		if (!ipf_registered(f)) {
			ipf_walk_end();
			NETSTAT_INC(ipfstat.inj_badref);
			mbuf_freem(data);
			return EINVAL;
		}
		first = ipf_walk_next(f);
	}
	NETSTAT_INC(ipfstat.inj_out);
	NETSTAT_INC(ipfstat.out_seen);
	error = ipf_output_walk(first, &data, options);
	ipf_walk_end();
	if ((error = ipf_output_count(data, error)) != 0)
		return error == EJUSTRETURN ? 0 : error;
	return ip_output_inject(data);
}

/* ---- Unloading ---- */

static bool
ipf_ptr_find(const struct ipf_filter *k, uint32_t start, uint32_t end,
    struct kmod_ptr *hit)
{
	const struct kmod_ptr ptrs[] = {
		KMOD_PTR("ipf_input", k->ipf_input),
		KMOD_PTR("ipf_output", k->ipf_output),
		KMOD_PTR("ipf_detach", k->ipf_detach),
		KMOD_PTR("cookie", k->cookie),
	};

	return kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), start, end, hit);
}

/*
 * Unload check: a filter whose callbacks (or cookie) are in the image,
 * from ipf_addv4 until its ipf_detach has returned.
 */
static enum kmod_hold
ipf_points_into(uint32_t start, uint32_t end, uint64_t stopped, char *why,
    size_t whylen)
{
	struct ipfilter *f;
	struct kmod_ptr hit;

	lck_mtx_lock(ipf_mtx);
	for (f = ipf_all; f != NULL; f = f->ipf_all_next)
		if (ipf_ptr_find(&f->ipf_kpi, start, end, &hit))
			break;
	if (f != NULL && !f->ipf_removed)
		snprintf(why, whylen, "ipf filter '%s' still registered: "
		    "stop must call ipf_remove and wait for ipf_detach "
		    "(%s 0x%08x)", f->ipf_name, hit.kp_name, hit.kp_addr);
	else if (f != NULL)
		snprintf(why, whylen, "ipf filter '%s' is being removed: "
		    "stop must wait for ipf_detach (%s 0x%08x)", f->ipf_name,
		    hit.kp_name, hit.kp_addr);
	lck_mtx_unlock(ipf_mtx);
	return f != NULL ? KMOD_HOLD_PINNED : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(ip_filter, ipf_points_into);

/* ---- The `ipf` command ---- */

static int
mon_ipf(int argc, char **argv)
{
	struct ipfilter *f;
	int n = 0, removing = 0;

	if (argc != 1)
		return monitor_usage(argc, argv);
	lck_mtx_lock(ipf_mtx);
	printf("IPv4 filters, newest (first to run) first:\n");
	for (f = ipf_head; f != NULL; f = f->ipf_next) {
		printf("  %d '%s' (%s):%s%s; in %u, out %u, swallowed %u, "
		    "rejected %u\n", ++n, f->ipf_name, f->ipf_owner,
		    f->ipf_kpi.ipf_input != NULL ? " input" : "",
		    f->ipf_kpi.ipf_output != NULL ? " output" : "",
		    f->ipf_in, f->ipf_out, f->ipf_swallowed, f->ipf_rejected);
	}
	for (f = ipf_all; f != NULL; f = f->ipf_all_next)
		if (f->ipf_removed) {
			printf("  - '%s' (%s): removed, waiting for ipf_detach\n",
			    f->ipf_name, f->ipf_owner);
			removing++;
		}
	printf("%d filter%s registered, %d being removed; %u datagrams in "
	    "the filters now\n", n, n == 1 ? "" : "s", removing, ipf_walkers);
	lck_mtx_unlock(ipf_mtx);
	return 0;
}
MONITOR_COMMAND(ipf, mon_ipf, "ipf",
    "registered IP filters, in the order they run, and their counts");
