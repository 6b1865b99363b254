/*
 * <netinet6/in6.h> -- IPv6 addresses (RFC 3493's names): struct in6_addr,
 * struct sockaddr_in6 and the address tests.  Finch has no IPv6 stack;
 * these are here so that code which handles both families (a filter
 * that looks at sa_family, a logger printing with inet_ntop) builds, and
 * so that ipf_addv6 and friends have their types.  <netinet/in.h>
 * includes this header, as Darwin's does.
 */
#ifndef _NETINET6_IN6_H_
#define _NETINET6_IN6_H_

#include <sys/types.h>
#include <sys/socket.h>
#include <machine/endian.h>

/* 128 bits, in network byte order, seen as bytes, halves or words. */
struct in6_addr {
	union {
		u_int8_t	__u6_addr8[16];
		u_int16_t	__u6_addr16[8];
		u_int32_t	__u6_addr32[4];
	} __u6_addr;
};
#define s6_addr		__u6_addr.__u6_addr8
#define s6_addr8	__u6_addr.__u6_addr8
#define s6_addr16	__u6_addr.__u6_addr16
#define s6_addr32	__u6_addr.__u6_addr32

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" and its NUL. */
#define INET6_ADDRSTRLEN	46

/* An IPv6 socket address: 28 bytes. */
struct sockaddr_in6 {
	u_int8_t	sin6_len;	/* sizeof(struct sockaddr_in6) */
	sa_family_t	sin6_family;	/* AF_INET6 */
	u_int16_t	sin6_port;	/* network byte order */
	u_int32_t	sin6_flowinfo;	/* traffic class and flow label */
	struct in6_addr	sin6_addr;
	u_int32_t	sin6_scope_id;	/* the interface of a scoped address */
};

/* Initializers: :: (unspecified) and ::1 (loopback). */
#define IN6ADDR_ANY_INIT \
	{{{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }}}
#define IN6ADDR_LOOPBACK_INIT \
	{{{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }}}

#define IN6_ARE_ADDR_EQUAL(a, b) \
	(__builtin_memcmp(&(a)->s6_addr[0], &(b)->s6_addr[0], 16) == 0)

/* Address kinds (a and b point at struct in6_addr). */
#define IN6_IS_ADDR_UNSPECIFIED(a)					\
	((a)->s6_addr32[0] == 0 && (a)->s6_addr32[1] == 0 &&		\
	 (a)->s6_addr32[2] == 0 && (a)->s6_addr32[3] == 0)
#define IN6_IS_ADDR_LOOPBACK(a)						\
	((a)->s6_addr32[0] == 0 && (a)->s6_addr32[1] == 0 &&		\
	 (a)->s6_addr32[2] == 0 && (a)->s6_addr32[3] == htonl(1))
#define IN6_IS_ADDR_V4COMPAT(a)						\
	((a)->s6_addr32[0] == 0 && (a)->s6_addr32[1] == 0 &&		\
	 (a)->s6_addr32[2] == 0 && (a)->s6_addr32[3] != 0 &&		\
	 (a)->s6_addr32[3] != htonl(1))
#define IN6_IS_ADDR_V4MAPPED(a)						\
	((a)->s6_addr32[0] == 0 && (a)->s6_addr32[1] == 0 &&		\
	 (a)->s6_addr32[2] == htonl(0x0000ffff))
#define IN6_IS_ADDR_LINKLOCAL(a)					\
	((a)->s6_addr[0] == 0xfe && ((a)->s6_addr[1] & 0xc0) == 0x80)
#define IN6_IS_ADDR_SITELOCAL(a)					\
	((a)->s6_addr[0] == 0xfe && ((a)->s6_addr[1] & 0xc0) == 0xc0)
#define IN6_IS_ADDR_MULTICAST(a)	((a)->s6_addr[0] == 0xff)

#endif /* _NETINET6_IN6_H_ */
