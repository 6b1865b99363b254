/*
 * <net/kpi_protocol.h> -- protocol plumbers and protocol input.  A
 * protocol (IP, AppleTalk...) registers a plumber per interface family;
 * the plumber attaches the protocol to an interface of that family with
 * ifnet_attach_protocol.  proto_input and proto_inject hand packets to a
 * protocol's registered input handler.  The code is bsd/net/kpi_protocol.c.
 *
 * plumb runs in the thread that plumbs the protocol on an interface (for
 * IP, the one giving the interface its first address: ifconfig's, in the
 * monitor's or the host link's thread), in thread context, with the
 * plumbers' mutex held: it may sleep, but must not register or
 * unregister a plumber (that mutex again).  Finch calls no unplumb yet:
 * an interface that detaches detaches its protocols itself.  Once
 * proto_unregister_plumber has returned, neither is running or called
 * again.
 */
#ifndef _NET_KPI_PROTOCOL_H_
#define _NET_KPI_PROTOCOL_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <net/kpi_interface.h>

__BEGIN_DECLS

/*
 * Protocol input handlers.  A protocol registers one per family; it
 * receives one packet at a time, data at the protocol header, rcvif set.
 * Kernel only: not exported to kexts (as on Mac OS X 10.4).
 */
typedef void (*proto_input_handler)(protocol_family_t protocol, mbuf_t packet);
typedef void (*proto_input_detached_handler)(protocol_family_t protocol);

/* EEXIST if the family has a handler, EINVAL if input is NULL, ENOMEM.
 * Never sleeps. */
errno_t	proto_register_input(protocol_family_t protocol,
	    proto_input_handler input, proto_input_detached_handler detached);
/* Asynchronous: packets still queued by proto_inject are dropped, and
 * `detached` is called once no packet is being handled. */
void	proto_unregister_input(protocol_family_t protocol);

/*
 * Calls the protocol's input handler now, in the caller's thread, for
 * each packet of the list (nextpkt); 0 then, and the handler owns every
 * packet.  Returns -1 (not an errno) if the family has no handler; the
 * caller then frees the packets.
 */
errno_t	proto_input(protocol_family_t protocol, mbuf_t packet);
/*
 * Queues the packets for the DLIL input thread, which hands them to the
 * protocol's input handler: for a caller that must not re-enter the
 * stack (a filter re-injecting a packet).  EINVAL if packet is NULL,
 * ENOENT if the family has no handler, ENOBUFS if the queue (256
 * packets) would overflow; on error the caller frees.  Never sleeps:
 * safe from an interrupt handler.
 */
errno_t	proto_inject(protocol_family_t protocol, mbuf_t packet);

/*
 * Plumbers.  plumb attaches protocol to ifp (normally with
 * ifnet_attach_protocol) and returns 0 or an errno; unplumb undoes it
 * (NULL: ifnet_detach_protocol is called).  Both run with the plumbers'
 * mutex held: neither may register or unregister plumbers.
 */
typedef errno_t (*proto_plumb_handler)(ifnet_t ifp, protocol_family_t protocol);
typedef void (*proto_unplumb_handler)(ifnet_t ifp, protocol_family_t protocol);

/* EINVAL if plumb is NULL, EEXIST if the pair is registered, ENOMEM.
 * May sleep.  While it is registered, kextunload keeps the stopped kext
 * in memory ("pinned"). */
errno_t	proto_register_plumber(protocol_family_t proto_fam,
	    ifnet_family_t if_fam, proto_plumb_handler plumb,
	    proto_unplumb_handler unplumb);
/* Synchronous: waits for a plumb in progress; afterwards plumb and
 * unplumb are never called again.  Does not detach the protocols already
 * plumbed: detach them first (and wait for their `detached`).  May
 * sleep; not from plumb or unplumb. */
void	proto_unregister_plumber(protocol_family_t proto_fam,
	    ifnet_family_t if_fam);

/*
 * Kernel only: plumb / unplumb a protocol on an interface through the
 * registered plumber of the interface's family (e.g. when IP gets its
 * first address on en0).  EEXIST (success for most callers) if the
 * protocol is already attached, by a plumber or by the driver itself;
 * else EPROTONOSUPPORT if no plumber is registered for the pair.
 */
errno_t	proto_plumb(protocol_family_t protocol_family, ifnet_t ifp);
void	proto_unplumb(protocol_family_t protocol_family, ifnet_t ifp);

__END_DECLS

#endif /* _NET_KPI_PROTOCOL_H_ */
