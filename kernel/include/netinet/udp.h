/*
 * <netinet/udp.h> -- the UDP header (RFC 768): 8 bytes in front of every
 * datagram's data.  Fields are in network byte order.
 */
#ifndef _NETINET_UDP_H_
#define _NETINET_UDP_H_

#include <sys/types.h>

struct udphdr {
	u_short	uh_sport;		/* source port */
	u_short	uh_dport;		/* destination port */
	u_short	uh_ulen;		/* UDP length: header and data */
	u_short	uh_sum;			/* UDP checksum; 0: none was sent */
};

#endif /* _NETINET_UDP_H_ */
