/*
 * <sys/socket.h> -- sockets as Darwin defines them: types, options
 * (SOL_SOCKET's SO_*), addresses and the address and protocol families,
 * the message header of sendmsg/recvmsg and its MSG_* flags, with
 * Mac OS X 10.4's values and layouts.  The in-kernel socket calls are
 * <sys/kpi_socket.h>, which this header includes, as Darwin's does for
 * kernel code.
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

/* One piece of a scattered buffer (<sys/uio.h> defines it too). */
#ifndef _STRUCT_IOVEC
#define _STRUCT_IOVEC
struct iovec {
	void	*iov_base;	/* where the piece starts */
	size_t	iov_len;	/* how many bytes */
};
#endif

/* Socket types. */
#define SOCK_STREAM	1	/* stream socket */
#define SOCK_DGRAM	2	/* datagram socket */
#define SOCK_RAW	3	/* raw-protocol interface */
#define SOCK_RDM	4	/* reliably-delivered message */
#define SOCK_SEQPACKET	5	/* sequenced packet stream */

/* Options kept in so_options: on or off (an int, non-zero for on). */
#define SO_DEBUG	0x0001	/* turn on debugging info recording */
#define SO_ACCEPTCONN	0x0002	/* socket has had listen() (read only) */
#define SO_REUSEADDR	0x0004	/* allow local address reuse */
#define SO_KEEPALIVE	0x0008	/* keep connections alive */
#define SO_DONTROUTE	0x0010	/* just use interface addresses */
#define SO_BROADCAST	0x0020	/* permit sending of broadcast msgs */
#define SO_USELOOPBACK	0x0040	/* bypass hardware when possible */
#define SO_LINGER	0x0080	/* linger on close if data present (in ticks) */
#define SO_OOBINLINE	0x0100	/* leave received OOB data in line */
#define SO_REUSEPORT	0x0200	/* allow local address & port reuse */
#define SO_TIMESTAMP	0x0400	/* timestamp received dgram traffic */
#define SO_DONTTRUNC	0x2000	/* APPLE: retain unread data (atomic proto) */
#define SO_WANTMORE	0x4000	/* APPLE: give hint when more data ready */
#define SO_WANTOOBFLAG	0x8000	/* APPLE: want OOB in MSG_FLAG on receive */

/* Other options: values, not bits. */
#define SO_SNDBUF	0x1001	/* send buffer size */
#define SO_RCVBUF	0x1002	/* receive buffer size */
#define SO_SNDLOWAT	0x1003	/* send low-water mark */
#define SO_RCVLOWAT	0x1004	/* receive low-water mark */
#define SO_SNDTIMEO	0x1005	/* send timeout (struct timeval) */
#define SO_RCVTIMEO	0x1006	/* receive timeout (struct timeval) */
#define SO_ERROR	0x1007	/* get error status and clear */
#define SO_TYPE		0x1008	/* get socket type */
#define SO_NREAD	0x1020	/* APPLE: get 1st-packet byte count */
#define SO_NKE		0x1021	/* APPLE: install socket-level NKE */
#define SO_NOSIGPIPE	0x1022	/* APPLE: no SIGPIPE on EPIPE */
#define SO_NOADDRERR	0x1023	/* APPLE: EADDRNOTAVAIL when src is gone */
#define SO_NWRITE	0x1024	/* APPLE: bytes in the send buffer */
#define SO_LINGER_SEC	0x1080	/* linger on close if data present (in seconds) */

/* The argument of SO_LINGER and SO_LINGER_SEC. */
struct linger {
	int	l_onoff;	/* option on/off */
	int	l_linger;	/* linger time: ticks (SO_LINGER), seconds
				   (SO_LINGER_SEC) */
};

/* The level of (get|set)sockopt for options of the socket itself. */
#define SOL_SOCKET	0xffff

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

#define SOCK_MAXADDRLEN	255	/* longest possible addresses */

/* What a raw socket hands its protocol: family and protocol. */
struct sockproto {
	u_int16_t	sp_family;
	u_int16_t	sp_protocol;
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

/* The longest listen queue listen() accepts (longer ones are cut). */
#define SOMAXCONN	128

/*
 * The message header of sendmsg/recvmsg and of sock_send/sock_receive:
 * an optional address, the data as scattered pieces, optional ancillary
 * data (control), and (on receive) flags about what came.
 */
struct msghdr {
	void		*msg_name;	/* optional address */
	socklen_t	msg_namelen;	/* size of address */
	struct iovec	*msg_iov;	/* scatter/gather array */
	int		msg_iovlen;	/* # elements in msg_iov */
	void		*msg_control;	/* ancillary data, see below */
	socklen_t	msg_controllen;	/* ancillary data buffer len */
	int		msg_flags;	/* flags on received message */
};

#define MSG_OOB		0x1	/* process out-of-band data */
#define MSG_PEEK	0x2	/* peek at incoming message */
#define MSG_DONTROUTE	0x4	/* send without using routing tables */
#define MSG_EOR		0x8	/* data completes record */
#define MSG_TRUNC	0x10	/* data discarded before delivery */
#define MSG_CTRUNC	0x20	/* control data lost before delivery */
#define MSG_WAITALL	0x40	/* wait for full request or error */
#define MSG_DONTWAIT	0x80	/* this message should be nonblocking */
#define MSG_EOF		0x100	/* data completes connection */
#define MSG_WAITSTREAM	0x200	/* wait up to full request; may return partial */
#define MSG_FLUSH	0x400	/* start of 'hold' seq; dump so_temp */
#define MSG_HOLD	0x800	/* hold frag in so_temp */
#define MSG_SEND	0x1000	/* send the packet in so_temp */
#define MSG_HAVEMORE	0x2000	/* data ready to be read */
#define MSG_RCVMORE	0x4000	/* data remains in current pkt */
#define MSG_COMPAT	0x8000	/* used in sendit() */
#define MSG_NEEDSA	0x10000	/* fail receive if socket address cannot be allocated */
#define MSG_NBIO	0x20000	/* FIONBIO mode, used by fifofs */
#define MSG_USEUPCALL	0x80000000 /* sock_accept: inherit the listener's upcall */

/*
 * Ancillary data: a sequence of cmsghdr, each followed by its data, in
 * msg_control.
 */
struct cmsghdr {
	socklen_t	cmsg_len;	/* data byte count, including hdr */
	int		cmsg_level;	/* originating protocol */
	int		cmsg_type;	/* protocol-specific type */
	/* followed by	unsigned char  cmsg_data[]; */
};

#define __DARWIN_ALIGNBYTES	(sizeof(u_int32_t) - 1)
#define __DARWIN_ALIGN(p)						\
	((size_t)((char *)(size_t)(p) + __DARWIN_ALIGNBYTES) &		\
	~__DARWIN_ALIGNBYTES)
#define CMSG_DATA(cmsg)		((unsigned char *)(cmsg) +		\
				 __DARWIN_ALIGN(sizeof(struct cmsghdr)))
#define CMSG_NXTHDR(mhdr, cmsg)						\
	(((unsigned char *)(cmsg) + __DARWIN_ALIGN((cmsg)->cmsg_len) +	\
	  __DARWIN_ALIGN(sizeof(struct cmsghdr)) >			\
	    (unsigned char *)(mhdr)->msg_control + (mhdr)->msg_controllen) ? \
	    (struct cmsghdr *)0 :					\
	    (struct cmsghdr *)((unsigned char *)(cmsg) +		\
	    __DARWIN_ALIGN((cmsg)->cmsg_len)))
#define CMSG_FIRSTHDR(mhdr)	((struct cmsghdr *)(mhdr)->msg_control)
#define CMSG_SPACE(l)		(__DARWIN_ALIGN(sizeof(struct cmsghdr)) + \
				 __DARWIN_ALIGN(l))
#define CMSG_LEN(l)		(__DARWIN_ALIGN(sizeof(struct cmsghdr)) + (l))

/* "Socket"-level control message types. */
#define SCM_RIGHTS	0x01	/* access rights (array of int) */
#define SCM_TIMESTAMP	0x02	/* timestamp (struct timeval) */
#define SCM_CREDS	0x03	/* process creds (struct cmsgcred) */

/* shutdown(2)'s and sock_shutdown's `how`. */
#define SHUT_RD		0	/* shut down the reading side */
#define SHUT_WR		1	/* shut down the writing side */
#define SHUT_RDWR	2	/* shut down both sides */

/* The in-kernel socket calls, as Darwin's <sys/socket.h> gives kernel
 * code. */
#include <sys/kpi_socket.h>

#endif /* _SYS_SOCKET_H_ */
