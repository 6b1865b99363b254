/*
 * <netinet/kpi_ipfilter.h> -- IP filters: a kext sees every IPv4
 * datagram this host receives, whole (after reassembly) and before its
 * transport protocol does, and every datagram it sends, before it is
 * cut into fragments.  A filter may let it go on, drop it, or keep it
 * and put it back later with ipf_inject_input / ipf_inject_output.
 * The hooks are in bsd/netinet/ip_input.c and ip_output.c; the KPI
 * itself is bsd/netinet/kpi_ipfilter.c.
 */
#ifndef _NETINET_KPI_IPFILTER_H_
#define _NETINET_KPI_IPFILTER_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <net/kpi_interface.h>

__BEGIN_DECLS

/*
 * Options that go with a datagram sent, for the filters and for
 * ipf_inject_output.  Finch sends no multicast yet: the multicast
 * fields are handed on to the filters but change nothing.
 */
struct ipf_pktopts {
	u_int32_t	ippo_flags;		/* IPPOF_* */
	ifnet_t		ippo_mcast_ifnet;	/* interface to send on */
	int		ippo_mcast_loop;	/* loop a copy back to us */
	u_int8_t	ippo_mcast_ttl;
};
#define IPPOF_MCAST_OPTS	0x1	/* the ippo_mcast_* fields are set */

typedef struct ipf_pktopts	*ipf_pktopts_t;

/*
 * --- When the callbacks run ---
 * ipf_input in the DLIL input thread ("dlil_input"), one datagram at a
 * time; ipf_output in the thread that sends (the DLIL input thread for
 * ICMP replies, the monitor's or host link's for ping, a socket's
 * caller, yours).  ipf_input runs with no kernel lock held; ipf_output
 * with the sending socket's lock held if a socket sent (do not call
 * into that socket).  Both run on several threads at once: guard your
 * state with your own lock, and hold none of it across a call into the
 * stack (ipf_inject_*, ipf_remove, ...).  They must not sleep for long:
 * the traffic of the whole host waits.
 *
 * Returning 0 lets the datagram go on to the next filter; EJUSTRETURN
 * means the filter kept it (the stack forgets it: inject it or free
 * it); any other error drops it (the stack frees it).
 *
 * ipf_input: *data starts at the IP header; offset is the length of
 *   that header (where the transport header starts), protocol its
 *   ip_p.  ip_len and ip_off are in network byte order.
 * ipf_output: *data starts at the IP header, complete but for its
 *   checksum (computed after the filters); options may be NULL.
 * ipf_detach: the last call; none of the others is running or will run.
 *   It runs in ipf_remove's thread before ipf_remove returns -- or, if
 *   a callback removed its own filter, in the thread whose datagram
 *   leaves the filters last (perhaps holding a socket's lock).
 */
typedef errno_t (*ipf_input_func)(void *cookie, mbuf_t *data, int offset,
    u_int8_t protocol);
typedef errno_t (*ipf_output_func)(void *cookie, mbuf_t *data,
    ipf_pktopts_t options);
typedef void (*ipf_detach_func)(void *cookie);

/* Copied by ipf_addv4 (the name too). */
struct ipf_filter {
	void		*cookie;
	const char	*name;		/* required */
	ipf_input_func	ipf_input;	/* NULL: no inbound datagrams */
	ipf_output_func	ipf_output;	/* NULL: no outbound datagrams */
	ipf_detach_func	ipf_detach;	/* may be NULL */
};

/* A registered filter, returned by ipf_addv4. */
struct opaque_ipfilter;
typedef struct opaque_ipfilter	*ipfilter_t;

/* Registers an IPv4 filter at the head of the list: the newest filter
 * runs first.  EINVAL if filter, its name or filter_ref is NULL, or if
 * both ipf_input and ipf_output are NULL; ENOMEM.  May sleep (a mutex):
 * thread context.  The callbacks may start before it returns.  Until
 * ipf_detach has run, kextunload keeps the stopped kext in memory. */
errno_t	ipf_addv4(const struct ipf_filter *filter, ipfilter_t *filter_ref);
/* Finch has no IPv6: always EAFNOSUPPORT, and *filter_ref is left
 * alone.  Declared so that source written for Mac OS X builds. */
errno_t	ipf_addv6(const struct ipf_filter *filter, ipfilter_t *filter_ref);
/* Takes the filter off the list: no callback of it starts after this.
 * Then sleeps until no datagram is inside any filter, and calls
 * ipf_detach in the caller's thread before returning.  Called from one
 * of the filters' own callbacks, it cannot wait for itself: it returns
 * at once and ipf_detach comes when that thread's datagram has left the
 * filters.  EINVAL for NULL, ENOENT if the filter is not registered
 * (removed already).  Thread context; hold none of your locks. */
errno_t	ipf_remove(ipfilter_t filter_ref);
/* Puts a complete IPv4 datagram (data at the IP header, rcvif set) back
 * on the input path, queued for the DLIL input thread.  With your own
 * filter_ref it skips your filter and the ones that ran before it;
 * pass NULL if you changed the datagram: then every filter sees it
 * again.  EINVAL (no packet header, no rcvif, a ref that is not
 * registered), ENOMEM, ENOBUFS (queue full); on error the caller still
 * owns the mbuf.  Never sleeps; any thread. */
errno_t	ipf_inject_input(mbuf_t data, ipfilter_t filter_ref);
/* Sends a complete IPv4 datagram (data at the IP header, ip_dst set),
 * in the caller's thread: the filters after filter_ref (all if NULL)
 * see it, then it is routed, fragmented if need be and sent as is.
 * Always consumes the mbuf, even on error: EINVAL (a ref that is not
 * registered, a bad header), ENETUNREACH or EHOSTUNREACH (no route), ELOOP (injected
 * from inside a filter too many times over in one thread), or what the
 * filters and the interface returned.  Never sleeps; any thread. */
errno_t	ipf_inject_output(mbuf_t data, ipfilter_t filter_ref,
	    ipf_pktopts_t options);

__END_DECLS

#endif /* _NETINET_KPI_IPFILTER_H_ */
