/*
 * IPv4 on interfaces -- start reading bsd/netinet here.  in_init() starts
 * IPv4 and registers a plumber that attaches PF_INET to Ethernets through
 * the protocol KPI.  Inbound, in_ether_input() gets every IPv4 and ARP
 * frame; outbound, in_ether_preoutput() names the MAC (ARP) and type.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <net/if_ether.h>
#include <net/kpi_protocol.h>
#include <netinet/in.h>
#include <bsd/kern/kern_event_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_arp_var.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/udp_var.h>

/* QEMU's user networking: the guest is 10.0.2.15, the gateway 10.0.2.2. */
#define IN_DEFAULT_ADDR		0x0a00020f	/* 10.0.2.15 */
#define IN_DEFAULT_MASK		0xffffff00	/* /24 */
#define IN_DEFAULT_GATEWAY	0x0a000202	/* 10.0.2.2 */

/* ---- IPv4 on an Ethernet ---- */

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

/* The link came back: announce our address again (DESIGN.md: QEMU's
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

/* IPv4 is off the interface for good: forget what pointed at it. */
static errno_t
in_ether_detached(ifnet_t ifp, protocol_family_t pf)
{
	arp_ifdetach(ifp);
	in_ifaddr_purge(ifp);
	return 0;
}

/* The plumber: attach PF_INET to an Ethernet interface. */
static errno_t
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
	param.detached = in_ether_detached;
	return ifnet_attach_protocol(ifp, pf, &param);
}

errno_t
in_plumb(ifnet_t ifp)
{
	errno_t error = proto_plumb(PF_INET, ifp);

	return error == EEXIST ? 0 : error;
}

/* lo0 attaches IPv4 with its own plumber and callbacks (if_loop.c),
 * which hand its IPv4 packets here through proto_input(). */
static void
in_proto_input(protocol_family_t pf, mbuf_t m)
{
	ip_input(m);
}

/* ---- Addresses at boot ---- */

static bool in_lo0_done, in_en0_done;	/* atomic: set once */

/* 127.0.0.1 on lo0; QEMU's defaults on en0.  Once per boot each, the
 * first time the interface is seen. */
static void
in_configure_default(ifnet_t ifp)
{
	struct in_addr addr, mask, gw, any = { INADDR_ANY };

	if (ifp == lo_ifp) {
		if (__atomic_exchange_n(&in_lo0_done, true, __ATOMIC_SEQ_CST))
			return;
		addr.s_addr = htonl(INADDR_LOOPBACK);
		mask.s_addr = htonl(IN_CLASSA_NET);
		in_ifaddr_set(ifp, addr, mask);
		return;
	}
	if (strcmp(ifnet_name(ifp), "en") != 0 || ifnet_unit(ifp) != 0 ||
	    __atomic_exchange_n(&in_en0_done, true, __ATOMIC_SEQ_CST))
		return;
	addr.s_addr = htonl(IN_DEFAULT_ADDR);
	mask.s_addr = htonl(IN_DEFAULT_MASK);
	gw.s_addr = htonl(IN_DEFAULT_GATEWAY);
	if (in_ifaddr_set(ifp, addr, mask) == 0 &&
	    in_route_add(any, any, gw, NULL, IN_RTF_STATIC) == 0)
		printf("inet: en0 " IN_ADDR_FMT "/24, default route via "
		    IN_ADDR_FMT "\n", IN_ADDR_ARGS(addr), IN_ADDR_ARGS(gw));
}

/* An interface attached after boot (KEV_DL_IF_ATTACHED). */
static void
in_kev_listener(const struct kern_event_msg *msg, void *arg)
{
	const struct net_event_data *nd;
	char name[IFNAMSIZ + 12];
	ifnet_t ifp;

	if (msg->vendor_code != KEV_VENDOR_APPLE ||
	    msg->kev_class != KEV_NETWORK_CLASS ||
	    msg->kev_subclass != KEV_DL_SUBCLASS ||
	    msg->event_code != KEV_DL_IF_ATTACHED ||
	    msg->total_size < KEV_MSG_HEADER_SIZE + sizeof(*nd))
		return;
	nd = (const struct net_event_data *)msg->event_data;
	snprintf(name, sizeof(name), "%.*s%u", IFNAMSIZ, nd->if_name,
	    nd->if_unit);
	if (ifnet_find_by_name(name, &ifp) != 0)
		return;
	in_configure_default(ifp);
	ifnet_release(ifp);
}

static struct kev_listener in_kev = { .kl_func = in_kev_listener };

/* ---- The once-a-second timer ---- */

static void
in_slowtimo(void *arg)
{
	u_int64_t now = in_time_ms();

	arp_slowtimo(now);
	ip_slowtimo(now);
	timeout(in_slowtimo, NULL, hz);
}

/* ---- Start ---- */

void
in_init(void)
{
	ifnet_t ifp;

	in_ifaddr_init();
	in_route_init();
	arp_init();
	ip_init();
	udp_init();
	if (proto_register_input(PF_INET, in_proto_input, NULL) != 0 ||
	    proto_register_plumber(PF_INET, IFNET_FAMILY_ETHERNET,
	    in_ether_plumb, NULL) != 0)
		panic("in_init: cannot register IPv4 with the DLIL");
	kev_listener_add(&in_kev);
	timeout(in_slowtimo, NULL, hz);

	if (lo_ifp != NULL)
		in_configure_default(lo_ifp);
	if (ifnet_find_by_name("en0", &ifp) == 0) {
		in_configure_default(ifp);
		ifnet_release(ifp);
	}
}
