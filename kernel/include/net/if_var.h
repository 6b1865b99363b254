/*
 * <net/if_var.h> -- in Darwin, struct ifnet and its lists: private to
 * the kernel.  A kext works on an ifnet_t through <net/kpi_interface.h>,
 * which this brings with <net/if.h>, so that Darwin sources that include
 * this header build.  It also has struct ifqueue, the packet queue a
 * driver may keep of its own, which <sys/kpi_mbuf.h>'s IF_*_MBUF macros
 * work on.
 */
#ifndef _NET_IF_VAR_H_
#define _NET_IF_VAR_H_

#include <net/if.h>
#include <net/kpi_interface.h>

/* A queue of packets linked through mbuf_nextpkt: the driver's own,
 * guarded by the driver's own lock. */
struct ifqueue {
	void	*ifq_head;	/* mbuf_t: first packet, NULL if empty */
	void	*ifq_tail;	/* mbuf_t: last packet */
	int	ifq_len;	/* packets queued */
	int	ifq_maxlen;	/* the queue's limit, for the driver to keep */
	int	ifq_drops;	/* packets dropped because it was full */
};

#endif /* _NET_IF_VAR_H_ */
