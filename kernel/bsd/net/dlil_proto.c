/*
 * Protocols on interfaces (ifnet_attach_protocol): attach, detach, and
 * the references that let a packet inside a protocol outlive a detach.
 * dlil_input.c hands packets to them, dlil_output.c calls their
 * pre_output, dlil_ctl.c passes them events and ioctls.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <kern/kalloc.h>
#include <kern/locks.h>
#include <bsd/net/dlil_var.h>

/* Serializes protocol attach and detach: add_proto/del_proto never race. */
lck_mtx_t	*dlil_proto_mtx;

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
	bool last;

	simple_lock(&ifp->if_lock);
	last = --proto->ip_refcnt == 0;
	simple_unlock(&ifp->if_lock);
	if (!last)
		return;
	if (proto->ip_kpi.detached != NULL)
		proto->ip_kpi.detached(ifp, proto->ip_family);
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
	else
		error = ifp->if_add_proto(ifp, pf, param->demux_array,
		    param->demux_count);
	if (error == 0) {
		dlil_ifnet_reference(ifp);	/* the protocol's */
		simple_lock(&ifp->if_lock);
		TAILQ_INSERT_TAIL(&ifp->if_protos, proto, ip_link);
		count = ++ifp->if_proto_count;
		simple_unlock(&ifp->if_lock);
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
	if (proto != NULL)
		ifp->if_del_proto(ifp, pf);
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
