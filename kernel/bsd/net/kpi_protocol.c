/*
 * Protocol plumbers and protocol input handlers (<net/kpi_protocol.h>).
 * A plumber knows how to attach one protocol family to interfaces of one
 * family (IP on Ethernet); an input handler is where proto_input and
 * proto_inject deliver.  Injected packets wait on their protocol's queue
 * until the DLIL thread runs proto_input_run.  A kext that stops with a
 * plumber still registered is kept in memory (the unload check).
 */
#include <sys/systm.h>
#include <sys/queue.h>
#include <sys/kpi_mbuf.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/locks.h>
#include <bsd/net/if_var.h>
#include <bsd/net/netstat_var.h>
#include <net/kpi_protocol.h>

static struct {
	u_int32_t	inject_queued;
	u_int32_t	inject_queue_full;
	u_int32_t	inject_unregistered;
} proto_stat;

static const struct netstat_counter proto_counters[] = {
	{ "inject_queued", "packets queued by proto_inject",
	    &proto_stat.inject_queued },
	{ "inject_queue_full", "refused by proto_inject: queue full",
	    &proto_stat.inject_queue_full },
	{ "inject_unregistered", "dropped: protocol unregistered while queued",
	    &proto_stat.inject_unregistered },
};
NETSTAT_GROUP(proto, proto_counters);

/* ---- Input handlers ---- */

#define PROTO_INJECT_QMAX	256	/* packets waiting per protocol */

/*
 * A registered input handler.  The list holds one reference and each
 * call in progress another; the last release calls `detached`.
 * (p) proto_input_lock, a spin lock: proto_inject may come from anywhere.
 */
struct proto_input_entry {
	TAILQ_ENTRY(proto_input_entry) pie_link;	/* (p) */
	protocol_family_t	pie_family;
	proto_input_handler	pie_input;
	proto_input_detached_handler pie_detached;
	mbuf_t			pie_inject_head;	/* (p) */
	mbuf_t			pie_inject_tail;	/* (p) */
	u_int32_t		pie_inject_len;		/* (p) */
	u_int32_t		pie_refcnt;		/* (p) */
};

static simple_lock_data_t proto_input_lock =
    SIMPLE_LOCK_INITIALIZER("proto_input");
static TAILQ_HEAD(, proto_input_entry) proto_input_head =	/* (p) */
    TAILQ_HEAD_INITIALIZER(proto_input_head);

/* (p) held. */
static struct proto_input_entry *
proto_input_find_locked(protocol_family_t pf)
{
	struct proto_input_entry *pie;

	TAILQ_FOREACH(pie, &proto_input_head, pie_link)
		if (pie->pie_family == pf)
			return pie;
	return NULL;
}

static struct proto_input_entry *
proto_input_find(protocol_family_t pf)
{
	struct proto_input_entry *pie;

	simple_lock(&proto_input_lock);
	pie = proto_input_find_locked(pf);
	if (pie != NULL)
		pie->pie_refcnt++;
	simple_unlock(&proto_input_lock);
	return pie;
}

static void
proto_input_release(struct proto_input_entry *pie)
{
	struct kext_call kc;
	bool last;

	simple_lock(&proto_input_lock);
	last = --pie->pie_refcnt == 0;
	simple_unlock(&proto_input_lock);
	if (!last)
		return;
	if (pie->pie_detached != NULL) {
		kext_call_begin(&kc);
		pie->pie_detached(pie->pie_family);
		kext_call_end(&kc, pie->pie_detached);
	}
	kfree(pie, sizeof(*pie));
}

errno_t
proto_register_input(protocol_family_t protocol, proto_input_handler input,
    proto_input_detached_handler detached)
{
	struct proto_input_entry *pie;
	errno_t error = 0;

	if (input == NULL)
		return EINVAL;
	if ((pie = kalloc(sizeof(*pie))) == NULL)
		return ENOMEM;
	bzero(pie, sizeof(*pie));
	pie->pie_family = protocol;
	pie->pie_input = input;
	pie->pie_detached = detached;
	pie->pie_refcnt = 1;
	simple_lock(&proto_input_lock);
	if (proto_input_find_locked(protocol) != NULL)
		error = EEXIST;
	else
		TAILQ_INSERT_TAIL(&proto_input_head, pie, pie_link);
	simple_unlock(&proto_input_lock);
	if (error != 0)
		kfree(pie, sizeof(*pie));
	return error;
}

void
proto_unregister_input(protocol_family_t protocol)
{
	struct proto_input_entry *pie;
	mbuf_t queued = NULL;

	simple_lock(&proto_input_lock);
	pie = proto_input_find_locked(protocol);
	if (pie != NULL) {
		TAILQ_REMOVE(&proto_input_head, pie, pie_link);
		queued = pie->pie_inject_head;
		pie->pie_inject_head = pie->pie_inject_tail = NULL;
		pie->pie_inject_len = 0;
	}
	simple_unlock(&proto_input_lock);
	if (pie == NULL)
		return;
	if (queued != NULL)
		NETSTAT_ADD(proto_stat.inject_unregistered,
		    mbuf_freem_list(queued));
	proto_input_release(pie);
}

/* Hand each packet of a nextpkt list to the handler, one at a time. */
static void
proto_input_deliver(struct proto_input_entry *pie, mbuf_t list)
{
	struct kext_call kc;
	mbuf_t m, next;

	for (m = list; m != NULL; m = next) {
		next = mbuf_nextpkt(m);
		mbuf_setnextpkt(m, NULL);
		kext_call_begin(&kc);
		pie->pie_input(pie->pie_family, m);
		kext_call_end(&kc, pie->pie_input);
	}
}

errno_t
proto_input(protocol_family_t protocol, mbuf_t packet)
{
	struct proto_input_entry *pie;

	if ((pie = proto_input_find(protocol)) == NULL)
		return -1;		/* as on Mac OS X: not an errno */
	proto_input_deliver(pie, packet);
	proto_input_release(pie);
	return 0;
}

errno_t
proto_inject(protocol_family_t protocol, mbuf_t packet)
{
	struct proto_input_entry *pie;
	u_int32_t n = 0;
	mbuf_t m, tail = NULL;
	errno_t error = 0;

	if (packet == NULL)
		return EINVAL;
	for (m = packet; m != NULL; m = mbuf_nextpkt(m)) {
		tail = m;
		n++;
	}
	simple_lock(&proto_input_lock);
	pie = proto_input_find_locked(protocol);
	if (pie == NULL)
		error = ENOENT;
	else if (pie->pie_inject_len + n > PROTO_INJECT_QMAX)
		error = ENOBUFS;
	else {
		if (pie->pie_inject_tail != NULL)
			mbuf_setnextpkt(pie->pie_inject_tail, packet);
		else
			pie->pie_inject_head = packet;
		pie->pie_inject_tail = tail;
		pie->pie_inject_len += n;
	}
	simple_unlock(&proto_input_lock);
	if (error == ENOBUFS)
		NETSTAT_ADD(proto_stat.inject_queue_full, n);
	if (error != 0)
		return error;
	NETSTAT_ADD(proto_stat.inject_queued, n);
	dlil_wakeup();
	return 0;
}

/* In the DLIL thread: deliver what proto_inject queued, protocol by
 * protocol. */
void
proto_input_run(void)
{
	struct proto_input_entry *pie;
	mbuf_t list;

	for (;;) {
		simple_lock(&proto_input_lock);
		TAILQ_FOREACH(pie, &proto_input_head, pie_link)
			if (pie->pie_inject_head != NULL)
				break;
		list = NULL;
		if (pie != NULL) {
			list = pie->pie_inject_head;
			pie->pie_inject_head = pie->pie_inject_tail = NULL;
			pie->pie_inject_len = 0;
			pie->pie_refcnt++;
		}
		simple_unlock(&proto_input_lock);
		if (pie == NULL)
			return;
		proto_input_deliver(pie, list);
		proto_input_release(pie);
	}
}

/* ---- Plumbers ---- */

/*
 * A registered plumber.  (m) proto_plumb_mtx, held while a plumber runs:
 * that is why plumb and unplumb must not register or unregister one.
 */
struct proto_plumber {
	TAILQ_ENTRY(proto_plumber) pp_link;	/* (m) */
	protocol_family_t	pp_proto;
	ifnet_family_t		pp_if_family;
	proto_plumb_handler	pp_plumb;
	proto_unplumb_handler	pp_unplumb;
};

static lck_grp_t	*proto_lck_grp;
static lck_mtx_t	*proto_plumb_mtx;
static TAILQ_HEAD(, proto_plumber) proto_plumbers =		/* (m) */
    TAILQ_HEAD_INITIALIZER(proto_plumbers);

/* (m) held. */
static struct proto_plumber *
proto_plumber_find(protocol_family_t pf, ifnet_family_t if_fam)
{
	struct proto_plumber *pp;

	TAILQ_FOREACH(pp, &proto_plumbers, pp_link)
		if (pp->pp_proto == pf && pp->pp_if_family == if_fam)
			return pp;
	return NULL;
}

errno_t
proto_register_plumber(protocol_family_t proto_fam, ifnet_family_t if_fam,
    proto_plumb_handler plumb, proto_unplumb_handler unplumb)
{
	struct proto_plumber *pp;
	errno_t error = 0;

	if (plumb == NULL)
		return EINVAL;
	if ((pp = kalloc(sizeof(*pp))) == NULL)
		return ENOMEM;
	bzero(pp, sizeof(*pp));
	pp->pp_proto = proto_fam;
	pp->pp_if_family = if_fam;
	pp->pp_plumb = plumb;
	pp->pp_unplumb = unplumb;
	lck_mtx_lock(proto_plumb_mtx);
	if (proto_plumber_find(proto_fam, if_fam) != NULL)
		error = EEXIST;
	else
		TAILQ_INSERT_TAIL(&proto_plumbers, pp, pp_link);
	lck_mtx_unlock(proto_plumb_mtx);
	if (error != 0)
		kfree(pp, sizeof(*pp));
	return error;
}

void
proto_unregister_plumber(protocol_family_t proto_fam, ifnet_family_t if_fam)
{
	struct proto_plumber *pp;

	lck_mtx_lock(proto_plumb_mtx);
	pp = proto_plumber_find(proto_fam, if_fam);
	if (pp != NULL)
		TAILQ_REMOVE(&proto_plumbers, pp, pp_link);
	lck_mtx_unlock(proto_plumb_mtx);
	if (pp != NULL)
		kfree(pp, sizeof(*pp));
}

errno_t
proto_plumb(protocol_family_t protocol_family, ifnet_t ifp)
{
	struct proto_plumber *pp;
	struct kext_call kc;
	errno_t error;

	if (ifp == NULL)
		return EINVAL;
	lck_mtx_lock(proto_plumb_mtx);
	pp = proto_plumber_find(protocol_family, ifnet_family(ifp));
	/* Attached already, by a plumber or by the driver itself (a tun
	 * attaches PF_INET with its own callbacks): nothing to do. */
	if (dlil_protocol_attached(ifp, protocol_family))
		error = EEXIST;
	else if (pp == NULL)
		error = EPROTONOSUPPORT;
	else {
		kext_call_begin(&kc);
		error = pp->pp_plumb(ifp, protocol_family);
		kext_call_end(&kc, pp->pp_plumb);
	}
	lck_mtx_unlock(proto_plumb_mtx);
	return error;
}

void
proto_unplumb(protocol_family_t protocol_family, ifnet_t ifp)
{
	struct proto_plumber *pp;
	struct kext_call kc;

	if (ifp == NULL)
		return;
	lck_mtx_lock(proto_plumb_mtx);
	pp = proto_plumber_find(protocol_family, ifnet_family(ifp));
	if (pp != NULL && pp->pp_unplumb != NULL) {
		kext_call_begin(&kc);
		pp->pp_unplumb(ifp, protocol_family);
		kext_call_end(&kc, pp->pp_unplumb);
	} else
		ifnet_detach_protocol(ifp, protocol_family);
	lck_mtx_unlock(proto_plumb_mtx);
}

/*
 * Unload check: a registered plumber whose plumb or unplumb is in the
 * image.  proto_unregister_plumber takes it off at once (a plumb running
 * holds proto_plumb_mtx, which unregistering waits for).  The protocols
 * it attached are the protocol attachment check's.
 */
static enum kmod_hold
proto_plumber_points_into(uint32_t start, uint32_t end, uint64_t stopped,
    char *why, size_t whylen)
{
	struct proto_plumber *pp;
	struct kmod_ptr hit;

	lck_mtx_lock(proto_plumb_mtx);
	TAILQ_FOREACH(pp, &proto_plumbers, pp_link) {
		const struct kmod_ptr ptrs[] = {
			KMOD_PTR("plumb", pp->pp_plumb),
			KMOD_PTR("unplumb", pp->pp_unplumb),
		};

		if (kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), start, end, &hit))
			break;
	}
	if (pp != NULL)
		snprintf(why, whylen, "the plumber of protocol family %u on "
		    "interface family %u (%s 0x%08x) is still registered: stop "
		    "must call proto_unregister_plumber", pp->pp_proto,
		    pp->pp_if_family, hit.kp_name, hit.kp_addr);
	lck_mtx_unlock(proto_plumb_mtx);
	return pp != NULL ? KMOD_HOLD_PINNED : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(plumber, proto_plumber_points_into);

void
proto_kpi_init(void)
{
	proto_lck_grp = lck_grp_alloc_init("proto", LCK_GRP_ATTR_NULL);
	proto_plumb_mtx = lck_mtx_alloc_init(proto_lck_grp, LCK_ATTR_NULL);
}
