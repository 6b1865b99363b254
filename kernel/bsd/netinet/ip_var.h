/*
 * IP's private interface: input (ip_input.c), reassembly (ip_reass.c),
 * output and fragmentation (ip_output.c), and their counters -- every
 * reason IP drops a packet has one, printed by `netstat -s` as group
 * "ip".  Counters are bumped atomically (NETSTAT_INC) and need no lock.
 */
#ifndef _BSD_NETINET_IP_VAR_H_
#define _BSD_NETINET_IP_VAR_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <kern/simple_lock.h>

struct ipstat {
	/* Input. */
	u_int32_t	ips_total;		/* packets received */
	u_int32_t	ips_delivered;		/* handed to the transport */
	u_int32_t	ips_tooshort;		/* shorter than an IP header */
	u_int32_t	ips_badvers;		/* version is not 4 */
	u_int32_t	ips_badhlen;		/* header length out of range */
	u_int32_t	ips_badsum;		/* header checksum wrong */
	u_int32_t	ips_badlen;		/* total length < header length */
	u_int32_t	ips_truncated;		/* total length > bytes received */
	u_int32_t	ips_badaddr;		/* source or destination not allowed */
	u_int32_t	ips_notforus;		/* someone else's: no forwarding */
	u_int32_t	ips_noproto;		/* no such transport protocol */
	u_int32_t	ips_nomem;		/* input: out of mbufs */
	/* Reassembly (ip_reass.c). */
	u_int32_t	ips_fragments;		/* fragments received */
	u_int32_t	ips_reassembled;	/* datagrams rebuilt */
	u_int32_t	ips_frag_badlen;	/* empty, or not 8-byte aligned */
	u_int32_t	ips_frag_dup;		/* a copy of one we hold */
	u_int32_t	ips_frag_overlap;	/* overlaps or contradicts another */
	u_int32_t	ips_frag_oversize;	/* datagram would pass 65535 bytes */
	u_int32_t	ips_frag_toomany;	/* datagram in too many pieces */
	u_int32_t	ips_reass_full;		/* evicted: too many datagrams */
	u_int32_t	ips_reass_timeout;	/* never completed in time */
	u_int32_t	ips_reass_stale;	/* its source moved on */
	/* Output (ip_output.c). */
	u_int32_t	ips_localout;		/* packets sent */
	u_int32_t	ips_noroute;		/* no route to the destination */
	u_int32_t	ips_cantfrag;		/* too big and IP_DF set */
	u_int32_t	ips_fragmented;		/* datagrams fragmented */
	u_int32_t	ips_ofragments;		/* fragments made */
	u_int32_t	ips_odropped;		/* output: out of mbufs */
};
extern struct ipstat ipstat;

/* --- ip_input.c ---------------------------------------------------- */

struct protosw;
struct socket;
struct sockopt;

/*
 * The transport of each protocol number: every inet protosw entry with
 * a pr_input (PROTOSW_SET), filled by ip_init.  NULL: no such protocol
 * (ICMP protocol unreachable, counted as noproto).
 */
extern struct protosw *ip_protox[IPPROTO_MAX];

/* IP's start (in_init): reassembly, ip_protox. */
void	ip_init(void);
/* A packet from an interface, data at the IP header.  Consumes it.
 * Runs in the DLIL input thread; never sleeps. */
void	ip_input(mbuf_t m);
/* Check a header already contiguous in the first mbuf: NULL if it is
 * good, else the counter of the reason to drop it.  Changes nothing. */
volatile u_int32_t *ip_check(mbuf_t m);
/* Once a second: reassembly timeouts. */
void	ip_slowtimo(u_int64_t now);

/* --- ip_output.c --------------------------------------------------- */

/*
 * Send a datagram whose header is contiguous in the first mbuf.  The
 * caller fills ip_hl, ip_tos, ip_len, ip_off (0 or IP_DF), ip_ttl, ip_p,
 * ip_dst and ip_src (or 0: the outgoing interface's address); ip_output
 * sets ip_v, ip_id and ip_sum, shows it to the IP filters, routes,
 * fragments to the interface MTU and hands the packet to ifnet_output.  Always consumes m.  Never
 * sleeps.  ENETUNREACH/EHOSTUNREACH no route, EMSGSIZE too big with
 * IP_DF, ENOBUFS out of mbufs.
 */
errno_t	ip_output(mbuf_t m);
/* ip_output along a route the caller looked up (a pcb's cached one,
 * in_pcbroute), which stays the caller's. */
struct in_route;
errno_t	ip_output_route(mbuf_t m, const struct in_route *ro);
/* A datagram an IP filter injected (ipf_inject_output), the filters
 * done: sent as it is (ip_id kept; ip_src filled in only if 0), routed
 * and fragmented.  Always consumes m; EINVAL for a header that is not
 * a whole IPv4 one. */
errno_t	ip_output_inject(mbuf_t m);
/* The next identification for a datagram we send (network order). */
u_int16_t ip_newid(void);
/*
 * IPPROTO_IP's socket options for UDP and TCP sockets (their
 * pr_ctloutput): IP_TTL and IP_TOS (int, 0 to 255).  ENOPROTOOPT for
 * another level or option, EINVAL for a bad value.  Socket locked.
 */
errno_t	ip_ctloutput(struct socket *so, struct sockopt *sopt);

/* --- ip_reass.c ---------------------------------------------------- */

#define IPQ_MAXDGRAMS	16	/* datagrams being reassembled at once */
#define IPQ_MAXFRAGS	64	/* fragments held for one datagram */
#define IPQ_TIMEOUT_MS	30000	/* give a datagram up after 30 s, */
#define IPQ_MAXDIST	64	/* or when over 64 fragments of others came
				   from its source since it grew (RFC 4963) */

/* One fragment held: its packet (IP header included) and its part of
 * the datagram's payload, in bytes. */
struct ipq_frag {
	mbuf_t		f_m;
	u_int16_t	f_off;
	u_int16_t	f_len;
};

/* A datagram being reassembled, named by (src, dst, id, protocol). */
struct ipq {
	bool		q_used;
	struct in_addr	q_src, q_dst;
	u_int16_t	q_id;			/* network order */
	u_int8_t	q_p;
	bool		q_havelast;		/* the MF=0 fragment came */
	u_int32_t	q_total;		/* payload length, once known */
	u_int64_t	q_expire;		/* in_time_ms() to give up */
	u_int32_t	q_dist;			/* fragments of other datagrams
						   from q_src since it grew */
	u_int32_t	q_nfrags;
	struct ipq_frag	q_frags[IPQ_MAXFRAGS];	/* sorted by f_off */
};

/* All datagrams being reassembled; ipq_lock guards everything in it. */
struct ipq_table {
	simple_lock_data_t	ipq_lock;
	struct ipq		ipq_q[IPQ_MAXDGRAMS];
};

void	ip_reass_init(struct ipq_table *t);
/*
 * Add the fragment m (header trimmed to its total length, rcvif set).
 * Returns the whole datagram when m completes one, else NULL (m is held
 * or was dropped).  Dropped packets -- m, or fragments held before --
 * are counted and appended to *freelist (nextpkt) for the caller to
 * free outside the lock.
 */
mbuf_t	ip_reass(struct ipq_table *t, mbuf_t m, u_int64_t now, mbuf_t *freelist);
/* Drop every datagram whose time is up; its fragments go to *freelist. */
void	ip_reass_expire(struct ipq_table *t, u_int64_t now, mbuf_t *freelist);
/* Drop everything (counted as timeouts); for tests. */
void	ip_reass_flush(struct ipq_table *t, mbuf_t *freelist);
/* How many datagrams are being reassembled. */
int	ip_reass_count(struct ipq_table *t);

#endif /* _BSD_NETINET_IP_VAR_H_ */
