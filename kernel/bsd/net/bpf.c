/*
 * The packet tap (<net/bpf.h>) and the monitor's `tcpdump`.  bpf_attach
 * records an interface's link type; the DLIL taps every frame in (before
 * demux) and out (after the framer).  While tcpdump listens, each frame's
 * first bytes are copied into a ring it drains and prints; otherwise a
 * tap costs one test.  The tap never sleeps and never keeps the mbuf.
 * The driver's tap function hears when tcpdump starts and stops; the
 * interface's detach takes it off, and a kext that stops with its tap
 * function still on an interface is kept in memory (the unload check).
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/clock.h>
#include <kern/console.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/monitor.h>
#include <kern/simple_lock.h>
#include <bsd/net/if_var.h>

#define BPF_SNAPLEN	96	/* bytes kept of each frame */
#define BPF_RING	64	/* frames waiting to be printed */

/* One tapped frame, as the listener will print it. */
struct bpf_record {
	u_int64_t	br_time;		/* mach_absolute_time, ns */
	char		br_ifname[IFNAMSIZ];
	u_int32_t	br_dlt;
	u_int32_t	br_len;			/* the whole frame */
	u_int32_t	br_caplen;		/* bytes in br_data */
	bool		br_out;
	u_char		br_data[BPF_SNAPLEN];
};

/*
 * The one listener (monitor commands run one at a time) and its ring.
 * (b) bpf_lock, a spin lock: drivers may tap from interrupt handlers.
 */
static simple_lock_data_t bpf_lock = SIMPLE_LOCK_INITIALIZER("bpf");
static struct bpf_listener {
	volatile bool	bl_active;		/* (b) writes; read racily */
	ifnet_t		bl_ifp;			/* (b) NULL: every interface */
	struct bpf_record bl_ring[BPF_RING];	/* (b) */
	u_int32_t	bl_head;		/* (b) oldest record */
	u_int32_t	bl_count;		/* (b) records in the ring */
	u_int32_t	bl_in, bl_out;		/* (b) frames captured */
	u_int32_t	bl_dropped;		/* (b) lost: ring full */
} bpf_listener;

/* ---- The tap ---- */

errno_t
bpf_attach(ifnet_t ifp, u_int32_t data_link_type, u_int32_t header_length,
    bpf_send_func send, bpf_tap_func tap)
{
	if (ifp == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	ifp->if_bpf_dlt = data_link_type;
	ifp->if_bpf_hdrlen = header_length;
	ifp->if_bpf_send = send;
	ifp->if_bpf_tap = tap;
	ifp->if_bpf_attached = true;
	simple_unlock(&ifp->if_lock);
	return 0;
}

/* Copy what fits of header, then packet, into a record. */
static void
bpf_fill(struct bpf_record *br, ifnet_t ifp, mbuf_t m, void *hdr,
    size_t hdrlen, bool out)
{
	size_t pktlen = mbuf_pkthdr_len(m), n;

	br->br_time = mach_absolute_time();
	strlcpy(br->br_ifname, ifp->if_xname, sizeof(br->br_ifname));
	br->br_dlt = ifp->if_bpf_dlt;
	br->br_len = (u_int32_t)(hdrlen + pktlen);
	br->br_out = out;
	n = hdrlen < BPF_SNAPLEN ? hdrlen : BPF_SNAPLEN;
	if (hdr != NULL)
		memcpy(br->br_data, hdr, n);
	else
		n = 0;
	if (pktlen > BPF_SNAPLEN - n)
		pktlen = BPF_SNAPLEN - n;
	if (mbuf_copydata(m, 0, pktlen, br->br_data + n) != 0)
		pktlen = 0;
	br->br_caplen = (u_int32_t)(n + pktlen);
}

static void
bpf_tap(ifnet_t ifp, mbuf_t m, void *hdr, size_t hdrlen, bool out)
{
	struct bpf_listener *bl = &bpf_listener;
	struct bpf_record br;

	if (!bl->bl_active || m == NULL ||
	    (bl->bl_ifp != NULL && bl->bl_ifp != ifp))
		return;
	bpf_fill(&br, ifp, m, hdr, hdrlen, out);
	simple_lock(&bpf_lock);
	if (!bl->bl_active)
		;	/* the listener went away meanwhile */
	else if (bl->bl_count == BPF_RING)
		bl->bl_dropped++;
	else {
		bl->bl_ring[(bl->bl_head + bl->bl_count) % BPF_RING] = br;
		bl->bl_count++;
		if (out)
			bl->bl_out++;
		else
			bl->bl_in++;
	}
	simple_unlock(&bpf_lock);
	wakeup(bl);
}

/* The DLIL's taps: frames of the interface's own link type. */
void
dlil_bpf_tap(ifnet_t ifp, mbuf_t m, void *hdr, size_t hdrlen, bool out)
{
	if (bpf_listener.bl_active && ifp->if_bpf_attached)
		bpf_tap(ifp, m, hdr, hdrlen, out);
}

void
bpf_tap_in(ifnet_t ifp, u_int32_t dlt, mbuf_t packet, void *header,
    size_t header_len)
{
	if (ifp != NULL && ifp->if_bpf_attached && dlt == ifp->if_bpf_dlt)
		dlil_bpf_tap(ifp, packet, header, header_len, false);
}

void
bpf_tap_out(ifnet_t ifp, u_int32_t dlt, mbuf_t packet, void *header,
    size_t header_len)
{
	if (ifp != NULL && ifp->if_bpf_attached && dlt == ifp->if_bpf_dlt)
		dlil_bpf_tap(ifp, packet, header, header_len, true);
}

void
bpf_init(void)
{
	bzero(&bpf_listener, sizeof(bpf_listener));
}

/* ---- The unload check ---- */

struct bpf_range {
	uint32_t	start, end;
	char		*why;
	size_t		whylen;
};

/*
 * Does ifp's tap call into [start, end)?  Only an attached interface's
 * driver hears from the tap, and the detach clears it.
 */
static bool
bpf_calls_into(ifnet_t ifp, void *arg)
{
	struct bpf_range *r = arg;
	struct kmod_ptr ptrs[2], hit;
	bool found, live;

	simple_lock(&ifp->if_lock);
	live = ifp->if_state == IF_STATE_ATTACHED ||
	    ifp->if_state == IF_STATE_DETACHING;
	ptrs[0] = (struct kmod_ptr)KMOD_PTR("tap", ifp->if_bpf_tap);
	ptrs[1] = (struct kmod_ptr)KMOD_PTR("send", ifp->if_bpf_send);
	simple_unlock(&ifp->if_lock);
	found = live &&
	    kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), r->start, r->end, &hit);
	if (found)
		snprintf(r->why, r->whylen, "the packet tap of %s still has "
		    "the %s function 0x%08x given to bpf_attach: stop must take "
		    "it back (bpf_attach again with NULL functions, or "
		    "ifnet_detach its own interface)", ifp->if_xname,
		    hit.kp_name, hit.kp_addr);
	return found;
}

/* Unload check: a tap or send function of bpf_attach in the image. */
static enum kmod_hold
bpf_points_into(uint32_t start, uint32_t end, uint64_t stopped, char *why,
    size_t whylen)
{
	struct bpf_range r = { start, end, why, whylen };

	return dlil_ifnet_find_any(bpf_calls_into, &r) != NULL ?
	    KMOD_HOLD_PINNED : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(packet_tap, bpf_points_into);

/* ---- Listening ---- */

/*
 * Tell the driver (if it cares) which directions are tapped.  Only while
 * the interface is attached, and holding a use of it: a detach waits for
 * the call to return, and the driver hears nothing after `detached`.
 */
static void
bpf_tell_driver(ifnet_t ifp, bpf_tap_mode mode)
{
	struct kext_call kc;
	bpf_tap_func tap;
	u_int32_t dlt;

	if (ifp == NULL || !dlil_ifnet_use(ifp))
		return;
	simple_lock(&ifp->if_lock);
	tap = ifp->if_bpf_tap;
	dlt = ifp->if_bpf_dlt;
	simple_unlock(&ifp->if_lock);
	if (tap != NULL) {
		kext_call_begin(&kc);
		tap(ifp, dlt, mode);
		kext_call_end(&kc, tap);
	}
	dlil_ifnet_unuse(ifp);
}

static errno_t
bpf_listen(ifnet_t ifp)
{
	struct bpf_listener *bl = &bpf_listener;
	errno_t error = 0;

	simple_lock(&bpf_lock);
	if (bl->bl_active)
		error = EBUSY;
	else {
		bl->bl_ifp = ifp;
		bl->bl_head = bl->bl_count = 0;
		bl->bl_in = bl->bl_out = bl->bl_dropped = 0;
		bl->bl_active = true;
	}
	simple_unlock(&bpf_lock);
	if (error == 0)
		bpf_tell_driver(ifp, BPF_MODE_INPUT_OUTPUT);
	return error;
}

static void
bpf_unlisten(void)
{
	ifnet_t ifp;

	simple_lock(&bpf_lock);
	bpf_listener.bl_active = false;
	ifp = bpf_listener.bl_ifp;
	simple_unlock(&bpf_lock);
	bpf_tell_driver(ifp, BPF_MODE_DISABLED);
}

/* Take the oldest record; false if the ring is empty. */
static bool
bpf_next(struct bpf_record *br)
{
	struct bpf_listener *bl = &bpf_listener;
	bool got;

	simple_lock(&bpf_lock);
	got = bl->bl_count > 0;
	if (got) {
		*br = bl->bl_ring[bl->bl_head];
		bl->bl_head = (bl->bl_head + 1) % BPF_RING;
		bl->bl_count--;
	}
	simple_unlock(&bpf_lock);
	return got;
}

/* ---- Printing a frame ---- */

#define BPF_NTOHS(p)	((u_int16_t)((p)[0] << 8 | (p)[1]))

static void
bpf_print_mac(const u_char *a)
{
	printf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3],
	    a[4], a[5]);
}

static void
bpf_print_ip(const u_char *a)
{
	printf("%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* ARP for IPv4 over Ethernet: who-has / is-at. */
static void
bpf_print_arp(const u_char *p, u_int32_t len)
{
	u_int16_t op;

	if (len < 28 || p[4] != 6 || p[5] != 4) {
		printf("ARP, truncated or not IPv4 over Ethernet");
		return;
	}
	op = BPF_NTOHS(p + 6);
	if (op == 1) {
		printf("ARP, Request who-has ");
		bpf_print_ip(p + 24);
		printf(" tell ");
		bpf_print_ip(p + 14);
	} else if (op == 2) {
		printf("ARP, Reply ");
		bpf_print_ip(p + 14);
		printf(" is-at ");
		bpf_print_mac(p + 8);
	} else
		printf("ARP, op %u", op);
}

static void
bpf_print_icmp(const u_char *p, u_int32_t len)
{
	if (len < 8) {
		printf("ICMP, truncated");
		return;
	}
	if (p[0] == 8 || p[0] == 0)
		printf("ICMP echo %s, id %u, seq %u",
		    p[0] == 8 ? "request" : "reply", BPF_NTOHS(p + 4),
		    BPF_NTOHS(p + 6));
	else
		printf("ICMP type %u, code %u", p[0], p[1]);
}

/* IPv4: addresses, then ICMP or the ports of UDP and TCP. */
static void
bpf_print_ipv4(const u_char *p, u_int32_t len)
{
	u_int32_t hl;
	u_int16_t off;

	if (len < 20 || (p[0] >> 4) != 4 || (hl = (p[0] & 0xf) * 4) < 20) {
		printf("IP, truncated or bad header");
		return;
	}
	off = BPF_NTOHS(p + 6);
	bpf_print_ip(p + 12);
	if ((p[9] == 6 || p[9] == 17) && (off & 0x1fff) == 0 && len >= hl + 4)
		printf(".%u", BPF_NTOHS(p + hl));
	printf(" > ");
	bpf_print_ip(p + 16);
	if ((p[9] == 6 || p[9] == 17) && (off & 0x1fff) == 0 && len >= hl + 4)
		printf(".%u", BPF_NTOHS(p + hl + 2));
	printf(": ");
	if (off & 0x3fff)
		printf("(frag id %u, offset %u%s) ", BPF_NTOHS(p + 4),
		    (off & 0x1fff) * 8, (off & 0x2000) ? ", more" : "");
	if (off & 0x1fff)
		printf("proto %u", p[9]);
	else if (p[9] == 1)
		bpf_print_icmp(p + hl, len > hl ? len - hl : 0);
	else if (p[9] == 17)
		printf("UDP, length %u", BPF_NTOHS(p + 2) - hl - 8);
	else if (p[9] == 6)
		printf("TCP");
	else
		printf("proto %u", p[9]);
}

/* A short decode of what we know (ARP, IPv4); nothing for the rest. */
static void
bpf_print_payload(u_int32_t type, const u_char *p, u_int32_t len)
{
	if (type == 0x0806) {
		printf(": ");
		bpf_print_arp(p, len);
	} else if (type == 0x0800) {
		printf(": ");
		bpf_print_ipv4(p, len);
	}
}

static void
bpf_print_ether(const struct bpf_record *br)
{
	const u_char *p = br->br_data;
	u_int16_t type;

	if (br->br_caplen < 14) {
		printf("truncated Ethernet frame, length %u\n", br->br_len);
		return;
	}
	type = BPF_NTOHS(p + 12);
	bpf_print_mac(p + 6);
	printf(" > ");
	bpf_print_mac(p);
	printf(", ethertype %s (0x%04x), length %u",
	    type == 0x0800 ? "IPv4" : type == 0x0806 ? "ARP" :
	    type == 0x86dd ? "IPv6" : "?", type, br->br_len);
	bpf_print_payload(type, p + 14, br->br_caplen - 14);
	printf("\n");
}

static void
bpf_print_null(const struct bpf_record *br)
{
	u_int32_t family;

	if (br->br_caplen < 4) {
		printf("truncated loopback frame, length %u\n", br->br_len);
		return;
	}
	memcpy(&family, br->br_data, 4);
	printf("AF %u, length %u", family, br->br_len);
	if (family == AF_INET)
		bpf_print_payload(0x0800, br->br_data + 4, br->br_caplen - 4);
	printf("\n");
}

/* One line: time since boot, interface, direction, link, payload. */
static void
bpf_print(const struct bpf_record *br)
{
	u_int64_t us = br->br_time / 1000;

	printf("%u.%06u %s %s ", (u_int32_t)(us / 1000000),
	    (u_int32_t)(us % 1000000), br->br_ifname, br->br_out ? "out" : "in ");
	if (br->br_dlt == DLT_EN10MB)
		bpf_print_ether(br);
	else if (br->br_dlt == DLT_NULL)
		bpf_print_null(br);
	else
		printf("DLT %u, length %u\n", br->br_dlt, br->br_len);
}

/* ---- The tcpdump command ---- */

struct tcpdump_args {
	long		count;		/* 0: until a key or the time limit */
	long		seconds;	/* 0: no time limit */
	ifnet_t		ifp;		/* referenced, or NULL: all */
};

static int
tcpdump_parse(int argc, char **argv, struct tcpdump_args *ta)
{
	int i;

	bzero(ta, sizeof(*ta));
	for (i = 1; i < argc; i++) {
		if (i + 1 == argc)
			return monitor_usage(argc, argv);
		if (strcmp(argv[i], "-c") == 0)
			ta->count = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-t") == 0)
			ta->seconds = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-i") == 0 && ta->ifp == NULL) {
			if (ifnet_find_by_name(argv[++i], &ta->ifp) != 0) {
				printf("tcpdump: no interface %s (see "
				    "`ifconfig`)\n", argv[i]);
				return 1;
			}
		} else {
			if (ta->ifp != NULL)
				ifnet_release(ta->ifp);
			return monitor_usage(argc, argv);
		}
	}
	if (ta->count < 0 || ta->seconds < 0) {
		printf("tcpdump: -c and -t take a positive number\n");
		if (ta->ifp != NULL)
			ifnet_release(ta->ifp);
		return 1;
	}
	return 0;
}

/* Print records until the count, the time limit or a key press;
 * returns how many were printed. */
static long
tcpdump_loop(const struct tcpdump_args *ta)
{
	struct timespec poll = { 0, 50 * NSEC_PER_MSEC };
	u_int64_t end = mach_absolute_time() + ta->seconds * NSEC_PER_SEC;
	struct bpf_record br;
	long printed = 0;

	while (ta->count == 0 || printed < ta->count) {
		if (bpf_next(&br)) {
			bpf_print(&br);
			printed++;
			continue;
		}
		if (console_trygetc() != -1)
			break;
		if (ta->seconds != 0 && mach_absolute_time() >= end)
			break;
		msleep(&bpf_listener, NULL, 0, "tcpdump", &poll);
	}
	return printed;
}

static int
mon_tcpdump(int argc, char **argv)
{
	struct tcpdump_args ta;
	long printed;
	int error;

	if ((error = tcpdump_parse(argc, argv, &ta)) != 0)
		return error;
	if (bpf_listen(ta.ifp) != 0) {
		printf("tcpdump: another tcpdump is running\n");
		if (ta.ifp != NULL)
			ifnet_release(ta.ifp);
		return 1;
	}
	printf("tcpdump: listening on %s (press a key to stop)\n",
	    ta.ifp != NULL ? ta.ifp->if_xname : "every interface");
	printed = tcpdump_loop(&ta);
	bpf_unlisten();
	printf("%ld packets captured\n%u packets received by the tap (%u in, "
	    "%u out)\n%u packets dropped by the tap (ring full)\n", printed,
	    bpf_listener.bl_in + bpf_listener.bl_out, bpf_listener.bl_in,
	    bpf_listener.bl_out, bpf_listener.bl_dropped);
	if (ta.ifp != NULL)
		ifnet_release(ta.ifp);
	return 0;
}
MONITOR_COMMAND(tcpdump, mon_tcpdump, "tcpdump [-c N] [-i IF] [-t SECS]",
    "print frames in and out: N of them, on IF, for at most SECS seconds");
