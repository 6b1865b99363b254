/*
 * Internet protocol control blocks (XNU and FreeBSD: netinet/in_pcb.h):
 * what UDP and TCP keep per socket -- local and foreign address and
 * port -- and the tables that find a socket for an arriving datagram.
 * in_pcb.c holds the rules: binding (ephemeral ports, EADDRINUSE,
 * SO_REUSEADDR and SO_REUSEPORT, a specific address beating the
 * wildcard), connecting (the source address by route) and lookups by
 * the 4-tuple with a wildcard fallback, in hash tables sized for the
 * thousands of pcbs TCP will keep in TIME_WAIT.
 *
 * Locks.  Each protocol has one table (struct inpcbinfo) guarded by
 * ipi_lock, a spin lock, because the input path searches it; the rule
 * of socketvar.h says a lookup takes a reference on the socket under
 * ipi_lock and the socket's lock only after releasing ipi_lock.  A
 * pcb's addresses and ports, marked (s,i), change only with both its
 * socket's lock and ipi_lock held, so either lock is enough to read
 * them; (i) fields only with ipi_lock; (c) never after in_pcballoc;
 * the rest belongs to the socket's lock.
 */
#ifndef _BSD_NETINET_IN_PCB_H_
#define _BSD_NETINET_IN_PCB_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <kern/simple_lock.h>
#include <bsd/kern/socketvar.h>
#include <bsd/netinet/in_route_var.h>

LIST_HEAD(inpcbhead, inpcb);

struct inpcb {
	LIST_ENTRY(inpcb) inp_hash;	/* (i) on ipi_hashbase: 4-tuple */
	LIST_ENTRY(inpcb) inp_portlist;	/* (i) on ipi_porthashbase: lport */
	LIST_ENTRY(inpcb) inp_list;	/* (i) on ipi_listhead: every pcb */
	struct inpcbinfo *inp_pcbinfo;	/* (c) its protocol's table */
	struct socket	*inp_socket;	/* (c) its socket */
	void		*inp_ppcb;	/* the protocol's own block (tcpcb) */
	struct in_addr	inp_faddr;	/* (s,i) foreign address; 0: none */
	struct in_addr	inp_laddr;	/* (s,i) local address; 0: any */
	u_short		inp_fport;	/* (s,i) foreign port, network order */
	u_short		inp_lport;	/* (s,i) local port, network order */
	u_int32_t	inp_flags;	/* INP_* */
	u_char		inp_ip_ttl;	/* IP_TTL: the TTL of what we send */
	u_char		inp_ip_tos;	/* IP_TOS */
	/* The route of the last datagram sent (BSD's inp_route), reused
	 * for the next one to inp_route_dst while in_route_gen is
	 * inp_route_gen (in_pcbroute). */
	struct in_route	inp_route;	/* ro_ifp NULL: none */
	struct in_addr	inp_route_dst;
	u_int32_t	inp_route_gen;
};

#define sotoinpcb(so)	((struct inpcb *)(so)->so_pcb)

/* A protocol's pcbs and how to find them. */
struct inpcbinfo {
	simple_lock_data_t ipi_lock;	/* guards the (i) fields below */
	const char	*ipi_name;	/* (c) "udp", "tcp" */
	struct inpcbhead ipi_listhead;	/* (i) every pcb */
	struct inpcbhead *ipi_hashbase;	/* (i) by (faddr, lport, fport) */
	u_long		ipi_hashmask;	/* (c) buckets - 1 */
	struct inpcbhead *ipi_porthashbase; /* (i) by lport */
	u_long		ipi_porthashmask; /* (c) buckets - 1 */
	u_int32_t	ipi_count;	/* (i) pcbs */
	u_int32_t	ipi_nextport;	/* (i) the ephemeral port counter */
	/* netstat -a's (state) column, e.g. "ESTABLISHED"; NULL: none.
	 * Called with ipi_lock held: read, never sleep. */
	const char	*(*ipi_state)(struct inpcb *inp);
	LIST_ENTRY(inpcbinfo) ipi_link;	/* on the list netstat -a walks */
};

/* One pcb, copied out for netstat -a. */
struct in_pcb_xinfo {
	const char	*xi_proto;	/* ipi_name */
	struct in_addr	xi_laddr, xi_faddr;
	u_short		xi_lport, xi_fport;	/* network order */
	u_int32_t	xi_rcvcc, xi_sndcc;	/* Recv-Q, Send-Q */
	const char	*xi_state;	/* "" if none */
};

/* pr_ctlinput's errno for each PRC_* (BSD's inetctlerrmap). */
extern const int inetctlerrmap[];

/*
 * Set up a protocol's table at boot: hashsize buckets (a power of two)
 * in each hash, named for netstat (-a's "udp4") and kextunload.
 */
void	in_pcbinfo_init(struct inpcbinfo *pcbinfo, const char *name,
	    u_long hashsize, const char *(*state)(struct inpcb *inp));
/* A pcb for the new socket so (locked): unbound, in the tables, holding
 * a reference on so.  ENOMEM. */
errno_t	in_pcballoc(struct socket *so, struct inpcbinfo *pcbinfo);
/* The socket is done with it: out of the tables, freed, so_pcb NULL,
 * its reference dropped (sodetached).  Socket locked. */
void	in_pcbdetach(struct inpcb *inp);
/*
 * Bind to nam (NULL: any address, an ephemeral port).  EINVAL already
 * bound or bad length, EAFNOSUPPORT, EADDRNOTAVAIL not our address (or
 * no ephemeral port free), EADDRINUSE.  Socket locked.
 */
errno_t	in_pcbbind(struct inpcb *inp, struct sockaddr *nam);
/*
 * Connect to nam: the local address by route if unbound, an ephemeral
 * port if none, the 4-tuple unique.  EINVAL, EAFNOSUPPORT,
 * EADDRNOTAVAIL (port 0), ENETUNREACH, EHOSTUNREACH, EADDRINUSE.
 * Socket locked.
 */
errno_t	in_pcbconnect(struct inpcb *inp, struct sockaddr *nam);
/*
 * A connection a listener accepted (TCP): bind it to the address and
 * port the request came to, the listener's port, and connect it to the
 * peer in one step.  EADDRINUSE if the 4-tuple is taken.  Socket locked.
 */
errno_t	in_pcbsetaddr(struct inpcb *inp, struct in_addr laddr, u_short lport,
	    struct in_addr faddr, u_short fport);
/* Forget the foreign address and port.  Socket locked. */
void	in_pcbdisconnect(struct inpcb *inp);
/* Our address toward faddr, by route.  ENETUNREACH, EHOSTUNREACH. */
errno_t	in_pcbladdr(struct in_addr faddr, struct in_addr *laddr);
/*
 * The route to faddr, looked up once and kept in inp for the datagrams
 * that follow (a change of any route or address makes it look again):
 * *rop points into inp, valid while the socket stays locked.
 * ENETUNREACH, EHOSTUNREACH.  Socket locked.
 */
errno_t	in_pcbroute(struct inpcb *inp, struct in_addr faddr,
	    const struct in_route **rop);
/*
 * The pcb for a datagram from (faddr, fport) to (laddr, lport): the
 * connected one with that 4-tuple, else (wildcard) an unconnected one on
 * lport bound to laddr, else one bound to any address.  Its socket comes
 * referenced: socket_lock(so, 0), check so->so_pcb is still the pcb,
 * ..., socket_unlock(so, 1).  NULL if none.  Never sleeps.
 */
struct inpcb *in_pcblookup_hash(struct inpcbinfo *pcbinfo,
	    struct in_addr faddr, u_short fport, struct in_addr laddr,
	    u_short lport, bool wildcard);
/*
 * Every pcb a broadcast or multicast from (faddr, fport) to (laddr,
 * lport) is for (bound to lport and to laddr or any address, and
 * connected to the sender or to nobody): up to max of them into out[],
 * each with its socket referenced as above.  Returns how many match,
 * which may be more than max.
 */
int	in_pcblookup_all(struct inpcbinfo *pcbinfo, struct in_addr faddr,
	    u_short fport, struct in_addr laddr, u_short lport,
	    struct inpcb **out, int max);
/* Give the connected socket of that 4-tuple the error `error` (from an
 * ICMP message) and wake it. */
void	in_pcbnotify(struct inpcbinfo *pcbinfo, struct in_addr faddr,
	    u_short fport, struct in_addr laddr, u_short lport, int error);
/* The local and the foreign address as a sockaddr_in (pru_sockaddr,
 * pru_peeraddr).  Socket locked. */
errno_t	in_setsockaddr(struct socket *so, struct sockaddr *nam);
errno_t	in_setpeeraddr(struct socket *so, struct sockaddr *nam);
/* "UDP 0.0.0.0:5000", "TCP 10.0.2.15:22 -> 10.0.2.2:51000": the inet
 * domain's dom_describe.  Socket locked. */
void	in_pcb_describe(struct socket *so, char *buf, size_t len);
/* Copy up to max pcbs of every protocol into out (netstat -a); returns
 * how many there are. */
int	in_pcblist(struct in_pcb_xinfo *out, int max);

#endif /* _BSD_NETINET_IN_PCB_H_ */
