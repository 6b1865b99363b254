/*
 * IP filters, the kernel's side: the hooks ip_input.c and ip_output.c
 * call, and the filter record behind an ipfilter_t (kpi_ipfilter.c).
 */
#ifndef _BSD_NETINET_KPI_IPFILTER_VAR_H_
#define _BSD_NETINET_KPI_IPFILTER_VAR_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <netinet/kpi_ipfilter.h>

#define IPF_NAME_MAX		32	/* names longer are cut (monitor) */
#define IPF_INJECT_DEPTH_MAX	4	/* ipf_inject_output nested in one thread */

/*
 * One registered filter.  The list (ipf_next, newest first) is changed
 * only with ipf_mtx held, and read without any lock by the packets
 * walking it (see "Walking without a lock" in kpi_ipfilter.c); the
 * filter is freed only once no packet is walking.  Counters are atomic.
 */
struct ipfilter {
	struct ipfilter		*ipf_next;	/* the list; kept when removed */
	struct ipfilter		*ipf_all_next;	/* until ipf_detach returned
						   (ipf_mtx) */
	struct ipfilter		*ipf_defer_next; /* waiting for the walkers
						   to leave (ipf_mtx) */
	struct ipf_filter	ipf_kpi;	/* the kext's, copied */
	char			ipf_name[IPF_NAME_MAX];
	char			ipf_owner[64];	/* the kext's bundle id */
	u_int32_t		ipf_id;		/* never reused: injected
						   packets' tags name it */
	bool			ipf_removed;	/* off the list (ipf_mtx) */
	volatile u_int32_t	ipf_in;		/* datagrams given to ipf_input */
	volatile u_int32_t	ipf_out;	/* ... and to ipf_output */
	volatile u_int32_t	ipf_swallowed;	/* EJUSTRETURN */
	volatile u_int32_t	ipf_rejected;	/* another error: dropped */
};

/* Once, from ip_init. */
void	ipf_init(void);

/*
 * A whole datagram for us, data at the IP header, header contiguous:
 * the filters see it.  0: go on with *m (a filter may have replaced
 * it).  Otherwise the datagram is gone (kept by a filter, or dropped
 * and counted) and the caller forgets it.  DLIL input thread.
 */
errno_t	ipf_input_hook(mbuf_t *m);

/*
 * A datagram about to be sent, header complete but for its checksum:
 * the filters see it.  0: go on with *m.  EJUSTRETURN: a filter kept
 * it; the send succeeded as far as the caller knows.  Another error:
 * dropped, counted and freed.
 */
errno_t	ipf_output_hook(mbuf_t *m, ipf_pktopts_t options);

/* Is any filter registered?  A racy peek, for the hooks' fast path. */
static inline bool
ipf_any(void)
{
	extern struct ipfilter *ipf_head;

	return __atomic_load_n(&ipf_head, __ATOMIC_RELAXED) != NULL;
}

#endif /* _BSD_NETINET_KPI_IPFILTER_VAR_H_ */
