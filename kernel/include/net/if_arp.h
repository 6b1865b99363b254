/*
 * <net/if_arp.h> -- the header every ARP packet starts with (RFC 826):
 * which hardware and protocol, how long their addresses are, and the
 * operation.  The addresses follow; for Ethernet and IPv4 see struct
 * ether_arp in <netinet/if_ether.h>.  Fields are in network byte order.
 */
#ifndef _NET_IF_ARP_H_
#define _NET_IF_ARP_H_

#include <sys/types.h>

struct arphdr {
	u_short	ar_hrd;		/* format of hardware address */
#define ARPHRD_ETHER	1	/* ethernet hardware format */
#define ARPHRD_IEEE802	6	/* token-ring hardware format */
#define ARPHRD_FRELAY	15	/* frame relay hardware format */
#define ARPHRD_IEEE1394	24	/* firewire hardware format */
	u_short	ar_pro;		/* format of protocol address */
	u_char	ar_hln;		/* length of hardware address */
	u_char	ar_pln;		/* length of protocol address */
	u_short	ar_op;		/* one of: */
#define ARPOP_REQUEST	1	/* request to resolve address */
#define ARPOP_REPLY	2	/* response to previous request */
#define ARPOP_REVREQUEST 3	/* request protocol address given hardware */
#define ARPOP_REVREPLY	4	/* response giving protocol address */
#define ARPOP_INVREQUEST 8	/* request to identify peer */
#define ARPOP_INVREPLY	9	/* response identifying peer */
};

#endif /* _NET_IF_ARP_H_ */
