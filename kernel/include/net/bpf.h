/*
 * <net/bpf.h> -- the packet tap.  A driver declares the link type it
 * frames (bpf_attach); the DLIL then shows every inbound frame (before
 * demux) and outbound frame (after the framer) to whoever listens -- in
 * Finch, the monitor's `tcpdump`.  The code is bsd/net/bpf.c.
 */
#ifndef _NET_BPF_H_
#define _NET_BPF_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <net/kpi_interface.h>

/* Data link types (the libpcap LINKTYPE numbers). */
#define DLT_NULL	0	/* loopback: 4-byte protocol family, host order */
#define DLT_EN10MB	1	/* Ethernet (any speed) */
#define DLT_PPP		9	/* point-to-point protocol */
#define DLT_RAW		12	/* raw IP */

__BEGIN_DECLS

/* Asks the driver to transmit a frame a tap built (none do, in Finch). */
typedef errno_t (*bpf_send_func)(ifnet_t interface, u_int32_t data_link_type,
    mbuf_t packet);
/* Tells the driver which directions are tapped now (BPF_MODE_*). */
typedef errno_t (*bpf_tap_func)(ifnet_t interface, u_int32_t data_link_type,
    bpf_tap_mode direction);

/* Declares that the interface frames packets as data_link_type, with a
 * header_length-byte link header; a second call replaces the first.
 * send and tap may be NULL.  EINVAL for a NULL interface.  The DLIL
 * attaches DLT_EN10MB for IFT_ETHER and DLT_NULL for IFT_LOOP itself.
 * tap runs in the thread that starts or stops `tcpdump` (the monitor's or
 * the host link's), with no kernel lock held, only while the interface
 * is attached; send is never called.  The interface's detach takes send
 * and tap off; until then (or another bpf_attach) kextunload keeps a
 * stopped kext whose functions they are in memory ("pinned"). */
errno_t	bpf_attach(ifnet_t interface, u_int32_t data_link_type,
	    u_int32_t header_length, bpf_send_func send, bpf_tap_func tap);

/*
 * Shows a packet to the listeners.  header (header_len bytes, may be
 * NULL) is seen in front of the packet's data: pass the link header when
 * the data already points past it.  Never sleeps, never keeps the mbuf.
 * Ignored unless dlt is the link type the interface attached.  The DLIL
 * calls these on its own paths; a driver needs them only for frames the
 * DLIL does not see.
 */
void	bpf_tap_in(ifnet_t interface, u_int32_t dlt, mbuf_t packet,
	    void *header, size_t header_len);
void	bpf_tap_out(ifnet_t interface, u_int32_t dlt, mbuf_t packet,
	    void *header, size_t header_len);

__END_DECLS

#endif /* _NET_BPF_H_ */
