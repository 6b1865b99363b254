/*
 * <netinet/in_var.h> -- what a kext may know about IPv4 addresses: the
 * data of the KEV_INET_SUBCLASS kernel events (<sys/kern_event.h>) that
 * the stack posts when an address is added, changed or deleted.
 */
#ifndef _NETINET_IN_VAR_H_
#define _NETINET_IN_VAR_H_

#include <sys/types.h>
#include <sys/kern_event.h>
#include <netinet/in.h>

/* KEV_INET_NEW_ADDR, KEV_INET_CHANGED_ADDR, KEV_INET_ADDR_DELETED, ... */
struct kev_in_data {
	struct net_event_data	link_data;	/* which interface */
	struct in_addr		ia_addr;	/* the address */
	u_int32_t		ia_net;		/* network number (host order) */
	u_int32_t		ia_netmask;	/* mask of net part (host order) */
	u_int32_t		ia_subnet;	/* subnet number (host order) */
	u_int32_t		ia_subnetmask;	/* mask of subnet (host order) */
	struct in_addr		ia_netbroadcast; /* the broadcast address */
	struct in_addr		ia_dstaddr;	/* peer (point-to-point only) */
};

/* KEV_INET_ARPCOLLISION: another host answers for one of our addresses.
 * Finch's ARP does not detect collisions: it never posts this event. */
struct kev_in_collision {
	struct net_event_data	link_data;	/* which interface */
	struct in_addr		ia_ipaddr;	/* the address in dispute */
	u_char			hw_len;		/* bytes of hw_addr */
	u_char			hw_addr[0];	/* the other host's link address */
};

#endif /* _NETINET_IN_VAR_H_ */
