/*
 * ICMP (RFC 792, RFC 1122 section 3.2.2).  Input: echo requests are
 * answered, echo replies go to the waiting `ping`, error messages to the
 * pr_ctlinput of the transport whose datagram they quote (a connected
 * UDP socket hears ECONNREFUSED), the rest is counted.
 * Output: icmp_error() tells a sender what went wrong with its datagram
 * (port unreachable, ...), within the rules that keep errors from
 * multiplying and under a rate limit; icmp_ping() sends echo requests.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/sched_prim.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/icmp_var.h>

static struct icmpstat {
	u_int32_t	received;
	u_int32_t	tooshort;
	u_int32_t	badsum;
	u_int32_t	bmcastecho;
	u_int32_t	unhandled;
	u_int32_t	nomem;
	u_int32_t	echo_in;
	u_int32_t	echoreply_in;
	u_int32_t	echoreply_stray;
	u_int32_t	errors_in;
	u_int32_t	badquote;
	u_int32_t	echoreply_out;
	u_int32_t	echo_out;
	u_int32_t	errors_out;
	u_int32_t	unreach_port_out;
	u_int32_t	ratelimited;
} icmpstat;

static const struct netstat_counter icmp_counters[] = {
	{ "received", "messages received", &icmpstat.received },
	{ "tooshort", "dropped: shorter than an ICMP header",
	    &icmpstat.tooshort },
	{ "badsum", "dropped: bad checksum", &icmpstat.badsum },
	{ "bmcastecho", "dropped: echo request to a broadcast or multicast "
	    "address", &icmpstat.bmcastecho },
	{ "unhandled", "dropped: a type Finch does not act on",
	    &icmpstat.unhandled },
	{ "nomem", "dropped: out of mbufs (allocation failure)",
	    &icmpstat.nomem },
	{ "echo_in", "echo requests received", &icmpstat.echo_in },
	{ "echoreply_in", "echo replies received", &icmpstat.echoreply_in },
	{ "echoreply_stray", "dropped: echo reply nobody waits for",
	    &icmpstat.echoreply_stray },
	{ "errors_in", "error messages received (told to the transport they "
	    "quote, if it listens)", &icmpstat.errors_in },
	{ "badquote", "dropped: error message quoting less than a header and "
	    "8 bytes", &icmpstat.badquote },
	{ "echoreply_out", "echo replies sent", &icmpstat.echoreply_out },
	{ "echo_out", "echo requests sent (ping)", &icmpstat.echo_out },
	{ "errors_out", "error messages sent", &icmpstat.errors_out },
	{ "unreach_port_out", "... of which port unreachable",
	    &icmpstat.unreach_port_out },
	{ "ratelimited", "errors not sent: over the rate limit",
	    &icmpstat.ratelimited },
};
NETSTAT_GROUP(icmp, icmp_counters);

static void
icmp_drop(mbuf_t m, volatile u_int32_t *reason)
{
	NETSTAT_INC(*reason);
	mbuf_freem(m);
}

/* The ICMP message of a datagram: data right after the IP header. */
static struct icmp *
icmp_header(mbuf_t m, int hlen)
{
	return (struct icmp *)((char *)mbuf_data(m) + hlen);
}

/* ---- Echo replies, and the `ping` waiting for them ---- */

/*
 * The one ping in flight (monitor commands run one at a time).
 * (p) ping_lock, a spin lock: the input path fills in the reply.
 */
static simple_lock_data_t ping_lock = SIMPLE_LOCK_INITIALIZER("icmp_ping");
static struct {
	bool			waiting;	/* (p) */
	bool			answered;	/* (p) */
	u_int16_t		id, seq;	/* (p) network order */
	struct in_addr		dst;		/* (p) */
	u_int64_t		sent;		/* (p) mach_absolute_time */
	struct icmp_ping_reply	reply;		/* (p) */
} ping;

/* An echo reply: the answer `ping` waits for, or a stray. */
static void
icmp_echoreply(mbuf_t m, int hlen)
{
	struct ip *ip = mbuf_data(m);
	struct icmp *icp = icmp_header(m, hlen);
	u_int64_t now = mach_absolute_time();
	bool mine;

	NETSTAT_INC(icmpstat.echoreply_in);
	simple_lock(&ping_lock);
	mine = ping.waiting && !ping.answered && icp->icmp_id == ping.id &&
	    icp->icmp_seq == ping.seq && ip->ip_src.s_addr == ping.dst.s_addr;
	if (mine) {
		ping.answered = true;
		ping.reply.pr_from = ip->ip_src;
		ping.reply.pr_bytes = ntohs(ip->ip_len) - hlen;
		ping.reply.pr_ttl = ip->ip_ttl;
		ping.reply.pr_rtt_us = (u_int32_t)((now - ping.sent) / 1000);
	}
	simple_unlock(&ping_lock);
	if (mine) {
		thread_wakeup(&ping);
		mbuf_freem(m);
	} else
		icmp_drop(m, &icmpstat.echoreply_stray);
}

/* An echo request to us: turn the packet around (RFC 792). */
static void
icmp_echo(mbuf_t m, int hlen)
{
	struct ip *ip = mbuf_data(m);
	struct icmp *icp;
	struct in_addr src = ip->ip_src;
	size_t len = ntohs(ip->ip_len) - hlen;
	u_int16_t oldword, newword;

	NETSTAT_INC(icmpstat.echo_in);
	if ((mbuf_flags(m) & (MBUF_BCAST | MBUF_MCAST)) ||
	    in_is_broadcast(ip->ip_dst, mbuf_pkthdr_rcvif(m)) ||
	    IN_MULTICAST(ntohl(ip->ip_dst.s_addr)) || src.s_addr == INADDR_ANY) {
		icmp_drop(m, &icmpstat.bmcastecho);
		return;
	}
	if (hlen > (int)sizeof(struct ip)) {
		/* Our reply carries no options: slide the fixed header up. */
		memmove((char *)ip + hlen - sizeof(*ip), ip, sizeof(*ip));
		mbuf_adj(m, hlen - (int)sizeof(*ip));
		ip = mbuf_data(m);
		hlen = sizeof(*ip);
		ip->ip_hl = sizeof(*ip) >> 2;
		ip->ip_len = htons((u_int16_t)(hlen + len));
	}
	/*
	 * Only the type changes, and icmp_input checked the sum: adjust the
	 * checksum for that one word (RFC 1624) rather than summing the
	 * whole message again.
	 */
	icp = icmp_header(m, hlen);
	__builtin_memcpy(&oldword, &icp->icmp_type, 2);	/* type and code */
	icp->icmp_type = ICMP_ECHOREPLY;
	__builtin_memcpy(&newword, &icp->icmp_type, 2);
	icp->icmp_cksum = in_cksum_adjust(icp->icmp_cksum, oldword, newword);
	ip->ip_src = ip->ip_dst;
	ip->ip_dst = src;
	ip->ip_ttl = IPDEFTTL;
	ip->ip_off = 0;
	ip->ip_tos = 0;
	NETSTAT_INC(icmpstat.echoreply_out);
	ip_output(m);
}

/* ---- Errors received ---- */

/* The PRC_* command an error message means (PRC_NCMDS: none). */
static int
icmp_prc(const struct icmp *icp)
{
	switch (icp->icmp_type) {
	case ICMP_UNREACH:
		switch (icp->icmp_code) {
		case ICMP_UNREACH_NET:
		case ICMP_UNREACH_NET_UNKNOWN:
		case ICMP_UNREACH_ISOLATED:
		case ICMP_UNREACH_TOSNET:
			return PRC_UNREACH_NET;
		case ICMP_UNREACH_PROTOCOL:
			return PRC_UNREACH_PROTOCOL;
		case ICMP_UNREACH_PORT:
			return PRC_UNREACH_PORT;
		case ICMP_UNREACH_NEEDFRAG:
			return PRC_MSGSIZE;
		case ICMP_UNREACH_SRCFAIL:
			return PRC_UNREACH_SRCFAIL;
		case ICMP_UNREACH_NET_PROHIB:
		case ICMP_UNREACH_HOST_PROHIB:
		case ICMP_UNREACH_FILTER_PROHIB:
			return PRC_UNREACH_ADMIN_PROHIB;
		default:
			return PRC_UNREACH_HOST;
		}
	case ICMP_TIMXCEED:
		return icp->icmp_code == ICMP_TIMXCEED_REASS ?
		    PRC_TIMXCEED_REASS : PRC_TIMXCEED_INTRANS;
	case ICMP_PARAMPROB:
		return PRC_PARAMPROB;
	case ICMP_SOURCEQUENCH:
		return PRC_QUENCH;
	default:
		return PRC_NCMDS;	/* a redirect: Finch routes by hand */
	}
}

/*
 * An error about a datagram we sent: the quoted IP header and 8 bytes of
 * its transport header go to that transport's pr_ctlinput.
 */
static void
icmp_notify(mbuf_t m, int hlen)
{
	struct ip *ip = mbuf_data(m);
	size_t len = ntohs(ip->ip_len) - hlen;
	struct sockaddr_in dst;
	struct protosw *pr;
	struct icmp *icp;
	int prc;

	NETSTAT_INC(icmpstat.errors_in);
	if (len < ICMP_ADVLENMIN) {
		icmp_drop(m, &icmpstat.badquote);
		return;
	}
	if (mbuf_len(m) < (size_t)hlen + ICMP_ADVLENMIN &&
	    mbuf_pullup(&m, hlen + ICMP_ADVLENMIN) != 0) {
		NETSTAT_INC(icmpstat.nomem);	/* pullup freed it */
		return;
	}
	icp = icmp_header(m, hlen);
	if (icp->icmp_ip.ip_hl < (sizeof(struct ip) >> 2) ||
	    len < (size_t)ICMP_ADVLEN(icp)) {
		icmp_drop(m, &icmpstat.badquote);
		return;
	}
	if (mbuf_len(m) < (size_t)hlen + ICMP_ADVLEN(icp) &&
	    mbuf_pullup(&m, hlen + ICMP_ADVLEN(icp)) != 0) {
		NETSTAT_INC(icmpstat.nomem);
		return;
	}
	icp = icmp_header(m, hlen);
	prc = icmp_prc(icp);
	pr = ip_protox[icp->icmp_ip.ip_p];
	if (prc < PRC_NCMDS && pr != NULL && pr->pr_ctlinput != NULL) {
		bzero(&dst, sizeof(dst));
		dst.sin_len = sizeof(dst);
		dst.sin_family = AF_INET;
		dst.sin_addr = icp->icmp_ip.ip_dst;
		pr->pr_ctlinput(prc, (struct sockaddr *)&dst, &icp->icmp_ip);
	}
	mbuf_freem(m);
}

/* ---- Input ---- */

void
icmp_input(mbuf_t m, int hlen)
{
	struct ip *ip = mbuf_data(m);
	int len = ntohs(ip->ip_len) - hlen;

	NETSTAT_INC(icmpstat.received);
	if (len < ICMP_MINLEN) {
		icmp_drop(m, &icmpstat.tooshort);
		return;
	}
	if (mbuf_len(m) < (size_t)(hlen + ICMP_MINLEN) &&
	    mbuf_pullup(&m, hlen + ICMP_MINLEN) != 0) {
		NETSTAT_INC(icmpstat.nomem);	/* pullup freed it */
		return;
	}
	if (in_cksum_mbuf(m, hlen, len, 0) != 0) {
		icmp_drop(m, &icmpstat.badsum);
		return;
	}
	switch (icmp_header(m, hlen)->icmp_type) {
	case ICMP_ECHO:
		icmp_echo(m, hlen);
		break;
	case ICMP_ECHOREPLY:
		icmp_echoreply(m, hlen);
		break;
	case ICMP_UNREACH:
	case ICMP_SOURCEQUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIMXCEED:
	case ICMP_PARAMPROB:
		icmp_notify(m, hlen);
		break;
	default:
		icmp_drop(m, &icmpstat.unhandled);
		break;
	}
}

/* ---- Errors ---- */

/* At most ICMP_ERRORS_PER_SEC errors in any one second.  (r) rl_lock */
static simple_lock_data_t rl_lock = SIMPLE_LOCK_INITIALIZER("icmp_rate");
static u_int64_t rl_second;	/* (r) */
static u_int32_t rl_count;	/* (r) */

static bool
icmp_ratelimit_ok(void)
{
	u_int64_t second = in_time_ms() / 1000;
	bool ok;

	simple_lock(&rl_lock);
	if (second != rl_second) {
		rl_second = second;
		rl_count = 0;
	}
	ok = rl_count < ICMP_ERRORS_PER_SEC;
	if (ok)
		rl_count++;
	simple_unlock(&rl_lock);
	return ok;
}

/* RFC 1122 3.2.2: never an error about an ICMP error, a broadcast or
 * multicast, a fragment other than the first, or a source that is not
 * one host. */
static bool
icmp_error_allowed(mbuf_t m)
{
	struct ip *ip = mbuf_data(m);
	int hlen = ip->ip_hl << 2;
	u_int32_t src = ntohl(ip->ip_src.s_addr);
	u_char type;

	if (ip->ip_off & htons(IP_OFFMASK))
		return false;
	if ((mbuf_flags(m) & (MBUF_BCAST | MBUF_MCAST)) ||
	    in_is_broadcast(ip->ip_dst, mbuf_pkthdr_rcvif(m)) ||
	    IN_MULTICAST(ntohl(ip->ip_dst.s_addr)))
		return false;
	if (src == INADDR_ANY || src == INADDR_BROADCAST || IN_MULTICAST(src) ||
	    in_is_broadcast(ip->ip_src, NULL))
		return false;
	if (ip->ip_p == IPPROTO_ICMP) {
		if (mbuf_copydata(m, hlen, 1, &type) != 0 ||
		    !ICMP_INFOTYPE(type))
			return false;
	}
	return true;
}

/*
 * The error message: a new IP header, the ICMP header, then the
 * offending datagram's IP header and first 8 bytes of data (RFC 792).
 */
static mbuf_t
icmp_error_build(mbuf_t m, int type, int code)
{
	struct ip *oip = mbuf_data(m), *nip;
	size_t ohlen = oip->ip_hl << 2, olen = ntohs(oip->ip_len);
	size_t quote = ohlen + (olen - ohlen < 8 ? olen - ohlen : 8);
	size_t total = sizeof(struct ip) + ICMP_MINLEN + quote;
	struct icmp *icp;
	mbuf_t n;

	if (mbuf_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA, &n) != 0)
		return NULL;
	mbuf_setdata(n, (char *)mbuf_datastart(n) + IN_LINKHDR_RESERVE, total);
	mbuf_pkthdr_setlen(n, total);
	nip = mbuf_data(n);
	bzero(nip, sizeof(*nip) + ICMP_MINLEN);
	icp = (struct icmp *)(nip + 1);
	icp->icmp_type = (u_char)type;
	icp->icmp_code = (u_char)code;
	mbuf_copydata(m, 0, quote, (char *)icp + ICMP_MINLEN);
	icp->icmp_cksum = in_cksum_buf(icp, ICMP_MINLEN + quote);
	nip->ip_hl = sizeof(*nip) >> 2;
	nip->ip_len = htons((u_int16_t)total);
	nip->ip_ttl = IPDEFTTL;
	nip->ip_p = IPPROTO_ICMP;
	nip->ip_dst = oip->ip_src;
	if (in_is_local(oip->ip_dst))
		nip->ip_src = oip->ip_dst;	/* else ip_output picks one */
	return n;
}

void
icmp_error(mbuf_t m, int type, int code)
{
	mbuf_t n;

	if (!icmp_error_allowed(m))
		return;
	if (!icmp_ratelimit_ok()) {
		NETSTAT_INC(icmpstat.ratelimited);
		return;
	}
	if ((n = icmp_error_build(m, type, code)) == NULL) {
		NETSTAT_INC(icmpstat.nomem);
		return;
	}
	NETSTAT_INC(icmpstat.errors_out);
	if (type == ICMP_UNREACH && code == ICMP_UNREACH_PORT)
		NETSTAT_INC(icmpstat.unreach_port_out);
	ip_output(n);
}

/* ---- Ping ---- */

#define PING_ID		0x4649		/* "FI": Finch's echo identifier */
#define PING_DATA_MAX	(IP_MAXPACKET - sizeof(struct ip) - ICMP_MINLEN)

/* Fill the chain from byte off on with a counting pattern. */
static void
icmp_fill_pattern(mbuf_t m, size_t off)
{
	size_t i, n = 0;
	u_char *p;

	for (; m != NULL; m = mbuf_next(m)) {
		p = mbuf_data(m);
		for (i = 0; i < mbuf_len(m); i++, n++)
			if (n >= off)
				p[i] = (u_char)(n - off);
	}
}

/* An echo request to dst: the id and seq, then datalen bytes of a
 * pattern.  Large requests are fragmented by ip_output. */
static mbuf_t
icmp_echo_build(struct in_addr dst, u_int16_t seq, size_t datalen)
{
	size_t hlen = sizeof(struct ip), total = hlen + ICMP_MINLEN + datalen;
	struct ip *ip;
	struct icmp *icp;
	mbuf_t m;

	if (mbuf_allocpacket(MBUF_DONTWAIT, total + IN_LINKHDR_RESERVE, NULL,
	    &m) != 0)
		return NULL;
	mbuf_adj(m, IN_LINKHDR_RESERVE);
	if (mbuf_len(m) < hlen + ICMP_MINLEN) {
		mbuf_freem(m);
		return NULL;
	}
	icmp_fill_pattern(m, hlen + ICMP_MINLEN);
	ip = mbuf_data(m);
	bzero(ip, hlen + ICMP_MINLEN);
	icp = (struct icmp *)(ip + 1);
	icp->icmp_type = ICMP_ECHO;
	icp->icmp_id = htons(PING_ID);
	icp->icmp_seq = htons(seq);
	icp->icmp_cksum = in_cksum_mbuf(m, hlen, ICMP_MINLEN + datalen, 0);
	ip->ip_hl = hlen >> 2;
	ip->ip_len = htons((u_int16_t)total);
	ip->ip_ttl = IPDEFTTL;
	ip->ip_p = IPPROTO_ICMP;
	ip->ip_dst = dst;
	return m;
}

errno_t
icmp_ping(struct in_addr dst, u_int16_t seq, size_t datalen,
    u_int32_t timeout_ms, struct icmp_ping_reply *reply)
{
	u_int64_t deadline;
	errno_t error;
	mbuf_t m;

	if (datalen > PING_DATA_MAX)
		return EMSGSIZE;
	if ((m = icmp_echo_build(dst, seq, datalen)) == NULL)
		return ENOBUFS;
	simple_lock(&ping_lock);
	ping.waiting = true;
	ping.answered = false;
	ping.id = htons(PING_ID);
	ping.seq = htons(seq);
	ping.dst = dst;
	ping.sent = mach_absolute_time();
	simple_unlock(&ping_lock);

	NETSTAT_INC(icmpstat.echo_out);
	error = ip_output(m);
	deadline = mach_absolute_time() + (u_int64_t)timeout_ms * 1000000;
	simple_lock(&ping_lock);
	while (error == 0 && !ping.answered &&
	    mach_absolute_time() < deadline) {
		assert_wait_deadline(&ping, THREAD_UNINT, deadline);
		simple_unlock(&ping_lock);
		thread_block();
		simple_lock(&ping_lock);
	}
	if (error == 0 && !ping.answered)
		error = ETIMEDOUT;
	if (error == 0)
		*reply = ping.reply;
	ping.waiting = false;
	simple_unlock(&ping_lock);
	return error;
}

/* ICMP's entry in the protocol switch: input only (no ICMP sockets). */
static struct protosw icmp_protosw = {
	.pr_type = SOCK_RAW,
	.pr_domain = &inetdomain,
	.pr_protocol = IPPROTO_ICMP,
	.pr_flags = PR_ATOMIC | PR_ADDR | PR_LASTHDR,
	.pr_input = icmp_input,
};
PROTOSW_SET(icmp_protosw);
