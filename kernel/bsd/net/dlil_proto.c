/*
 * Protocols on interfaces (ifnet_attach_protocol): attach, detach, and
 * the references that let a packet inside a protocol outlive a detach.
 * dlil_input.c hands packets to them, dlil_output.c calls their
 * pre_output, dlil_ctl.c passes them events and ioctls.  A kext that
 * stops with a protocol still attached is kept in memory (the unload
 * check at the end).
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/locks.h>
#include <bsd/net/dlil_var.h>

/* Serializes protocol attach and detach: add_proto/del_proto never race. */
lck_mtx_t	*dlil_proto_mtx;

/*
 * Every attached protocol until its `detached` callback has returned: a
 * detaching one is off its interface's list but still called while a
 * packet holds it.  dlil_proto_all_lock, a spin lock, is never taken
 * with if_lock held.
 */
static LIST_HEAD(, if_proto) dlil_proto_all =
    LIST_HEAD_INITIALIZER(dlil_proto_all);
static simple_lock_data_t dlil_proto_all_lock =
    SIMPLE_LOCK_INITIALIZER("dlil_proto_all");

/* Find an attached protocol and take a reference on it (NULL: none). */
struct if_proto *
dlil_proto_find(ifnet_t ifp, protocol_family_t pf)
{
	struct if_proto *proto;

	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(proto, &ifp->if_protos, ip_link)
		if (proto->ip_family == pf) {
			proto->ip_refcnt++;
			break;
		}
	simple_unlock(&ifp->if_lock);
	return proto;
}

/* Drop a reference; the last one tells the protocol it is detached. */
void
dlil_proto_release(struct if_proto *proto)
{
	ifnet_t ifp = proto->ip_ifp;
	struct kext_call kc;
	bool last;

	simple_lock(&ifp->if_lock);
	last = --proto->ip_refcnt == 0;
	simple_unlock(&ifp->if_lock);
	if (!last)
		return;
	if (proto->ip_kpi.detached != NULL) {
		kext_call_begin(&kc);
		proto->ip_kpi.detached(ifp, proto->ip_family);
		kext_call_end(&kc, proto->ip_kpi.detached);
	}
	/* Only now: until `detached` returns, its kext must stay. */
	simple_lock(&dlil_proto_all_lock);
	LIST_REMOVE(proto, ip_all);
	simple_unlock(&dlil_proto_all_lock);
	kfree_tag(proto, sizeof(*proto), dlil_tag);
	dlil_ifnet_release(ifp);
}

bool
dlil_protocol_attached(ifnet_t ifp, protocol_family_t pf)
{
	struct if_proto *proto = dlil_proto_find(ifp, pf);

	if (proto == NULL)
		return false;
	dlil_proto_release(proto);
	return true;
}

static void
dlil_post_proto_msg(ifnet_t ifp, u_int32_t code, protocol_family_t pf,
    u_int32_t remaining)
{
	struct kev_dl_proto_data data;
	struct kev_msg msg;

	bzero(&data, sizeof(data));
	data.proto_family = pf;
	data.proto_remaining_count = remaining;
	dlil_event_msg_init(&msg, ifp, KEV_DL_SUBCLASS, code, &data.link_data,
	    sizeof(data));
	dlil_event(ifp, &msg);
}

static struct if_proto *
dlil_proto_alloc(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_attach_proto_param *param)
{
	struct if_proto *proto;

	proto = kalloc_tag(sizeof(*proto), dlil_tag);
	if (proto == NULL)
		return NULL;
	bzero(proto, sizeof(*proto));
	proto->ip_ifp = ifp;
	proto->ip_family = pf;
	proto->ip_kpi = *param;
	proto->ip_kpi.demux_array = NULL;	/* the driver has copied it */
	proto->ip_kpi.demux_count = 0;
	proto->ip_refcnt = 1;			/* the list's */
	return proto;
}

errno_t
dlil_attach_protocol(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_attach_proto_param *param)
{
	struct if_proto *proto, *dup;
	struct kext_call kc;
	u_int32_t count = 0;
	errno_t error;

	if (ifp == NULL || param == NULL || param->input == NULL ||
	    param->pre_output == NULL)
		return EINVAL;
	if ((proto = dlil_proto_alloc(ifp, pf, param)) == NULL)
		return ENOMEM;
	if (!dlil_ifnet_use(ifp)) {
		kfree_tag(proto, sizeof(*proto), dlil_tag);
		return ENXIO;
	}
	lck_mtx_lock(dlil_proto_mtx);
	dup = dlil_proto_find(ifp, pf);
	if (dup != NULL) {
		dlil_proto_release(dup);
		error = EEXIST;
	} else if (ifp->if_proto_count >= IF_MAX_PROTOS)
		error = ENOSPC;
	else {
		kext_call_begin(&kc);
		error = ifp->if_add_proto(ifp, pf, param->demux_array,
		    param->demux_count);
		kext_call_end(&kc, ifp->if_add_proto);
	}
	if (error == 0) {
		dlil_ifnet_reference(ifp);	/* the protocol's */
		simple_lock(&ifp->if_lock);
		TAILQ_INSERT_TAIL(&ifp->if_protos, proto, ip_link);
		count = ++ifp->if_proto_count;
		simple_unlock(&ifp->if_lock);
		simple_lock(&dlil_proto_all_lock);
		LIST_INSERT_HEAD(&dlil_proto_all, proto, ip_all);
		simple_unlock(&dlil_proto_all_lock);
	}
	lck_mtx_unlock(dlil_proto_mtx);
	if (error == 0)
		dlil_post_proto_msg(ifp, KEV_DL_PROTO_ATTACHED, pf, count);
	else
		kfree_tag(proto, sizeof(*proto), dlil_tag);
	dlil_ifnet_unuse(ifp);
	return error;
}

/*
 * Take the protocol off the list (no new packet reaches it), tell the
 * driver, post the event; the protocol's `detached` runs when the last
 * packet inside it is done (dlil_proto_release).
 */
errno_t
dlil_detach_protocol(ifnet_t ifp, protocol_family_t pf)
{
	struct if_proto *proto;
	struct kext_call kc;
	u_int32_t count = 0;

	if (ifp == NULL)
		return EINVAL;
	lck_mtx_lock(dlil_proto_mtx);
	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(proto, &ifp->if_protos, ip_link)
		if (proto->ip_family == pf)
			break;
	if (proto != NULL) {
		TAILQ_REMOVE(&ifp->if_protos, proto, ip_link);
		proto->ip_detaching = true;
		count = --ifp->if_proto_count;
	}
	simple_unlock(&ifp->if_lock);
	if (proto != NULL) {
		kext_call_begin(&kc);
		ifp->if_del_proto(ifp, pf);
		kext_call_end(&kc, ifp->if_del_proto);
	}
	lck_mtx_unlock(dlil_proto_mtx);
	if (proto == NULL)
		return ENOENT;
	dlil_post_proto_msg(ifp, KEV_DL_PROTO_DETACHED, pf, count);
	dlil_proto_release(proto);
	return 0;
}

/* References to every attached protocol, for calls made without if_lock. */
int
dlil_protos_snapshot(ifnet_t ifp, struct if_proto **out)
{
	struct if_proto *proto;
	int n = 0;

	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(proto, &ifp->if_protos, ip_link) {
		if (n == IF_MAX_PROTOS)
			break;
		proto->ip_refcnt++;
		out[n++] = proto;
	}
	simple_unlock(&ifp->if_lock);
	return n;
}

/* Which of the protocol's callbacks lies in [start, end), if one does. */
static bool
dlil_proto_ptr_find(const struct ifnet_attach_proto_param *k, uint32_t start,
    uint32_t end, struct kmod_ptr *hit)
{
	const struct kmod_ptr ptrs[] = {
		KMOD_PTR("input", k->input),
		KMOD_PTR("pre_output", k->pre_output),
		KMOD_PTR("event", k->event),
		KMOD_PTR("ioctl", k->ioctl),
		KMOD_PTR("detached", k->detached),
		KMOD_PTR("resolve", k->resolve),
		KMOD_PTR("send_arp", k->send_arp),
	};

	return kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), start, end, hit);
}

/*
 * Unload check: a protocol attached with callbacks in the image, until
 * its `detached` callback has returned (ifnet_detach_protocol takes it
 * off the interface at once, but a packet inside it keeps it).
 */
static enum kmod_hold
dlil_proto_points_into(uint32_t start, uint32_t end, uint64_t stopped,
    char *why, size_t whylen)
{
	struct if_proto *proto;
	struct kmod_ptr hit;

	simple_lock(&dlil_proto_all_lock);
	LIST_FOREACH(proto, &dlil_proto_all, ip_all)
		if (dlil_proto_ptr_find(&proto->ip_kpi, start, end, &hit))
			break;
	/* ip_detaching is read without if_lock: it only chooses words. */
	if (proto != NULL)
		snprintf(why, whylen, "protocol family %u (%s 0x%08x) %s %s: "
		    "stop must %s", proto->ip_family, hit.kp_name, hit.kp_addr,
		    proto->ip_detaching ? "is detaching from" :
		    "is still attached to", proto->ip_ifp->if_xname,
		    proto->ip_detaching ? "wait for its detached callback, "
		    "which comes once the packet inside it is done" :
		    "call ifnet_detach_protocol and wait for its detached "
		    "callback");
	simple_unlock(&dlil_proto_all_lock);
	return proto != NULL ? KMOD_HOLD_PINNED : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(protocol_attachment, dlil_proto_points_into);
