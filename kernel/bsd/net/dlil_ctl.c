/*
 * The DLIL's control path: events about an interface (its filters,
 * protocols and driver hear them, then every kernel-event listener),
 * link changes from drivers, and ifnet_ioctl.  Packets go through
 * dlil_input.c and dlil_output.c; the interfaces themselves are dlil.c.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <kern/kext_call.h>
#include <bsd/net/dlil_var.h>

/*
 * An event about ifp: interface filters, protocols and the driver hear
 * it, then it is posted to every kernel-event listener.
 */
errno_t
dlil_event(ifnet_t ifp, const struct kev_msg *ev)
{
	struct if_proto *protos[IF_MAX_PROTOS];
	struct kev_msg copy = *ev;
	struct kext_call kc;
	proto_media_event event;
	int i, n;

	iflt_event(ifp, ev);
	n = dlil_protos_snapshot(ifp, protos);
	for (i = 0; i < n; i++) {
		if ((event = protos[i]->ip_kpi.event) != NULL) {
			kext_call_begin(&kc);
			event(ifp, protos[i]->ip_family, ev);
			kext_call_end(&kc, event);
		}
		dlil_proto_release(protos[i]);
	}
	if (ifp->if_event != NULL && ifp->if_state != IF_STATE_DETACHED) {
		kext_call_begin(&kc);
		ifp->if_event(ifp, ev);
		kext_call_end(&kc, ifp->if_event);
	}
	return kev_post_kernel(&copy);
}

/*
 * The one place a network event is built: Apple's vendor code, the
 * network class, subclass and code, and data (len bytes) as the payload.
 * A network event's payload starts with a struct net_event_data naming
 * the interface: this fills it in from ifp.
 */
void
dlil_event_msg_init(struct kev_msg *msg, ifnet_t ifp, u_int32_t subclass,
    u_int32_t code, struct net_event_data *data, u_int32_t len)
{
	bzero(msg, sizeof(*msg));
	bzero(data, sizeof(*data));
	data->if_family = ifp->if_family;
	data->if_unit = ifp->if_unit;
	strlcpy(data->if_name, ifp->if_name, IFNAMSIZ);
	msg->vendor_code = KEV_VENDOR_APPLE;
	msg->kev_class = KEV_NETWORK_CLASS;
	msg->kev_subclass = subclass;
	msg->event_code = code;
	msg->dv[0].data_length = len;
	msg->dv[0].data_ptr = data;
}

void
dlil_post_msg(ifnet_t ifp, u_int32_t event_code)
{
	struct net_event_data data;
	struct kev_msg msg;

	dlil_event_msg_init(&msg, ifp, KEV_DL_SUBCLASS, event_code, &data,
	    sizeof(data));
	dlil_event(ifp, &msg);
}

/*
 * A link change from the driver, perhaps in an interrupt handler: note
 * it and let the DLIL thread post the event.  Transitions are queued
 * (at most IF_LINK_QLEN), so a quick down-up still posts both.
 */
void
dlil_link_event(ifnet_t ifp, bool up)
{
	enum if_link_state state = up ? IF_LINK_UP : IF_LINK_DOWN;
	enum if_link_state last;
	bool post = false;

	simple_lock(&ifp->if_lock);
	last = ifp->if_link_qlen > 0 ?
	    ifp->if_link_queue[ifp->if_link_qlen - 1] : ifp->if_link_state;
	if (state != last) {
		if (ifp->if_link_qlen == IF_LINK_QLEN)
			ifp->if_link_qlen--;	/* keep the newest */
		ifp->if_link_queue[ifp->if_link_qlen++] = state;
		post = true;
	}
	simple_unlock(&ifp->if_lock);
	if (post)
		dlil_work_post(ifp, IF_WORK_LINK);
}

/* In the DLIL thread: post the queued link transitions, in order. */
void
dlil_link_post(ifnet_t ifp)
{
	enum if_link_state state;

	for (;;) {
		simple_lock(&ifp->if_lock);
		if (ifp->if_link_qlen == 0) {
			simple_unlock(&ifp->if_lock);
			return;
		}
		state = ifp->if_link_queue[0];
		ifp->if_link_qlen--;
		memmove(&ifp->if_link_queue[0], &ifp->if_link_queue[1],
		    ifp->if_link_qlen * sizeof(ifp->if_link_queue[0]));
		ifp->if_link_state = state;
		simple_unlock(&ifp->if_lock);
		dlil_post_msg(ifp, state == IF_LINK_UP ? KEV_DL_LINK_ON :
		    KEV_DL_LINK_OFF);
	}
}

/* One ioctl handler's answer: EOPNOTSUPP means "not mine, go on". */
static bool
dlil_ioctl_result(errno_t result, errno_t *retval)
{
	if (result == EOPNOTSUPP)
		return false;
	if (result == EJUSTRETURN) {
		*retval = 0;
		return true;		/* handled: stop */
	}
	*retval = result;
	return result != 0;		/* an error stops */
}

/*
 * ifnet_ioctl: interface filters, then the protocol (if pf is not 0),
 * then the driver.  EOPNOTSUPP if nobody handled it.
 */
errno_t
dlil_ioctl(ifnet_t ifp, protocol_family_t pf, u_int32_t cmd, void *arg)
{
	struct if_proto *proto;
	errno_t retval = EOPNOTSUPP, result;
	struct kext_call kc;
	bool stop;

	if (ifp == NULL)
		return EINVAL;
	if (!dlil_ifnet_use(ifp))
		return ENXIO;
	stop = iflt_ioctl(ifp, pf, cmd, arg, &retval);
	if (!stop && pf != 0 && (proto = dlil_proto_find(ifp, pf)) != NULL) {
		if (proto->ip_kpi.ioctl != NULL) {
			kext_call_begin(&kc);
			result = proto->ip_kpi.ioctl(ifp, pf, cmd, arg);
			kext_call_end(&kc, proto->ip_kpi.ioctl);
			stop = dlil_ioctl_result(result, &retval);
		}
		dlil_proto_release(proto);
	}
	if (!stop && ifp->if_ioctl != NULL) {
		kext_call_begin(&kc);
		result = ifp->if_ioctl(ifp, cmd, arg);
		kext_call_end(&kc, ifp->if_ioctl);
		dlil_ioctl_result(result, &retval);
	}
	dlil_ifnet_unuse(ifp);
	return retval;
}
