/*
 * IPv4 input (RFC 791, RFC 1122 3.2.1), in the DLIL input thread: check
 * the header, keep what is addressed to us (Finch does not forward),
 * reassemble fragments (ip_reass.c), show the whole datagram to the IP
 * filters (kpi_ipfilter.c), give it to its transport through
 * ip_protox[], the table the inet protocols' protosw entries fill (ICMP,
 * UDP; TCP will).  Every drop is counted by reason:
 * `netstat -s`, group "ip".
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/kpi_ipfilter_var.h>
#include <bsd/netinet/icmp_var.h>

_Static_assert(sizeof(struct ip) == 20, "struct ip is 20 bytes");

struct ipstat ipstat;

static const struct netstat_counter ip_counters[] = {
	{ "total", "packets received", &ipstat.ips_total },
	{ "delivered", "datagrams handed to their transport protocol",
	    &ipstat.ips_delivered },
	{ "tooshort", "dropped: shorter than an IP header (short header)",
	    &ipstat.ips_tooshort },
	{ "badvers", "dropped: IP version is not 4", &ipstat.ips_badvers },
	{ "badhlen", "dropped: bad header length", &ipstat.ips_badhlen },
	{ "badsum", "dropped: bad header checksum", &ipstat.ips_badsum },
	{ "badlen", "dropped: bad total length (below the header length)",
	    &ipstat.ips_badlen },
	{ "truncated", "dropped: bad total length (more than was received)",
	    &ipstat.ips_truncated },
	{ "badaddr", "dropped: source or destination address not allowed",
	    &ipstat.ips_badaddr },
	{ "notforus", "dropped: not for us (Finch does not forward)",
	    &ipstat.ips_notforus },
	{ "noproto", "dropped: unknown protocol", &ipstat.ips_noproto },
	{ "nomem", "dropped: out of mbufs (allocation failure)",
	    &ipstat.ips_nomem },
	{ "fragments", "fragments received", &ipstat.ips_fragments },
	{ "reassembled", "datagrams reassembled", &ipstat.ips_reassembled },
	{ "frag_badlen", "dropped: fragment empty or not a multiple of 8 bytes",
	    &ipstat.ips_frag_badlen },
	{ "frag_dup", "dropped: duplicate fragment", &ipstat.ips_frag_dup },
	{ "frag_overlap", "dropped: overlapping fragment (whole datagram)",
	    &ipstat.ips_frag_overlap },
	{ "frag_oversize", "dropped: oversized fragment, datagram over 65535 "
	    "bytes", &ipstat.ips_frag_oversize },
	{ "frag_toomany", "dropped: too many fragments (whole datagram)",
	    &ipstat.ips_frag_toomany },
	{ "reass_full", "dropped: too many datagrams in reassembly (oldest)",
	    &ipstat.ips_reass_full },
	{ "reass_timeout", "dropped: reassembly timeout (never completed)",
	    &ipstat.ips_reass_timeout },
	{ "reass_stale", "dropped: stale reassembly, its source moved on "
	    "(RFC 4963)", &ipstat.ips_reass_stale },
	{ "localout", "datagrams sent", &ipstat.ips_localout },
	{ "noroute", "dropped on output: no route", &ipstat.ips_noroute },
	{ "cantfrag", "dropped on output: too big, don't fragment set",
	    &ipstat.ips_cantfrag },
	{ "fragmented", "datagrams fragmented on output",
	    &ipstat.ips_fragmented },
	{ "ofragments", "fragments sent", &ipstat.ips_ofragments },
	{ "odropped", "dropped on output: out of mbufs (allocation failure)",
	    &ipstat.ips_odropped },
};
NETSTAT_GROUP(ip, ip_counters);

/* The datagrams being reassembled. */
static struct ipq_table ip_reass_table;

struct protosw *ip_protox[IPPROTO_MAX];

/* Every inet protocol that takes input, by its number (FreeBSD's
 * ip_init does the same from inetsw[]). */
static void
ip_protox_init(void)
{
	struct protosw *pr;
	int p;

	for (p = 1; p < IPPROTO_MAX; p++) {
		pr = pffindproto(PF_INET, p, 0);
		if (pr != NULL && pr->pr_input != NULL)
			ip_protox[p] = pr;
	}
}

void
ip_init(void)
{
	ip_reass_init(&ip_reass_table);
	ip_protox_init();
	ipf_init();
}

static void
ip_drop(mbuf_t m, volatile u_int32_t *reason)
{
	NETSTAT_INC(*reason);
	mbuf_freem(m);
}

/*
 * Make the header, options included, contiguous in the first mbuf.
 * NULL if the packet is too short for any header or if memory ran out
 * (then it is counted and gone).  A header length beyond the packet is
 * left for ip_check to reject.
 */
static mbuf_t
ip_pullup_header(mbuf_t m)
{
	size_t hlen;

	if (mbuf_pkthdr_len(m) < sizeof(struct ip)) {
		ip_drop(m, &ipstat.ips_tooshort);
		return NULL;
	}
	if (mbuf_len(m) < sizeof(struct ip) &&
	    mbuf_pullup(&m, sizeof(struct ip)) != 0)
		goto nomem;
	hlen = ((struct ip *)mbuf_data(m))->ip_hl << 2;
	if (hlen > mbuf_len(m) && hlen <= mbuf_pkthdr_len(m) &&
	    mbuf_pullup(&m, hlen) != 0)
		goto nomem;
	return m;
nomem:
	NETSTAT_INC(ipstat.ips_nomem);		/* mbuf_pullup freed it */
	return NULL;
}

/* The header checksum: the driver's verdict if it checked, else ours. */
static bool
ip_cksum_ok(mbuf_t m, const struct ip *ip, size_t hlen)
{
	mbuf_csum_performed_flags_t done = 0;
	u_int32_t value;

	mbuf_get_csum_performed(m, &done, &value);
	if (done & MBUF_CSUM_DID_IP)
		return (done & MBUF_CSUM_IP_GOOD) != 0;
	return in_cksum_buf(ip, hlen) == 0;
}

/*
 * Addresses RFC 1122 (3.2.1.3) says never to accept: a broadcast or
 * multicast source, and 127/8 anywhere but on the loopback interface.
 */
static bool
ip_addrs_ok(mbuf_t m, const struct ip *ip)
{
	u_int32_t src = ntohl(ip->ip_src.s_addr);
	u_int32_t dst = ntohl(ip->ip_dst.s_addr);
	ifnet_t ifp = mbuf_pkthdr_rcvif(m);
	bool loop = ifp != NULL &&
	    ifnet_family(ifp) == IFNET_FAMILY_LOOPBACK;

	if (src == INADDR_BROADCAST || IN_MULTICAST(src))
		return false;
	if (!loop && (IN_LOOPBACK(src) || IN_LOOPBACK(dst)))
		return false;
	return true;
}

volatile u_int32_t *
ip_check(mbuf_t m)
{
	struct ip *ip = mbuf_data(m);
	size_t pktlen = mbuf_pkthdr_len(m), hlen, len;

	if (pktlen < sizeof(*ip) || mbuf_len(m) < sizeof(*ip))
		return &ipstat.ips_tooshort;
	if (ip->ip_v != IPVERSION)
		return &ipstat.ips_badvers;
	hlen = ip->ip_hl << 2;
	if (hlen < sizeof(*ip) || hlen > pktlen || hlen > mbuf_len(m))
		return &ipstat.ips_badhlen;
	if (!ip_cksum_ok(m, ip, hlen))
		return &ipstat.ips_badsum;
	len = ntohs(ip->ip_len);
	if (len < hlen)
		return &ipstat.ips_badlen;
	if (len > pktlen)
		return &ipstat.ips_truncated;
	if (!ip_addrs_ok(m, ip))
		return &ipstat.ips_badaddr;
	return NULL;
}

/* Is the datagram addressed to this host?  (Weak host model: any of our
 * addresses on any interface, or a broadcast on the one it came in.) */
static bool
ip_for_us(mbuf_t m, const struct ip *ip)
{
	ifnet_t ifp = mbuf_pkthdr_rcvif(m);
	u_int32_t dst = ntohl(ip->ip_dst.s_addr);

	if (in_is_local(ip->ip_dst) || in_is_broadcast(ip->ip_dst, ifp))
		return true;
	if (dst == INADDR_ALLHOSTS_GROUP)
		return true;
	return IN_LOOPBACK(dst);	/* ip_check allowed it: lo0 only */
}

/* Fragments wait in ip_reass; returns the whole datagram, or NULL. */
static mbuf_t
ip_input_fragment(mbuf_t m)
{
	mbuf_t freelist = NULL;

	m = ip_reass(&ip_reass_table, m, in_time_ms(), &freelist);
	if (freelist != NULL)
		mbuf_freem_list(freelist);
	return m;
}

/* A whole datagram for us: to the transport protocol. */
static void
ip_deliver(mbuf_t m)
{
	struct ip *ip = mbuf_data(m);
	struct protosw *pr = ip_protox[ip->ip_p];

	if (pr == NULL) {
		icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL);
		ip_drop(m, &ipstat.ips_noproto);
		return;
	}
	NETSTAT_INC(ipstat.ips_delivered);
	pr->pr_input(m, ip->ip_hl << 2);
}

void
ip_input(mbuf_t m)
{
	volatile u_int32_t *reason;
	struct ip *ip;
	size_t len;

	NETSTAT_INC(ipstat.ips_total);
	if ((m = ip_pullup_header(m)) == NULL)
		return;
	if ((reason = ip_check(m)) != NULL) {
		ip_drop(m, reason);
		return;
	}
	ip = mbuf_data(m);
	len = ntohs(ip->ip_len);
	if (mbuf_pkthdr_len(m) > len)	/* Ethernet pads short frames */
		mbuf_adj(m, -(int)(mbuf_pkthdr_len(m) - len));
	if (!ip_for_us(m, ip)) {
		ip_drop(m, &ipstat.ips_notforus);
		return;
	}
	if (ip->ip_off & htons(IP_MF | IP_OFFMASK)) {
		if ((m = ip_input_fragment(m)) == NULL)
			return;
	}
	/* IP filters: the whole datagram, before its transport sees it. */
	if (ipf_any() && ipf_input_hook(&m) != 0)
		return;
	ip_deliver(m);
}

/*
 * Once a second: datagrams that never completed are dropped; if the
 * first fragment had come, its sender hears ICMP "time exceeded during
 * reassembly" (RFC 1122 3.2.1.4).
 */
void
ip_slowtimo(u_int64_t now)
{
	mbuf_t freelist = NULL, m, next;
	struct ip *ip;

	ip_reass_expire(&ip_reass_table, now, &freelist);
	for (m = freelist; m != NULL; m = next) {
		next = mbuf_nextpkt(m);
		mbuf_setnextpkt(m, NULL);
		ip = mbuf_data(m);
		if ((ntohs(ip->ip_off) & IP_OFFMASK) == 0)
			icmp_error(m, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS);
		mbuf_freem(m);
	}
}
