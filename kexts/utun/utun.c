/*
 * utun -- a tunnel interface whose far end is a program: packets the
 * stack routes to utun0 go to the client of a kernel control, and what
 * the client writes to the control comes in on utun0 as if received.
 * It is the shape of Mac OS X's utun (the VPN clients' interface), made
 * from two KPIs: <net/kpi_interface.h> for the interface and
 * <sys/kern_control.h> for the way out to the program.
 *
 * On the control, every packet is preceded by its address family, 4
 * bytes in network byte order (AF_INET: 00 00 00 02), as on Mac OS X:
 *
 *   ip_output -> ifnet_output(utun0) -> utun_preout -> utun_framer
 *     -> utun_output -> ctl_enqueuembuf -> the client reads it
 *   the client writes -> utun_ctl_send -> ifnet_input(utun0)
 *     -> DLIL thread -> utun_demux -> utun_proto_input -> ip_input
 *
 * The interface attaches IPv4 itself (a tun has no plumber to do it),
 * so `ifconfig utun0 inet 10.9.0.1/24` gives it an address and a route.
 * One client at a time; with none, packets routed to utun0 are dropped
 * and counted.
 *
 * Stop undoes start in the reverse order: the control first (refused
 * while a client is connected: the client closes first), then the
 * interface -- ifnet_detach, then a bounded sleep until its `detach`
 * callback says nothing runs in it any more -- then the rest.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_control.h>
#include <kern/locks.h>
#include <libkern/OSMalloc.h>
#include <net/if.h>
#include <net/if_types.h>
#include <net/kpi_interface.h>
#include <net/kpi_protocol.h>
#include <netinet/in.h>

#define UTUN_NAME		"com.finch.sample.utun"	/* and the control's */
#define UTUN_IFNAME		"utun"
#define UTUN_IFUNIT		0
#define UTUN_HDRLEN		4	/* the address family before a packet */
#define UTUN_MTU		1500
#define UTUN_DETACH_WAIT	1	/* seconds stop waits, at most */

/* Options of the control (getsockopt, level SYSPROTO_CONTROL). */
#define UTUN_OPT_IFNAME		2	/* the interface's name, "utun0" */
#define UTUN_OPT_STATS		3	/* struct utun_stats */

kern_return_t	utun_start(kmod_info_t *ki, void *data);
kern_return_t	utun_stop(kmod_info_t *ki, void *data);

/* What went where, and what was dropped, by reason (ut_lock). */
struct utun_stats {
	u_int32_t	us_to_client;		/* packets handed to the client */
	u_int32_t	us_no_client;		/* dropped: nobody connected */
	u_int32_t	us_client_full;		/* dropped: its buffer was full */
	u_int32_t	us_from_client;		/* packets the client wrote */
	u_int32_t	us_bad_header;		/* refused: no 4-byte family */
	u_int32_t	us_bad_family;		/* refused: not AF_INET */
	u_int32_t	us_too_big;		/* refused: over the MTU */
};

/* Made by start, in this order; taken down by stop in the reverse one. */
static lck_grp_attr_t	*ut_grp_attr;
static lck_grp_t	*ut_grp;
static lck_attr_t	*ut_lck_attr;
static lck_mtx_t	*ut_lock;
static ifnet_t		ut_ifp;
static kern_ctl_ref	ut_ctlref;

/* The callbacks' and stop's news for each other (ut_lock). */
static u_int32_t	ut_unit;	/* the client's unit; 0: none */
static struct utun_stats ut_stats;
static boolean_t	ut_detached;	/* the interface's detach has run */

/* Only stop touches it: ifnet_detach was called. */
static boolean_t	ut_detaching;

/* ---- The interface: the driver's callbacks ---- */

/*
 * A packet for the far end, framed (its family in front).  It runs in
 * the sending thread.  ut_lock is held across ctl_enqueuembuf so that
 * the client cannot disconnect -- and stop cannot deregister the
 * control -- in between: utun_ctl_disconnect takes ut_lock first.
 * The kernel calls control callbacks with no lock of its own held, so
 * this order cannot deadlock.
 */
static errno_t
utun_output(ifnet_t ifp, mbuf_t m)
{
	size_t len = mbuf_pkthdr_len(m);
	errno_t error = 0;

	lck_mtx_lock(ut_lock);
	if (ut_unit == 0) {
		ut_stats.us_no_client++;
		error = ENOTCONN;
	} else if (ctl_enqueuembuf(ut_ctlref, ut_unit, m, CTL_DATA_EOR) != 0) {
		ut_stats.us_client_full++;
		error = ENOBUFS;
	} else {
		ut_stats.us_to_client++;
	}
	lck_mtx_unlock(ut_lock);
	if (error != 0) {
		mbuf_freem(m);		/* the driver frees, even on error */
		ifnet_stat_increment_out(ifp, 0, 0, 1);
		return error;
	}
	ifnet_stat_increment_out(ifp, 1, (u_int32_t)len, 0);
	return 0;
}

/* The family in front of the packet says which protocol it is for. */
static errno_t
utun_demux(ifnet_t ifp, mbuf_t m, char *frame_header,
    protocol_family_t *protocol_family)
{
	u_int32_t af;

	memcpy(&af, frame_header, sizeof(af));
	*protocol_family = ntohl(af);
	return 0;
}

/* pre_output left the family, in network order, in frame_type. */
static errno_t
utun_framer(ifnet_t ifp, mbuf_t *m, const struct sockaddr *dest,
    const char *dest_linkaddr, const char *frame_type)
{
	errno_t error;

	if ((error = mbuf_prepend(m, UTUN_HDRLEN, MBUF_DONTWAIT)) != 0)
		return error;		/* *m is freed and NULL */
	memcpy(mbuf_data(*m), frame_type, UTUN_HDRLEN);
	return 0;
}

/* Only IPv4 rides this tunnel. */
static errno_t
utun_add_proto(ifnet_t ifp, protocol_family_t protocol,
    const struct ifnet_demux_desc *demux_array, u_int32_t demux_count)
{
	return protocol == PF_INET ? 0 : EPROTONOSUPPORT;
}

static errno_t
utun_del_proto(ifnet_t ifp, protocol_family_t protocol)
{
	return 0;
}

/* An address makes the interface up, as on any BSD. */
static errno_t
utun_ioctl(ifnet_t ifp, u_int32_t cmd, void *data)
{
	struct ifreq *ifr = data;

	switch (cmd) {
	case SIOCSIFADDR:
	case SIOCAIFADDR:
		return ifnet_set_flags(ifp, IFF_UP | IFF_RUNNING,
		    IFF_UP | IFF_RUNNING);
	case SIOCSIFFLAGS:
		return 0;
	case SIOCSIFMTU:
		if (ifr == NULL || ifr->ifr_mtu < 576 || ifr->ifr_mtu > UTUN_MTU)
			return EINVAL;
		return ifnet_set_mtu(ifp, ifr->ifr_mtu);
	default:
		return EOPNOTSUPP;
	}
}

/*
 * The interface's last call, on the DLIL thread: no packet or callback
 * is inside it any more, and none will come.  Tell stop, which may be
 * asleep waiting for this -- or may be the caller: hold no lock of ours
 * around ifnet_detach.
 */
static void
utun_if_detached(ifnet_t ifp)
{
	lck_mtx_lock(ut_lock);
	ut_detached = TRUE;
	lck_mtx_unlock(ut_lock);
	wakeup(&ut_detached);
}

/* ---- IPv4 on the interface: the protocol's callbacks ---- */

/* Straight to IP: the DLIL took the family off already. */
static errno_t
utun_proto_input(ifnet_t ifp, protocol_family_t protocol, mbuf_t m,
    char *header)
{
	return proto_input(protocol, m) == 0 ? 0 : ENOENT;
}

/* No link address to find: only the family, for the framer. */
static errno_t
utun_proto_preout(ifnet_t ifp, protocol_family_t protocol, mbuf_t *m,
    const struct sockaddr *dest, void *route, char *frame_type,
    char *link_layer_dest)
{
	u_int32_t af = htonl(protocol);

	memcpy(frame_type, &af, sizeof(af));
	return 0;
}

/* ---- The control: the way to and from the program ---- */

static errno_t
utun_ctl_connect(kern_ctl_ref ref, struct sockaddr_ctl *sac, void **unitinfo)
{
	errno_t error = 0;

	lck_mtx_lock(ut_lock);
	if (ut_unit != 0)
		error = EBUSY;		/* one far end at a time */
	else
		ut_unit = sac->sc_unit;
	lck_mtx_unlock(ut_lock);
	if (error == 0)
		printf("utun: a client connected (unit %u): it carries "
		    "%s%d's packets\n", sac->sc_unit, UTUN_IFNAME, UTUN_IFUNIT);
	return error;
}

static errno_t
utun_ctl_disconnect(kern_ctl_ref ref, u_int32_t unit, void *unitinfo)
{
	lck_mtx_lock(ut_lock);
	if (ut_unit == unit)
		ut_unit = 0;
	lck_mtx_unlock(ut_lock);
	printf("utun: the client left (unit %u)\n", unit);
	return 0;
}

/* Count one refused packet under `counter`, and say why to the client. */
static errno_t
utun_refuse(mbuf_t m, u_int32_t *counter, errno_t why)
{
	if (m != NULL)
		mbuf_freem(m);
	lck_mtx_lock(ut_lock);
	(*counter)++;
	lck_mtx_unlock(ut_lock);
	return why;
}

/*
 * A packet from the client, its family in front: received on utun0.
 * The receive convention of <net/kpi_interface.h>: the packet header
 * points at the link header (the family), the data starts after it.
 * The callback owns m whatever it returns; an error goes back to the
 * client's send.
 */
static errno_t
utun_ctl_send(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, mbuf_t m,
    int flags)
{
	struct ifnet_stat_increment_param stats;
	size_t len = mbuf_pkthdr_len(m);
	u_int32_t af;
	char *data;

	if (!(mbuf_flags(m) & MBUF_PKTHDR) || len <= UTUN_HDRLEN)
		return utun_refuse(m, &ut_stats.us_bad_header, EINVAL);
	if (len > UTUN_HDRLEN + ifnet_mtu(ut_ifp))
		return utun_refuse(m, &ut_stats.us_too_big, EMSGSIZE);
	if (mbuf_pullup(&m, UTUN_HDRLEN) != 0)	/* frees m on failure */
		return utun_refuse(NULL, &ut_stats.us_bad_header, ENOBUFS);
	data = mbuf_data(m);
	memcpy(&af, data, sizeof(af));
	if (ntohl(af) != AF_INET)
		return utun_refuse(m, &ut_stats.us_bad_family, EAFNOSUPPORT);

	mbuf_pkthdr_setheader(m, data);
	mbuf_setdata(m, data + UTUN_HDRLEN, mbuf_len(m) - UTUN_HDRLEN);
	mbuf_pkthdr_adjustlen(m, -UTUN_HDRLEN);
	bzero(&stats, sizeof(stats));
	stats.packets_in = 1;
	stats.bytes_in = (u_int32_t)len;
	lck_mtx_lock(ut_lock);
	ut_stats.us_from_client++;
	lck_mtx_unlock(ut_lock);
	return ifnet_input(ut_ifp, m, &stats);	/* frees m on error */
}

static errno_t
utun_ctl_getopt(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
	char name[IFNAMSIZ];
	struct utun_stats stats;
	const void *value;
	size_t size;

	switch (opt) {
	case UTUN_OPT_IFNAME:
		snprintf(name, sizeof(name), "%s%d", UTUN_IFNAME, UTUN_IFUNIT);
		value = name;
		size = strlen(name) + 1;
		break;
	case UTUN_OPT_STATS:
		lck_mtx_lock(ut_lock);
		stats = ut_stats;
		lck_mtx_unlock(ut_lock);
		value = &stats;
		size = sizeof(stats);
		break;
	default:
		return ENOPROTOOPT;
	}
	if (data != NULL) {
		if (*len < size)
			return EINVAL;
		memcpy(data, value, size);
	}
	*len = size;
	return 0;
}

/* ---- Start and stop ---- */

/* utun0: point to point, no link address, IPv4 attached. */
static errno_t
utun_if_create(void)
{
	struct ifnet_init_params init;
	struct ifnet_attach_proto_param proto;
	errno_t error;

	bzero(&init, sizeof(init));
	init.name = UTUN_IFNAME;
	init.unit = UTUN_IFUNIT;
	init.family = IFNET_FAMILY_TUN;
	init.type = IFT_OTHER;
	init.output = utun_output;
	init.demux = utun_demux;
	init.add_proto = utun_add_proto;
	init.del_proto = utun_del_proto;
	init.framer = utun_framer;
	init.ioctl = utun_ioctl;
	init.detach = utun_if_detached;
	if ((error = ifnet_allocate(&init, &ut_ifp)) != 0)
		return error;
	ifnet_set_mtu(ut_ifp, UTUN_MTU);
	ifnet_set_hdrlen(ut_ifp, UTUN_HDRLEN);
	ifnet_set_flags(ut_ifp, IFF_POINTOPOINT | IFF_MULTICAST, 0xffff);
	if ((error = ifnet_attach(ut_ifp, NULL)) != 0) {
		ifnet_release(ut_ifp);
		ut_ifp = NULL;
		return error;
	}
	bzero(&proto, sizeof(proto));
	proto.input = utun_proto_input;
	proto.pre_output = utun_proto_preout;
	return ifnet_attach_protocol(ut_ifp, PF_INET, &proto);
}

static errno_t
utun_ctl_create(void)
{
	struct kern_ctl_reg reg;

	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, UTUN_NAME, sizeof(reg.ctl_name));
	reg.ctl_recvsize = 64 * 1024;	/* room for a burst of packets */
	reg.ctl_connect = utun_ctl_connect;
	reg.ctl_disconnect = utun_ctl_disconnect;
	reg.ctl_send = utun_ctl_send;
	reg.ctl_getopt = utun_ctl_getopt;
	return ctl_register(&reg, &ut_ctlref);
}

/* The locks, newest first; safe on a half-made set. */
static void
utun_free_locks(void)
{
	if (ut_lock != NULL)
		lck_mtx_free(ut_lock, ut_grp);
	if (ut_lck_attr != NULL)
		lck_attr_free(ut_lck_attr);
	if (ut_grp != NULL)
		lck_grp_free(ut_grp);
	if (ut_grp_attr != NULL)
		lck_grp_attr_free(ut_grp_attr);
	ut_lock = NULL;
	ut_lck_attr = NULL;
	ut_grp = NULL;
	ut_grp_attr = NULL;
}

kern_return_t
utun_start(kmod_info_t *ki, void *data)
{
	errno_t error;

	ut_grp_attr = lck_grp_attr_alloc_init();
	if (ut_grp_attr == NULL)
		goto fail;
	lck_grp_attr_setdefault(ut_grp_attr);
	ut_grp = lck_grp_alloc_init("utun", ut_grp_attr);
	ut_lck_attr = lck_attr_alloc_init();
	if (ut_grp == NULL || ut_lck_attr == NULL)
		goto fail;
	lck_attr_setdefault(ut_lck_attr);
	if ((ut_lock = lck_mtx_alloc_init(ut_grp, ut_lck_attr)) == NULL)
		goto fail;

	/* The interface before the control: until a client connects,
	 * utun_output only counts, and never touches ut_ctlref. */
	if ((error = utun_if_create()) != 0) {
		printf("utun: cannot make %s%d: error %d\n", UTUN_IFNAME,
		    UTUN_IFUNIT, error);
		goto fail;
	}
	if ((error = utun_ctl_create()) != 0) {
		printf("utun: cannot register the control %s: error %d\n",
		    UTUN_NAME, error);
		goto fail;
	}
	printf("utun: %s%d is attached; its packets go to the client of "
	    "the control %s\n", UTUN_IFNAME, UTUN_IFUNIT, UTUN_NAME);
	return KERN_SUCCESS;

fail:
	/* stop takes down whatever was made, waiting as it must. */
	if (utun_stop(ki, data) != KERN_SUCCESS)
		printf("utun: start failed and %s%d is still detaching: the "
		    "kext stays until its detach callback runs\n",
		    UTUN_IFNAME, UTUN_IFUNIT);
	return KERN_FAILURE;
}

/*
 * Bounded waits only: stop runs in a thread of its own, and kextunload
 * waits 2 s for it.  Called again after a KERN_FAILURE, each step
 * checks whether it was done already.
 */
kern_return_t
utun_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { UTUN_DETACH_WAIT, 0 };
	boolean_t detached;
	errno_t error;

	/*
	 * 1. The control.  ctl_deregister refuses (EBUSY) while a client
	 * is connected: refuse to stop, with the interface still up, and
	 * let the client close first.  Once it is gone, utun_output finds
	 * ut_unit 0 and never uses ut_ctlref again.
	 */
	if (ut_ctlref != NULL) {
		if ((error = ctl_deregister(ut_ctlref)) != 0) {
			printf("utun: cannot stop: %s has a client (error %d); "
			    "close it, then unload again\n", UTUN_NAME, error);
			return KERN_FAILURE;
		}
		ut_ctlref = NULL;
	}

	/*
	 * 2. The interface.  ifnet_detach takes utun0 off the list at
	 * once (IPv4 forgets its address and route), but a packet may be
	 * inside it on another thread: the `detach` callback comes when
	 * the last one has left, and takes ut_lock -- so hold it not
	 * across ifnet_detach.  Detach once, then sleep, bounded.
	 */
	if (ut_ifp != NULL) {
		if (!ut_detaching) {
			ut_detaching = TRUE;
			if (ifnet_detach(ut_ifp) == EINVAL)
				ut_detached = TRUE;	/* never attached */
		}
		lck_mtx_lock(ut_lock);
		if (!ut_detached)
			msleep(&ut_detached, ut_lock, 0, "utun", &wait);
		detached = ut_detached;
		lck_mtx_unlock(ut_lock);
		if (!detached) {
			printf("utun: %s%d is still detaching; try again "
			    "(kextunload -w)\n", UTUN_IFNAME, UTUN_IFUNIT);
			return KERN_FAILURE;
		}
		ifnet_release(ut_ifp);		/* ifnet_allocate's reference */
		ut_ifp = NULL;
	}

	/* 3. Nothing calls us any more: the rest, in reverse order. */
	if (ut_lock != NULL)
		printf("utun: stopped; %u packets to the client, %u from it, "
		    "%u dropped with no client\n", ut_stats.us_to_client,
		    ut_stats.us_from_client, ut_stats.us_no_client);
	utun_free_locks();
	return KERN_SUCCESS;
}
