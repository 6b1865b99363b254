/*
 * <net/kpi_interfacefilter.h> -- interface filters: a kext sees (and may
 * change, swallow or re-inject) every packet entering an interface after
 * the link header is found, and every frame leaving it before the driver.
 * The DLIL calls the filters on its input and output paths
 * (bsd/net/dlil_input.c, dlil_output.c); the KPI itself is
 * bsd/net/kpi_interfacefilter.c.
 */
#ifndef _NET_KPI_INTERFACEFILTER_H_
#define _NET_KPI_INTERFACEFILTER_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <net/kpi_interface.h>

__BEGIN_DECLS

struct kev_msg;

/* A filter attachment, returned by iflt_attach: interface_filter_t, of
 * <sys/kernel_types.h>. */

/*
 * --- When the callbacks run ---
 * Never in an interrupt handler, and with no kernel lock held (but see
 * iff_event).  They run on several threads at once, each other's too:
 * guard your state with your own lock.  A mutex is fine; sleeping for
 * anything else holds up the interface's traffic.  Hold none of your
 * locks across a call into the stack (ifnet_output, iflt_detach, ...):
 * your callbacks may run inside it, in your thread.
 *
 *   iff_input     the DLIL input thread ("dlil_input"), one packet at a
 *                 time, after demux.
 *   iff_output    the sending thread: the DLIL input thread (ARP and
 *                 ICMP replies), the thread_call thread (timers, ARP
 *                 retries), the monitor's or host link's (ping), yours.
 *   iff_event     the thread that posts the event, inside the call that
 *                 posts it: the DLIL input thread (link on/off, the end
 *                 of an interface's detach), or the caller of
 *                 ifnet_attach, ifnet_detach, ifnet_attach_protocol,
 *                 ifnet_set_lladdr, or of SIOCSIFFLAGS, SIOCSIFMTU,
 *                 SIOCSIFMETRIC (ifconfig: the monitor's or host
 *                 link's).  KEV_DL_PROTO_* posted by a plumber come
 *                 with the plumbers' mutex held.  Every filter of
 *                 the interface hears every KEV_DL_* event about it
 *                 (flags, metric, MTU, link on/off and address,
 *                 protocols attached and detached, its detach);
 *                 KEV_INET_* events go to event sockets only, as on
 *                 Mac OS X.
 *   iff_ioctl     the caller of ifnet_ioctl, inside it.
 *   iff_detached  the last call: none of the others starts or is still
 *                 running.  Inside iflt_detach, in its caller's thread,
 *                 when no callback is running; else later, in the
 *                 thread whose callback ends last; in the DLIL input
 *                 thread when the interface detaches first.
 *
 * Stopping: call iflt_detach holding none of your locks (iff_detached
 * may take them inside it); sleep, bounded (msleep with a timeout), until
 * iff_detached has set a flag; if it has not come, return KERN_FAILURE
 * from stop (kextunload -w calls it again).  Free what the callbacks use
 * only after iff_detached.
 */

/*
 * Returning 0 lets the packet go on; EJUSTRETURN means the filter kept
 * it (the stack forgets it); any other error drops it (the stack frees
 * it).
 *
 * iff_input: *data starts after the link header, which *frame_ptr points
 *   at (ifnet_hdrlen bytes).  Call mbuf_inbound_modified after changing it.
 * iff_output: *data is the whole frame, link header included.  Call
 *   mbuf_outbound_finalize before changing it.
 */
typedef errno_t (*iff_input_func)(void *cookie, ifnet_t interface,
    protocol_family_t protocol, mbuf_t *data, char **frame_ptr);
typedef errno_t (*iff_output_func)(void *cookie, ifnet_t interface,
    protocol_family_t protocol, mbuf_t *data);
typedef void (*iff_event_func)(void *cookie, ifnet_t interface,
    protocol_family_t protocol, const struct kev_msg *event_msg);
/* 0 handled, go on; EOPNOTSUPP not mine; EJUSTRETURN handled, stop. */
typedef errno_t (*iff_ioctl_func)(void *cookie, ifnet_t interface,
    protocol_family_t protocol, u_long ioctl_cmd, void *ioctl_arg);
/* The last call: the kext may unload afterwards. */
typedef void (*iff_detached_func)(void *cookie, ifnet_t interface);

/* Copied by iflt_attach. */
struct iff_filter {
	void			*iff_cookie;
	const char		*iff_name;	/* required */
	protocol_family_t	iff_protocol;	/* 0: every protocol */
	iff_input_func		iff_input;
	iff_output_func		iff_output;
	iff_event_func		iff_event;
	iff_ioctl_func		iff_ioctl;
	iff_detached_func	iff_detached;
};

/* Appends a filter to the interface's list (the struct and the name are
 * copied); the interface holds a reference until the filter is detached.
 * ENXIO if the interface is not attached, EINVAL if filter or its name is
 * NULL, ENOMEM (also with 16 filters attached).  Never sleeps.  The
 * callbacks may start before it returns (before *filter_ref is set):
 * set up what they use first.  Until iff_detached has returned,
 * kextunload keeps the stopped kext in memory ("pinned"). */
errno_t	iflt_attach(ifnet_t interface, const struct iff_filter *filter,
	    interface_filter_t *filter_ref);
/* Takes the filter off the list: no new callback starts.  Asynchronous:
 * iff_detached says when none is running any more; it may run before
 * iflt_detach returns, in the caller's thread, or later in the thread
 * that finishes the last callback.  An interface's detach detaches its
 * filters too; a reference already detached (and freed once its
 * iff_detached returned) is ignored, so stop may call it either way.
 * Never sleeps (though iff_detached may run inside it). */
void	iflt_detach(interface_filter_t filter_ref);

__END_DECLS

#endif /* _NET_KPI_INTERFACEFILTER_H_ */
