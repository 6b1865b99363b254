/*
 * <net/if_ether.h> -- Ethernet: the frame header, ethertypes, and the
 * ether_* helpers a driver plugs into ifnet_init_params (demux, add/del
 * proto, framer, check_multi, ioctl) so that it need not write its own.
 * The code is bsd/net/if_ethersubr.c.
 */
#ifndef _NET_IF_ETHER_H_
#define _NET_IF_ETHER_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <net/kpi_interface.h>

#define ETHER_ADDR_LEN	6	/* bytes in a MAC address */
#define ETHER_TYPE_LEN	2	/* bytes in the type field */
#define ETHER_CRC_LEN	4	/* bytes in the frame check sequence */
#define ETHER_HDR_LEN	(ETHER_ADDR_LEN * 2 + ETHER_TYPE_LEN)	/* 14 */
#define ETHER_MIN_LEN	64	/* smallest frame, CRC included */
#define ETHER_MAX_LEN	1518	/* largest frame, CRC included */
#define ETHERMTU	(ETHER_MAX_LEN - ETHER_HDR_LEN - ETHER_CRC_LEN) /* 1500 */
#define ETHERMIN	(ETHER_MIN_LEN - ETHER_HDR_LEN - ETHER_CRC_LEN)

/* The 14-byte header at the start of every frame; ether_type is big-endian. */
struct ether_header {
	u_char	ether_dhost[ETHER_ADDR_LEN];
	u_char	ether_shost[ETHER_ADDR_LEN];
	u_short	ether_type;
} __packed;

struct ether_addr {
	u_char	octet[ETHER_ADDR_LEN];
} __packed;

/* Ethertypes (host byte order: compare with ntohs(ether_type)).  Values
 * below ETHERMTU + 1 are 802.3 lengths, not types: an 802.2 LLC follows. */
#define ETHERTYPE_PUP		0x0200	/* PUP protocol */
#define ETHERTYPE_IP		0x0800	/* IPv4 */
#define ETHERTYPE_ARP		0x0806	/* address resolution */
#define ETHERTYPE_REVARP	0x8035	/* reverse ARP */
#define ETHERTYPE_AT		0x809B	/* AppleTalk */
#define ETHERTYPE_AARP		0x80F3	/* AppleTalk ARP */
#define ETHERTYPE_VLAN		0x8100	/* IEEE 802.1Q VLAN tag */
#define ETHERTYPE_IPV6		0x86DD	/* IPv6 */
#define ETHERTYPE_LOOPBACK	0x9000	/* loopback test */

__BEGIN_DECLS

/*
 * The helpers.  A driver passes them in its ifnet_init_params:
 *	.demux = ether_demux, .add_proto = ether_add_proto,
 *	.del_proto = ether_del_proto, .framer = ether_frameout,
 *	.check_multi = ether_check_multi, .ioctl = ether_ioctl (or its own
 *	ioctl that calls ether_ioctl for what it does not handle).
 */

/* Finds the protocol whose demux descriptor matches the frame's ethertype
 * (or 802.2 SAP/SNAP); ENOENT if none.  Sets MBUF_BCAST/MBUF_MCAST, and
 * MBUF_PROMISC for another host's frame heard in promiscuous mode. */
errno_t	ether_demux(ifnet_t interface, mbuf_t packet, char *header,
	    protocol_family_t *protocol);
/* Records a protocol's DLIL_DESC_ETYPE2/SAP/SNAP descriptors, all or
 * none.  EINVAL for an unknown type or length, ENOSPC if the table is
 * full, EADDRINUSE if another protocol has one of them. */
errno_t	ether_add_proto(ifnet_t interface, protocol_family_t protocol,
	    const struct ifnet_demux_desc *demux_list, u_int32_t demux_count);

/* Forgets every descriptor of the protocol; 0 even if it had none. */
errno_t	ether_del_proto(ifnet_t interface, protocol_family_t protocol);
/* Prepends the Ethernet header: destination dest_lladdr (6 bytes), the
 * interface's own address as source, frame_type (2 bytes, network
 * order).  ENOMEM: *packet has been freed and set to NULL.  EINVAL for
 * a NULL argument (*packet untouched).  Never sleeps. */
errno_t	ether_frameout(ifnet_t interface, mbuf_t *packet,
	    const struct sockaddr *dest, const char *dest_lladdr,
	    const char *frame_type);
/* The generic part of an Ethernet ioctl: SIOCSIFADDR and SIOCAIFADDR
 * bring the interface up, SIOCGIFADDR copies its MAC into ifr_addr,
 * SIOCSIFMTU takes 46 to 1500 (else EINVAL), SIOCSIFFLAGS is accepted;
 * anything else is EOPNOTSUPP. */
errno_t	ether_ioctl(ifnet_t interface, u_int32_t command, void *data);
/* AF_UNSPEC/AF_LINK: a multicast MAC is accepted; EADDRNOTAVAIL
 * otherwise.  Other families: EOPNOTSUPP (their protocol resolves). */
errno_t	ether_check_multi(ifnet_t ifp, const struct sockaddr *multicast);

__END_DECLS

#endif /* _NET_IF_ETHER_H_ */
