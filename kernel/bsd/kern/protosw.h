/*
 * The protocol switch (XNU and FreeBSD: sys/protosw.h): what a protocol
 * (UDP now, TCP next) gives the layers around it.  Below, pr_input takes
 * packets from IP, which dispatches on the protocol number through the
 * table ip_init builds from these entries (ip_protox[]).  Above,
 * pr_usrreqs takes the socket layer's requests -- attach a new socket,
 * bind, connect, send, ... -- and pr_ctloutput its options.
 *
 * A protocol registers beside its code, with no central table to edit:
 *
 *	static struct protosw udp_protosw = {
 *		.pr_type = SOCK_DGRAM, .pr_domain = &inetdomain,
 *		.pr_protocol = IPPROTO_UDP, .pr_flags = PR_ATOMIC | PR_ADDR,
 *		.pr_input = udp_input, .pr_ctlinput = udp_ctlinput,
 *		.pr_ctloutput = ip_ctloutput, .pr_init = udp_init,
 *		.pr_usrreqs = &udp_usrreqs,
 *	};
 *	PROTOSW_SET(udp_protosw);
 *
 * Every pru_* request is called with the socket locked (socketvar.h) and
 * returns an errno; a NULL entry means EOPNOTSUPP.
 */
#ifndef _BSD_KERN_PROTOSW_H_
#define _BSD_KERN_PROTOSW_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <net/kpi_interface.h>
#include <kern/linker_set.h>

struct socket;
struct sockaddr;
struct sockopt;
struct domain;
struct pr_usrreqs;

struct protosw {
	short		pr_type;	/* SOCK_DGRAM, SOCK_STREAM, SOCK_RAW */
	struct domain	*pr_domain;	/* the family it belongs to */
	short		pr_protocol;	/* IPPROTO_UDP, ...; 0: none */
	unsigned int	pr_flags;	/* PR_* below */
	/*
	 * From below, in the DLIL input thread (never sleeps): a packet,
	 * data at the IP header, hlen its length.  Consumes m.
	 */
	void		(*pr_input)(mbuf_t m, int hlen);
	/*
	 * An ICMP error (PRC_* below) about a datagram this protocol sent
	 * to sa; ip is the quoted IP header (its own header follows it),
	 * NULL for events that quote nothing.  Input thread.
	 */
	void		(*pr_ctlinput)(int cmd, const struct sockaddr *sa,
			    void *ip);
	/* Socket options of the protocol's levels, socket locked. */
	errno_t		(*pr_ctloutput)(struct socket *so,
			    struct sockopt *sopt);
	void		(*pr_init)(void);	/* boot, before dom_init */
	void		(*pr_fasttimo)(void);	/* every 200 ms */
	void		(*pr_slowtimo)(void);	/* every 500 ms */
	struct pr_usrreqs *pr_usrreqs;	/* NULL: no sockets of it */
};

#define PROTOSW_SET(sw)		LINKER_SET_ENTRY(protosw, sw)

/* The timers' periods, in milliseconds (uipc_domain.c runs them in the
 * thread_call thread: a timer may take mutexes, must not block long). */
#define PR_FASTHZ_MS	200
#define PR_SLOWHZ_MS	500

/* pr_flags. */
#define PR_ATOMIC	0x01	/* exchange atomic messages only */
#define PR_ADDR		0x02	/* addresses given with messages */
#define PR_CONNREQUIRED	0x04	/* connection required by protocol */
#define PR_WANTRCVD	0x08	/* want PRU_RCVD calls */
#define PR_RIGHTS	0x10	/* passes capabilities */
#define PR_IMPLOPCL	0x20	/* implied open/close */
#define PR_LASTHDR	0x40	/* enforce ipsec policy; last header */

/*
 * The socket layer's requests.  `nam` arguments are socket addresses the
 * caller checked only for length; pru_sockaddr and pru_peeraddr fill a
 * buffer of sizeof(struct sockaddr_storage) bytes (BSD allocates one;
 * Finch's callers give it).
 */
struct pr_usrreqs {
	/* Drop the connection at once (a listener closing, TCP's RST). */
	errno_t	(*pru_abort)(struct socket *so);
	/* The peer of a socket just taken from a listener's queue. */
	errno_t	(*pru_accept)(struct socket *so, struct sockaddr *nam);
	/* A new socket: make its control block (so_pcb) and reserve its
	 * buffers (soreserve).  proto is the protocol asked for. */
	errno_t	(*pru_attach)(struct socket *so, int proto);
	errno_t	(*pru_bind)(struct socket *so, struct sockaddr *nam);
	/* Start a connection; soisconnecting/soisconnected tell its
	 * progress. */
	errno_t	(*pru_connect)(struct socket *so, struct sockaddr *nam);
	/* An ioctl the socket layer does not know (in_control for PF_INET);
	 * ifp is the interface an interface ioctl names (bsd/net/if.c), or
	 * NULL.  With an interface the socket is not locked: the protocol
	 * configures the interface, not the socket, and may sleep. */
	errno_t	(*pru_control)(struct socket *so, u_long cmd, caddr_t data,
		    ifnet_t ifp);
	/* The socket is closing: free the control block (or hand it to the
	 * protocol's own lifetime, as TCP's TIME_WAIT) and so_pcb = NULL. */
	errno_t	(*pru_detach)(struct socket *so);
	errno_t	(*pru_disconnect)(struct socket *so);
	errno_t	(*pru_listen)(struct socket *so);
	errno_t	(*pru_peeraddr)(struct socket *so, struct sockaddr *nam);
	/* The reader took data from so_rcv (PR_WANTRCVD): open the window. */
	errno_t	(*pru_rcvd)(struct socket *so, int flags);
	errno_t	(*pru_rcvoob)(struct socket *so, mbuf_t m, int flags);
	/* Send m (a packet-header chain) to addr (NULL: the peer), with
	 * control (may be NULL).  Always consumes m and control. */
	errno_t	(*pru_send)(struct socket *so, int flags, mbuf_t m,
		    struct sockaddr *addr, mbuf_t control);
	/* The socket will send no more (socantsendmore, TCP's FIN). */
	errno_t	(*pru_shutdown)(struct socket *so);
	errno_t	(*pru_sockaddr)(struct socket *so, struct sockaddr *nam);
};

/* pru_send's flags. */
#define PRUS_OOB	0x1	/* out-of-band data */
#define PRUS_EOF	0x2	/* send, then shut down (MSG_EOF) */
#define PRUS_MORETOCOME	0x4	/* more data follows at once */

/*
 * pr_ctlinput's commands, from ICMP errors (BSD's values).  The
 * protocol's inetctlerrmap[] (in_pcb.c) gives each its errno.
 */
#define PRC_IFDOWN		0	/* interface transition */
#define PRC_ROUTEDEAD		1	/* select new route if possible ??? */
#define PRC_IFUP		2	/* interface has come back up */
#define PRC_QUENCH2		3	/* DEC congestion bit says slow down */
#define PRC_QUENCH		4	/* some one said to slow down */
#define PRC_MSGSIZE		5	/* message size forced drop */
#define PRC_HOSTDEAD		6	/* host appears to be down */
#define PRC_HOSTUNREACH		7	/* deprecated (use PRC_UNREACH_HOST) */
#define PRC_UNREACH_NET		8	/* no route to network */
#define PRC_UNREACH_HOST	9	/* no route to host */
#define PRC_UNREACH_PROTOCOL	10	/* dst says bad protocol */
#define PRC_UNREACH_PORT	11	/* bad port # */
/* was	PRC_UNREACH_NEEDFRAG	12	   (use PRC_MSGSIZE) */
#define PRC_UNREACH_SRCFAIL	13	/* source route failed */
#define PRC_REDIRECT_NET	14	/* net routing redirect */
#define PRC_REDIRECT_HOST	15	/* host routing redirect */
#define PRC_REDIRECT_TOSNET	16	/* redirect for type of service & net */
#define PRC_REDIRECT_TOSHOST	17	/* redirect for tos & host */
#define PRC_TIMXCEED_INTRANS	18	/* packet lifetime expired in transit */
#define PRC_TIMXCEED_REASS	19	/* lifetime expired on reass q */
#define PRC_PARAMPROB		20	/* header incorrect */
#define PRC_UNREACH_ADMIN_PROHIB 21	/* packet administrativly prohibited */
#define PRC_NCMDS		22

#endif /* _BSD_KERN_PROTOSW_H_ */
