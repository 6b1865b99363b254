/*
 * IPv4's private view, shared by bsd/netinet: interface addresses (in.c),
 * start-up (in_proto.c), attachment to Ethernets (in_ether.c), the boot
 * addresses (in_bootconfig.c), checksums (in_cksum.c), helpers.
 * in_ifaddr_lock (a spin lock in in.c) guards the address list, fields
 * marked (A); fields marked (c) never change once an address is listed.
 */
#ifndef _BSD_NETINET_IN_VAR_H_
#define _BSD_NETINET_IN_VAR_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <net/kpi_interface.h>
#include <mach/mach_time.h>
#include <kern/clock_var.h>
#include <bsd/net/if_var.h>

struct domain;
struct socket;

/* Bytes the stack leaves free in front of a packet it builds, so that
 * the link header fits without another mbuf. */
#define IN_LINKHDR_RESERVE	16

/* printf("%u.%u.%u.%u", IN_ADDR_ARGS(a)) prints a struct in_addr. */
#define IN_ADDR_FMT		"%u.%u.%u.%u"
#define IN_ADDR_ARGS(a)							\
	((const u_char *)&(a))[0], ((const u_char *)&(a))[1],		\
	((const u_char *)&(a))[2], ((const u_char *)&(a))[3]

/* Is a (host order) in 127/8, the loopback network? */
#ifndef IN_LOOPBACK
#define IN_LOOPBACK(a)		(((u_int32_t)(a) & 0xff000000) == 0x7f000000)
#endif

/*
 * Milliseconds since boot: the clock of every IPv4 timeout.  Their
 * timers run once a second, so the time of the last clock tick is
 * precise enough, and it costs no device access (ARP asks for it for
 * every packet sent).
 */
static inline u_int64_t
in_time_ms(void)
{
	return mach_approximate_time() / 1000000;
}

/*
 * An IPv4 address on an interface: one per interface in Finch.  The
 * struct ifaddr comes first, so the DLIL's address list (and the
 * ifaddr_* KPI) sees it like any other address.
 */
struct in_ifaddr {
	struct ifaddr		ia_ifa;		/* the DLIL's part: first */
	TAILQ_ENTRY(in_ifaddr)	ia_link;	/* (A) on in_ifaddrhead */
	struct sockaddr_in	ia_addr;	/* (c) the address */
	struct sockaddr_in	ia_netmask;	/* (c) */
	struct sockaddr_in	ia_broadaddr;	/* (c) the subnet broadcast */
};

/* A copy of one address, for the monitor's commands. */
struct in_ifaddr_info {
	char		ii_name[IFNAMSIZ];	/* "en0" */
	struct in_addr	ii_addr;
	struct in_addr	ii_mask;
	struct in_addr	ii_broadcast;
};

/* --- in.c: addresses ---------------------------------------------- */

void	in_ifaddr_init(void);
/*
 * Give ifp the address addr/mask, replacing the one it had: attaches
 * IPv4 to ifp if needed, adds the interface route, posts
 * KEV_INET_NEW_ADDR and sends a gratuitous ARP.  EINVAL for a bad
 * address or mask.  Thread context; may sleep.
 */
errno_t	in_ifaddr_set(ifnet_t ifp, struct in_addr addr, struct in_addr mask);
/* Take ifp's address away (and its routes); ENOENT if it had none. */
errno_t	in_ifaddr_delete(ifnet_t ifp);
/* The interface is going away: forget its address without events. */
void	in_ifaddr_purge(ifnet_t ifp);
/* ifp's address and mask (either pointer may be NULL); false if none. */
bool	in_ifaddr_get(ifnet_t ifp, struct in_addr *addr, struct in_addr *mask);
/* Is a one of this host's addresses (on any interface)? */
bool	in_is_local(struct in_addr a);
/* Is a a broadcast address: 255.255.255.255, or the subnet broadcast
 * of ifp's address (of any interface's if ifp is NULL)? */
bool	in_is_broadcast(struct in_addr a, ifnet_t ifp);
/* The first interface, loopback aside, with an address (referenced:
 * ifnet_release it), and that address; NULL if none. */
ifnet_t	in_ifaddr_first(struct in_addr *addr);
/* Copy up to max addresses into out; returns how many there are. */
int	in_ifaddr_list(struct in_ifaddr_info *out, int max);

/* Parse "10.0.2.15"; 1 on success, 0 if it is not a dotted quad. */
int	inet_aton(const char *cp, struct in_addr *addr);

/* --- in_proto.c: IPv4's start --------------------------------------- */

/* PF_INET, the Internet domain of the socket layer. */
extern struct domain inetdomain;
/* Start IPv4: the domain's dom_init, run by domaininit() at boot after
 * the DLIL and after every inet protocol's pr_init. */
void	in_init(void);

/* --- in_ether.c: IPv4 on an Ethernet -------------------------------- */

/* The plumber in_init registers: attach PF_INET to an Ethernet ifp. */
errno_t	in_ether_plumb(ifnet_t ifp, protocol_family_t pf);
/* Attach IPv4 (and ARP) to ifp through its family's plumber; 0 if it
 * is attached already.  Thread context. */
errno_t	in_plumb(ifnet_t ifp);

/* --- in_bootconfig.c: the addresses at boot -------------------------- */

/* Give lo0 and en0 their boot addresses, now or when they attach. */
void	in_bootconfig_init(void);

/* --- in_cksum.c ----------------------------------------------------- */

/* The checksum of a flat buffer, complemented: store it as is. */
u_int16_t in_cksum_buf(const void *buf, size_t len);
/* Add len bytes to a running sum (not complemented); for pieces that
 * each start at an even offset of the checksummed data. */
u_int32_t in_cksum_partial(const void *buf, size_t len, u_int32_t sum);
/* The checksum of len bytes of the chain from off, starting from the
 * partial sum initial (0, or in_pseudo()), complemented. */
u_int16_t in_cksum_mbuf(mbuf_t m, size_t off, size_t len, u_int32_t initial);
/* A stored checksum after one 16-bit word of the data went from old to
 * new (RFC 1624); all in memory order. */
u_int16_t in_cksum_adjust(u_int16_t cksum, u_int16_t old, u_int16_t new);
/* The UDP/TCP pseudo header's partial sum; proto_len is
 * htons(length + protocol). */
u_int32_t in_pseudo(in_addr_t src, in_addr_t dst, u_int32_t proto_len);

#endif /* _BSD_NETINET_IN_VAR_H_ */
