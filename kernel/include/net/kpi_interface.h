/*
 * <net/kpi_interface.h> -- the interface KPI: how a network driver plugs
 * an interface (ifnet_t) into the stack, and how a protocol attaches to
 * it.  Names, types, field order and values follow Mac OS X 10.4.
 * Inbound: driver -> ifnet_input -> DLIL input thread -> demux -> protocol
 * input.  Outbound: ifnet_output -> pre_output -> framer -> driver output.
 *
 * When the callbacks run: never in an interrupt handler, with no kernel
 * lock held unless said below, often on several threads at once (guard
 * your state with your own lock, and hold none of it across a call into
 * the stack: your callbacks may run inside that call).
 *
 *   output, framer, pre_output: the sending thread (any: see iff_output
 *     in <net/kpi_interfacefilter.h>); never sleep.
 *   demux, input: the DLIL input thread, one packet at a time.
 *   add_proto, del_proto: inside ifnet_attach_protocol and
 *     ifnet_detach_protocol, with the DLIL's protocol mutex held: attach
 *     or detach no protocol from them.
 *   ioctl: inside ifnet_ioctl (and ifnet_set_promiscuous, ifconfig).
 *   event: in the thread that posts the event, inside the posting call.
 *   detach: the driver's last call, in the DLIL input thread, once
 *     ifnet_detach has returned and nothing is in flight.
 *   detached: the protocol's last call: inside ifnet_detach_protocol
 *     when no packet is inside the protocol, else in the thread whose
 *     packet leaves it last; in the DLIL input thread if the interface
 *     detaches first.
 *   check_multi, set_bpf_tap, resolve, send_arp: never called (yet).
 *
 * Stopping: ifnet_detach (or ifnet_detach_protocol) holding none of your
 * locks, then sleep, bounded, until detach (detached) has set a flag;
 * if it has not come, return KERN_FAILURE from stop (kextunload -w calls
 * it again).  Then ifnet_release, and free what the callbacks used.
 */
#ifndef _NET_KPI_INTERFACE_H_
#define _NET_KPI_INTERFACE_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kernel_types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <net/if_types.h>

__BEGIN_DECLS

/* ifnet_t, ifaddr_t, ifmultiaddr_t, mbuf_t: <sys/kernel_types.h>. */

struct timeval;
struct sockaddr;
struct sockaddr_dl;
struct kern_event_msg;
struct kev_msg;
struct ifnet_demux_desc;

/* What kind of link an interface is; used to match protocol plumbers. */
enum {
	IFNET_FAMILY_ANY	= 0,
	IFNET_FAMILY_LOOPBACK	= 1,
	IFNET_FAMILY_ETHERNET	= 2,
	IFNET_FAMILY_SLIP	= 3,
	IFNET_FAMILY_TUN	= 4,
	IFNET_FAMILY_VLAN	= 5,
	IFNET_FAMILY_PPP	= 6,
	IFNET_FAMILY_PVC	= 7,
	IFNET_FAMILY_DISC	= 8,
	IFNET_FAMILY_MDECAP	= 9,
	IFNET_FAMILY_GIF	= 10,
	IFNET_FAMILY_FAITH	= 11,
	IFNET_FAMILY_STF	= 12,
	IFNET_FAMILY_FIREWIRE	= 13,
	IFNET_FAMILY_BOND	= 14
};
typedef u_int32_t ifnet_family_t;

/* Which directions a packet tap wants to see. */
enum {
	BPF_MODE_DISABLED	= 0,
	BPF_MODE_INPUT		= 1,
	BPF_MODE_OUTPUT		= 2,
	BPF_MODE_INPUT_OUTPUT	= 3
};
typedef u_int32_t bpf_tap_mode;

/* A protocol family: PF_INET, PF_APPLETALK, ... (<sys/socket.h>). */
typedef u_int32_t protocol_family_t;

/* Work the hardware can do for the stack (ifnet_set_offload). */
enum {
	IFNET_CSUM_IP		= 0x00000001,
	IFNET_CSUM_TCP		= 0x00000002,
	IFNET_CSUM_UDP		= 0x00000004,
	IFNET_CSUM_FRAGMENT	= 0x00000008,
	IFNET_IP_FRAGMENT	= 0x00000010,
	IFNET_VLAN_TAGGING	= 0x00010000,
	IFNET_VLAN_MTU		= 0x00020000
};
typedef u_int32_t ifnet_offload_t;

/*
 * Driver callbacks (struct ifnet_init_params).
 */

/* Hands a packet to a tap that asked for it. */
typedef errno_t (*bpf_packet_func)(ifnet_t interface, mbuf_t data);
/* Transmits one fully framed packet; the driver frees it, even on error,
 * and counts it with ifnet_stat_increment_out; never blocks. */
typedef errno_t (*ifnet_output_func)(ifnet_t interface, mbuf_t data);
typedef errno_t (*ifnet_ioctl_func)(ifnet_t interface, u_int32_t cmd,
    void *data);
typedef errno_t (*ifnet_set_bpf_tap)(ifnet_t interface, bpf_tap_mode mode,
    bpf_packet_func callback);
/* The last call for an interface: ifnet_detach has completed. */
typedef void (*ifnet_detached_func)(ifnet_t interface);
/* Finds the protocol family of an inbound packet; non-zero drops it
 * (EJUSTRETURN: the driver kept it). */
typedef errno_t (*ifnet_demux_func)(ifnet_t interface, mbuf_t packet,
    char *frame_header, protocol_family_t *protocol_family);
typedef void (*ifnet_event_func)(ifnet_t interface,
    const struct kev_msg *event_msg);
/* Prepends the link-layer header to *packet (may replace the mbuf);
 * non-zero: the DLIL frees *packet unless it is NULL (EJUSTRETURN: the
 * framer kept it). */
typedef errno_t (*ifnet_framer_func)(ifnet_t interface, mbuf_t *packet,
    const struct sockaddr *dest, const char *desk_linkaddr,
    const char *frame_type);
/* Learns a protocol's demux descriptors; non-zero aborts the attach. */
typedef errno_t (*ifnet_add_proto_func)(ifnet_t interface,
    protocol_family_t protocol_family,
    const struct ifnet_demux_desc *demux_array, u_int32_t demux_count);
/* Forgets a protocol; the detach happens whatever it returns. */
typedef errno_t (*ifnet_del_proto_func)(ifnet_t interface,
    protocol_family_t protocol_family);
/* 0 accepts a multicast address, EADDRNOTAVAIL rejects, EOPNOTSUPP unknown. */
typedef errno_t (*ifnet_check_multi)(ifnet_t interface,
    const struct sockaddr *mcast);

/*
 * Protocol callbacks (struct ifnet_attach_proto_param).
 */

/* An inbound packet, data past the link header; 0: consumed, else the
 * caller frees it (EJUSTRETURN: the protocol kept it). */
typedef errno_t (*proto_media_input)(ifnet_t ifp, protocol_family_t protocol,
    mbuf_t packet, char *header);
/* Before framing: fill frame_type and link_layer_dest (e.g. ARP).
 * Non-zero: the DLIL frees *packet; EJUSTRETURN: the protocol kept it
 * (ARP holding it until the address is resolved). */
typedef errno_t (*proto_media_preout)(ifnet_t ifp, protocol_family_t protocol,
    mbuf_t *packet, const struct sockaddr *dest, void *route,
    char *frame_type, char *link_layer_dest);
typedef void (*proto_media_event)(ifnet_t ifp, protocol_family_t protocol,
    const struct kev_msg *event);
typedef errno_t (*proto_media_ioctl)(ifnet_t ifp, protocol_family_t protocol,
    u_int32_t command, void *argument);
typedef errno_t (*proto_media_detached)(ifnet_t ifp,
    protocol_family_t protocol);
typedef errno_t (*proto_media_resolve_multi)(ifnet_t ifp,
    const struct sockaddr *proto_addr, struct sockaddr_dl *out_ll,
    size_t ll_len);
typedef errno_t (*proto_media_send_arp)(ifnet_t ifp, u_short arpop,
    const struct sockaddr_dl *arpsender, const struct sockaddr *sender_proto,
    const struct sockaddr_dl *arptarget, const struct sockaddr *target_proto);

/* Counter increments a driver reports with ifnet_input or ifnet_stat_increment. */
struct ifnet_stat_increment_param {
	u_int32_t	packets_in;
	u_int32_t	bytes_in;
	u_int32_t	errors_in;

	u_int32_t	packets_out;
	u_int32_t	bytes_out;
	u_int32_t	errors_out;

	u_int32_t	collisions;
	u_int32_t	dropped;
};

/* What ifnet_allocate needs to know; copied, so it may live on the stack. */
struct ifnet_init_params {
	const void		*uniqueid;	/* optional: recycle the same ifnet_t */
	u_int32_t		uniqueid_len;	/* optional */

	const char		*name;		/* required: "en" */
	u_int32_t		unit;		/* required: 0 for en0 */
	ifnet_family_t		family;		/* required: IFNET_FAMILY_* */
	u_int32_t		type;		/* required: IFT_* */
	ifnet_output_func	output;		/* required */
	ifnet_demux_func	demux;		/* required */
	ifnet_add_proto_func	add_proto;	/* required */
	ifnet_del_proto_func	del_proto;	/* required */
	ifnet_check_multi	check_multi;	/* required unless point-to-point */
	ifnet_framer_func	framer;		/* optional */
	void			*softc;		/* optional: the driver's state */
	ifnet_ioctl_func	ioctl;		/* optional */
	ifnet_set_bpf_tap	set_bpf_tap;	/* optional */
	ifnet_detached_func	detach;		/* optional */
	ifnet_event_func	event;		/* optional */
	const void		*broadcast_addr; /* required unless point-to-point */
	u_int32_t		broadcast_len;	/* required unless point-to-point */
};

/* The interface's counters (ifnet_stat / ifnet_set_stat). */
struct ifnet_stats_param {
	u_int64_t	packets_in;
	u_int64_t	bytes_in;
	u_int64_t	multicasts_in;
	u_int64_t	errors_in;

	u_int64_t	packets_out;
	u_int64_t	bytes_out;
	u_int64_t	multicasts_out;
	u_int64_t	errors_out;

	u_int64_t	collisions;
	u_int64_t	dropped;
	u_int64_t	no_protocol;
};

/*
 * How a protocol's packets are recognised on the wire: for Ethernet,
 * an ethertype (2 bytes), an 802.2 SAP (3 bytes) or SNAP (5 bytes),
 * in network byte order.
 */
struct ifnet_demux_desc {
	u_int32_t	type;		/* DLIL_DESC_* */
	void		*data;
	u_int32_t	datalen;
};
#define DLIL_DESC_ETYPE2	4
#define DLIL_DESC_SAP		5
#define DLIL_DESC_SNAP		6

/* What ifnet_attach_protocol needs; copied. */
struct ifnet_attach_proto_param {
	struct ifnet_demux_desc	*demux_array;	/* interface may require */
	u_int32_t		demux_count;	/* interface may require */

	proto_media_input	input;		/* required */
	proto_media_preout	pre_output;	/* required */
	proto_media_event	event;		/* optional */
	proto_media_ioctl	ioctl;		/* optional */
	proto_media_detached	detached;	/* optional */
	proto_media_resolve_multi resolve;	/* optional */
	proto_media_send_arp	send_arp;	/* optional */
};

/*
 * Lifecycle.  allocate -> setters -> attach -> traffic -> detach
 * (asynchronous: the `detach` callback says when it is over) -> release.
 * A detached interface is never attached again.
 *
 * Unless a comment says otherwise, a function given a NULL interface
 * returns EINVAL (or 0 / NULL if it returns a value) and does not sleep,
 * so that an interrupt handler may call it.  Those that say "May sleep"
 * take a sleeping lock: call them from a thread, never under a spin lock.
 * Those that call back into filters, protocols or the driver run the
 * callbacks in the caller's thread.
 */

/* A new interface with one reference.  The name, unit, family and type
 * never change afterwards.  EINVAL for bad params (no name, output,
 * demux, add_proto or del_proto; a name over 11 characters; a unit over
 * 9999; an unknown family; type 0), EEXIST if an attached interface has
 * the same name and unit, or the same uniqueid and family; ENOMEM.  May
 * sleep. */
errno_t	ifnet_allocate(const struct ifnet_init_params *init, ifnet_t *interface);

/* Take and drop a reference; the last release frees the interface (an
 * attached interface holds one of its own).  Releasing more than was
 * taken panics. */
errno_t	ifnet_reference(ifnet_t interface);
errno_t	ifnet_release(ifnet_t interface);

/* Puts the interface in the list (ll_addr: its link address, may be
 * NULL), gives it an index and its AF_LINK address, attaches the default
 * packet tap (Ethernet, loopback) and posts KEV_DL_IF_ATTACHED.  EEXIST
 * if already attached or its name or uniqueid is taken, EINVAL if it was
 * detached before or ll_addr's length does not match the address
 * length, ENOMEM.  May sleep. */
errno_t	ifnet_attach(ifnet_t interface, const struct sockaddr_dl *ll_addr);

/* Starts the detach: the interface leaves the list at once and takes no
 * new packets; KEV_DL_IF_DETACHING is posted.  Once no packet or call is
 * inside it, the DLIL thread detaches its protocols and filters, takes
 * the packet tap's functions off, calls the driver's `detach` and posts
 * KEV_DL_IF_DETACHED.  EINVAL never attached, ENXIO already detaching.
 * May sleep.  Until `detach` has returned, kextunload keeps the driver's
 * stopped kext in memory ("pinned"). */
errno_t	ifnet_detach(ifnet_t interface);

/* Accessors of what ifnet_allocate was given.  For a NULL interface:
 * NULL, 0, or (u_int32_t)-1 for the unit and index.  ifnet_index is 0
 * until the interface is attached. */
void		*ifnet_softc(ifnet_t interface);
const char	*ifnet_name(ifnet_t interface);
ifnet_family_t	ifnet_family(ifnet_t interface);
u_int32_t	ifnet_unit(ifnet_t interface);
u_int32_t	ifnet_index(ifnet_t interface);
u_int8_t	ifnet_type(ifnet_t interface);

/* IFF_* flags (<net/if.h>): sets the bits of new_flags selected by mask.
 * Only the field changes: the driver is not told (ifnet_ioctl with
 * SIOCSIFFLAGS does that) and no event is posted. */
errno_t		ifnet_set_flags(ifnet_t interface, u_int16_t new_flags,
		    u_int16_t mask);
u_int16_t	ifnet_flags(ifnet_t interface);

/* Numbers a driver sets before ifnet_attach (and may change later): the
 * MTU, the link address length (EINVAL over 16 bytes), the link header
 * length (what the tap and iff_input see of it), the routing metric, the
 * speed in bits per second and the offload capabilities (IFNET_CSUM_*,
 * ...).  As with the flags, nobody is told of a change. */
errno_t		ifnet_set_mtu(ifnet_t interface, u_int32_t mtu);
u_int32_t	ifnet_mtu(ifnet_t interface);
errno_t		ifnet_set_addrlen(ifnet_t interface, u_int8_t addrlen);
u_int8_t	ifnet_addrlen(ifnet_t interface);
errno_t		ifnet_set_hdrlen(ifnet_t interface, u_int8_t hdrlen);
u_int8_t	ifnet_hdrlen(ifnet_t interface);
errno_t		ifnet_set_metric(ifnet_t interface, u_int32_t metric);
u_int32_t	ifnet_metric(ifnet_t interface);
errno_t		ifnet_set_baudrate(ifnet_t interface, u_int64_t baudrate);
u_int64_t	ifnet_baudrate(ifnet_t interface);
errno_t		ifnet_set_offload(ifnet_t interface, ifnet_offload_t offload);
ifnet_offload_t	ifnet_offload(ifnet_t interface);

/*
 * Protocols.  attach hands the demux descriptors to the driver's
 * add_proto (its error is returned) and posts KEV_DL_PROTO_ATTACHED:
 * EINVAL without input or pre_output, EEXIST if attached, ENOSPC with 16
 * protocols attached, ENXIO if the interface is not attached, ENOMEM.
 * detach calls the driver's del_proto, posts KEV_DL_PROTO_DETACHED and
 * calls `detached` once no packet is inside the protocol's callbacks
 * (ENOENT if not attached).  Both may sleep.  input may run before
 * attach returns.  Until `detached` has returned, kextunload keeps the
 * stopped kext in memory ("pinned").
 */
errno_t	ifnet_attach_protocol(ifnet_t interface, protocol_family_t protocol_family,
	    const struct ifnet_attach_proto_param *proto_details);
errno_t	ifnet_detach_protocol(ifnet_t interface, protocol_family_t protocol_family);

/*
 * Data path.
 * ifnet_output: the protocol's pre_output, the framer, interface
 *   filters, the driver.  Always consumes the packet, even on error:
 *   EINVAL, ENXIO (not attached), ENETDOWN (not up), ENOENT (protocol
 *   not attached), or what pre_output, the framer or the driver
 *   returned.  Runs in the caller's thread; never sleeps.
 * ifnet_output_raw: a packet already framed: interface filters, the
 *   driver.  Always consumes the packet; the same errors.
 * ifnet_input: a list of received packets (linked by nextpkt), each with
 *   its pkthdr header pointing at the link header and its data just past
 *   it; rcvif is set here.  Queued for the DLIL input thread; safe from
 *   an interrupt handler; never sleeps.  Frees the list on error (EINVAL,
 *   ENXIO not attached); packets that do not fit the queue (512) are
 *   dropped and counted, and 0 is still returned.  stats may be NULL
 *   (the DLIL then counts packets and bytes itself).
 */
errno_t	ifnet_output(ifnet_t interface, protocol_family_t protocol_family,
	    mbuf_t packet, void *route, const struct sockaddr *dest);
errno_t	ifnet_output_raw(ifnet_t interface, protocol_family_t protocol_family,
	    mbuf_t packet);
errno_t	ifnet_input(ifnet_t interface, mbuf_t first_packet,
	    const struct ifnet_stat_increment_param *stats);

/* Passes an ioctl to the interface filters, the protocol (if not 0),
 * then the driver, in the caller's thread.  EOPNOTSUPP if nobody handled
 * it, ENXIO if the interface is not attached. */
errno_t	ifnet_ioctl(ifnet_t interface, protocol_family_t protocol,
	    u_int32_t ioctl_code, void *ioctl_arg);

/* Delivers an event to the filters, protocols and driver of the interface
 * and posts it as a kernel event (KEV_DL_LINK_ON, KEV_DL_LINK_OFF, ...).
 * EINVAL if total_size is under the 24-byte header, EMSGSIZE if the event
 * is too big to post.  Thread context: from an interrupt handler, use
 * ifnet_link_event. */
errno_t	ifnet_event(ifnet_t interface, struct kern_event_msg *event_ptr);

/* Statistics.  Safe from an interrupt handler.  increment adds to the
 * counters; set_stat replaces them all, stat copies them out. */
errno_t	ifnet_stat_increment(ifnet_t interface,
	    const struct ifnet_stat_increment_param *counts);
errno_t	ifnet_stat_increment_in(ifnet_t interface, u_int32_t packets_in,
	    u_int32_t bytes_in, u_int32_t errors_in);
errno_t	ifnet_stat_increment_out(ifnet_t interface, u_int32_t packets_out,
	    u_int32_t bytes_out, u_int32_t errors_out);
errno_t	ifnet_set_stat(ifnet_t interface, const struct ifnet_stats_param *stats);
errno_t	ifnet_stat(ifnet_t interface, struct ifnet_stats_param *out_stats);

/* Counts promiscuous requests; IFF_PROMISC is set while any is on, and
 * the driver hears SIOCSIFFLAGS when that changes (in the caller's
 * thread).  EINVAL to turn it off when nobody turned it on. */
errno_t	ifnet_set_promiscuous(ifnet_t interface, int on);

/* The link's MIB data, which a driver publishes (the memory stays its
 * own: set keeps the pointer; NULL, 0 withdraws it).  get copies it into
 * mibData and sets *mibLen to its length: EMSGSIZE if *mibLen is
 * smaller, ENOTSUP if the driver published none; length is 0 then.
 * Never sleep. */
errno_t		ifnet_set_link_mib_data(ifnet_t interface, void *mibData,
		    u_int32_t mibLen);
errno_t		ifnet_get_link_mib_data(ifnet_t interface, void *mibData,
		    u_int32_t *mibLen);
u_int32_t	ifnet_get_link_mib_data_length(ifnet_t interface);

/* When the interface last changed, as its driver and the stack record
 * it (ifnet_attach does): touch sets it to now (microtime), lastchange
 * reads it. */
errno_t	ifnet_touch_lastchange(ifnet_t interface);
errno_t	ifnet_lastchange(ifnet_t interface, struct timeval *last_change);

/* Addresses (ifaddr_t) configured on the interface (of one family, for
 * _family), each referenced: a NULL-terminated array freed with
 * ifnet_free_address_list, which drops the references.  ENOMEM. */
errno_t	ifnet_get_address_list(ifnet_t interface, ifaddr_t **addresses);
errno_t	ifnet_get_address_list_family(ifnet_t interface, ifaddr_t **addresses,
	    sa_family_t family);
void	ifnet_free_address_list(ifaddr_t *addresses);

/* The link-layer address.  set: lladdr_len must equal the address length
 * (EINVAL); posts KEV_DL_LINK_ADDRESS_CHANGED.  copy_bytes: length must
 * equal the address length (EINVAL).  llbroadcast: *addr_len gets the
 * broadcast address's length, EMSGSIZE if bufferlen is smaller.
 * ifnet_lladdr points at the bytes inside the ifnet: they change when
 * the address is set. */
errno_t	ifnet_set_lladdr(ifnet_t interface, const void *lladdr, size_t lladdr_len);
errno_t	ifnet_lladdr_copy_bytes(ifnet_t interface, void *lladdr, size_t length);
errno_t	ifnet_llbroadcast_copy_bytes(ifnet_t interface, void *addr,
	    size_t bufferlen, size_t *addr_len);
void	*ifnet_lladdr(ifnet_t interface);

/* Lookups return referenced interfaces: ifnet_release / ifnet_list_free.
 * find_by_name takes "en0" (ENXIO if none); list_get gives a
 * NULL-terminated array of the attached interfaces of one family
 * (IFNET_FAMILY_ANY: all) and their count (ENOMEM).  May sleep. */
errno_t	ifnet_find_by_name(const char *ifname, ifnet_t *interface);
errno_t	ifnet_list_get(ifnet_family_t family, ifnet_t **interfaces,
	    u_int32_t *count);
void	ifnet_list_free(ifnet_t *interfaces);

/*
 * Interface addresses.  The IP layer adds them; anyone may read them.
 * The last ifaddr_release gives the address back to its owner.
 */
errno_t		ifaddr_reference(ifaddr_t ifaddr);
errno_t		ifaddr_release(ifaddr_t ifaddr);

/* Copy out the address: EMSGSIZE if addr_size is too small. */
errno_t		ifaddr_address(ifaddr_t ifaddr, struct sockaddr *out_addr,
		    u_int32_t addr_size);
/* The address's family (AF_INET, AF_LINK, ...), 0 if NULL. */
sa_family_t	ifaddr_address_family(ifaddr_t ifaddr);
/* Copy out the peer's address or the netmask: EMSGSIZE if the size is
 * too small, ENOTSUP if the address has none (no peer on a broadcast
 * link). */
errno_t		ifaddr_dstaddress(ifaddr_t ifaddr, struct sockaddr *out_dstaddr,
		    u_int32_t dstaddr_size);
errno_t		ifaddr_netmask(ifaddr_t ifaddr, struct sockaddr *out_netmask,
		    u_int32_t netmask_size);

/* Not referenced: valid while you hold the ifaddr. */
ifnet_t		ifaddr_ifnet(ifaddr_t ifaddr);

/* Lookups over every attached interface; they return a referenced
 * ifaddr, or NULL.  withaddr: this address (all sa_len bytes equal, so
 * keep sin_zero zeroed); withdstaddr: the peer of a point-to-point link;
 * withnet: an address on the same network (by its netmask);
 * findbestforaddr: on `interface`, the address itself, else one on its
 * network, else the first of its family.  May sleep. */
ifaddr_t	ifaddr_withaddr(const struct sockaddr *address);
ifaddr_t	ifaddr_withdstaddr(const struct sockaddr *destination);
ifaddr_t	ifaddr_withnet(const struct sockaddr *net);
ifaddr_t	ifaddr_findbestforaddr(const struct sockaddr *addr, ifnet_t interface);
/* The address a route to destination through gateway leaves by (flags:
 * RTF_* of <net/route.h>): with RTF_HOST and no RTF_GATEWAY, the
 * point-to-point link whose peer is destination; else the interface
 * owning gateway's address, else one on gateway's network.  Referenced,
 * or NULL.  May sleep. */
ifaddr_t	ifaddr_withroute(int flags, const struct sockaddr *destination,
		    const struct sockaddr *gateway);

/*
 * Multicast memberships (ifmultiaddr_t).  Finch keeps none: its Ethernet
 * driver receives every multicast frame, so there is nothing to program.
 * ifnet_add_multicast sets *multicast to NULL and returns EOPNOTSUPP
 * (EINVAL for a NULL argument); ifnet_get_multicast_list gives an empty
 * NULL-terminated array (ENOMEM), freed with ifnet_free_multicast_list.
 * No ifmultiaddr_t is ever handed out, so ifnet_remove_multicast and the
 * ifmaddr_* accessors return EINVAL, and ifmaddr_ifnet NULL.  Never
 * sleep, except get_multicast_list (may, for memory).
 */
errno_t	ifnet_add_multicast(ifnet_t interface, const struct sockaddr *maddr,
	    ifmultiaddr_t *multicast);
errno_t	ifnet_remove_multicast(ifmultiaddr_t multicast);
errno_t	ifnet_get_multicast_list(ifnet_t interface, ifmultiaddr_t **addresses);
void	ifnet_free_multicast_list(ifmultiaddr_t *multicasts);
errno_t	ifmaddr_reference(ifmultiaddr_t ifmaddr);
errno_t	ifmaddr_release(ifmultiaddr_t ifmaddr);
errno_t	ifmaddr_address(ifmultiaddr_t ifmaddr, struct sockaddr *out_multicast,
	    u_int32_t addr_size);
errno_t	ifmaddr_lladdress(ifmultiaddr_t ifmaddr,
	    struct sockaddr *out_link_layer_multicast, u_int32_t addr_size);
ifnet_t	ifmaddr_ifnet(ifmultiaddr_t ifmaddr);

/*
 * Finch extension (not in Mac OS X): a driver reports a link change with
 * one call.  Safe from an interrupt handler: it queues the change and the
 * DLIL input thread posts KEV_DL_LINK_ON / KEV_DL_LINK_OFF (as ifnet_event
 * would), in order; repeating the current state posts nothing.  `ifconfig`
 * shows the result as "status: active / inactive".
 */
errno_t	ifnet_link_event(ifnet_t interface, int link_up);

__END_DECLS

#endif /* _NET_KPI_INTERFACE_H_ */
