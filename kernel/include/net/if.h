/*
 * <net/if.h> -- what everyone may know about a network interface: its
 * flags (IFF_*), the name length, and the ioctl request structure.
 * struct ifnet itself is private to the DLIL (bsd/net/if_var.h): kexts
 * reach it only through the ifnet_t accessors of <net/kpi_interface.h>.
 */
#ifndef _NET_IF_H_
#define _NET_IF_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/socket.h>

/* <sys/kern_event.h> defines it too, for struct net_event_data. */
#ifndef IFNAMSIZ
#define IFNAMSIZ	16
#endif

/* Interface flags (ifnet_flags / ifnet_set_flags). */
#define IFF_UP		0x1	/* administratively up */
#define IFF_BROADCAST	0x2	/* broadcast address valid */
#define IFF_DEBUG	0x4	/* turn on debugging */
#define IFF_LOOPBACK	0x8	/* a loopback interface */
#define IFF_POINTOPOINT	0x10	/* a point-to-point link */
#define IFF_NOTRAILERS	0x20	/* obsolete: avoid trailers */
#define IFF_RUNNING	0x40	/* resources allocated, link up */
#define IFF_NOARP	0x80	/* no address resolution protocol */
#define IFF_PROMISC	0x100	/* receive all packets */
#define IFF_ALLMULTI	0x200	/* receive all multicast packets */
#define IFF_OACTIVE	0x400	/* transmission in progress */
#define IFF_SIMPLEX	0x800	/* cannot hear its own transmissions */
#define IFF_LINK0	0x1000	/* per link layer defined bit */
#define IFF_LINK1	0x2000	/* per link layer defined bit */
#define IFF_LINK2	0x4000	/* per link layer defined bit */
#define IFF_ALTPHYS	IFF_LINK2 /* use alternate physical connection */
#define IFF_MULTICAST	0x8000	/* supports multicast */

/*
 * The argument of the interface ioctls (SIOCSIFFLAGS, SIOCSIFMTU, ...):
 * the interface's name and one value.  32 bytes, as on Darwin.
 */
struct ifreq {
	char	ifr_name[IFNAMSIZ];
	union {
		struct sockaddr	ifru_addr;
		struct sockaddr	ifru_dstaddr;
		struct sockaddr	ifru_broadaddr;
		short		ifru_flags;
		int		ifru_metric;
		int		ifru_mtu;
		int		ifru_phys;
		int		ifru_media;
		caddr_t		ifru_data;
	} ifr_ifru;
};
#define ifr_addr	ifr_ifru.ifru_addr
#define ifr_dstaddr	ifr_ifru.ifru_dstaddr
#define ifr_broadaddr	ifr_ifru.ifru_broadaddr
#define ifr_flags	ifr_ifru.ifru_flags
#define ifr_metric	ifr_ifru.ifru_metric
#define ifr_mtu		ifr_ifru.ifru_mtu
#define ifr_phys	ifr_ifru.ifru_phys
#define ifr_media	ifr_ifru.ifru_media
#define ifr_data	ifr_ifru.ifru_data

/* Adding an address with its broadcast address (or peer) and mask. */
struct ifaliasreq {
	char		ifra_name[IFNAMSIZ];
	struct sockaddr	ifra_addr;
	struct sockaddr	ifra_broadaddr;
	struct sockaddr	ifra_mask;
};

#endif /* _NET_IF_H_ */
