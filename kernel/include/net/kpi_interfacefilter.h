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

/* A filter attachment, returned by iflt_attach. */
typedef struct ifnet_filter	*interface_filter_t;

/*
 * Callbacks.  Returning 0 lets the packet go on; EJUSTRETURN means the
 * filter kept it (the stack forgets it); any other error drops it (the
 * stack frees it).  They run in the thread that carries the packet (the
 * DLIL input thread on input, the sender's on output), without a lock
 * held, and may run on several threads at once.
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
 * NULL, ENOMEM (also with 16 filters attached).  Never sleeps.  Until
 * iff_detached has returned, kextunload keeps the stopped kext in
 * memory ("pinned"). */
errno_t	iflt_attach(ifnet_t interface, const struct iff_filter *filter,
	    interface_filter_t *filter_ref);
/* Takes the filter off the list; call it once per filter.  Asynchronous:
 * iff_detached says when no callback can run any more.  It may run
 * before iflt_detach returns, in the caller's thread, or later in the
 * thread that finishes the last callback.  An interface's detach
 * detaches its filters too. */
void	iflt_detach(interface_filter_t filter_ref);

__END_DECLS

#endif /* _NET_KPI_INTERFACEFILTER_H_ */
