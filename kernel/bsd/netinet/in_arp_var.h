/*
 * ARP for IPv4 over Ethernet (in_arp.c, RFC 826): the cache of next-hop
 * MAC addresses and the entry points from IPv4's input (arp_input) and
 * pre_output (arp_resolve).  ac_lock, a spin lock, guards a whole cache:
 * input and output use it and never sleep.
 */
#ifndef _BSD_NETINET_IN_ARP_VAR_H_
#define _BSD_NETINET_IN_ARP_VAR_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <net/if_ether.h>
#include <kern/simple_lock.h>

/*
 * An entry is INCOMPLETE while requests are out (one a second, three at
 * most), then RESOLVED for 20 minutes.  While INCOMPLETE it holds the
 * packets for its address, oldest first, up to ARP_MAXHOLD of them (as
 * FreeBSD's arp_maxhold): every fragment of a datagram cut before the
 * answer came must wait, or the receiver can never reassemble it.  When
 * more come, the oldest is dropped.
 */

#define ARP_CACHE_SIZE	64			/* entries in the table */
#define ARP_KEEP_MS	(20 * 60 * 1000)	/* a resolved entry lives 20 min */
#define ARP_RETRY_MS	1000			/* between requests */
#define ARP_MAXTRIES	3			/* requests before giving up */
#define ARP_MAXHOLD	16			/* packets held per entry */

enum arp_state {
	ARP_FREE = 0,		/* unused slot */
	ARP_INCOMPLETE,		/* asked, no answer yet */
	ARP_RESOLVED		/* la_mac is good until la_expire */
};

/* One cache entry.  la_ifp is not referenced: the entries of an
 * interface go (arp_cache_purge) before IPv4 lets go of it. */
struct llinfo_arp {
	enum arp_state	la_state;
	ifnet_t		la_ifp;
	struct in_addr	la_ip;
	u_char		la_mac[ETHER_ADDR_LEN];
	u_int32_t	la_asked;	/* requests sent (INCOMPLETE) */
	u_int64_t	la_expire;	/* ms: next retry, or forget it */
	u_int64_t	la_updated;	/* ms: last change (eviction order) */
	mbuf_t		la_hold;	/* packets waiting for an answer,
					 * oldest first (nextpkt) */
	u_int32_t	la_numheld;	/* how many: ARP_MAXHOLD at most */
};

struct arp_cache {
	simple_lock_data_t	ac_lock;
	struct llinfo_arp	ac_entries[ARP_CACHE_SIZE];
};

/* What the once-a-second timer found to do, done outside the lock. */
struct arp_todo {
	u_int32_t	at_nreq;	/* requests to send ... */
	struct {
		ifnet_t		ifp;	/* referenced */
		struct in_addr	ip;
	} at_req[ARP_CACHE_SIZE];
	mbuf_t		at_free;	/* dropped held packets (nextpkt) */
};

/* One entry copied out for `arp -a`. */
struct arp_info {
	char		ai_ifname[IFNAMSIZ];
	struct in_addr	ai_ip;
	u_char		ai_mac[ETHER_ADDR_LEN];
	enum arp_state	ai_state;
	u_int32_t	ai_expire_s;	/* seconds left */
};

/*
 * The cache itself, on any struct arp_cache (the stack's, or one a
 * selftest makes).  Packets dropped by these functions are counted and
 * returned on *freelist (nextpkt) to be freed outside the lock.
 */
void	arp_cache_init(struct arp_cache *ac);
/* Resolved?  Then copy the MAC into mac (may be NULL). */
bool	arp_cache_lookup(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip,
	    u_char *mac, u_int64_t now);
/*
 * Find or make the entry for ip on ifp.  0 and mac filled: resolved.
 * EJUSTRETURN: m is held for later, behind the packets already waiting
 * (with ARP_MAXHOLD waiting, the oldest is dropped); *send_request says
 * whether to ask now.
 */
errno_t	arp_cache_resolve(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip,
	    mbuf_t m, u_int64_t now, u_char *mac, bool *send_request,
	    mbuf_t *freelist);
/*
 * ip is at mac: update its entry, or make one if create.  Returns
 * whether an entry now holds mac; *held gets the packets that were
 * waiting for it, oldest first (nextpkt): send them now, in that order.
 */
bool	arp_cache_update(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip,
	    const u_char *mac, bool create, u_int64_t now, mbuf_t *held,
	    mbuf_t *freelist);
/* Retries and expiry at time now; fills todo. */
void	arp_cache_timer(struct arp_cache *ac, u_int64_t now,
	    struct arp_todo *todo);
/* Forget ip (any interface); ESRCH if it was not there. */
errno_t	arp_cache_delete(struct arp_cache *ac, struct in_addr ip,
	    mbuf_t *freelist);
/* Forget every entry of ifp (all if ifp is NULL). */
void	arp_cache_purge(struct arp_cache *ac, ifnet_t ifp, mbuf_t *freelist);
/* Copy up to max entries out; returns how many are in use. */
int	arp_cache_list(struct arp_cache *ac, struct arp_info *out, int max,
	    u_int64_t now);

/*
 * The stack's ARP.  arp_input consumes an ARP packet received on ifp
 * (data at the ARP header).  arp_resolve fills mac (6 bytes) for the
 * next hop: 0 ready, EJUSTRETURN m was held (no longer the caller's),
 * other errors leave m to the caller.  Both run on the packet paths
 * and never sleep.
 */
void	arp_init(void);
void	arp_input(ifnet_t ifp, mbuf_t m);
errno_t	arp_resolve(ifnet_t ifp, struct in_addr nexthop, mbuf_t m, u_char *mac);
/* Announce an address of ifp: a request for itself (gratuitous ARP);
 * arp_gratuitous announces each of ifp's addresses (the first
 * ARP_ANNOUNCE_MAX). */
#define ARP_ANNOUNCE_MAX	8
void	arp_gratuitous_addr(ifnet_t ifp, struct in_addr addr);
void	arp_gratuitous(ifnet_t ifp);
/* IPv4 is leaving ifp: forget its entries. */
void	arp_ifdetach(ifnet_t ifp);
/* Once a second: retries and expiry. */
void	arp_slowtimo(u_int64_t now);
/* For the monitor. */
int	arp_list(struct arp_info *out, int max);
errno_t	arp_delete(struct in_addr ip);

#endif /* _BSD_NETINET_IN_ARP_VAR_H_ */
