/*
 * IPv4 on an Ethernet: the plumber that attaches PF_INET to an Ethernet
 * interface, and the callbacks it registers.  Inbound, in_ether_input()
 * gets every IPv4 and ARP frame; outbound, in_ether_preoutput() names
 * the MAC (ARP) and type.  XNU calls this bsd/net/ether_inet_pr_module.c.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <sys/sockio.h>
#include <net/if_ether.h>
#include <net/kpi_protocol.h>
#include <netinet/in.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_arp_var.h>
#include <bsd/netinet/ip_var.h>

/* Both ethertypes go to PF_INET; in_ether_input tells them apart. */
static u_int16_t in_ether_types[2] = { htons(ETHERTYPE_IP), htons(ETHERTYPE_ARP) };

/* A frame for us: data after the Ethernet header, which `header` reaches. */
static errno_t
in_ether_input(ifnet_t ifp, protocol_family_t pf, mbuf_t m, char *header)
{
	const struct ether_header *eh = (const struct ether_header *)header;

	if (eh->ether_type == htons(ETHERTYPE_ARP))
		arp_input(ifp, m);
	else
		ip_input(m);
	return 0;		/* consumed: every drop is counted inside */
}

/*
 * Before the framer: which MAC and which ethertype.  An AF_INET
 * destination is the next hop, resolved by ARP (EJUSTRETURN: ARP holds
 * the packet until the reply).  An AF_UNSPEC one carries a ready
 * Ethernet header in sa_data (how ARP sends its own packets).
 */
static errno_t
in_ether_preoutput(ifnet_t ifp, protocol_family_t pf, mbuf_t *mp,
    const struct sockaddr *dest, void *route, char *frame_type, char *ll_dest)
{
	const struct ether_header *eh;
	u_int16_t type = htons(ETHERTYPE_IP);
	errno_t error;

	if (dest == NULL)
		return EINVAL;
	switch (dest->sa_family) {
	case AF_UNSPEC:
		eh = (const struct ether_header *)dest->sa_data;
		memcpy(ll_dest, eh->ether_dhost, ETHER_ADDR_LEN);
		memcpy(frame_type, &eh->ether_type, sizeof(eh->ether_type));
		return 0;
	case AF_INET:
		error = arp_resolve(ifp,
		    ((const struct sockaddr_in *)dest)->sin_addr, *mp,
		    (u_char *)ll_dest);
		if (error == 0)
			memcpy(frame_type, &type, sizeof(type));
		if (error == EJUSTRETURN)
			*mp = NULL;
		return error;
	default:
		return EAFNOSUPPORT;
	}
}

/* The link came back: announce our address again (docs/design.md: QEMU's
 * user networking learns it only from what the guest sends). */
static void
in_ether_event(ifnet_t ifp, protocol_family_t pf, const struct kev_msg *ev)
{
	if (ev->vendor_code == KEV_VENDOR_APPLE &&
	    ev->kev_class == KEV_NETWORK_CLASS &&
	    ev->kev_subclass == KEV_DL_SUBCLASS &&
	    ev->event_code == KEV_DL_LINK_ON)
		arp_gratuitous(ifp);
}

/*
 * An address ioctl that in_control passes down (ifnet_ioctl, PF_INET):
 * announce a new address, as XNU's ether_inet_prmod_ioctl does with
 * arp_ifinit.  0 lets the driver see it too.
 */
static errno_t
in_ether_ioctl(ifnet_t ifp, protocol_family_t pf, u_int32_t cmd, void *data)
{
	const struct ifaliasreq *ifra = data;
	const struct sockaddr_in *sin;

	if (cmd != SIOCAIFADDR || data == NULL)
		return EOPNOTSUPP;
	sin = (const struct sockaddr_in *)&ifra->ifra_addr;
	if (sin->sin_family == AF_INET)
		arp_gratuitous_addr(ifp, sin->sin_addr);
	return 0;
}

/* IPv4 is off the interface for good: forget what pointed at it. */
static errno_t
in_ether_detached(ifnet_t ifp, protocol_family_t pf)
{
	arp_ifdetach(ifp);
	in_ifaddr_purge(ifp);
	return 0;
}

/* The plumber: attach PF_INET to an Ethernet interface. */
errno_t
in_ether_plumb(ifnet_t ifp, protocol_family_t pf)
{
	struct ifnet_demux_desc demux[2] = {
		{ DLIL_DESC_ETYPE2, &in_ether_types[0], sizeof(u_int16_t) },
		{ DLIL_DESC_ETYPE2, &in_ether_types[1], sizeof(u_int16_t) },
	};
	struct ifnet_attach_proto_param param;

	bzero(&param, sizeof(param));
	param.demux_array = demux;
	param.demux_count = 2;
	param.input = in_ether_input;
	param.pre_output = in_ether_preoutput;
	param.event = in_ether_event;
	param.ioctl = in_ether_ioctl;
	param.detached = in_ether_detached;
	return ifnet_attach_protocol(ifp, pf, &param);
}

errno_t
in_plumb(ifnet_t ifp)
{
	errno_t error = proto_plumb(PF_INET, ifp);

	return error == EEXIST ? 0 : error;
}
