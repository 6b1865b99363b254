/*
 * <net/route.h> -- the route flags (RTF_*) a kext passes to
 * ifaddr_withroute, with BSD's and Mac OS X's values.  The routing
 * table itself is the kernel's own (bsd/netinet): no KPI reaches it.
 */
#ifndef _NET_ROUTE_H_
#define _NET_ROUTE_H_

#define RTF_UP		0x1		/* usable */
#define RTF_GATEWAY	0x2		/* the destination is a gateway */
#define RTF_HOST	0x4		/* a host entry, not a network */
#define RTF_REJECT	0x8		/* unreachable: answer with an error */
#define RTF_DYNAMIC	0x10		/* made by a redirect */
#define RTF_MODIFIED	0x20		/* changed by a redirect */
#define RTF_DONE	0x40		/* the message was confirmed */
#define RTF_DELCLONE	0x80		/* delete the cloned route */
#define RTF_CLONING	0x100		/* clones a host route on use */
#define RTF_XRESOLVE	0x200		/* an external daemon resolves it */
#define RTF_LLINFO	0x400		/* link-level information is valid */
#define RTF_STATIC	0x800		/* set by hand */
#define RTF_BLACKHOLE	0x1000		/* discard, quietly */
#define RTF_PROTO2	0x4000		/* protocol-specific */
#define RTF_PROTO1	0x8000		/* protocol-specific */
#define RTF_PRCLONING	0x10000		/* the protocol clones on use */
#define RTF_WASCLONED	0x20000		/* made by cloning */
#define RTF_PROTO3	0x40000		/* protocol-specific */
#define RTF_LOCAL	0x200000	/* a route to one of our addresses */
#define RTF_BROADCAST	0x400000	/* a broadcast address */
#define RTF_MULTICAST	0x800000	/* a multicast address */

#endif /* _NET_ROUTE_H_ */
