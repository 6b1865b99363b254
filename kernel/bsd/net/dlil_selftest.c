/*
 * Selftests of the DLIL, run by `selftest dlil`: a fake Ethernet
 * interface "tst0" whose driver output is captured, and a test protocol
 * attached to it with an ethertype descriptor.  Packets go in through
 * ifnet_input and out through ifnet_output; every test detaches what it
 * attached and waits (with a timeout) for the detach to complete.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_event.h>
#include <kern/clock.h>
#include <kern/selftest.h>
#include <net/if_ether.h>
#include <net/kpi_protocol.h>
#include <net/route.h>
#include <netinet/in.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/if_var.h>
#include <bsd/net/netstat_var.h>

#define ST_PF		0xf1c4		/* a protocol family nobody uses */
#define ST_ETYPE	0x88b5		/* IEEE "local experimental" */
#define ST_ETYPE_OTHER	0x88b6
#define ST_WAIT_MS	1000
#define ST_OWNER	"selftest.dlil"	/* mbufs the tests allocate */

static const u_char st_mac[ETHER_ADDR_LEN] = { 2, 0, 0, 0, 0, 1 };
static const u_char st_peer[ETHER_ADDR_LEN] = { 2, 0, 0, 0, 0, 2 };
static const u_char st_bcast[ETHER_ADDR_LEN] =
    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* What the fake driver and the test protocol saw. */
static struct {
	volatile int	out_count;
	mbuf_t		out_last;		/* kept for inspection */
	volatile int	detached;
	volatile int	in_count;
	u_char		in_payload[16];
	u_int16_t	in_type;		/* from the frame header */
	volatile int	proto_detached;
	volatile int	filt_in, filt_out, filt_detached;
	volatile int	inject_count;
} st;

/* ---- Helpers ---- */

/*
 * Run a test with what this thread allocates charged to ST_OWNER: every
 * mbuf it made must be gone at the end, freed by the test or by the
 * stack (dropped, consumed, transmitted).
 */
static int
st_leakcheck(int (*body)(void))
{
	struct mbuf_owner_usage before, after;
	int failed;

	mbuf_owner_usage(ST_OWNER, &before);
	mbuf_owner_bind_thread(ST_OWNER);
	failed = body();
	mbuf_owner_bind_thread(NULL);
	mbuf_owner_usage(ST_OWNER, &after);
	if (after.mo_mbufs != before.mo_mbufs) {
		printf("    leaked %d mbufs\n",
		    (int)(after.mo_mbufs - before.mo_mbufs));
		return 1;
	}
	return failed;
}

#define DLIL_SELFTEST(name)						\
	static int							\
	test_##name(void)						\
	{								\
		return st_leakcheck(name);				\
	}								\
	SELFTEST(name, test_##name)

/* Sleep in small steps until *flag >= want or ST_WAIT_MS pass. */
static bool
st_wait(volatile int *flag, int want)
{
	uint64_t end = mach_absolute_time() + ST_WAIT_MS * NSEC_PER_MSEC;
	struct timespec ts = { 0, 2 * NSEC_PER_MSEC };
	int chan;

	while (*flag < want) {
		if (mach_absolute_time() > end)
			return false;
		msleep(&chan, NULL, 0, "st_dlil", &ts);
	}
	return true;
}

static u_int32_t
st_counter(const char *group, const char *name)
{
	u_int32_t v = 0;

	netstat_counter_get(group, name, &v);
	return v;
}

/* Wait until a counter moves past `before`. */
static bool
st_wait_counter(const char *group, const char *name, u_int32_t before)
{
	uint64_t end = mach_absolute_time() + ST_WAIT_MS * NSEC_PER_MSEC;
	struct timespec ts = { 0, 2 * NSEC_PER_MSEC };
	int chan;

	while (st_counter(group, name) == before) {
		if (mach_absolute_time() > end)
			return false;
		msleep(&chan, NULL, 0, "st_dlil", &ts);
	}
	return true;
}

/* Was a KEV_DL event `code` about "tst" posted after event id `since`? */
static bool
st_event_posted(u_int32_t since, u_int32_t code)
{
	union {
		struct kern_event_msg	msg;
		u_char			buf[KEV_MSG_MAX];
	} ev;
	const struct net_event_data *nd;
	u_int32_t id;

	for (id = since + 1; id <= kev_last_id(); id++) {
		if (kev_copy_recent(id, &ev, sizeof(ev)) != 0)
			continue;
		nd = (const struct net_event_data *)ev.msg.event_data;
		if (ev.msg.kev_class == KEV_NETWORK_CLASS &&
		    ev.msg.kev_subclass == KEV_DL_SUBCLASS &&
		    ev.msg.event_code == code &&
		    strcmp(nd->if_name, "tst") == 0)
			return true;
	}
	return false;
}

/* A frame as a driver hands it in: data past the 14-byte header. */
static mbuf_t
st_frame(const u_char *dst, u_int16_t type, const char *payload)
{
	struct ether_header eh;
	size_t plen = strlen(payload);
	mbuf_t m;
	char *p;

	if (mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &m) != 0)
		return NULL;
	memcpy(eh.ether_dhost, dst, ETHER_ADDR_LEN);
	memcpy(eh.ether_shost, st_peer, ETHER_ADDR_LEN);
	eh.ether_type = __builtin_bswap16(type);
	p = mbuf_data(m);
	memcpy(p, &eh, ETHER_HDR_LEN);
	memcpy(p + ETHER_HDR_LEN, payload, plen);
	mbuf_pkthdr_setheader(m, p);
	mbuf_setdata(m, p + ETHER_HDR_LEN, plen);
	mbuf_pkthdr_setlen(m, plen);
	return m;
}

/* A bare payload, for ifnet_output. */
static mbuf_t
st_payload(const char *payload)
{
	size_t plen = strlen(payload);
	mbuf_t m;

	if (mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &m) != 0)
		return NULL;
	mbuf_align_32(m, plen);
	memcpy(mbuf_data(m), payload, plen);
	mbuf_setlen(m, plen);
	mbuf_pkthdr_setlen(m, plen);
	return m;
}

/* ---- The fake driver ---- */

static errno_t
st_output(ifnet_t ifp, mbuf_t m)
{
	if (st.out_last != NULL)
		mbuf_freem(st.out_last);
	st.out_last = m;
	st.out_count++;
	return 0;
}

static void
st_if_detached(ifnet_t ifp)
{
	st.detached++;
}

static errno_t
st_if_create(ifnet_t *ifpp)
{
	struct ifnet_init_params init = { 0 };
	struct sockaddr_dl sdl;
	errno_t error;

	bzero(&st, sizeof(st));
	init.name = "tst";
	init.family = IFNET_FAMILY_ETHERNET;
	init.type = IFT_ETHER;
	init.output = st_output;
	init.demux = ether_demux;
	init.add_proto = ether_add_proto;
	init.del_proto = ether_del_proto;
	init.check_multi = ether_check_multi;
	init.framer = ether_frameout;
	init.ioctl = ether_ioctl;
	init.detach = st_if_detached;
	init.broadcast_addr = st_bcast;
	init.broadcast_len = ETHER_ADDR_LEN;
	if ((error = ifnet_allocate(&init, ifpp)) != 0)
		return error;
	ifnet_set_mtu(*ifpp, ETHERMTU);
	ifnet_set_hdrlen(*ifpp, ETHER_HDR_LEN);
	ifnet_set_addrlen(*ifpp, ETHER_ADDR_LEN);
	ifnet_set_flags(*ifpp, IFF_UP | IFF_BROADCAST | IFF_SIMPLEX |
	    IFF_MULTICAST, 0xffff);
	bzero(&sdl, sizeof(sdl));
	sdl.sdl_len = sizeof(sdl);
	sdl.sdl_family = AF_LINK;
	sdl.sdl_type = IFT_ETHER;
	sdl.sdl_alen = ETHER_ADDR_LEN;
	memcpy(LLADDR(&sdl), st_mac, ETHER_ADDR_LEN);
	if ((error = ifnet_attach(*ifpp, &sdl)) != 0)
		ifnet_release(*ifpp);
	return error;
}

/* Detach, wait for the driver's detached callback, drop our reference. */
static bool
st_if_destroy(ifnet_t ifp)
{
	bool ok;

	if (ifnet_detach(ifp) != 0)
		return false;
	ok = st_wait(&st.detached, 1);
	if (st.out_last != NULL) {
		mbuf_freem(st.out_last);
		st.out_last = NULL;
	}
	ifnet_release(ifp);
	return ok;
}

/* ---- The test protocol ---- */

static errno_t
st_proto_input(ifnet_t ifp, protocol_family_t pf, mbuf_t m, char *header)
{
	const struct ether_header *eh = (const struct ether_header *)header;
	size_t len = mbuf_pkthdr_len(m);

	if (len > sizeof(st.in_payload) - 1)
		len = sizeof(st.in_payload) - 1;
	bzero(st.in_payload, sizeof(st.in_payload));
	mbuf_copydata(m, 0, len, st.in_payload);
	st.in_type = __builtin_bswap16(eh->ether_type);
	mbuf_freem(m);
	st.in_count++;
	return 0;
}

/* Every packet goes to st_peer with our ethertype. */
static errno_t
st_proto_preout(ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    const struct sockaddr *dest, void *route, char *frame_type,
    char *ll_dest)
{
	u_int16_t type = __builtin_bswap16(ST_ETYPE);

	memcpy(frame_type, &type, sizeof(type));
	memcpy(ll_dest, st_peer, ETHER_ADDR_LEN);
	return 0;
}

static errno_t
st_proto_detached(ifnet_t ifp, protocol_family_t pf)
{
	st.proto_detached++;
	return 0;
}

static errno_t
st_proto_attach(ifnet_t ifp)
{
	u_int16_t type = __builtin_bswap16(ST_ETYPE);
	struct ifnet_demux_desc desc = { DLIL_DESC_ETYPE2, &type, 2 };
	struct ifnet_attach_proto_param param = { 0 };

	param.demux_array = &desc;
	param.demux_count = 1;
	param.input = st_proto_input;
	param.pre_output = st_proto_preout;
	param.detached = st_proto_detached;
	return ifnet_attach_protocol(ifp, ST_PF, &param);
}

/* ---- Tests ---- */

/* Allocate checks its parameters; attach posts IF_ATTACHED and makes the
 * interface findable; detach is asynchronous and ends with `detached`. */
static int
dlil_attach_detach(void)
{
	struct ifnet_init_params bad = { 0 };
	u_int32_t since = kev_last_id();
	ifnet_t ifp, found, dup;

	bad.name = "tst";
	ST_ASSERT(ifnet_allocate(&bad, &dup) == EINVAL);	/* no output */
	ST_ASSERT(st_if_create(&ifp) == 0);
	ST_ASSERT(st_event_posted(since, KEV_DL_IF_ATTACHED));
	ST_ASSERT(ifnet_find_by_name("tst0", &found) == 0 && found == ifp);
	ifnet_release(found);
	ST_ASSERT(ifnet_index(ifp) != 0);
	ST_ASSERT(ifnet_attach(ifp, NULL) == EEXIST);
	ST_ASSERT(strcmp(ifnet_name(ifp), "tst") == 0 && ifnet_unit(ifp) == 0);
	ST_ASSERT(memcmp(ifnet_lladdr(ifp), st_mac, ETHER_ADDR_LEN) == 0);

	ST_ASSERT(ifnet_detach(ifp) == 0);
	ST_ASSERT(ifnet_detach(ifp) == ENXIO);
	ST_ASSERT(st_wait(&st.detached, 1));
	ST_ASSERT(st_event_posted(since, KEV_DL_IF_DETACHING));
	ST_ASSERT(st_event_posted(since, KEV_DL_IF_DETACHED));
	ST_ASSERT(ifnet_find_by_name("tst0", &found) == ENXIO);
	ST_ASSERT(ifnet_attach(ifp, NULL) == EINVAL);	/* never again */
	ifnet_release(ifp);
	return 0;
}
DLIL_SELFTEST(dlil_attach_detach);

/* A frame with the protocol's ethertype reaches its input; an unknown
 * ethertype is dropped and counted as input_no_protocol. */
static int
dlil_input_demux(void)
{
	u_int32_t since = kev_last_id(), before;
	struct ifnet_stats_param stats;
	ifnet_t ifp;
	mbuf_t m;

	ST_ASSERT(st_if_create(&ifp) == 0);
	ST_ASSERT(st_proto_attach(ifp) == 0);
	ST_ASSERT(st_event_posted(since, KEV_DL_PROTO_ATTACHED));
	ST_ASSERT(st_proto_attach(ifp) == EEXIST);

	ST_ASSERT((m = st_frame(st_mac, ST_ETYPE, "hello dlil")) != NULL);
	ST_ASSERT(ifnet_input(ifp, m, NULL) == 0);
	ST_ASSERT(st_wait(&st.in_count, 1));
	ST_ASSERT(strcmp((char *)st.in_payload, "hello dlil") == 0);
	ST_ASSERT(st.in_type == ST_ETYPE);

	before = st_counter("dlil", "input_no_protocol");
	ST_ASSERT((m = st_frame(st_mac, ST_ETYPE_OTHER, "nobody")) != NULL);
	ST_ASSERT(ifnet_input(ifp, m, NULL) == 0);
	ST_ASSERT(st_wait_counter("dlil", "input_no_protocol", before));
	ST_ASSERT(st.in_count == 1);
	ST_ASSERT(ifnet_stat(ifp, &stats) == 0);
	ST_ASSERT(stats.packets_in == 2 && stats.no_protocol == 1);

	ST_ASSERT(ifnet_detach_protocol(ifp, ST_PF) == 0);
	ST_ASSERT(st.proto_detached == 1);
	ST_ASSERT(st_event_posted(since, KEV_DL_PROTO_DETACHED));
	ST_ASSERT(ifnet_detach_protocol(ifp, ST_PF) == ENOENT);
	ST_ASSERT(st_if_destroy(ifp));
	return 0;
}
DLIL_SELFTEST(dlil_input_demux);

/* ifnet_output: pre_output picks type and destination, ether_frameout
 * builds the header, the driver gets the whole frame. */
static int
dlil_output_framer(void)
{
	struct ether_header eh;
	ifnet_t ifp;
	mbuf_t m;
	char payload[8] = { 0 };

	ST_ASSERT(st_if_create(&ifp) == 0);
	ST_ASSERT(st_proto_attach(ifp) == 0);
	ST_ASSERT((m = st_payload("out!")) != NULL);
	ST_ASSERT(ifnet_output(ifp, ST_PF, m, NULL, NULL) == 0);
	ST_ASSERT(st.out_count == 1 && st.out_last != NULL);
	ST_ASSERT(mbuf_pkthdr_len(st.out_last) == ETHER_HDR_LEN + 4);
	ST_ASSERT(mbuf_copydata(st.out_last, 0, ETHER_HDR_LEN, &eh) == 0);
	ST_ASSERT(memcmp(eh.ether_dhost, st_peer, ETHER_ADDR_LEN) == 0);
	ST_ASSERT(memcmp(eh.ether_shost, st_mac, ETHER_ADDR_LEN) == 0);
	ST_ASSERT(eh.ether_type == __builtin_bswap16(ST_ETYPE));
	ST_ASSERT(mbuf_copydata(st.out_last, ETHER_HDR_LEN, 4, payload) == 0);
	ST_ASSERT(strcmp(payload, "out!") == 0);

	/* Down: refused and counted; unknown protocol: the same. */
	ifnet_set_flags(ifp, 0, IFF_UP);
	ST_ASSERT((m = st_payload("down")) != NULL);
	ST_ASSERT(ifnet_output(ifp, ST_PF, m, NULL, NULL) == ENETDOWN);
	ifnet_set_flags(ifp, IFF_UP, IFF_UP);
	ST_ASSERT((m = st_payload("nope")) != NULL);
	ST_ASSERT(ifnet_output(ifp, ST_PF + 1, m, NULL, NULL) == ENOENT);
	ST_ASSERT(st.out_count == 1);
	ST_ASSERT(st_if_destroy(ifp));
	ST_ASSERT(st.proto_detached == 1);	/* detach took it off */
	return 0;
}
DLIL_SELFTEST(dlil_output_framer);

/* The input queue is bounded: one list longer than the queue loses the
 * excess, counted as input_queue_full; the rest is delivered. */
static int
dlil_input_queue_bound(void)
{
	u_int32_t before = st_counter("dlil", "input_queue_full"), dropped;
	mbuf_t list = NULL, m;
	ifnet_t ifp;
	int i, n = 0;

	ST_ASSERT(st_if_create(&ifp) == 0);
	ST_ASSERT(st_proto_attach(ifp) == 0);
	for (i = 0; i < 600; i++) {
		if ((m = st_frame(st_mac, ST_ETYPE, "x")) == NULL)
			break;
		mbuf_setnextpkt(m, list);
		list = m;
		n++;
	}
	ST_ASSERT(n > 0);
	ST_ASSERT(ifnet_input(ifp, list, NULL) == 0);
	/* ifnet_input drops the excess at once, before returning. */
	dropped = st_counter("dlil", "input_queue_full") - before;
	if (n > 512)
		ST_ASSERT(dropped >= (u_int32_t)(n - 512));
	ST_ASSERT(st_wait(&st.in_count, n - (int)dropped));
	ST_ASSERT(st_if_destroy(ifp));
	return 0;
}
DLIL_SELFTEST(dlil_input_queue_bound);

/* ---- Interface filters ---- */

static errno_t
st_filt_input(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    char **frame)
{
	st.filt_in++;
	return 0;
}

static errno_t
st_filt_output(void *cookie, ifnet_t ifp, protocol_family_t pf, mbuf_t *m)
{
	st.filt_out++;
	/* Swallow frames whose payload starts with "drop". */
	if (mbuf_pkthdr_len(*m) >= ETHER_HDR_LEN + 4) {
		char w[4];

		mbuf_copydata(*m, ETHER_HDR_LEN, 4, w);
		if (memcmp(w, "drop", 4) == 0) {
			mbuf_freem(*m);
			return EJUSTRETURN;
		}
	}
	return 0;
}

static void
st_filt_detached(void *cookie, ifnet_t ifp)
{
	st.filt_detached++;
}

/* A filter sees input and output and may keep a packet (EJUSTRETURN);
 * iflt_detach ends with iff_detached. */
static int
dlil_filters(void)
{
	struct iff_filter filt = { 0 };
	interface_filter_t ref;
	ifnet_t ifp;
	mbuf_t m;

	filt.iff_name = "st_filter";
	filt.iff_input = st_filt_input;
	filt.iff_output = st_filt_output;
	filt.iff_detached = st_filt_detached;
	ST_ASSERT(st_if_create(&ifp) == 0);
	ST_ASSERT(st_proto_attach(ifp) == 0);
	ST_ASSERT(iflt_attach(ifp, &filt, &ref) == 0);

	ST_ASSERT((m = st_frame(st_mac, ST_ETYPE, "filtered")) != NULL);
	ST_ASSERT(ifnet_input(ifp, m, NULL) == 0);
	ST_ASSERT(st_wait(&st.in_count, 1));
	ST_ASSERT(st.filt_in == 1);
	ST_ASSERT((m = st_payload("pass")) != NULL);
	ST_ASSERT(ifnet_output(ifp, ST_PF, m, NULL, NULL) == 0);
	ST_ASSERT((m = st_payload("drop")) != NULL);
	ST_ASSERT(ifnet_output(ifp, ST_PF, m, NULL, NULL) == 0);
	ST_ASSERT(st.filt_out == 2 && st.out_count == 1);

	iflt_detach(ref);
	ST_ASSERT(st.filt_detached == 1);
	/* A second detach of the freed filter, or of a reference that was
	 * never a filter, is ignored (not used). */
	iflt_detach(ref);
	iflt_detach((interface_filter_t)&filt);
	ST_ASSERT(st.filt_detached == 1);
	ST_ASSERT(st_if_destroy(ifp));
	return 0;
}
DLIL_SELFTEST(dlil_filters);

/* ---- lo0 and protocol input ---- */

static void
st_inject_input(protocol_family_t pf, mbuf_t m)
{
	mbuf_freem(m);
	st.inject_count++;
}

static void
st_inject_detached(protocol_family_t pf)
{
	st.proto_detached++;
}

/* A protocol plumbed on lo0 sends to itself: out, back in through the
 * input thread, to its registered input handler. */
static int
dlil_loopback(void)
{
	mbuf_t m;

	bzero(&st, sizeof(st));
	ST_ASSERT(lo_ifp != NULL);
	ST_ASSERT(proto_register_input(ST_PF, st_inject_input,
	    st_inject_detached) == 0);
	ST_ASSERT(proto_register_input(ST_PF, st_inject_input, NULL) == EEXIST);
	ST_ASSERT(proto_register_plumber(ST_PF, IFNET_FAMILY_LOOPBACK,
	    lo_attach_proto, NULL) == 0);
	ST_ASSERT(proto_plumb(ST_PF, lo_ifp) == 0);
	ST_ASSERT(proto_plumb(ST_PF, lo_ifp) == EEXIST);

	ST_ASSERT((m = st_payload("loop")) != NULL);
	ST_ASSERT(ifnet_output(lo_ifp, ST_PF, m, NULL, NULL) == 0);
	ST_ASSERT(st_wait(&st.inject_count, 1));

	ST_ASSERT((m = st_payload("inject")) != NULL);
	ST_ASSERT(proto_inject(ST_PF, m) == 0);
	ST_ASSERT(st_wait(&st.inject_count, 2));

	proto_unplumb(ST_PF, lo_ifp);
	proto_unregister_plumber(ST_PF, IFNET_FAMILY_LOOPBACK);
	proto_unregister_input(ST_PF);
	ST_ASSERT(st.proto_detached == 1);
	ST_ASSERT((m = st_payload("gone")) != NULL);
	ST_ASSERT(proto_inject(ST_PF, m) == ENOENT);
	mbuf_freem(m);
	return 0;
}
DLIL_SELFTEST(dlil_loopback);

/* Wait until the DLIL thread has posted every queued link change. */
static bool
st_wait_link_posted(ifnet_t ifp)
{
	uint64_t end = mach_absolute_time() + ST_WAIT_MS * NSEC_PER_MSEC;
	struct timespec ts = { 0, 2 * NSEC_PER_MSEC };
	int chan;

	while (ifp->if_link_qlen != 0) {
		if (mach_absolute_time() > end)
			return false;
		msleep(&chan, NULL, 0, "st_dlil", &ts);
	}
	return true;
}

/* ifnet_link_event (safe in an interrupt) queues the changes; the DLIL
 * thread posts LINK_ON, LINK_OFF, LINK_ON in order. */
static int
dlil_link_events(void)
{
	u_int32_t since = kev_last_id();
	ifnet_t ifp;

	ST_ASSERT(st_if_create(&ifp) == 0);
	ST_ASSERT(ifnet_link_event(ifp, 1) == 0);
	ST_ASSERT(ifnet_link_event(ifp, 0) == 0);
	ST_ASSERT(ifnet_link_event(ifp, 1) == 0);
	ST_ASSERT(st_wait_link_posted(ifp));
	ST_ASSERT(ifp->if_link_state == IF_LINK_UP);
	ST_ASSERT(st_event_posted(since, KEV_DL_LINK_ON));
	ST_ASSERT(st_event_posted(since, KEV_DL_LINK_OFF));
	ST_ASSERT(st_if_destroy(ifp));
	return 0;
}
DLIL_SELFTEST(dlil_link_events);

/*
 * The rest of 10.4's interface KPI: the link MIB a driver publishes, the
 * address a route leaves by (lo0's, for a gateway of 127.0.0.1), and the
 * multicast calls, which Finch refuses as documented.
 */
static int
dlil_mib_route_multicast(void)
{
	struct sockaddr_in lo = { sizeof(lo), AF_INET, 0, { htonl(0x7f000001) },
	    { 0 } };
	struct sockaddr_in group = { sizeof(group), AF_INET, 0,
	    { htonl(0xe0000001) }, { 0 } };
	u_int32_t mib = 0x12345678, got = 0, len;
	ifmultiaddr_t *list, ifma = (ifmultiaddr_t)1;
	ifaddr_t ifa;

	ST_ASSERT(lo_ifp != NULL);
	len = sizeof(got);
	ST_ASSERT(ifnet_get_link_mib_data(lo_ifp, &got, &len) == ENOTSUP);
	ST_ASSERT(ifnet_set_link_mib_data(lo_ifp, &mib, sizeof(mib)) == 0);
	ST_ASSERT(ifnet_get_link_mib_data_length(lo_ifp) == sizeof(mib));
	len = 2;
	ST_ASSERT(ifnet_get_link_mib_data(lo_ifp, &got, &len) == EMSGSIZE);
	len = sizeof(got);
	ST_ASSERT(ifnet_get_link_mib_data(lo_ifp, &got, &len) == 0);
	ST_ASSERT(got == mib && len == sizeof(mib));
	ST_ASSERT(ifnet_set_link_mib_data(lo_ifp, NULL, 0) == 0);
	ST_ASSERT(ifnet_get_link_mib_data_length(lo_ifp) == 0);

	ST_ASSERT((ifa = ifaddr_withroute(RTF_GATEWAY, (struct sockaddr *)&group,
	    (struct sockaddr *)&lo)) != NULL);
	ST_ASSERT(ifaddr_ifnet(ifa) == lo_ifp);
	ifaddr_release(ifa);
	ST_ASSERT(ifaddr_withroute(0, NULL, (struct sockaddr *)&lo) == NULL);

	ST_ASSERT(ifnet_add_multicast(lo_ifp, (struct sockaddr *)&group,
	    &ifma) == EOPNOTSUPP);
	ST_ASSERT(ifma == NULL);
	ST_ASSERT(ifnet_get_multicast_list(lo_ifp, &list) == 0);
	ST_ASSERT(list[0] == NULL);
	ifnet_free_multicast_list(list);
	ST_ASSERT(ifnet_remove_multicast(NULL) == EINVAL);
	ST_ASSERT(ifmaddr_ifnet(NULL) == NULL);
	return 0;
}
DLIL_SELFTEST(dlil_mib_route_multicast);
