/*
 * The DLIL's output path, in the sender's thread:
 *   ifnet_output -> protocol pre_output -> framer -> interface filters ->
 *   bpf tap -> driver output
 * Input is dlil_input.c; the protocols' side of it is dlil_proto.c.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/kext_call.h>
#include <bsd/net/dlil_var.h>
#include <bsd/net/netstat_var.h>

#define DLIL_FRAME_TYPE_MAX	16	/* room for a protocol's frame type */
#define DLIL_LLADDR_MAX		32	/* room for a link destination */

/*
 * The protocol's pre_output (it resolves the link destination, e.g.
 * ARP) and the driver's framer (it prepends the link header).  On error
 * or EJUSTRETURN the packet is gone and *mp is NULL.
 */
static errno_t
dlil_output_frame(ifnet_t ifp, protocol_family_t pf, mbuf_t *mp,
    void *route, const struct sockaddr *dest)
{
	char frame_type[DLIL_FRAME_TYPE_MAX] = { 0 };
	char ll_dest[DLIL_LLADDR_MAX] = { 0 };
	struct if_proto *proto;
	struct kext_call kc;
	errno_t error;

	proto = dlil_proto_find(ifp, pf);
	if (proto == NULL) {
		dlil_drop(*mp, &dlil_stat.output_no_protocol);
		*mp = NULL;
		return ENOENT;
	}
	kext_call_begin(&kc);
	error = proto->ip_kpi.pre_output(ifp, pf, mp, dest, route,
	    frame_type, ll_dest);
	kext_call_end(&kc, proto->ip_kpi.pre_output);
	dlil_proto_release(proto);
	if (error == 0 && ifp->if_framer != NULL) {
		kext_call_begin(&kc);
		error = ifp->if_framer(ifp, mp, dest, ll_dest, frame_type);
		kext_call_end(&kc, ifp->if_framer);
		if (error != 0 && error != EJUSTRETURN)
			dlil_drop(*mp, &dlil_stat.output_framer_error);
	} else if (error != 0 && error != EJUSTRETURN)
		dlil_drop(*mp, &dlil_stat.output_preout_error);
	if (error != 0)
		*mp = NULL;
	/* EJUSTRETURN: the protocol kept the packet (ARP holds it). */
	return error == EJUSTRETURN ? 0 : error;
}

/*
 * ifnet_output (raw false) and ifnet_output_raw (raw true).  Always
 * consumes the packet.  Runs in the caller's thread; never sleeps.
 */
errno_t
dlil_output(ifnet_t ifp, protocol_family_t pf, mbuf_t m, void *route,
    const struct sockaddr *dest, bool raw)
{
	struct kext_call kc;
	errno_t error = 0;

	if (ifp == NULL || m == NULL) {
		if (m != NULL)
			mbuf_freem(m);
		return EINVAL;
	}
	if (!dlil_ifnet_use(ifp)) {
		dlil_drop(m, &dlil_stat.output_if_not_attached);
		return ENXIO;
	}
	if ((ifp->if_flags & IFF_UP) == 0) {
		dlil_drop(m, &dlil_stat.output_if_down);
		error = ENETDOWN;
		goto out;
	}
	if (!raw) {
		error = dlil_output_frame(ifp, pf, &m, route, dest);
		if (m == NULL)
			goto out;
	}
	error = iflt_output(ifp, pf, &m);
	if (error != 0) {
		if (error == EJUSTRETURN)
			error = 0;
		else
			dlil_drop(m, &dlil_stat.output_filter_drop);
		goto out;
	}
	dlil_bpf_tap(ifp, m, NULL, 0, true);
	/* The driver owns the packet from here, even when it fails. */
	kext_call_begin(&kc);
	error = ifp->if_output(ifp, m);
	kext_call_end(&kc, ifp->if_output);
	if (error != 0)
		NETSTAT_INC(dlil_stat.output_driver_error);
	else
		NETSTAT_INC(dlil_stat.output_packets);
out:
	dlil_ifnet_unuse(ifp);
	return error;
}
