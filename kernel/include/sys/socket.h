/*
 * <sys/socket.h> -- socket addresses and the address and protocol
 * families, with Darwin's values.  The socket calls themselves come with
 * the socket layer (<sys/kpi_socket.h>).
 */
#ifndef _SYS_SOCKET_H_
#define _SYS_SOCKET_H_

#include <sys/cdefs.h>
#include <sys/types.h>

#ifndef _SA_FAMILY_T
#define _SA_FAMILY_T
typedef u_int8_t	sa_family_t;
#endif
#ifndef _SOCKLEN_T
#define _SOCKLEN_T
typedef u_int32_t	socklen_t;
#endif

/* Socket types. */
#define SOCK_STREAM	1	/* stream socket */
#define SOCK_DGRAM	2	/* datagram socket */
#define SOCK_RAW	3	/* raw-protocol interface */
#define SOCK_RDM	4	/* reliably-delivered message */
#define SOCK_SEQPACKET	5	/* sequenced packet stream */

/* Address families. */
#define AF_UNSPEC	0	/* unspecified */
#define AF_UNIX		1	/* local to host (pipes) */
#define AF_LOCAL	AF_UNIX
#define AF_INET		2	/* internetwork: UDP, TCP, etc. */
#define AF_IMPLINK	3	/* arpanet imp addresses */
#define AF_PUP		4	/* pup protocols: e.g. BSP */
#define AF_CHAOS	5	/* mit CHAOS protocols */
#define AF_NS		6	/* XEROX NS protocols */
#define AF_ISO		7	/* ISO protocols */
#define AF_OSI		AF_ISO
#define AF_ECMA		8	/* European computer manufacturers */
#define AF_DATAKIT	9	/* datakit protocols */
#define AF_CCITT	10	/* CCITT protocols, X.25 etc */
#define AF_SNA		11	/* IBM SNA */
#define AF_DECnet	12	/* DECnet */
#define AF_DLI		13	/* DEC Direct data link interface */
#define AF_LAT		14	/* LAT */
#define AF_HYLINK	15	/* NSC Hyperchannel */
#define AF_APPLETALK	16	/* Apple Talk */
#define AF_ROUTE	17	/* internal routing protocol */
#define AF_LINK		18	/* link layer interface (sockaddr_dl) */
#define pseudo_AF_XTP	19	/* eXpress Transfer Protocol (no AF) */
#define AF_COIP		20	/* connection-oriented IP, aka ST II */
#define AF_CNT		21	/* Computer Network Technology */
#define pseudo_AF_RTIP	22	/* help identify RTIP packets */
#define AF_IPX		23	/* Novell Internet Protocol */
#define AF_SIP		24	/* Simple Internet Protocol */
#define pseudo_AF_PIP	25	/* help identify PIP packets */
#define AF_NDRV		27	/* network driver raw access */
#define AF_ISDN		28	/* integrated services digital network */
#define AF_E164		AF_ISDN
#define pseudo_AF_KEY	29	/* internal key-management function */
#define AF_INET6	30	/* IPv6 */
#define AF_NATM		31	/* native ATM access */
#define AF_SYSTEM	32	/* kernel event messages, kernel controls */
#define AF_NETBIOS	33	/* NetBIOS */
#define AF_PPP		34	/* PPP communication protocol */
#define pseudo_AF_HDRCMPLT 35	/* used by BPF to not rewrite headers */
#define AF_MAX		37

/* Protocol families: the same numbers. */
#define PF_UNSPEC	AF_UNSPEC
#define PF_LOCAL	AF_LOCAL
#define PF_UNIX		PF_LOCAL
#define PF_INET		AF_INET
#define PF_IMPLINK	AF_IMPLINK
#define PF_PUP		AF_PUP
#define PF_CHAOS	AF_CHAOS
#define PF_NS		AF_NS
#define PF_ISO		AF_ISO
#define PF_OSI		AF_ISO
#define PF_ECMA		AF_ECMA
#define PF_DATAKIT	AF_DATAKIT
#define PF_CCITT	AF_CCITT
#define PF_SNA		AF_SNA
#define PF_DECnet	AF_DECnet
#define PF_DLI		AF_DLI
#define PF_LAT		AF_LAT
#define PF_HYLINK	AF_HYLINK
#define PF_APPLETALK	AF_APPLETALK
#define PF_ROUTE	AF_ROUTE
#define PF_LINK		AF_LINK
#define PF_XTP		pseudo_AF_XTP
#define PF_COIP		AF_COIP
#define PF_CNT		AF_CNT
#define PF_SIP		AF_SIP
#define PF_IPX		AF_IPX
#define PF_RTIP		pseudo_AF_RTIP
#define PF_PIP		pseudo_AF_PIP
#define PF_NDRV		AF_NDRV
#define PF_ISDN		AF_ISDN
#define PF_KEY		pseudo_AF_KEY
#define PF_INET6	AF_INET6
#define PF_NATM		AF_NATM
#define PF_SYSTEM	AF_SYSTEM
#define PF_NETBIOS	AF_NETBIOS
#define PF_PPP		AF_PPP
#define PF_MAX		AF_MAX

/*
 * A socket address: its length (BSD 4.4 style, sa_len includes itself),
 * its family, and family-specific bytes.  Longer families (sockaddr_dl,
 * sockaddr_in6) overlay a bigger buffer such as sockaddr_storage.
 */
struct sockaddr {
	u_char		sa_len;
	sa_family_t	sa_family;
	char		sa_data[14];
};

/* Room for any address family, suitably aligned. */
#define _SS_MAXSIZE	128
#define _SS_ALIGNSIZE	(sizeof(int64_t))
#define _SS_PAD1SIZE	(_SS_ALIGNSIZE - sizeof(u_char) - sizeof(sa_family_t))
#define _SS_PAD2SIZE	(_SS_MAXSIZE - sizeof(u_char) - sizeof(sa_family_t) - \
			    _SS_PAD1SIZE - _SS_ALIGNSIZE)
struct sockaddr_storage {
	u_char		ss_len;
	sa_family_t	ss_family;
	char		__ss_pad1[_SS_PAD1SIZE];
	int64_t		__ss_align;
	char		__ss_pad2[_SS_PAD2SIZE];
};

#endif /* _SYS_SOCKET_H_ */
