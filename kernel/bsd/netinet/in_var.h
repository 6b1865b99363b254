/*
 * IPv4's private view, shared by bsd/netinet: interface addresses and
 * their ioctls (in.c),
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
 * An IPv4 address on an interface; an interface may have several (the
 * first on the list is its primary address).  The struct ifaddr comes
 * first, so the DLIL's address list (and the ifaddr_* KPI) sees it like
 * any other address.  A new mask or broadcast replaces the whole
 * in_ifaddr, so that its (c) fields never change.
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
 * Add addr/mask to ifp (bcast 0: the subnet's broadcast), or, if ifp has
 * addr already, give it the new mask and broadcast: attaches IPv4 to ifp
 * if needed, adds the route to the network, posts `event` (0: the
 * default, KEV_INET_NEW_ADDR or KEV_INET_CHANGED_ADDR) and sends a
 * gratuitous ARP.  EINVAL for a bad address or mask, EEXIST if another
 * interface has addr.  Thread context; may sleep.
 */
errno_t	in_ifaddr_add(ifnet_t ifp, struct in_addr addr, struct in_addr mask,
	    struct in_addr bcast, u_int32_t event);
/* Take ifp's address addr (0: its first) away, posting
 * KEV_INET_ADDR_DELETED; its network's route goes unless another
 * address of ifp is on that network.  EADDRNOTAVAIL if ifp has none. */
errno_t	in_ifaddr_del(ifnet_t ifp, struct in_addr addr);
/* Make addr/mask ifp's first address, deleting the first it had. */
errno_t	in_ifaddr_set(ifnet_t ifp, struct in_addr addr, struct in_addr mask);
/* The interface is going away: forget its addresses without events. */
void	in_ifaddr_purge(ifnet_t ifp);
/* ifp's first address and mask (either pointer may be NULL); false if
 * none. */
bool	in_ifaddr_get(ifnet_t ifp, struct in_addr *addr, struct in_addr *mask);
/* The address of ifp to send to dst from: the one whose network holds
 * dst, else the first.  False if ifp has none. */
bool	in_ifaddr_src(ifnet_t ifp, struct in_addr dst, struct in_addr *src);
/* Copy up to max of ifp's addresses into out; returns how many it has. */
int	in_ifaddr_addrs(ifnet_t ifp, struct in_addr *out, int max);
/* Is addr one of ifp's? */
bool	in_ifaddr_has(ifnet_t ifp, struct in_addr addr);
/* The mask an address had before CIDR (class A, B or C). */
struct in_addr in_classful_mask(struct in_addr a);
/*
 * The address ioctls of a PF_INET socket (its pru_control), for the
 * interface ifp: SIOCAIFADDR (struct ifaliasreq), SIOCDIFADDR,
 * SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFBRDADDR, SIOCGIFADDR,
 * SIOCGIFNETMASK, SIOCGIFBRDADDR (struct ifreq).  EINVAL for an argument
 * that is not an AF_INET sockaddr_in or a bad address, EADDRNOTAVAIL
 * for an address ifp does not have, EOPNOTSUPP for other ioctls.
 */
errno_t	in_control(struct socket *so, u_long cmd, caddr_t data, ifnet_t ifp);
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
