/*
 * struct ifnet and its companions (attached protocols, interface filters,
 * interface addresses): the DLIL's private view of an interface.  Kexts
 * see only ifnet_t and the accessors of <net/kpi_interface.h>; the
 * kernel's own network code (bsd/net, bsd/netinet) may include this file.
 *
 * Locks, in the order they may be taken:
 *	dlil_ifnet_lock	(rw, dlil.c)	the list of attached interfaces: (L)
 *	dlil_ifnet_all_lock (simple lock, dlil.c) every interface: (A)
 *	ifp->if_lock	(simple lock)	the interface's mutable state: (i)
 *	dlil_input_lock	(simple lock)	the input queue and pending work: (q)
 * if_lock is a spin lock because drivers update counters and hand in
 * packets from interrupt handlers.  Nobody calls out (driver, protocol,
 * filter) with if_lock held: the callee might come back into the DLIL.
 * Fields marked (c) are constant once ifnet_allocate returns.
 */
#ifndef _BSD_NET_IF_VAR_H_
#define _BSD_NET_IF_VAR_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/kern_event.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <net/bpf.h>
#include <libkern/OSAtomic.h>
#include <kern/simple_lock.h>
#include <bsd/kern/kern_event_var.h>	/* kev_post_kernel */

#define IF_LLADDR_MAX		16	/* longest link address we keep */
#define IF_UNIQUEID_MAX		32	/* longest uniqueid we keep */
#define IF_DEMUX_MAX		16	/* demux descriptors per interface */
#define IF_DEMUX_DATA_MAX	8	/* longest descriptor (SNAP: 5) */
#define IF_MAX_FILTERS		16	/* interface filters per interface */
#define IF_MAX_PROTOS		16	/* protocols per interface */
#define IF_LINK_QLEN		4	/* link changes waiting to be posted */
#define IFLT_NAME_MAX		32	/* the kernel's copy of iff_name */

/* Where an interface is in its life (ifnet_allocate .. the last release). */
enum if_state {
	IF_STATE_EMBRYO,	/* allocated, not attached yet */
	IF_STATE_ATTACHED,	/* in the list, carrying traffic */
	IF_STATE_DETACHING,	/* ifnet_detach called; draining */
	IF_STATE_DETACHED	/* detached callback done; never comes back */
};

/* What the driver last said about the link (ifnet_link_event). */
enum if_link_state {
	IF_LINK_UNKNOWN,	/* the driver never said */
	IF_LINK_DOWN,
	IF_LINK_UP
};

/* Work the DLIL thread does for an interface (if_work, under (q)). */
#define IF_WORK_LINK	0x1	/* post the pending link event */
#define IF_WORK_DETACH	0x2	/* finish the detach: nothing is in flight */

/*
 * One demux descriptor an Ethernet-like family helper keeps for an
 * attached protocol (ether_add_proto): an ethertype, a SAP or a SNAP.
 */
struct if_demux_entry {
	protocol_family_t	de_family;	/* 0: free slot */
	u_int32_t		de_type;	/* DLIL_DESC_* */
	u_int32_t		de_len;
	u_char			de_data[IF_DEMUX_DATA_MAX];
};

/*
 * A protocol attached to an interface (ifnet_attach_protocol).  It stays
 * allocated while anyone holds a reference: the interface's list holds
 * one, and every packet being handed to the protocol another.  The last
 * release calls the protocol's `detached` callback.  Also on the list of
 * every protocol until `detached` has returned (dlil_proto.c, for the
 * unload check).
 */
struct if_proto {
	TAILQ_ENTRY(if_proto)	ip_link;	/* (i) on if_protos */
	LIST_ENTRY(if_proto)	ip_all;		/* dlil_proto_all_lock */
	ifnet_t			ip_ifp;		/* (c), referenced */
	protocol_family_t	ip_family;	/* (c) */
	struct ifnet_attach_proto_param ip_kpi;	/* (c) callbacks */
	u_int32_t		ip_refcnt;	/* (i) */
	bool			ip_detaching;	/* (i) off the list */
};

/*
 * An interface filter (iflt_attach).  Referenced like if_proto; the last
 * release calls iff_detached.  Also on the list of every filter until
 * iff_detached has returned (kpi_interfacefilter.c, for the unload check).
 */
struct ifnet_filter {
	TAILQ_ENTRY(ifnet_filter) filt_link;	/* (i) on if_filters */
	LIST_ENTRY(ifnet_filter) filt_all;	/* iflt_all_lock */
	ifnet_t			filt_ifp;	/* (c), referenced */
	struct iff_filter	filt_kpi;	/* (c) callbacks; iff_name is
						   filt_name */
	char			filt_name[IFLT_NAME_MAX]; /* (c) */
	u_int32_t		filt_refcnt;	/* (i) */
	bool			filt_detaching;	/* (i) off the list */
};

/*
 * An address configured on an interface.  The protocol that owns it
 * embeds it in its own structure (the IP layer's in_ifaddr) and fills
 * the three sockaddr pointers; if_attach_ifaddr puts it on the
 * interface's list.  ifa_free, if set, is called by the last release.
 */
struct ifaddr {
	struct sockaddr		*ifa_addr;	/* the address itself */
	struct sockaddr		*ifa_dstaddr;	/* peer or broadcast, or NULL */
	struct sockaddr		*ifa_netmask;	/* or NULL */
	ifnet_t			ifa_ifp;	/* not referenced */
	TAILQ_ENTRY(ifaddr)	ifa_link;	/* (i) on if_addrs */
	volatile SInt32		ifa_refcnt;	/* atomic */
	u_int32_t		ifa_flags;	/* owner's business */
	void			(*ifa_free)(struct ifaddr *);
};

struct ifnet {
	/* Identity and driver callbacks. */
	char			if_name[IFNAMSIZ];	/* (c) "en" */
	char			if_xname[IFNAMSIZ];	/* (c) "en0" */
	u_int32_t		if_unit;		/* (c) */
	ifnet_family_t		if_family;		/* (c) */
	u_int8_t		if_type;		/* (c) IFT_* */
	void			*if_softc;		/* (c) */
	u_char			if_uniqueid[IF_UNIQUEID_MAX]; /* (c) */
	u_int32_t		if_uniqueid_len;	/* (c) */
	u_char			if_broadcast[IF_LLADDR_MAX]; /* (c) */
	u_int32_t		if_broadcast_len;	/* (c) */
	ifnet_output_func	if_output;		/* (c) */
	ifnet_demux_func	if_demux;		/* (c) */
	ifnet_add_proto_func	if_add_proto;		/* (c) */
	ifnet_del_proto_func	if_del_proto;		/* (c) */
	ifnet_check_multi	if_check_multi;		/* (c) */
	ifnet_framer_func	if_framer;		/* (c) */
	ifnet_ioctl_func	if_ioctl;		/* (c) */
	ifnet_set_bpf_tap	if_set_bpf_tap;		/* (c) */
	ifnet_detached_func	if_detached;		/* (c) */
	ifnet_event_func	if_event;		/* (c) */

	/* The attached list (dlil.c), and the list of every interface from
	 * ifnet_allocate to the last release (the unload check's). */
	TAILQ_ENTRY(ifnet)	if_link;		/* (L) on ifnet_head */
	TAILQ_ENTRY(ifnet)	if_all_link;		/* (A) on ifnet_all */
	u_int32_t		if_index;		/* (L) 1, 2, ...; 0 before attach */

	simple_lock_data_t	if_lock;

	/* Life cycle. */
	enum if_state		if_state;		/* (i) */
	u_int32_t		if_refcnt;		/* (i) ifnet_reference */
	u_int32_t		if_usecount;		/* (i) packets and calls inside */
	bool			if_detach_posted;	/* (i) IF_WORK_DETACH queued */
	bool			if_detach_running;	/* (i) in the driver's detach */

	/* Settings (ifnet_set_*). */
	u_int16_t		if_flags;		/* (i) IFF_* */
	u_int32_t		if_mtu;			/* (i) */
	u_int8_t		if_hdrlen;		/* (i) link header length */
	u_int8_t		if_addrlen;		/* (i) link address length */
	u_int32_t		if_metric;		/* (i) */
	u_int64_t		if_baudrate;		/* (i) */
	ifnet_offload_t		if_offload;		/* (i) */
	u_char			if_lladdr[IF_LLADDR_MAX]; /* (i) if_addrlen bytes */
	int			if_promisc;		/* (i) promiscuous requests */
	struct timeval		if_lastchange;		/* (i) */
	void			*if_linkmib;		/* (i) the driver's MIB data */
	u_int32_t		if_linkmiblen;		/* (i) */

	/* Link state, as reported by the driver (ifnet_link_event). */
	enum if_link_state	if_link_state;		/* (i) last posted */
	enum if_link_state	if_link_queue[IF_LINK_QLEN]; /* (i) to post */
	u_int32_t		if_link_qlen;		/* (i) */

	/* Work for the DLIL thread (IF_WORK_*); the list holds a reference. */
	u_int32_t		if_work;		/* (q) */
	TAILQ_ENTRY(ifnet)	if_work_link;		/* (q) */

	/* Counters. */
	struct ifnet_stats_param if_stats;		/* (i) */

	/* Who is attached. */
	TAILQ_HEAD(, if_proto)	if_protos;		/* (i) */
	u_int32_t		if_proto_count;		/* (i) */
	TAILQ_HEAD(, ifnet_filter) if_filters;		/* (i) */
	u_int32_t		if_filter_count;	/* (i) */
	TAILQ_HEAD(, ifaddr)	if_addrs;		/* (i) */
	struct ifaddr		*if_lladdr_ifa;		/* (i) the AF_LINK one */

	/* The family helpers' demux table (if_ethersubr.c). */
	struct if_demux_entry	if_demux_table[IF_DEMUX_MAX]; /* (i) */

	/* The packet tap (bpf.c). */
	u_int32_t		if_bpf_dlt;		/* (i) DLT_*; 0 with no hdrlen: none */
	u_int32_t		if_bpf_hdrlen;		/* (i) */
	bpf_send_func		if_bpf_send;		/* (i) */
	bpf_tap_func		if_bpf_tap;		/* (i) */
	bool			if_bpf_attached;	/* (i) */
};

/*
 * The DLIL's private interface, for the rest of the kernel's network
 * code.  The public KPI (kpi_interface.c) is a thin layer over it.
 */
#include <bsd/net/dlil.h>		/* dlil_init */

/* Interface references and the "in use" count that detach drains. */
void	dlil_ifnet_reference(ifnet_t ifp);
void	dlil_ifnet_release(ifnet_t ifp);
bool	dlil_ifnet_use(ifnet_t ifp);		/* false: not attached */
void	dlil_ifnet_unuse(ifnet_t ifp);

errno_t	dlil_if_allocate(const struct ifnet_init_params *init, ifnet_t *ifpp);
errno_t	dlil_if_attach(ifnet_t ifp, const struct sockaddr_dl *ll_addr);
errno_t	dlil_if_detach(ifnet_t ifp);

errno_t	dlil_input(ifnet_t ifp, mbuf_t list,
	    const struct ifnet_stat_increment_param *stats);
errno_t	dlil_output(ifnet_t ifp, protocol_family_t pf, mbuf_t m,
	    void *route, const struct sockaddr *dest, bool raw);
errno_t	dlil_ioctl(ifnet_t ifp, protocol_family_t pf, u_int32_t cmd, void *arg);
errno_t	dlil_event(ifnet_t ifp, const struct kev_msg *ev);
void	dlil_link_event(ifnet_t ifp, bool up);

errno_t	dlil_attach_protocol(ifnet_t ifp, protocol_family_t pf,
	    const struct ifnet_attach_proto_param *param);
errno_t	dlil_detach_protocol(ifnet_t ifp, protocol_family_t pf);
bool	dlil_protocol_attached(ifnet_t ifp, protocol_family_t pf);

errno_t	dlil_filter_attach(ifnet_t ifp, const struct iff_filter *filter,
	    interface_filter_t *ref);
void	dlil_filter_detach(interface_filter_t filter);

/*
 * Build a network event about ifp (Apple, KEV_NETWORK_CLASS, subclass,
 * code) whose payload is data, len bytes that start with the struct
 * net_event_data this fills in.  The caller fills the rest and posts it.
 */
void	dlil_event_msg_init(struct kev_msg *msg, ifnet_t ifp,
	    u_int32_t subclass, u_int32_t code, struct net_event_data *data,
	    u_int32_t len);
/* Post a KEV_DL_SUBCLASS event about ifp (data: struct net_event_data). */
void	dlil_post_msg(ifnet_t ifp, u_int32_t event_code);
/* In the DLIL thread: post the link changes dlil_link_event queued. */
void	dlil_link_post(ifnet_t ifp);
/* ifnet_set_lladdr: refresh the AF_LINK address.  if_lock held. */
void	dlil_set_lladdr_locked(ifnet_t ifp);

/* Wake the DLIL input thread (kpi_protocol.c queued injected packets). */
void	dlil_wakeup(void);

/* Walk the attached interfaces; fn runs with dlil_ifnet_lock shared. */
void	dlil_ifnet_foreach(void (*fn)(ifnet_t ifp, void *arg), void *arg);
/*
 * Walk every interface, attached or not, until fn returns true; returns
 * that interface (NULL if none), which may be gone once the walk's lock
 * is dropped: fn does the work, the caller only tests for NULL.  fn runs
 * with a spin lock held: it may take if_lock, but must not sleep.  For
 * the unload checks.
 */
ifnet_t	dlil_ifnet_find_any(bool (*fn)(ifnet_t ifp, void *arg), void *arg);

/*
 * Interface addresses.  if_attach_ifaddr takes a reference for the list;
 * if_detach_ifaddr drops it.  ifa_addr etc. must be set before attaching
 * and not change while the address is on the list.
 */
void	if_attach_ifaddr(ifnet_t ifp, struct ifaddr *ifa);
void	if_detach_ifaddr(ifnet_t ifp, struct ifaddr *ifa);

/* Counters (if_lock taken inside; safe from interrupts). */
void	if_stat_add(ifnet_t ifp, const struct ifnet_stat_increment_param *s);

/*
 * kpi_interfacefilter.c: the filter hooks on the DLIL's paths.  Each
 * returns 0 (go on), EJUSTRETURN (a filter kept the packet) or an error
 * (drop it).  iflt_ioctl returns true when a filter stopped the ioctl.
 */
errno_t	iflt_input(ifnet_t ifp, protocol_family_t pf, mbuf_t *m, char **frame);
errno_t	iflt_output(ifnet_t ifp, protocol_family_t pf, mbuf_t *m);
void	iflt_event(ifnet_t ifp, const struct kev_msg *ev);
bool	iflt_ioctl(ifnet_t ifp, protocol_family_t pf, u_int32_t cmd, void *arg,
	    errno_t *retval);
void	iflt_detach_all(ifnet_t ifp);

/* kpi_protocol.c: hand queued injected packets to their protocols. */
void	proto_input_run(void);
/* kpi_protocol.c: plumbers for a new interface, unplumb on detach. */
void	proto_kpi_init(void);

/* bpf.c: the DLIL shows frames to the tap with these. */
void	dlil_bpf_tap(ifnet_t ifp, mbuf_t m, void *hdr, size_t hdrlen, bool out);
void	bpf_init(void);

/*
 * if.c: an interface ioctl (group 'i', naming the interface in its
 * struct ifreq) made on the socket so: the flags and the MTU here, the
 * addresses by so's protocol (pru_control: in_control for PF_INET), the
 * rest by ifnet_ioctl.  ENXIO for an unknown interface.  Thread
 * context; the socket is not locked.
 */
struct socket;
errno_t	ifioctl(struct socket *so, u_long cmd, caddr_t data);

/* if_loop.c: lo0, and the plumber that attaches a protocol to it. */
void	loopattach(void);
errno_t	lo_attach_proto(ifnet_t ifp, protocol_family_t pf);
extern ifnet_t lo_ifp;

#endif /* _BSD_NET_IF_VAR_H_ */
