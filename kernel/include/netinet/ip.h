/*
 * <netinet/ip.h> -- the IPv4 header (RFC 791) and its constants.  Every
 * multi-byte field is in network byte order, on the wire and in Finch's
 * stack alike: read ip_len with ntohs(ip->ip_len).
 */
#ifndef _NETINET_IP_H_
#define _NETINET_IP_H_

#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/in_systm.h>

#define IPVERSION	4

/*
 * The fixed part of the header, 20 bytes; options (up to 40 bytes) may
 * follow, ip_hl counts 32-bit words of header and options together.
 */
struct ip {
	u_int	ip_hl:4,		/* header length, in 32-bit words */
		ip_v:4;			/* version: 4 (i386 bit order) */
	u_char	ip_tos;			/* type of service */
	u_short	ip_len;			/* total length, header included */
	u_short	ip_id;			/* identification */
	u_short	ip_off;			/* flags and fragment offset */
#define IP_RF		0x8000		/* reserved fragment flag */
#define IP_DF		0x4000		/* don't fragment */
#define IP_MF		0x2000		/* more fragments follow */
#define IP_OFFMASK	0x1fff		/* offset of this fragment, in 8 bytes */
	u_char	ip_ttl;			/* time to live */
	u_char	ip_p;			/* protocol (IPPROTO_*) */
	u_short	ip_sum;			/* header checksum */
	struct in_addr ip_src, ip_dst;	/* source and destination */
} __packed;

#define IP_MAXPACKET	65535		/* largest datagram, header included */

/* Type of service (ip_tos). */
#define IPTOS_LOWDELAY		0x10
#define IPTOS_THROUGHPUT	0x08
#define IPTOS_RELIABILITY	0x04
#define IPTOS_MINCOST		0x02
#define IPTOS_CE		0x01	/* ECN: congestion experienced */
#define IPTOS_ECT		0x02	/* ECN-capable transport */

/* Precedence, the top three bits of ip_tos. */
#define IPTOS_PREC_NETCONTROL		0xe0
#define IPTOS_PREC_INTERNETCONTROL	0xc0
#define IPTOS_PREC_CRITIC_ECP		0xa0
#define IPTOS_PREC_FLASHOVERRIDE	0x80
#define IPTOS_PREC_FLASH		0x60
#define IPTOS_PREC_IMMEDIATE		0x40
#define IPTOS_PREC_PRIORITY		0x20
#define IPTOS_PREC_ROUTINE		0x00

/* Options (the first byte of each). */
#define IPOPT_COPIED(o)		((o) & 0x80)	/* copy into every fragment */
#define IPOPT_CLASS(o)		((o) & 0x60)
#define IPOPT_NUMBER(o)		((o) & 0x1f)
#define IPOPT_EOL		0	/* end of option list */
#define IPOPT_NOP		1	/* no operation */
#define IPOPT_RR		7	/* record packet route */
#define IPOPT_TS		68	/* timestamp */
#define IPOPT_SECURITY		130	/* provide s,c,h,tcc */
#define IPOPT_LSRR		131	/* loose source route */
#define IPOPT_SATID		136	/* satnet id */
#define IPOPT_SSRR		137	/* strict source route */
#define IPOPT_RA		148	/* router alert */

/* Time to live. */
#define MAXTTL		255		/* maximum time to live (seconds) */
#define IPDEFTTL	64		/* default ttl, from RFC 1340 */
#define IPFRAGTTL	60		/* time to live for frags, slowhz */
#define IPTTLDEC	1		/* subtracted when forwarding */

#define IP_MSS		576		/* default maximum segment size */

#endif /* _NETINET_IP_H_ */
