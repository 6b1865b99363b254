/*
 * <netinet/in.h> -- the Internet (IPv4) family's constants and addresses:
 * protocol numbers, well-known addresses, struct in_addr, struct
 * sockaddr_in, the byte-order conversions and inet_ntop; IPv6's
 * addresses come with <netinet6/in6.h>.  Names and values are Darwin's.
 * Addresses and ports are always kept in network byte order.
 */
#ifndef _NETINET_IN_H_
#define _NETINET_IN_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/kernel_types.h>	/* mbuf_t */

typedef u_int32_t	in_addr_t;	/* an IPv4 address */
typedef u_int16_t	in_port_t;	/* a port */

/* Byte order: ntohs, htonl, ... (<machine/endian.h>).  Addresses and
 * ports are kept in network byte order; convert before comparing. */
#include <machine/endian.h>

/* Protocols (the IP header's ip_p field), RFC 1700. */
#define IPPROTO_IP		0	/* dummy for IP */
#define IPPROTO_HOPOPTS		0	/* IPv6 hop-by-hop options */
#define IPPROTO_ICMP		1	/* control message protocol */
#define IPPROTO_IGMP		2	/* group management protocol */
#define IPPROTO_GGP		3	/* gateway^2 (deprecated) */
#define IPPROTO_IPV4		4	/* IPv4 encapsulation */
#define IPPROTO_IPIP		IPPROTO_IPV4
#define IPPROTO_TCP		6	/* tcp */
#define IPPROTO_EGP		8	/* exterior gateway protocol */
#define IPPROTO_PUP		12	/* pup */
#define IPPROTO_UDP		17	/* user datagram protocol */
#define IPPROTO_IDP		22	/* xns idp */
#define IPPROTO_TP		29	/* tp-4 w/ class negotiation */
#define IPPROTO_IPV6		41	/* IPv6 header */
#define IPPROTO_ROUTING		43	/* IPv6 routing header */
#define IPPROTO_FRAGMENT	44	/* IPv6 fragmentation header */
#define IPPROTO_RSVP		46	/* resource reservation */
#define IPPROTO_GRE		47	/* general routing encapsulation */
#define IPPROTO_ESP		50	/* IPv6 encapsulated security payload */
#define IPPROTO_AH		51	/* IPv6 authentication header */
#define IPPROTO_ICMPV6		58	/* ICMP6 */
#define IPPROTO_NONE		59	/* IPv6 no next header */
#define IPPROTO_DSTOPTS		60	/* IPv6 destination options */
#define IPPROTO_RAW		255	/* raw IP packet */
#define IPPROTO_MAX		256

/* Ports below IPPORT_RESERVED belong to privileged services.  A socket
 * bound to port 0 gets an ephemeral port from IANA's dynamic range,
 * IPPORT_HIFIRSTAUTO to IPPORT_HILASTAUTO. */
#define IPPORT_RESERVED		1024
#define IPPORT_USERRESERVED	5000
#define IPPORT_HIFIRSTAUTO	49152
#define IPPORT_HILASTAUTO	65535
#define IPPORT_RESERVEDSTART	600

struct in_addr {
	in_addr_t	s_addr;		/* network byte order */
};

/*
 * Well-known addresses, in HOST byte order: compare with
 * ntohl(a.s_addr), or store htonl(INADDR_...).
 */
#define INADDR_ANY		(u_int32_t)0x00000000
#define INADDR_BROADCAST	(u_int32_t)0xffffffff	/* limited broadcast */
#define INADDR_LOOPBACK		(u_int32_t)0x7f000001	/* 127.0.0.1 */
#define INADDR_NONE		0xffffffff		/* -1 return */
#define INADDR_UNSPEC_GROUP	(u_int32_t)0xe0000000	/* 224.0.0.0 */
#define INADDR_ALLHOSTS_GROUP	(u_int32_t)0xe0000001	/* 224.0.0.1 */
#define INADDR_ALLRTRS_GROUP	(u_int32_t)0xe0000002	/* 224.0.0.2 */
#define INADDR_MAX_LOCAL_GROUP	(u_int32_t)0xe00000ff	/* 224.0.0.255 */

/* Address classes (host byte order), from before CIDR. */
#define IN_CLASSA(i)		(((u_int32_t)(i) & 0x80000000) == 0)
#define IN_CLASSA_NET		0xff000000
#define IN_CLASSA_NSHIFT	24
#define IN_CLASSA_HOST		0x00ffffff
#define IN_CLASSA_MAX		128
#define IN_CLASSB(i)		(((u_int32_t)(i) & 0xc0000000) == 0x80000000)
#define IN_CLASSB_NET		0xffff0000
#define IN_CLASSB_NSHIFT	16
#define IN_CLASSB_HOST		0x0000ffff
#define IN_CLASSB_MAX		65536
#define IN_CLASSC(i)		(((u_int32_t)(i) & 0xe0000000) == 0xc0000000)
#define IN_CLASSC_NET		0xffffff00
#define IN_CLASSC_NSHIFT	8
#define IN_CLASSC_HOST		0x000000ff
#define IN_CLASSD(i)		(((u_int32_t)(i) & 0xf0000000) == 0xe0000000)
#define IN_CLASSD_NET		0xf0000000
#define IN_CLASSD_NSHIFT	28
#define IN_CLASSD_HOST		0x0fffffff
#define IN_MULTICAST(i)		IN_CLASSD(i)
#define IN_EXPERIMENTAL(i)	(((u_int32_t)(i) & 0xf0000000) == 0xf0000000)
#define IN_BADCLASS(i)		(((u_int32_t)(i) & 0xf0000000) == 0xf0000000)
#define IN_LINKLOCAL(i)		(((u_int32_t)(i) & IN_CLASSB_NET) == 0xa9fe0000)
#define IN_LOOPBACKNET		127	/* official! */

/* An IPv4 socket address: 16 bytes, like struct sockaddr. */
struct sockaddr_in {
	u_int8_t	sin_len;	/* sizeof(struct sockaddr_in) */
	sa_family_t	sin_family;	/* AF_INET */
	in_port_t	sin_port;	/* network byte order */
	struct in_addr	sin_addr;
	char		sin_zero[8];
};

/* "255.255.255.255" and its NUL. */
#define INET_ADDRSTRLEN		16

/* Options for use with [gs]etsockopt at the IP level (Darwin's values). */
#define IP_OPTIONS		1	/* buf/ip_opts; set/get IP options */
#define IP_HDRINCL		2	/* int; header is included with data */
#define IP_TOS			3	/* int; IP type of service and preced. */
#define IP_TTL			4	/* int; IP time to live */
#define IP_RECVOPTS		5	/* bool; receive all IP opts w/dgram */
#define IP_RECVRETOPTS		6	/* bool; receive IP opts for response */
#define IP_RECVDSTADDR		7	/* bool; receive IP dst addr w/dgram */
#define IP_RETOPTS		8	/* ip_opts; set/get IP options */
#define IP_MULTICAST_IF		9	/* u_char; set/get IP multicast i/f  */
#define IP_MULTICAST_TTL	10	/* u_char; set/get IP multicast ttl */
#define IP_MULTICAST_LOOP	11	/* u_char; set/get IP multicast loopback */
#define IP_ADD_MEMBERSHIP	12	/* ip_mreq; add an IP group membership */
#define IP_DROP_MEMBERSHIP	13	/* ip_mreq; drop an IP group membership */
#define IP_PORTRANGE		19	/* int; range to choose for unspec port */
#define IP_RECVIF		20	/* bool; receive reception if w/dgram */

/* IP_PORTRANGE's values. */
#define IP_PORTRANGE_DEFAULT	0	/* default range */
#define IP_PORTRANGE_HIGH	1	/* "high" - request firewall bypass */
#define IP_PORTRANGE_LOW	2	/* "low" - vouchsafe security */

#define IP_DEFAULT_MULTICAST_TTL  1	/* normally limit m'casts to 1 hop */
#define IP_DEFAULT_MULTICAST_LOOP 1	/* normally hear sends if a member */

/* The argument of IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP. */
struct ip_mreq {
	struct in_addr	imr_multiaddr;	/* IP multicast address of group */
	struct in_addr	imr_interface;	/* local IP address of interface */
};

__BEGIN_DECLS

/*
 * The Internet checksum (RFC 1071) of the first len bytes of the chain m:
 * the one's complement of the one's complement sum of its 16-bit words,
 * ready to store in a header (0 means the data, checksum included, was
 * intact).  Never sleeps; m is not modified.  0xffff for a NULL m or a
 * negative len.
 */
int	in_cksum(mbuf_t m, int len);

/*
 * Write the address at src (a struct in_addr for AF_INET, a struct
 * in6_addr for AF_INET6) as text into dst: dotted decimal, or IPv6's
 * hexadecimal groups with the longest run of zeros as "::" and an
 * IPv4-mapped tail in dotted decimal.  Returns dst, or NULL (dst left
 * empty when size > 0) for another family or when the text and its NUL
 * do not fit in size bytes: INET_ADDRSTRLEN and INET6_ADDRSTRLEN always
 * do.  Never sleeps; any context.
 */
const char	*inet_ntop(int af, const void *src, char *dst, socklen_t size);

__END_DECLS

/* IPv6 addresses, as Darwin's <netinet/in.h> gives them too. */
#include <netinet6/in6.h>

#endif /* _NETINET_IN_H_ */
