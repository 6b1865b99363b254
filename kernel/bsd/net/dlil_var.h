/*
 * What the DLIL's own files share and the rest of the kernel does not
 * need: the drop counters, the allocation tag, references to attached
 * protocols and the DLIL thread's work queue.  The network code outside
 * the DLIL uses if_var.h; how the DLIL is split is told in dlil.c.
 */
#ifndef _BSD_NET_DLIL_VAR_H_
#define _BSD_NET_DLIL_VAR_H_

#include <sys/kpi_mbuf.h>
#include <kern/locks.h>
#include <libkern/OSMalloc.h>
#include <bsd/net/if_var.h>

/*
 * Why packets die in the DLIL.  Every drop on its paths is counted under
 * one of these names; `netstat -s` prints them (group "dlil").  No lock:
 * updated atomically (NETSTAT_INC), from interrupt handlers too.
 */
struct dlil_stat {
	u_int32_t	input_packets;		/* accepted by ifnet_input */
	u_int32_t	input_delivered;	/* taken by a protocol */
	u_int32_t	input_if_not_attached;
	u_int32_t	input_queue_full;
	u_int32_t	input_if_down;
	u_int32_t	input_no_protocol;
	u_int32_t	input_filter_drop;
	u_int32_t	input_not_for_us;
	u_int32_t	input_proto_error;
	u_int32_t	output_packets;		/* handed to a driver */
	u_int32_t	output_if_not_attached;
	u_int32_t	output_if_down;
	u_int32_t	output_no_protocol;
	u_int32_t	output_preout_error;
	u_int32_t	output_framer_error;
	u_int32_t	output_filter_drop;
	u_int32_t	output_driver_error;
};
extern struct dlil_stat dlil_stat;

/* The DLIL's allocations (interfaces, link addresses, protocols); set
 * once by dlil_init. */
extern OSMallocTag	dlil_tag;

/* dlil_proto.c: serializes protocol attach and detach (dlil_init makes
 * it). */
extern lck_mtx_t	*dlil_proto_mtx;

/* dlil.c: free a packet that goes no further and count why. */
void	dlil_drop(mbuf_t m, volatile u_int32_t *reason);
/* dlil.c: n uses of ifp at once, one per packet; false: not attached. */
bool	dlil_ifnet_use_n(ifnet_t ifp, u_int32_t n);
/* dlil.c: the end of ifnet_detach, in the DLIL thread, once nothing is
 * in flight. */
void	dlil_if_detach_final(ifnet_t ifp);

/* dlil_input.c: the "dlil_input" thread, which dlil_init starts. */
void	dlil_input_thread(void *arg, int wr);
/* dlil_input.c: queue work (IF_WORK_*) for ifp; safe from an interrupt
 * handler. */
void	dlil_work_post(ifnet_t ifp, u_int32_t work);

/* dlil_proto.c: find an attached protocol and take a reference on it (NULL:
 * none); dlil_proto_release drops it, the last one calls `detached`. */
struct if_proto *dlil_proto_find(ifnet_t ifp, protocol_family_t pf);
void	dlil_proto_release(struct if_proto *proto);
/* dlil_proto.c: a reference to each attached protocol (at most
 * IF_MAX_PROTOS), for calls made without if_lock; release each. */
int	dlil_protos_snapshot(ifnet_t ifp, struct if_proto **out);

#endif /* _BSD_NET_DLIL_VAR_H_ */
