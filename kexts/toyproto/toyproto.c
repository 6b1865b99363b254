/*
 * toyproto -- a protocol of its own, straight on Ethernet, beside IP:
 * frames of ethertype 0x88B5 (IEEE's "local experimental" type, free for
 * anyone to try things with) go to this kext instead of being dropped.
 * It answers a ping and tells its counters, and says hello to the link
 * when it starts.
 *
 * The protocol plumber KPI (<net/kpi_protocol.h>) is how a protocol says
 * "this is how I attach to any Ethernet interface": toyproto_plumb hands
 * the DLIL its ethertype (a demux descriptor) and its callbacks through
 * ifnet_attach_protocol.  Then, for each frame:
 *
 *   e1000 -> ifnet_input -> DLIL thread -> ether_demux (0x88B5: PF_TOY)
 *     -> toyproto_input -> (an answer) ifnet_output -> toyproto_preout
 *     -> ether_frameout -> e1000
 *
 * The wire format, in network byte order, after the Ethernet header:
 *
 *   version (1 byte, 1) | op (1 byte) | seq (2) | length (2) | 0 (2) | data
 *
 *   PING   1  any data      -> PONG   2  the same seq and data
 *   COUNT  3  no data       -> COUNTS 4  four 32-bit counters (below)
 *   HELLO  5  broadcast once at start, no data
 *
 * `length` is the data's: Ethernet pads short frames, and the padding is
 * not the sender's.  Frames that break these rules are dropped and
 * counted by reason.
 *
 * Stop detaches the protocol from en0, waits (bounded) for its
 * `detached` callback, unregisters the plumber and frees the rest.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/socket.h>
#include <sys/kpi_mbuf.h>
#include <kern/locks.h>
#include <net/if_dl.h>
#include <net/if_ether.h>
#include <net/kpi_interface.h>
#include <net/kpi_protocol.h>
#include <netinet/in.h>

#define TOY_NAME		"com.finch.sample.toyproto"
#define TOY_IFNAME		"en0"
#define TOY_ETHERTYPE		0x88b5	/* IEEE 802 local experimental 1 */
#define PF_TOY			4242	/* a family number nobody else uses */
#define TOY_DETACH_WAIT		1	/* seconds stop waits, at most */

#define TOY_VERSION		1
#define TOY_PING		1
#define TOY_PONG		2
#define TOY_COUNT		3
#define TOY_COUNTS		4
#define TOY_HELLO		5

struct toy_hdr {
	u_int8_t	th_version;
	u_int8_t	th_op;
	u_int16_t	th_seq;
	u_int16_t	th_len;		/* bytes of data after the header */
	u_int16_t	th_zero;
};

/* COUNTS' data, in network order, and the kext's own counters (toy_lock). */
struct toy_counts {
	u_int32_t	tc_received;	/* frames of our type that reached us */
	u_int32_t	tc_answered;	/* PONGs and COUNTS sent */
	u_int32_t	tc_short;	/* dropped: shorter than the header says */
	u_int32_t	tc_bad;		/* dropped: bad version or op */
};

kern_return_t	toyproto_start(kmod_info_t *ki, void *data);
kern_return_t	toyproto_stop(kmod_info_t *ki, void *data);

/* The ethertype as the demux descriptor wants it: network order. */
static u_int16_t	toy_ethertype;

/* Made by start, in this order; taken down by stop in the reverse one. */
static lck_grp_attr_t	*toy_grp_attr;
static lck_grp_t	*toy_grp;
static lck_attr_t	*toy_lck_attr;
static lck_mtx_t	*toy_lock;
static boolean_t	toy_plumber;	/* the plumber is registered */
static ifnet_t		toy_ifp;	/* en0, referenced, PF_TOY on it */

/* The callbacks' and stop's news for each other (toy_lock). */
static struct toy_counts toy_counts;
static boolean_t	toy_detached;	/* the protocol's `detached` ran */

/* Only stop touches it: ifnet_detach_protocol was called. */
static boolean_t	toy_detaching;

/* ---- Sending ---- */

/* Where an answer goes: a link address, as a sockaddr_dl. */
static void
toy_dest(struct sockaddr_dl *sdl, const u_char *mac)
{
	bzero(sdl, sizeof(*sdl));
	sdl->sdl_len = sizeof(*sdl);
	sdl->sdl_family = AF_LINK;
	sdl->sdl_alen = ETHER_ADDR_LEN;
	memcpy(LLADDR(sdl), mac, ETHER_ADDR_LEN);
}

/* Send m (a toy header and its data) to mac on ifp; always consumes m. */
static errno_t
toy_send(ifnet_t ifp, mbuf_t m, const u_char *mac)
{
	struct sockaddr_dl sdl;

	toy_dest(&sdl, mac);
	mbuf_setflags_mask(m, 0, MBUF_BCAST | MBUF_MCAST);
	return ifnet_output(ifp, PF_TOY, m, NULL, (struct sockaddr *)&sdl);
}

/* HELLO to everyone on the link: a frame made from nothing. */
static void
toy_hello(ifnet_t ifp)
{
	static const u_char everyone[ETHER_ADDR_LEN] =
	    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct toy_hdr th = { TOY_VERSION, TOY_HELLO, 0, 0, 0 };
	mbuf_t m;

	if (mbuf_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA, &m) != 0)
		return;
	mbuf_align_32(m, sizeof(th));	/* room in front for the framer */
	memcpy(mbuf_data(m), &th, sizeof(th));
	mbuf_setlen(m, sizeof(th));
	mbuf_pkthdr_setlen(m, sizeof(th));
	(void)toy_send(ifp, m, everyone);
}

/* ---- The protocol's callbacks ---- */

/* Count a dropped frame under `reason` and free it.  0: consumed. */
static errno_t
toy_drop(mbuf_t m, u_int32_t *reason)
{
	if (m != NULL)
		mbuf_freem(m);
	lck_mtx_lock(toy_lock);
	(*reason)++;
	lck_mtx_unlock(toy_lock);
	return 0;
}

/*
 * The answer to a COUNT: the frame cut back to its header, the counters
 * written after it (mbuf_copyback grows the chain).
 */
static errno_t
toy_counts_reply(mbuf_t m, struct toy_hdr *th)
{
	struct toy_counts tc;

	lck_mtx_lock(toy_lock);
	toy_counts.tc_answered++;
	tc.tc_received = htonl(toy_counts.tc_received);
	tc.tc_answered = htonl(toy_counts.tc_answered);
	tc.tc_short = htonl(toy_counts.tc_short);
	tc.tc_bad = htonl(toy_counts.tc_bad);
	lck_mtx_unlock(toy_lock);
	th->th_op = TOY_COUNTS;
	th->th_len = htons(sizeof(tc));
	mbuf_adj(m, -(int)(mbuf_pkthdr_len(m) - sizeof(*th)));
	return mbuf_copyback(m, sizeof(*th), sizeof(tc), &tc, MBUF_DONTWAIT);
}

/*
 * A frame of type 0x88B5, on the DLIL input thread: data at our header,
 * the Ethernet header at `header`.  The answer reuses the frame's mbuf
 * and goes back to its sender.  Always 0: every frame is consumed, the
 * dropped ones counted by reason.
 */
static errno_t
toyproto_input(ifnet_t ifp, protocol_family_t protocol, mbuf_t m,
    char *header)
{
	const struct ether_header *eh = (const struct ether_header *)header;
	u_char sender[ETHER_ADDR_LEN];
	struct toy_hdr *th;
	size_t len = mbuf_pkthdr_len(m), datalen;

	lck_mtx_lock(toy_lock);
	toy_counts.tc_received++;
	lck_mtx_unlock(toy_lock);
	/* Before mbuf_pullup: it may free the mbuf `header` points into. */
	memcpy(sender, eh->ether_shost, sizeof(sender));
	if (len < sizeof(*th) || mbuf_pullup(&m, sizeof(*th)) != 0)
		return toy_drop(m, &toy_counts.tc_short);  /* pullup freed m */
	th = mbuf_data(m);
	datalen = ntohs(th->th_len);
	if (datalen > len - sizeof(*th))
		return toy_drop(m, &toy_counts.tc_short);
	if (th->th_version != TOY_VERSION ||
	    (th->th_op != TOY_PING && th->th_op != TOY_COUNT))
		return toy_drop(m, &toy_counts.tc_bad);

	if (th->th_op == TOY_PING) {
		th->th_op = TOY_PONG;
		/* Not the link's padding: only what the sender sent. */
		mbuf_adj(m, -(int)(len - sizeof(*th) - datalen));
		lck_mtx_lock(toy_lock);
		toy_counts.tc_answered++;
		lck_mtx_unlock(toy_lock);
	} else if (toy_counts_reply(m, th) != 0) {
		mbuf_freem(m);
		return 0;
	}
	(void)toy_send(ifp, m, sender);
	return 0;
}

/* Before the framer: the ethertype, and the address toy_send gave. */
static errno_t
toyproto_preout(ifnet_t ifp, protocol_family_t protocol, mbuf_t *m,
    const struct sockaddr *dest, void *route, char *frame_type,
    char *link_layer_dest)
{
	const struct sockaddr_dl *sdl = (const struct sockaddr_dl *)dest;

	if (dest == NULL || dest->sa_family != AF_LINK ||
	    sdl->sdl_alen != ETHER_ADDR_LEN)
		return EAFNOSUPPORT;
	memcpy(link_layer_dest, LLADDR(sdl), ETHER_ADDR_LEN);
	memcpy(frame_type, &toy_ethertype, sizeof(toy_ethertype));
	return 0;
}

/*
 * The protocol's last call on an interface: no frame is inside our
 * callbacks any more.  It runs inside stop's ifnet_detach_protocol or
 * later, on the thread whose frame leaves last (or on the DLIL thread,
 * if en0 itself detaches): stop holds no lock of ours around the call.
 */
static errno_t
toyproto_detached(ifnet_t ifp, protocol_family_t protocol)
{
	lck_mtx_lock(toy_lock);
	toy_detached = TRUE;
	lck_mtx_unlock(toy_lock);
	wakeup(&toy_detached);
	return 0;
}

/* ---- The plumber ---- */

/* How PF_TOY attaches to an Ethernet interface: one ethertype. */
static errno_t
toyproto_plumb(ifnet_t ifp, protocol_family_t protocol)
{
	struct ifnet_demux_desc demux = { DLIL_DESC_ETYPE2, &toy_ethertype,
		sizeof(toy_ethertype) };
	struct ifnet_attach_proto_param param;

	bzero(&param, sizeof(param));
	param.demux_array = &demux;
	param.demux_count = 1;
	param.input = toyproto_input;
	param.pre_output = toyproto_preout;
	param.detached = toyproto_detached;
	return ifnet_attach_protocol(ifp, protocol, &param);
}

static void
toyproto_unplumb(ifnet_t ifp, protocol_family_t protocol)
{
	(void)ifnet_detach_protocol(ifp, protocol);
}

/* ---- Start and stop ---- */

static void
toyproto_free_locks(void)
{
	if (toy_lock != NULL)
		lck_mtx_free(toy_lock, toy_grp);
	if (toy_lck_attr != NULL)
		lck_attr_free(toy_lck_attr);
	if (toy_grp != NULL)
		lck_grp_free(toy_grp);
	if (toy_grp_attr != NULL)
		lck_grp_attr_free(toy_grp_attr);
	toy_lock = NULL;
	toy_lck_attr = NULL;
	toy_grp = NULL;
	toy_grp_attr = NULL;
}

kern_return_t
toyproto_start(kmod_info_t *ki, void *data)
{
	errno_t error;

	toy_ethertype = htons(TOY_ETHERTYPE);
	toy_grp_attr = lck_grp_attr_alloc_init();
	if (toy_grp_attr == NULL)
		goto fail;
	lck_grp_attr_setdefault(toy_grp_attr);
	toy_grp = lck_grp_alloc_init("toyproto", toy_grp_attr);
	toy_lck_attr = lck_attr_alloc_init();
	if (toy_grp == NULL || toy_lck_attr == NULL)
		goto fail;
	lck_attr_setdefault(toy_lck_attr);
	if ((toy_lock = lck_mtx_alloc_init(toy_grp, toy_lck_attr)) == NULL)
		goto fail;

	error = proto_register_plumber(PF_TOY, IFNET_FAMILY_ETHERNET,
	    toyproto_plumb, toyproto_unplumb);
	if (error != 0) {
		printf("toyproto: proto_register_plumber: error %d\n", error);
		goto fail;
	}
	toy_plumber = TRUE;

	/* Everything the callbacks use is ready: input may run before
	 * toyproto_plumb returns. */
	if (ifnet_find_by_name(TOY_IFNAME, &toy_ifp) != 0) {
		printf("toyproto: no interface %s\n", TOY_IFNAME);
		goto fail;
	}
	if ((error = toyproto_plumb(toy_ifp, PF_TOY)) != 0) {
		printf("toyproto: cannot attach to %s: error %d\n", TOY_IFNAME,
		    error);
		ifnet_release(toy_ifp);
		toy_ifp = NULL;
		goto fail;
	}
	toy_hello(toy_ifp);
	printf("toyproto: ethertype 0x%04x on %s: PING, COUNT\n",
	    TOY_ETHERTYPE, TOY_IFNAME);
	return KERN_SUCCESS;

fail:
	if (toy_plumber)
		proto_unregister_plumber(PF_TOY, IFNET_FAMILY_ETHERNET);
	toy_plumber = FALSE;
	toyproto_free_locks();
	return KERN_FAILURE;
}

/*
 * Bounded waits only; called again after a KERN_FAILURE, each step
 * checks whether it was done already.
 */
kern_return_t
toyproto_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { TOY_DETACH_WAIT, 0 };
	boolean_t detached;

	/*
	 * 1. The protocol on en0.  ifnet_detach_protocol stops new frames
	 * at once; `detached` comes when the last one has left our
	 * callbacks -- maybe inside the call (hold no lock of ours across
	 * it), maybe later.  ENOENT: en0 went away and took the protocol
	 * with it, and `detached` has run.  Then sleep, bounded.
	 */
	if (toy_ifp != NULL) {
		if (!toy_detaching) {
			toy_detaching = TRUE;
			(void)ifnet_detach_protocol(toy_ifp, PF_TOY);
		}
		lck_mtx_lock(toy_lock);
		if (!toy_detached)
			msleep(&toy_detached, toy_lock, 0, "toyproto", &wait);
		detached = toy_detached;
		lck_mtx_unlock(toy_lock);
		if (!detached) {
			printf("toyproto: a frame is still inside the "
			    "protocol; try again (kextunload -w)\n");
			return KERN_FAILURE;
		}
		ifnet_release(toy_ifp);
		toy_ifp = NULL;
	}

	/* 2. The plumber: nobody can plumb PF_TOY anywhere any more. */
	if (toy_plumber) {
		proto_unregister_plumber(PF_TOY, IFNET_FAMILY_ETHERNET);
		toy_plumber = FALSE;
	}

	/* 3. The rest, in reverse order. */
	printf("toyproto: stopped; %u frames received, %u answered, %u "
	    "dropped short, %u dropped bad\n", toy_counts.tc_received,
	    toy_counts.tc_answered, toy_counts.tc_short, toy_counts.tc_bad);
	toyproto_free_locks();
	return KERN_SUCCESS;
}
