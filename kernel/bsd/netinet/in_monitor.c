/*
 * IPv4's monitor commands, with their Darwin ancestors' syntax and
 * output: `ifconfig IF inet ...` (through the DLIL's ifconfig), `route`,
 * `netstat -r`, `arp` and `ping`.  ifconfig sets addresses as user
 * space will, with the address ioctls of a PF_INET socket (in_control);
 * the others call the private interfaces of in_route.c, in_arp.c and
 * ip_icmp.c.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <kern/monitor.h>
#include <netinet/in.h>
#include <bsd/net/if_var.h>
#include <bsd/net/ifconfig_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_arp_var.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/icmp_var.h>

/* ---- Parsing ---- */

/* A netmask as "255.255.255.0" or "0xffffff00". */
static bool
parse_mask(const char *s, struct in_addr *mask)
{
	unsigned long v;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		v = strtoul(s + 2, &end, 16);
		if (*end != '\0' || end == s + 2)
			return false;
		mask->s_addr = htonl((u_int32_t)v);
	} else if (!inet_aton(s, mask))
		return false;
	return in_mask_len(*mask) >= 0;
}

/* "10.0.2.15" or "10.0.2.15/24"; *len is -1 without a prefix length. */
static bool
parse_prefix(const char *s, struct in_addr *addr, int *len)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	long v;

	strlcpy(buf, s, sizeof(buf));
	*len = -1;
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		v = strtol(slash + 1, &end, 10);
		if (*end != '\0' || end == slash + 1 || v < 0 || v > 32)
			return false;
		*len = (int)v;
	}
	return inet_aton(buf, addr) != 0;
}

static const char *
errno_text(errno_t e)
{
	switch (e) {
	case EINVAL:		return "invalid argument";
	case EEXIST:		return "route already in table";
	case ESRCH:		return "not in table";
	case ENOSPC:		return "table full";
	case ENETUNREACH:	return "network unreachable";
	case EHOSTUNREACH:	return "host unreachable";
	case ENOMEM:		return "out of memory";
	case ENOBUFS:		return "out of mbufs";
	case EMSGSIZE:		return "message too long";
	case ETIMEDOUT:		return "timed out";
	case EPROTONOSUPPORT:	return "no IPv4 plumber for this interface";
	case EADDRNOTAVAIL:	return "the interface has no such address";
	default:		return "error";
	}
}

/* ---- ifconfig IF inet ... ---- */

/* What `ifconfig IF inet ...` asks for. */
struct in_ifconfig_args {
	enum { IFC_SET, IFC_ALIAS, IFC_DELETE } op;
	bool		have_addr, have_mask, have_bcast;
	struct in_addr	addr, mask, bcast;
};

/*
 * inet ADDR[/LEN] [netmask MASK] [broadcast BCAST] [alias | -alias |
 * delete]; ADDR may be left out with -alias and delete (the first).
 */
static bool
in_ifconfig_parse(int argc, char **argv, struct in_ifconfig_args *a)
{
	int i = 1, len = -1;

	bzero(a, sizeof(*a));
	a->op = IFC_SET;
	if (i < argc && argv[i][0] != '-' && strcmp(argv[i], "delete") != 0) {
		if (!parse_prefix(argv[i], &a->addr, &len))
			return false;
		a->have_addr = true;
		i++;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "alias") == 0) {
			a->op = IFC_ALIAS;
		} else if (strcmp(argv[i], "-alias") == 0 ||
		    strcmp(argv[i], "delete") == 0) {
			a->op = IFC_DELETE;
		} else if (strcmp(argv[i], "netmask") == 0 && i + 1 < argc &&
		    len < 0 && parse_mask(argv[i + 1], &a->mask)) {
			a->have_mask = true;
			i++;
		} else if (strcmp(argv[i], "broadcast") == 0 && i + 1 < argc &&
		    inet_aton(argv[i + 1], &a->bcast)) {
			a->have_bcast = true;
			i++;
		} else {
			return false;
		}
	}
	if (len >= 0) {
		a->mask = in_len_mask(len);
		a->have_mask = true;
	}
	return a->have_addr || a->op == IFC_DELETE;
}

static void
in_ifconfig_sin(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	bzero(sin, sizeof(*sin));
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr = a;
}

/* One ioctl on a PF_INET socket naming ifp, as user space's ifconfig
 * makes it: req is a struct ifreq or ifaliasreq (its name is set). */
static errno_t
in_ifconfig_ioctl(ifnet_t ifp, u_long cmd, void *req)
{
	socket_t so;
	errno_t error;

	snprintf((char *)req, IFNAMSIZ, "%s%u", ifnet_name(ifp),
	    ifnet_unit(ifp));
	if ((error = sock_socket(PF_INET, SOCK_DGRAM, 0, NULL, NULL, &so)) != 0)
		return error;
	error = sock_ioctl(so, cmd, req);
	sock_close(so);
	return error;
}

/* SIOCDIFADDR of addr (have_addr false: the first). */
static errno_t
in_ifconfig_delete(ifnet_t ifp, bool have_addr, struct in_addr addr)
{
	struct ifreq ifr;

	bzero(&ifr, sizeof(ifr));
	if (have_addr)
		in_ifconfig_sin(&ifr.ifr_addr, addr);
	return in_ifconfig_ioctl(ifp, SIOCDIFADDR, &ifr);
}

/* Without `alias`: the address replaces the first (BSD's ifconfig). */
static errno_t
in_ifconfig_replace_first(ifnet_t ifp, struct in_addr addr)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;

	bzero(&ifr, sizeof(ifr));
	if (in_ifconfig_ioctl(ifp, SIOCGIFADDR, &ifr) != 0)
		return 0;			/* none yet */
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	if (sin->sin_addr.s_addr == addr.s_addr)
		return 0;			/* same: a new mask, say */
	return in_ifconfig_delete(ifp, true, sin->sin_addr);
}

/*
 * ifconfig en0 inet 10.0.2.15 netmask 255.255.255.0 (or 0xffffff00)
 * ifconfig en0 inet 10.0.2.15/24
 * ifconfig en0 inet 10.0.2.16/24 alias, ifconfig en0 inet 10.0.2.16 -alias
 * ifconfig en0 inet [ADDR] delete
 */
static int
in_ifconfig_set(ifnet_t ifp, int argc, char **argv)
{
	struct in_ifconfig_args a;
	struct ifaliasreq ifra;
	errno_t error;

	if (!in_ifconfig_parse(argc, argv, &a)) {
		printf("usage: ifconfig IF inet ADDR[/LEN] [netmask MASK] "
		    "[broadcast ADDR] [alias]\n"
		    "       ifconfig IF inet [ADDR] -alias|delete\n");
		return 1;
	}
	if (a.op == IFC_DELETE) {
		error = in_ifconfig_delete(ifp, a.have_addr, a.addr);
		if (error != 0)
			printf("ifconfig: %s%u: %s\n", ifnet_name(ifp),
			    ifnet_unit(ifp), a.have_addr ? errno_text(error) :
			    "no inet address to delete");
		return error != 0;
	}
	if (a.op == IFC_SET &&
	    (error = in_ifconfig_replace_first(ifp, a.addr)) != 0)
		goto fail;
	bzero(&ifra, sizeof(ifra));
	in_ifconfig_sin(&ifra.ifra_addr, a.addr);
	if (a.have_mask)
		in_ifconfig_sin(&ifra.ifra_mask, a.mask);
	if (a.have_bcast)
		in_ifconfig_sin(&ifra.ifra_broadaddr, a.bcast);
	if ((error = in_ifconfig_ioctl(ifp, SIOCAIFADDR, &ifra)) == 0)
		return 0;
fail:
	printf("ifconfig: " IN_ADDR_FMT, IN_ADDR_ARGS(a.addr));
	if (a.have_mask)
		printf(" netmask " IN_ADDR_FMT, IN_ADDR_ARGS(a.mask));
	printf(": %s\n", error == EINVAL ? "not a host address on that "
	    "network" : error == EEXIST ? "another interface has it" :
	    errno_text(error));
	return 1;
}

/* "\tinet 10.0.2.15 netmask 0xffffff00 broadcast 10.0.2.255", Darwin's. */
static void
in_ifconfig_print(ifnet_t ifp, struct ifaddr *ifa)
{
	struct in_ifaddr *ia = (struct in_ifaddr *)ifa;

	printf("\tinet " IN_ADDR_FMT " netmask 0x%08x", IN_ADDR_ARGS(
	    ia->ia_addr.sin_addr), ntohl(ia->ia_netmask.sin_addr.s_addr));
	if (ifnet_flags(ifp) & IFF_BROADCAST)
		printf(" broadcast " IN_ADDR_FMT,
		    IN_ADDR_ARGS(ia->ia_broadaddr.sin_addr));
	printf("\n");
}

static const struct ifconfig_family inet_ifconfig = {
	"inet", AF_INET, in_ifconfig_set, in_ifconfig_print
};
IFCONFIG_FAMILY(inet, inet_ifconfig);

/* ---- netstat -r, route ---- */

static void
format_dst(char *buf, size_t len, const struct in_route_info *ri)
{
	int bits = in_mask_len(ri->ri_mask);

	if (bits == 0)
		strlcpy(buf, "default", len);
	else if (bits == 32)
		snprintf(buf, len, IN_ADDR_FMT, IN_ADDR_ARGS(ri->ri_dst));
	else
		snprintf(buf, len, IN_ADDR_FMT "/%d", IN_ADDR_ARGS(ri->ri_dst),
		    bits);
}

static void
format_flags(char *buf, u_int32_t flags)
{
	char *p = buf;

	if (flags & IN_RTF_UP)
		*p++ = 'U';
	if (flags & IN_RTF_GATEWAY)
		*p++ = 'G';
	if (flags & IN_RTF_HOST)
		*p++ = 'H';
	if (flags & IN_RTF_STATIC)
		*p++ = 'S';
	*p = '\0';
}

/* A gateway route's interface: the interface route that covers it. */
static const char *
gateway_ifname(const struct in_route_info *ri, int n, struct in_addr gw)
{
	int i, best = -1;

	for (i = 0; i < n; i++)
		if (ri[i].ri_ifname[0] != '\0' &&
		    (gw.s_addr & ri[i].ri_mask.s_addr) == ri[i].ri_dst.s_addr &&
		    (best < 0 || in_mask_len(ri[i].ri_mask) >
		    in_mask_len(ri[best].ri_mask)))
			best = i;
	return best >= 0 ? ri[best].ri_ifname : "-";
}

static int
in_netstat_r(void)
{
	static struct in_route_info ri[RT_TABLE_SIZE];	/* one command at a time */
	char dst[24], gw[24], flags[8];
	int i, n;

	n = in_route_list(ri, RT_TABLE_SIZE);
	printf("Routing tables\n\nInternet:\n");
	printf("%-18s %-18s %-6s %8s %6s\n", "Destination", "Gateway",
	    "Flags", "Use", "Netif");
	for (i = 0; i < n; i++) {
		format_dst(dst, sizeof(dst), &ri[i]);
		if (ri[i].ri_flags & IN_RTF_GATEWAY)
			snprintf(gw, sizeof(gw), IN_ADDR_FMT,
			    IN_ADDR_ARGS(ri[i].ri_gateway));
		else
			snprintf(gw, sizeof(gw), "link#%u", ri[i].ri_ifindex);
		format_flags(flags, ri[i].ri_flags);
		printf("%-18s %-18s %-6s %8u %6s\n", dst, gw, flags,
		    ri[i].ri_use, (ri[i].ri_flags & IN_RTF_GATEWAY) ?
		    gateway_ifname(ri, n, ri[i].ri_gateway) : ri[i].ri_ifname);
	}
	return 0;
}
NETSTAT_OPTION(r, 'r', in_netstat_r, "the IPv4 routing table");

/*
 * route add|delete [-net|-host] DEST[/LEN] [-netmask MASK] [GATEWAY]
 * DEST may be "default".  Without /LEN or a mask, -net means the old
 * class's mask and anything else a host.  Interface routes come with
 * addresses (ifconfig), not from here.
 */
struct route_args {
	struct in_addr	dst, mask, gateway;
	bool		host;
	bool		have_gateway;
};

/* The words after "add" or "delete"; false if they make no sense. */
static bool
route_parse(int argc, char **argv, struct route_args *ra)
{
	bool net = false;
	int i = 2, len = -1;

	bzero(ra, sizeof(*ra));
	if (i < argc && strcmp(argv[i], "-net") == 0) {
		net = true;
		i++;
	} else if (i < argc && strcmp(argv[i], "-host") == 0)
		i++;
	if (i >= argc)
		return false;
	if (strcmp(argv[i], "default") == 0)
		len = 0;
	else if (!parse_prefix(argv[i], &ra->dst, &len))
		return false;
	i++;
	if (i + 1 < argc && (strcmp(argv[i], "-netmask") == 0 ||
	    strcmp(argv[i], "netmask") == 0)) {
		if (len >= 0 || !parse_mask(argv[i + 1], &ra->mask))
			return false;
		len = in_mask_len(ra->mask);
		i += 2;
	}
	if (i < argc) {
		if (!inet_aton(argv[i], &ra->gateway))
			return false;
		ra->have_gateway = true;
		i++;
	}
	if (len < 0)
		len = net ? in_mask_len(in_classful_mask(ra->dst)) : 32;
	ra->mask = in_len_mask(len);
	ra->host = len == 32;
	return i == argc && (ra->dst.s_addr & ~ra->mask.s_addr) == 0;
}

static void
route_print_dst(const struct route_args *ra)
{
	if (ra->mask.s_addr == 0)
		printf("net default");
	else if (ra->host)
		printf("host " IN_ADDR_FMT, IN_ADDR_ARGS(ra->dst));
	else
		printf("net " IN_ADDR_FMT "/%d", IN_ADDR_ARGS(ra->dst),
		    in_mask_len(ra->mask));
}

static int
route_add(const struct route_args *ra)
{
	errno_t error;

	if (!ra->have_gateway) {
		printf("route: add needs a gateway (interface routes come "
		    "with `ifconfig IF inet ADDR`)\n");
		return 1;
	}
	error = in_route_add(ra->dst, ra->mask, ra->gateway, NULL,
	    IN_RTF_STATIC);
	printf(error == 0 ? "add " : "route: add ");
	route_print_dst(ra);
	printf(": gateway " IN_ADDR_FMT, IN_ADDR_ARGS(ra->gateway));
	if (error != 0)
		printf(": %s%s", errno_text(error), error == ENETUNREACH ?
		    " (the gateway is on no attached network)" : "");
	printf("\n");
	return error != 0;
}

static int
route_delete(const struct route_args *ra)
{
	errno_t error = in_route_delete(ra->dst, ra->mask);

	printf(error == 0 ? "delete " : "route: delete ");
	route_print_dst(ra);
	if (error != 0)
		printf(": %s", errno_text(error));
	printf("\n");
	return error != 0;
}

/* route get DEST: what ip_output would do. */
static int
route_get(const char *dst)
{
	struct in_route ro;
	struct in_addr a;
	errno_t error;

	if (!inet_aton(dst, &a)) {
		printf("route: %s is not an IPv4 address\n", dst);
		return 1;
	}
	if ((error = in_route_lookup(a, &ro)) != 0) {
		printf("route: get " IN_ADDR_FMT ": %s\n", IN_ADDR_ARGS(a),
		    errno_text(error));
		return 1;
	}
	printf("   route to: " IN_ADDR_FMT "\n", IN_ADDR_ARGS(a));
	printf("    gateway: " IN_ADDR_FMT "\n", IN_ADDR_ARGS(ro.ro_nexthop));
	printf("  interface: %s%u\n", ifnet_name(ro.ro_ifp),
	    ifnet_unit(ro.ro_ifp));
	printf("     source: " IN_ADDR_FMT "\n", IN_ADDR_ARGS(ro.ro_src));
	in_route_release(&ro);
	return 0;
}

static int
mon_route(int argc, char **argv)
{
	struct route_args ra;

	if (argc == 1 || (argc == 2 && strcmp(argv[1], "show") == 0))
		return in_netstat_r();
	if (argc == 3 && strcmp(argv[1], "get") == 0)
		return route_get(argv[2]);
	if (argc >= 3 && (strcmp(argv[1], "add") == 0 ||
	    strcmp(argv[1], "delete") == 0) && route_parse(argc, argv, &ra))
		return argv[1][0] == 'a' ? route_add(&ra) : route_delete(&ra);
	printf("usage: route add [-net|-host] DEST[/LEN] [-netmask MASK] "
	    "GATEWAY\n       route delete [-net|-host] DEST[/LEN]\n"
	    "       route get ADDR\n       route [show]\n"
	    "DEST may be `default'.  Example: route add default 10.0.2.2\n");
	return 1;
}
MONITOR_COMMAND(route, mon_route, "route [add|delete|get|show] ...",
    "show or change the IPv4 routing table");

/* ---- arp ---- */

static void
arp_print(const struct arp_info *ai)
{
	const u_char *m = ai->ai_mac;

	printf("? (" IN_ADDR_FMT ") at ", IN_ADDR_ARGS(ai->ai_ip));
	if (ai->ai_state == ARP_RESOLVED)
		printf("%02x:%02x:%02x:%02x:%02x:%02x on %s expires in %u "
		    "seconds [ethernet]\n", m[0], m[1], m[2], m[3], m[4],
		    m[5], ai->ai_ifname, ai->ai_expire_s);
	else
		printf("(incomplete) on %s [ethernet]\n", ai->ai_ifname);
}

static int
mon_arp(int argc, char **argv)
{
	static struct arp_info ai[ARP_CACHE_SIZE];	/* one command at a time */
	struct in_addr a;
	int i, n;

	if (argc == 2 && strcmp(argv[1], "-a") == 0) {
		n = arp_list(ai, ARP_CACHE_SIZE);
		for (i = 0; i < n && i < ARP_CACHE_SIZE; i++)
			arp_print(&ai[i]);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "-d") == 0 && inet_aton(argv[2], &a)) {
		if (arp_delete(a) != 0) {
			printf("arp: " IN_ADDR_FMT ": not in the cache\n",
			    IN_ADDR_ARGS(a));
			return 1;
		}
		printf(IN_ADDR_FMT " (" IN_ADDR_FMT ") deleted\n",
		    IN_ADDR_ARGS(a), IN_ADDR_ARGS(a));
		return 0;
	}
	printf("usage: arp -a          the ARP cache\n"
	    "       arp -d ADDR     forget ADDR\n");
	return 1;
}
MONITOR_COMMAND(arp, mon_arp, "arp -a | -d ADDR",
    "show the ARP cache, or delete an entry");

/* ---- ping ---- */

struct ping_opts {
	u_int32_t	count;		/* -c */
	u_int32_t	interval_ms;	/* -i, in seconds with decimals */
	u_int32_t	datalen;	/* -s */
	struct in_addr	dst;
};

/* "1", "0.2", "1.5": seconds to milliseconds. */
static bool
parse_seconds(const char *s, u_int32_t *ms)
{
	u_int32_t whole = 0, frac = 0, scale = 100;

	if (*s == '\0')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		whole = whole * 10 + (u_int32_t)(*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (u_int32_t)(*s - '0') * scale;
	*ms = whole * 1000 + frac;
	return *s == '\0' && whole < 3600;
}

static bool
ping_parse(int argc, char **argv, struct ping_opts *po)
{
	char *end;
	int i;

	po->count = 4;
	po->interval_ms = 1000;
	po->datalen = 56;
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-c") == 0) {
			po->count = (u_int32_t)strtoul(argv[i + 1], &end, 10);
			if (*end != '\0' || po->count == 0 || po->count > 10000)
				return false;
		} else if (strcmp(argv[i], "-s") == 0) {
			po->datalen = (u_int32_t)strtoul(argv[i + 1], &end, 10);
			if (*end != '\0' || po->datalen > 65507)
				return false;
		} else if (strcmp(argv[i], "-i") == 0) {
			if (!parse_seconds(argv[i + 1], &po->interval_ms))
				return false;
		} else
			return false;
	}
	return i == argc - 1 && inet_aton(argv[i], &po->dst);
}

static u_int32_t
isqrt(u_int64_t v)
{
	u_int64_t r = 0, bit = 1ull << 62;

	while (bit > v)
		bit >>= 2;
	for (; bit != 0; bit >>= 2) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else
			r >>= 1;
	}
	return (u_int32_t)r;
}

/* Round trips in microseconds, for the summary line. */
struct ping_stats {
	u_int32_t	sent, received;
	u_int32_t	min, max;
	u_int64_t	sum, sumsq;
};

static void
ping_summary(const struct ping_opts *po, const struct ping_stats *ps)
{
	u_int32_t loss, avg, dev;

	loss = (ps->sent - ps->received) * 1000 / ps->sent;
	printf("\n--- " IN_ADDR_FMT " ping statistics ---\n",
	    IN_ADDR_ARGS(po->dst));
	printf("%u packets transmitted, %u packets received, %u.%u%% packet "
	    "loss\n", ps->sent, ps->received, loss / 10, loss % 10);
	if (ps->received == 0)
		return;
	avg = (u_int32_t)(ps->sum / ps->received);
	dev = isqrt(ps->sumsq / ps->received - (u_int64_t)avg * avg);
	printf("round-trip min/avg/max/stddev = %u.%03u/%u.%03u/%u.%03u/"
	    "%u.%03u ms\n", ps->min / 1000, ps->min % 1000, avg / 1000,
	    avg % 1000, ps->max / 1000, ps->max % 1000, dev / 1000, dev % 1000);
}

/* One request; prints the reply line or why there was none. */
static void
ping_one(const struct ping_opts *po, u_int16_t seq, struct ping_stats *ps)
{
	struct icmp_ping_reply r;
	u_int32_t wait = po->interval_ms > 1000 ? po->interval_ms : 1000;
	errno_t error;

	ps->sent++;
	error = icmp_ping(po->dst, seq, po->datalen, wait, &r);
	if (error == ETIMEDOUT) {
		printf("Request timeout for icmp_seq %u\n", seq);
		return;
	}
	if (error != 0) {
		printf("ping: sendto: %s\n", errno_text(error));
		return;
	}
	printf("%u bytes from " IN_ADDR_FMT ": icmp_seq=%u ttl=%u time=%u.%03u "
	    "ms\n", r.pr_bytes, IN_ADDR_ARGS(r.pr_from), seq, r.pr_ttl,
	    r.pr_rtt_us / 1000, r.pr_rtt_us % 1000);
	if (ps->received == 0 || r.pr_rtt_us < ps->min)
		ps->min = r.pr_rtt_us;
	if (r.pr_rtt_us > ps->max)
		ps->max = r.pr_rtt_us;
	ps->received++;
	ps->sum += r.pr_rtt_us;
	ps->sumsq += (u_int64_t)r.pr_rtt_us * r.pr_rtt_us;
}

static int
mon_ping(int argc, char **argv)
{
	struct ping_stats ps;
	struct ping_opts po;
	struct timespec ts;
	u_int64_t start, elapsed;
	u_int32_t seq;
	int chan;

	if (!ping_parse(argc, argv, &po))
		return monitor_usage(argc, argv);
	bzero(&ps, sizeof(ps));
	printf("PING " IN_ADDR_FMT " (" IN_ADDR_FMT "): %u data bytes\n",
	    IN_ADDR_ARGS(po.dst), IN_ADDR_ARGS(po.dst), po.datalen);
	for (seq = 0; seq < po.count; seq++) {
		start = in_time_ms();
		ping_one(&po, (u_int16_t)seq, &ps);
		elapsed = in_time_ms() - start;
		if (seq + 1 < po.count && elapsed < po.interval_ms) {
			ts.tv_sec = 0;
			ts.tv_nsec = (long)(po.interval_ms - elapsed) * 1000000;
			while (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			msleep(&chan, NULL, 0, "ping", &ts);
		}
	}
	ping_summary(&po, &ps);
	return ps.received == 0;
}
MONITOR_COMMAND(ping, mon_ping, "ping [-c COUNT] [-i SECONDS] [-s SIZE] ADDR",
    "send ICMP echo requests and print the round trips");
