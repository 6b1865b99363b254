/*
 * <netinet/if_ether.h> -- ARP for IPv4 over Ethernet: the 28-byte packet
 * (struct ether_arp) and the mapping of IPv4 multicast groups to
 * Ethernet multicast addresses (RFC 1112).  The Ethernet header itself
 * is in <net/if_ether.h>.
 */
#ifndef _NETINET_IF_ETHER_H_
#define _NETINET_IF_ETHER_H_

#include <sys/types.h>
#include <net/if_arp.h>
#include <net/if_ether.h>
#include <netinet/in.h>

/*
 * An ARP packet for IPv4 over Ethernet: the generic header, then sender
 * and target hardware (MAC) and protocol (IPv4) addresses.
 */
struct ether_arp {
	struct arphdr	ea_hdr;		/* fixed-size header */
	u_char	arp_sha[ETHER_ADDR_LEN];	/* sender hardware address */
	u_char	arp_spa[4];		/* sender protocol address */
	u_char	arp_tha[ETHER_ADDR_LEN];	/* target hardware address */
	u_char	arp_tpa[4];		/* target protocol address */
} __packed;
#define arp_hrd	ea_hdr.ar_hrd
#define arp_pro	ea_hdr.ar_pro
#define arp_hln	ea_hdr.ar_hln
#define arp_pln	ea_hdr.ar_pln
#define arp_op	ea_hdr.ar_op

/*
 * The Ethernet address of an IPv4 multicast group: 01:00:5e and the low
 * 23 bits of the group address.  ipaddr is a struct in_addr *, enaddr
 * a u_char[6].
 */
#define ETHER_MAP_IP_MULTICAST(ipaddr, enaddr) do {			\
	const u_char *__ip = (const u_char *)(ipaddr);			\
	(enaddr)[0] = 0x01;						\
	(enaddr)[1] = 0x00;						\
	(enaddr)[2] = 0x5e;						\
	(enaddr)[3] = __ip[1] & 0x7f;					\
	(enaddr)[4] = __ip[2];						\
	(enaddr)[5] = __ip[3];						\
} while (0)

#endif /* _NETINET_IF_ETHER_H_ */
