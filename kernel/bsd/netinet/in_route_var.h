/*
 * The IPv4 routing table (in_route.c): which interface and next hop a
 * destination goes through, by longest matching prefix.  Interface routes
 * come with addresses; `route add` adds the rest.  rt_lock (a spin lock
 * in in_route.c) guards the table.
 */
#ifndef _BSD_NETINET_IN_ROUTE_VAR_H_
#define _BSD_NETINET_IN_ROUTE_VAR_H_

#include <sys/types.h>
#include <netinet/in.h>
#include <net/kpi_interface.h>

#define RT_TABLE_SIZE	32	/* routes Finch keeps */

/* Route flags, with <net/route.h>'s values and netstat -r's letters. */
#define IN_RTF_UP		0x1	/* U: usable */
#define IN_RTF_GATEWAY		0x2	/* G: through a gateway */
#define IN_RTF_HOST		0x4	/* H: a host, not a network */
#define IN_RTF_STATIC		0x800	/* S: added by hand */
#define IN_RTF_LOCAL		0x200000 /* one of our addresses (lo0) */
#define IN_RTF_BROADCAST	0x400000 /* b: a broadcast address */

/* A lookup's answer.  ro_ifp is referenced: in_route_release() it. */
struct in_route {
	ifnet_t		ro_ifp;		/* the outgoing interface */
	struct in_addr	ro_nexthop;	/* the gateway, or the destination */
	struct in_addr	ro_src;		/* ro_ifp's address: our source */
	u_int32_t	ro_flags;	/* IN_RTF_* */
};

/* One route, copied out for netstat -r. */
struct in_route_info {
	struct in_addr	ri_dst;
	struct in_addr	ri_mask;
	struct in_addr	ri_gateway;	/* 0 for an interface route */
	char		ri_ifname[IFNAMSIZ];	/* "" for a gateway route */
	u_int32_t	ri_ifindex;	/* 0 for a gateway route */
	u_int32_t	ri_flags;
	u_int32_t	ri_use;		/* lookups that chose it */
};

void	in_route_init(void);
/*
 * Bumped by every change of a route or an address: what a pcb cached
 * from a lookup (in_pcbroute) is good while this stays the same.
 */
extern volatile u_int32_t in_route_gen;
void	in_route_changed(void);
/*
 * Where to send a datagram for dst.  Our own addresses go to lo0; the
 * limited broadcast to the first interface with an address.  A gateway
 * route's gateway must be on a directly attached network.  0, or
 * ENETUNREACH (no route) or EHOSTUNREACH (gateway not reachable).
 * Never sleeps.
 */
errno_t	in_route_lookup(struct in_addr dst, struct in_route *ro);
void	in_route_release(struct in_route *ro);
/*
 * Add a route to dst/mask: through gateway (not 0), or straight out of
 * ifp (an interface route).  EEXIST if that dst/mask is there, ENOSPC
 * if the table is full, EINVAL if dst has bits outside mask,
 * ENETUNREACH if the gateway is not on an attached network.
 */
errno_t	in_route_add(struct in_addr dst, struct in_addr mask,
	    struct in_addr gateway, ifnet_t ifp, u_int32_t flags);
/* Delete the route to dst/mask; ESRCH if there is none. */
errno_t	in_route_delete(struct in_addr dst, struct in_addr mask);
/* Delete the interface route to dst/mask out of ifp (not a gateway
 * route there); ESRCH if there is none. */
errno_t	in_route_delete_if(struct in_addr dst, struct in_addr mask,
	    ifnet_t ifp);
/* Delete every interface route out of ifp. */
void	in_route_purge(ifnet_t ifp);
/* Copy up to max routes into out; returns how many there are. */
int	in_route_list(struct in_route_info *out, int max);

/* The length of a contiguous mask (255.255.255.0: 24), or -1. */
int	in_mask_len(struct in_addr mask);
/* The mask of prefix length len (0 to 32). */
struct in_addr in_len_mask(int len);

#endif /* _BSD_NETINET_IN_ROUTE_VAR_H_ */
