/*
 * The DLIL (data link interface layer): the list of interfaces, their
 * life cycle (allocate, attach, reference, detach) and the counters of
 * its paths.  Packets come in through dlil_input.c and go out through
 * dlil_output.c; protocols attach in dlil_proto.c; events and ioctls
 * are dlil_ctl.c.  kpi_interface.c is the public face; locks: if_var.h.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_event.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/locks.h>
#include <kern/thread.h>
#include <kern/thread_var.h>
#include <bsd/net/dlil_var.h>
#include <bsd/net/if_detach_var.h>
#include <bsd/net/netstat_var.h>

/* The drop counters (dlil_var.h says what they count and how). */
struct dlil_stat dlil_stat;

static const struct netstat_counter dlil_counters[] = {
	{ "input_packets", "packets handed in by drivers",
	    &dlil_stat.input_packets },
	{ "input_delivered", "packets taken by a protocol",
	    &dlil_stat.input_delivered },
	{ "input_if_not_attached", "dropped: interface not attached",
	    &dlil_stat.input_if_not_attached },
	{ "input_queue_full", "dropped: the input queue was full",
	    &dlil_stat.input_queue_full },
	{ "input_if_down", "dropped: interface down",
	    &dlil_stat.input_if_down },
	{ "input_no_protocol", "dropped: no attached protocol (unknown type)",
	    &dlil_stat.input_no_protocol },
	{ "input_filter_drop", "dropped by an interface filter",
	    &dlil_stat.input_filter_drop },
	{ "input_not_for_us", "dropped: promiscuous, another host's",
	    &dlil_stat.input_not_for_us },
	{ "input_proto_error", "dropped: the protocol's input refused it",
	    &dlil_stat.input_proto_error },
	{ "output_packets", "packets handed to drivers",
	    &dlil_stat.output_packets },
	{ "output_if_not_attached", "dropped: interface not attached",
	    &dlil_stat.output_if_not_attached },
	{ "output_if_down", "dropped: interface down",
	    &dlil_stat.output_if_down },
	{ "output_no_protocol", "dropped: protocol not attached",
	    &dlil_stat.output_no_protocol },
	{ "output_preout_error", "dropped: the protocol's pre_output failed",
	    &dlil_stat.output_preout_error },
	{ "output_framer_error", "dropped: no room for the link header",
	    &dlil_stat.output_framer_error },
	{ "output_filter_drop", "dropped by an interface filter",
	    &dlil_stat.output_filter_drop },
	{ "output_driver_error", "dropped: the driver refused it",
	    &dlil_stat.output_driver_error },
};
NETSTAT_GROUP(dlil, dlil_counters);

/* The attached interfaces, in attach order (L). */
static lck_grp_t	*dlil_lck_grp;
static lck_rw_t		*dlil_ifnet_lock;
static TAILQ_HEAD(, ifnet) ifnet_head = TAILQ_HEAD_INITIALIZER(ifnet_head);
static u_int32_t	dlil_if_index_last;	/* (L) */

/*
 * Every interface from ifnet_allocate to its last release, attached or
 * not (A): a detaching interface is off ifnet_head but its driver is
 * still called, and the unload checks must see it.  A spin lock, since
 * the last release may come anywhere.
 */
static TAILQ_HEAD(, ifnet) ifnet_all = TAILQ_HEAD_INITIALIZER(ifnet_all);
static simple_lock_data_t dlil_ifnet_all_lock =
    SIMPLE_LOCK_INITIALIZER("dlil_ifnet_all");

OSMallocTag		dlil_tag;

/* ---- Dropping ---- */

/* Free a packet that goes no further and count why. */
void
dlil_drop(mbuf_t m, volatile u_int32_t *reason)
{
	NETSTAT_INC(*reason);
	if (m != NULL)
		mbuf_freem(m);
}

/* ---- References and use counts ---- */

void
dlil_ifnet_reference(ifnet_t ifp)
{
	simple_lock(&ifp->if_lock);
	if (ifp->if_refcnt == 0)
		panic("ifnet_reference: %s: already freed", ifp->if_xname);
	ifp->if_refcnt++;
	simple_unlock(&ifp->if_lock);
}

static void
dlil_if_free(ifnet_t ifp)
{
	simple_lock(&dlil_ifnet_all_lock);
	TAILQ_REMOVE(&ifnet_all, ifp, if_all_link);
	simple_unlock(&dlil_ifnet_all_lock);
	kfree_tag(ifp, sizeof(*ifp), dlil_tag);
}

/* The last reference frees the interface (never while attached: the
 * attachment holds a reference until the detach is over). */
void
dlil_ifnet_release(ifnet_t ifp)
{
	bool last;

	simple_lock(&ifp->if_lock);
	if (ifp->if_refcnt == 0)
		panic("ifnet_release: %s: more releases than references",
		    ifp->if_xname);
	last = --ifp->if_refcnt == 0;
	simple_unlock(&ifp->if_lock);
	if (last)
		dlil_if_free(ifp);
}

/*
 * Every packet and every call inside the interface counts as a "use";
 * ifnet_detach waits (asynchronously) for the count to drop to zero
 * before the protocols, filters and driver are told it is over.
 */
bool
dlil_ifnet_use_n(ifnet_t ifp, u_int32_t n)
{
	bool ok;

	simple_lock(&ifp->if_lock);
	ok = ifp->if_state == IF_STATE_ATTACHED;
	if (ok)
		ifp->if_usecount += n;
	simple_unlock(&ifp->if_lock);
	return ok;
}

bool
dlil_ifnet_use(ifnet_t ifp)
{
	return dlil_ifnet_use_n(ifp, 1);
}

void
dlil_ifnet_unuse(ifnet_t ifp)
{
	bool finish;

	simple_lock(&ifp->if_lock);
	if (ifp->if_usecount == 0)
		panic("dlil_ifnet_unuse: %s: not in use", ifp->if_xname);
	ifp->if_usecount--;
	finish = ifp->if_usecount == 0 && ifp->if_state == IF_STATE_DETACHING &&
	    !ifp->if_detach_posted;
	if (finish)
		ifp->if_detach_posted = true;
	simple_unlock(&ifp->if_lock);
	if (finish)
		dlil_work_post(ifp, IF_WORK_DETACH);
}

/* ---- The interface list ---- */

void
dlil_ifnet_foreach(void (*fn)(ifnet_t ifp, void *arg), void *arg)
{
	ifnet_t ifp;

	lck_rw_lock_shared(dlil_ifnet_lock);
	TAILQ_FOREACH(ifp, &ifnet_head, if_link)
		fn(ifp, arg);
	lck_rw_unlock_shared(dlil_ifnet_lock);
}

ifnet_t
dlil_ifnet_find_any(bool (*fn)(ifnet_t ifp, void *arg), void *arg)
{
	ifnet_t ifp;

	simple_lock(&dlil_ifnet_all_lock);
	TAILQ_FOREACH(ifp, &ifnet_all, if_all_link)
		if (fn(ifp, arg))
			break;
	simple_unlock(&dlil_ifnet_all_lock);
	return ifp;
}

/* Is an attached interface already called that, or has that id?  (L) */
static bool
dlil_if_conflict(const ifnet_t ifp)
{
	ifnet_t other;

	TAILQ_FOREACH(other, &ifnet_head, if_link) {
		if (other == ifp)
			continue;
		if (strcmp(other->if_xname, ifp->if_xname) == 0)
			return true;
		if (ifp->if_uniqueid_len != 0 &&
		    other->if_family == ifp->if_family &&
		    other->if_uniqueid_len == ifp->if_uniqueid_len &&
		    memcmp(other->if_uniqueid, ifp->if_uniqueid,
		    ifp->if_uniqueid_len) == 0)
			return true;
	}
	return false;
}

/* ---- Allocate, attach ---- */

static errno_t
dlil_if_check_params(const struct ifnet_init_params *init)
{
	size_t namelen;

	if (init->name == NULL || init->output == NULL ||
	    init->demux == NULL || init->add_proto == NULL ||
	    init->del_proto == NULL)
		return EINVAL;
	namelen = strnlen(init->name, IFNAMSIZ);
	/* Room for the unit number in if_xname ("en" + "0" + NUL). */
	if (namelen == 0 || namelen > IFNAMSIZ - 5 || init->unit > 9999)
		return EINVAL;
	if (init->family > IFNET_FAMILY_BOND || init->type == 0 ||
	    init->type > 0xff)
		return EINVAL;
	if (init->uniqueid_len > IF_UNIQUEID_MAX ||
	    (init->uniqueid_len != 0 && init->uniqueid == NULL))
		return EINVAL;
	if (init->broadcast_len > IF_LLADDR_MAX ||
	    (init->broadcast_len != 0 && init->broadcast_addr == NULL))
		return EINVAL;
	return 0;
}

static void
dlil_if_init_fields(ifnet_t ifp, const struct ifnet_init_params *init)
{
	strlcpy(ifp->if_name, init->name, sizeof(ifp->if_name));
	snprintf(ifp->if_xname, sizeof(ifp->if_xname), "%s%u", init->name,
	    init->unit);
	ifp->if_unit = init->unit;
	ifp->if_family = init->family;
	ifp->if_type = (u_int8_t)init->type;
	ifp->if_softc = init->softc;
	memcpy(ifp->if_uniqueid, init->uniqueid, init->uniqueid_len);
	ifp->if_uniqueid_len = init->uniqueid_len;
	memcpy(ifp->if_broadcast, init->broadcast_addr, init->broadcast_len);
	ifp->if_broadcast_len = init->broadcast_len;
	ifp->if_output = init->output;
	ifp->if_demux = init->demux;
	ifp->if_add_proto = init->add_proto;
	ifp->if_del_proto = init->del_proto;
	ifp->if_check_multi = init->check_multi;
	ifp->if_framer = init->framer;
	ifp->if_ioctl = init->ioctl;
	ifp->if_set_bpf_tap = init->set_bpf_tap;
	ifp->if_detached = init->detach;
	ifp->if_event = init->event;
}

errno_t
dlil_if_allocate(const struct ifnet_init_params *init, ifnet_t *ifpp)
{
	ifnet_t ifp;
	errno_t error;
	bool conflict;

	if (init == NULL || ifpp == NULL)
		return EINVAL;
	if ((error = dlil_if_check_params(init)) != 0)
		return error;
	ifp = kalloc_tag(sizeof(*ifp), dlil_tag);
	if (ifp == NULL)
		return ENOMEM;
	bzero(ifp, sizeof(*ifp));
	dlil_if_init_fields(ifp, init);
	simple_lock_init(&ifp->if_lock, "ifnet");
	ifp->if_state = IF_STATE_EMBRYO;
	ifp->if_refcnt = 1;
	TAILQ_INIT(&ifp->if_protos);
	TAILQ_INIT(&ifp->if_filters);
	TAILQ_INIT(&ifp->if_addrs);

	simple_lock(&dlil_ifnet_all_lock);
	TAILQ_INSERT_TAIL(&ifnet_all, ifp, if_all_link);
	simple_unlock(&dlil_ifnet_all_lock);
	lck_rw_lock_shared(dlil_ifnet_lock);
	conflict = dlil_if_conflict(ifp);
	lck_rw_unlock_shared(dlil_ifnet_lock);
	if (conflict) {
		dlil_if_free(ifp);
		return EEXIST;
	}
	*ifpp = ifp;
	return 0;
}

/* The AF_LINK address every attached interface carries (name, lladdr). */
struct dlil_link_ifaddr {
	struct ifaddr	dli_ifa;
	union {
		struct sockaddr_dl	sdl;
		u_char			buf[sizeof(struct sockaddr_dl) +
					    IFNAMSIZ + IF_LLADDR_MAX];
	} dli_addr;
};

static void
dlil_link_ifaddr_free(struct ifaddr *ifa)
{
	kfree_tag(ifa, sizeof(struct dlil_link_ifaddr), dlil_tag);
}

/* Write name and link address into the AF_LINK address.  if_lock held. */
static void
dlil_link_ifaddr_fill(ifnet_t ifp, struct dlil_link_ifaddr *dli)
{
	struct sockaddr_dl *sdl = &dli->dli_addr.sdl;
	size_t nlen = strlen(ifp->if_xname);

	bzero(&dli->dli_addr, sizeof(dli->dli_addr));
	sdl->sdl_family = AF_LINK;
	sdl->sdl_index = (u_short)ifp->if_index;
	sdl->sdl_type = ifp->if_type;
	sdl->sdl_nlen = (u_char)nlen;
	sdl->sdl_alen = ifp->if_addrlen;
	memcpy(sdl->sdl_data, ifp->if_xname, nlen);
	memcpy(LLADDR(sdl), ifp->if_lladdr, ifp->if_addrlen);
	sdl->sdl_len = (u_char)(offsetof(struct sockaddr_dl, sdl_data) +
	    nlen + ifp->if_addrlen);
	if (sdl->sdl_len < sizeof(*sdl))
		sdl->sdl_len = sizeof(*sdl);
}

static struct dlil_link_ifaddr *
dlil_link_ifaddr_alloc(void)
{
	struct dlil_link_ifaddr *dli;

	dli = kalloc_tag(sizeof(*dli), dlil_tag);
	if (dli == NULL)
		return NULL;
	bzero(dli, sizeof(*dli));
	dli->dli_ifa.ifa_addr = (struct sockaddr *)&dli->dli_addr.sdl;
	dli->dli_ifa.ifa_free = dlil_link_ifaddr_free;
	return dli;
}

/* ifnet_set_lladdr: the new address shows in the AF_LINK ifaddr too. */
void
dlil_set_lladdr_locked(ifnet_t ifp)
{
	if (ifp->if_lladdr_ifa != NULL)
		dlil_link_ifaddr_fill(ifp,
		    (struct dlil_link_ifaddr *)ifp->if_lladdr_ifa);
}

/* Adopt the driver's link address, if it gave one. */
static errno_t
dlil_if_take_lladdr(ifnet_t ifp, const struct sockaddr_dl *ll_addr)
{
	if (ll_addr == NULL || ll_addr->sdl_alen == 0)
		return 0;
	if (ll_addr->sdl_alen > IF_LLADDR_MAX ||
	    (ifp->if_addrlen != 0 && ll_addr->sdl_alen != ifp->if_addrlen))
		return EINVAL;
	simple_lock(&ifp->if_lock);
	ifp->if_addrlen = ll_addr->sdl_alen;
	memcpy(ifp->if_lladdr, (const char *)ll_addr->sdl_data +
	    ll_addr->sdl_nlen, ll_addr->sdl_alen);
	simple_unlock(&ifp->if_lock);
	return 0;
}

/* Default taps: the link types the DLIL knows from the interface type. */
static void
dlil_if_default_bpf(ifnet_t ifp)
{
	if (ifp->if_bpf_attached)
		return;
	if (ifp->if_type == IFT_ETHER)
		bpf_attach(ifp, DLT_EN10MB, 14, NULL, NULL);
	else if (ifp->if_type == IFT_LOOP)
		bpf_attach(ifp, DLT_NULL, sizeof(u_int32_t), NULL, NULL);
}

errno_t
dlil_if_attach(ifnet_t ifp, const struct sockaddr_dl *ll_addr)
{
	struct dlil_link_ifaddr *dli;
	errno_t error = 0;

	if (ifp == NULL)
		return EINVAL;
	if ((error = dlil_if_take_lladdr(ifp, ll_addr)) != 0)
		return error;
	if ((dli = dlil_link_ifaddr_alloc()) == NULL)
		return ENOMEM;

	lck_rw_lock_exclusive(dlil_ifnet_lock);
	if (ifp->if_state != IF_STATE_EMBRYO)
		/* Attached already: EEXIST.  Detached: never again. */
		error = ifp->if_state == IF_STATE_ATTACHED ? EEXIST : EINVAL;
	else if (dlil_if_conflict(ifp))
		error = EEXIST;
	if (error != 0) {
		lck_rw_unlock_exclusive(dlil_ifnet_lock);
		dlil_link_ifaddr_free(&dli->dli_ifa);
		return error;
	}
	simple_lock(&ifp->if_lock);
	ifp->if_index = ++dlil_if_index_last;
	ifp->if_state = IF_STATE_ATTACHED;
	ifp->if_refcnt++;			/* the attachment's */
	dli->dli_ifa.ifa_ifp = ifp;
	dli->dli_ifa.ifa_refcnt = 1;		/* the list's */
	dlil_link_ifaddr_fill(ifp, dli);
	ifp->if_lladdr_ifa = &dli->dli_ifa;
	TAILQ_INSERT_HEAD(&ifp->if_addrs, &dli->dli_ifa, ifa_link);
	microtime(&ifp->if_lastchange);
	simple_unlock(&ifp->if_lock);
	TAILQ_INSERT_TAIL(&ifnet_head, ifp, if_link);
	lck_rw_unlock_exclusive(dlil_ifnet_lock);

	dlil_if_default_bpf(ifp);
	dlil_post_msg(ifp, KEV_DL_IF_ATTACHED);
	return 0;
}

/* ---- Detach ---- */

LINKER_SET_DECLARE(if_detach, const struct if_detach_handler);

/* Tell the protocols that keep state about ifp (if_detach_var.h). */
static void
dlil_if_detach_handlers(ifnet_t ifp)
{
	const struct if_detach_handler *const *h;

	LINKER_SET_FOREACH(if_detach, h)
		(*h)->ifd_func(ifp);
}

/*
 * ifnet_detach: take the interface off the list at once, so nobody finds
 * it any more, and refuse new packets; the protocols that keep state
 * about it (addresses, routes) forget it now.  What is in flight drains; the
 * last dlil_ifnet_unuse queues dlil_if_detach_final for the DLIL thread.
 * The extra use taken here makes sure the final step cannot run before
 * KEV_DL_IF_DETACHING is out.
 */
errno_t
dlil_if_detach(ifnet_t ifp)
{
	errno_t error = 0;

	if (ifp == NULL)
		return EINVAL;
	lck_rw_lock_exclusive(dlil_ifnet_lock);
	simple_lock(&ifp->if_lock);
	if (ifp->if_state == IF_STATE_EMBRYO)
		error = EINVAL;
	else if (ifp->if_state != IF_STATE_ATTACHED)
		error = ENXIO;
	else {
		ifp->if_state = IF_STATE_DETACHING;
		ifp->if_usecount++;
	}
	simple_unlock(&ifp->if_lock);
	if (error == 0)
		TAILQ_REMOVE(&ifnet_head, ifp, if_link);
	lck_rw_unlock_exclusive(dlil_ifnet_lock);
	if (error != 0)
		return error;

	dlil_if_detach_handlers(ifp);
	dlil_post_msg(ifp, KEV_DL_IF_DETACHING);
	dlil_ifnet_unuse(ifp);
	return 0;
}

/* Take every address off the interface (each list reference dropped). */
static void
dlil_if_purge_addrs(ifnet_t ifp)
{
	struct ifaddr *ifa;

	for (;;) {
		simple_lock(&ifp->if_lock);
		ifa = TAILQ_FIRST(&ifp->if_addrs);
		if (ifa != NULL)
			TAILQ_REMOVE(&ifp->if_addrs, ifa, ifa_link);
		if (ifa == ifp->if_lladdr_ifa)
			ifp->if_lladdr_ifa = NULL;
		simple_unlock(&ifp->if_lock);
		if (ifa == NULL)
			break;
		ifaddr_release(ifa);
	}
}

/* Detach every protocol, as if each had called ifnet_detach_protocol. */
static void
dlil_if_purge_protos(ifnet_t ifp)
{
	struct if_proto *proto;
	protocol_family_t pf;

	for (;;) {
		simple_lock(&ifp->if_lock);
		proto = TAILQ_FIRST(&ifp->if_protos);
		pf = proto != NULL ? proto->ip_family : 0;
		simple_unlock(&ifp->if_lock);
		if (proto == NULL)
			break;
		dlil_detach_protocol(ifp, pf);
	}
}

/*
 * The end of a detach, in the DLIL thread, once nothing is in flight:
 * protocols, filters, addresses and the packet tap's functions go, the
 * driver hears `detached` -- its last call -- and KEV_DL_IF_DETACHED is
 * posted.  Then the attachment's reference goes.  if_detach_running
 * tells the unload check that the driver's code still runs.
 */
void
dlil_if_detach_final(ifnet_t ifp)
{
	struct kext_call kc;

	dlil_if_purge_protos(ifp);
	iflt_detach_all(ifp);
	dlil_if_purge_addrs(ifp);

	simple_lock(&ifp->if_lock);
	ifp->if_state = IF_STATE_DETACHED;
	ifp->if_flags &= ~(IFF_UP | IFF_RUNNING);
	ifp->if_bpf_send = NULL;
	ifp->if_bpf_tap = NULL;
	ifp->if_bpf_attached = false;
	ifp->if_detach_running = ifp->if_detached != NULL;
	simple_unlock(&ifp->if_lock);
	if (ifp->if_detached != NULL) {
		kext_call_begin(&kc);
		ifp->if_detached(ifp);
		kext_call_end(&kc, ifp->if_detached);
		simple_lock(&ifp->if_lock);
		ifp->if_detach_running = false;
		simple_unlock(&ifp->if_lock);
	}
	dlil_post_msg(ifp, KEV_DL_IF_DETACHED);
	dlil_ifnet_release(ifp);
}

/* ---- Addresses and counters ---- */

void
if_attach_ifaddr(ifnet_t ifp, struct ifaddr *ifa)
{
	ifaddr_reference(ifa);		/* the list's */
	simple_lock(&ifp->if_lock);
	ifa->ifa_ifp = ifp;
	TAILQ_INSERT_TAIL(&ifp->if_addrs, ifa, ifa_link);
	simple_unlock(&ifp->if_lock);
}

void
if_detach_ifaddr(ifnet_t ifp, struct ifaddr *ifa)
{
	struct ifaddr *cur;

	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(cur, &ifp->if_addrs, ifa_link)
		if (cur == ifa)
			break;
	if (cur != NULL)
		TAILQ_REMOVE(&ifp->if_addrs, ifa, ifa_link);
	simple_unlock(&ifp->if_lock);
	if (cur != NULL)
		ifaddr_release(ifa);
}

void
if_stat_add(ifnet_t ifp, const struct ifnet_stat_increment_param *s)
{
	simple_lock(&ifp->if_lock);
	ifp->if_stats.packets_in += s->packets_in;
	ifp->if_stats.bytes_in += s->bytes_in;
	ifp->if_stats.errors_in += s->errors_in;
	ifp->if_stats.packets_out += s->packets_out;
	ifp->if_stats.bytes_out += s->bytes_out;
	ifp->if_stats.errors_out += s->errors_out;
	ifp->if_stats.collisions += s->collisions;
	ifp->if_stats.dropped += s->dropped;
	simple_unlock(&ifp->if_lock);
}

/* ---- The unload check ---- */

struct dlil_range {
	uint32_t	start, end;
	char		*why;
	size_t		whylen;
};

/*
 * Does a live interface call into [start, end)?  Live: attached, or
 * detaching until its `detached` callback has returned.  An interface
 * that was never attached is not called (only its owner holds it), and
 * a detached one never again.  If so, say so in r->why.  Under
 * dlil_ifnet_all_lock: the interface stays while we look.
 */
static bool
dlil_if_calls_into(ifnet_t ifp, void *arg)
{
	struct dlil_range *r = arg;
	const struct kmod_ptr ptrs[] = {
		KMOD_PTR("output", ifp->if_output),
		KMOD_PTR("demux", ifp->if_demux),
		KMOD_PTR("add_proto", ifp->if_add_proto),
		KMOD_PTR("del_proto", ifp->if_del_proto),
		KMOD_PTR("check_multi", ifp->if_check_multi),
		KMOD_PTR("framer", ifp->if_framer),
		KMOD_PTR("ioctl", ifp->if_ioctl),
		KMOD_PTR("set_bpf_tap", ifp->if_set_bpf_tap),
		KMOD_PTR("detach", ifp->if_detached),
		KMOD_PTR("event", ifp->if_event),
		/* The kernel never reads it, but every driver callback does. */
		KMOD_PTR("softc", ifp->if_softc),
		/* ifnet_set_link_mib_data's, which ifnet_get_link_mib_data
		 * reads (one word: no lock needed to look). */
		KMOD_PTR("link MIB data", ifp->if_linkmib),
	};
	enum if_state state;
	struct kmod_ptr hit;
	bool live;

	simple_lock(&ifp->if_lock);
	state = ifp->if_state;
	live = state == IF_STATE_ATTACHED || state == IF_STATE_DETACHING ||
	    ifp->if_detach_running;
	simple_unlock(&ifp->if_lock);
	if (!live ||
	    !kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), r->start, r->end, &hit))
		return false;
	if (state == IF_STATE_ATTACHED)
		snprintf(r->why, r->whylen, "interface %s (%s 0x%08x) is still "
		    "attached: stop must call ifnet_detach, wait for its "
		    "detach callback, then ifnet_release", ifp->if_xname,
		    hit.kp_name, hit.kp_addr);
	else
		snprintf(r->why, r->whylen, "interface %s (%s 0x%08x) is "
		    "detaching, but its detach callback has not returned yet: "
		    "stop must wait for it", ifp->if_xname, hit.kp_name,
		    hit.kp_addr);
	return true;
}

/* Unload check: an interface a kext allocated and attached. */
static enum kmod_hold
dlil_if_points_into(uint32_t start, uint32_t end, uint64_t stopped,
    char *why, size_t whylen)
{
	struct dlil_range r = { start, end, why, whylen };

	return dlil_ifnet_find_any(dlil_if_calls_into, &r) != NULL ?
	    KMOD_HOLD_PINNED : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(interface, dlil_if_points_into);

/* ---- Start ---- */

void
dlil_init(void)
{
	thread_t th;

	dlil_tag = kalloc_tag_create("dlil", 0);
	dlil_lck_grp = lck_grp_alloc_init("dlil", LCK_GRP_ATTR_NULL);
	dlil_ifnet_lock = lck_rw_alloc_init(dlil_lck_grp, LCK_ATTR_NULL);
	dlil_proto_mtx = lck_mtx_alloc_init(dlil_lck_grp, LCK_ATTR_NULL);
	bpf_init();
	proto_kpi_init();
	if (kernel_thread_start(dlil_input_thread, NULL, &th) != KERN_SUCCESS)
		panic("dlil_init: cannot start the input thread");
	thread_set_name(th, "dlil_input");
	thread_deallocate(th);
	loopattach();
}
