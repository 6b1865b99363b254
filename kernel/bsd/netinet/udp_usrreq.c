/*
 * UDP (RFC 768).  udp_input checks length and checksum and hands the data
 * to the in-kernel receiver bound to the port (sockets will take its
 * place), or answers ICMP port unreachable; udp_output puts the UDP and IP
 * headers in front of data.  The echo service (RFC 862) is on port 7.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/sched_prim.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/icmp_var.h>
#include <bsd/netinet/udp_var.h>

static struct udpstat {
	u_int32_t	received;
	u_int32_t	delivered;
	u_int32_t	tooshort;
	u_int32_t	badlen;
	u_int32_t	badsum;
	u_int32_t	nosum;
	u_int32_t	noport;
	u_int32_t	noportbcast;
	u_int32_t	nomem;
	u_int32_t	sent;
	u_int32_t	toobig;
	u_int32_t	onomem;
	u_int32_t	echoed;
	u_int32_t	echoloop;
} udpstat;

static const struct netstat_counter udp_counters[] = {
	{ "received", "datagrams received", &udpstat.received },
	{ "delivered", "datagrams handed to a receiver", &udpstat.delivered },
	{ "tooshort", "dropped: shorter than a UDP header", &udpstat.tooshort },
	{ "badlen", "dropped: UDP length disagrees with IP's",
	    &udpstat.badlen },
	{ "badsum", "dropped: bad checksum", &udpstat.badsum },
	{ "nosum", "datagrams without a checksum (accepted)", &udpstat.nosum },
	{ "noport", "dropped: port unreachable (nothing bound)",
	    &udpstat.noport },
	{ "noportbcast", "dropped: broadcast to a port nothing is bound to",
	    &udpstat.noportbcast },
	{ "nomem", "dropped: out of mbufs (allocation failure)",
	    &udpstat.nomem },
	{ "sent", "datagrams sent", &udpstat.sent },
	{ "toobig", "not sent: longer than an IP datagram can be",
	    &udpstat.toobig },
	{ "onomem", "not sent: out of mbufs (allocation failure)",
	    &udpstat.onomem },
	{ "echoed", "datagrams sent back by the echo service (port 7)",
	    &udpstat.echoed },
	{ "echoloop", "dropped: echo request from port 7 (would loop)",
	    &udpstat.echoloop },
};
NETSTAT_GROUP(udp, udp_counters);

/*
 * The in-kernel receivers, (u) udp_lock, a spin lock: udp_input looks a
 * port up on the input path.  ur_busy counts calls in progress, so that
 * unregistering can wait for them.
 */
struct udp_receiver {
	u_int16_t		ur_port;	/* (u) host order; 0: free */
	udp_receiver_func	ur_func;	/* (u) */
	void			*ur_cookie;	/* (u) */
	u_int32_t		ur_busy;	/* (u) */
};
static simple_lock_data_t udp_lock = SIMPLE_LOCK_INITIALIZER("udp");
static struct udp_receiver udp_receivers[UDP_RECEIVERS_MAX];

static void
udp_drop(mbuf_t m, volatile u_int32_t *reason)
{
	NETSTAT_INC(*reason);
	mbuf_freem(m);
}

/* ---- Receivers ---- */

/* (u) held. */
static struct udp_receiver *
udp_receiver_find_locked(u_int16_t port)
{
	int i;

	for (i = 0; i < UDP_RECEIVERS_MAX; i++)
		if (udp_receivers[i].ur_port == port)
			return &udp_receivers[i];
	return NULL;
}

errno_t
udp_receiver_register(u_int16_t port, udp_receiver_func fn, void *cookie)
{
	struct udp_receiver *ur;
	errno_t error = 0;

	if (port == 0 || fn == NULL)
		return EINVAL;
	simple_lock(&udp_lock);
	if (udp_receiver_find_locked(port) != NULL)
		error = EADDRINUSE;
	else if ((ur = udp_receiver_find_locked(0)) == NULL)
		error = ENOSPC;
	else {
		ur->ur_port = port;
		ur->ur_func = fn;
		ur->ur_cookie = cookie;
		ur->ur_busy = 0;
	}
	simple_unlock(&udp_lock);
	return error;
}

errno_t
udp_receiver_unregister(u_int16_t port)
{
	struct udp_receiver *ur;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	simple_lock(&udp_lock);
	ur = port != 0 ? udp_receiver_find_locked(port) : NULL;
	if (ur == NULL) {
		simple_unlock(&udp_lock);
		return ENOENT;
	}
	ur->ur_func = NULL;		/* no new calls */
	while (ur->ur_busy > 0) {	/* wait for calls in progress */
		simple_unlock(&udp_lock);
		msleep(&ur->ur_busy, NULL, 0, "udpunreg", &ts);
		simple_lock(&udp_lock);
	}
	ur->ur_port = 0;
	simple_unlock(&udp_lock);
	return 0;
}

/* Take a reference on port's receiver; false if none is bound. */
static bool
udp_receiver_get(u_int16_t port, struct udp_receiver **urp)
{
	struct udp_receiver *ur;

	simple_lock(&udp_lock);
	ur = udp_receiver_find_locked(port);
	if (ur != NULL && ur->ur_func != NULL)
		ur->ur_busy++;
	else
		ur = NULL;
	simple_unlock(&udp_lock);
	*urp = ur;
	return ur != NULL;
}

static void
udp_receiver_put(struct udp_receiver *ur)
{
	simple_lock(&udp_lock);
	ur->ur_busy--;
	simple_unlock(&udp_lock);
}

/* ---- Input ---- */

/* The checksum over the pseudo header and the len bytes of UDP at hlen. */
static u_int16_t
udp_cksum(mbuf_t m, int hlen, const struct ip *ip, size_t len)
{
	return in_cksum_mbuf(m, hlen, len, in_pseudo(ip->ip_src.s_addr,
	    ip->ip_dst.s_addr, htons((u_int16_t)(len + IPPROTO_UDP))));
}

/*
 * Check the header; trim IP's data to UDP's length.  NULL if the
 * datagram is good, else the reason to drop it.
 */
static volatile u_int32_t *
udp_check(mbuf_t m, int hlen)
{
	struct ip *ip = mbuf_data(m);
	struct udphdr *uh = (struct udphdr *)((char *)ip + hlen);
	size_t iplen = ntohs(ip->ip_len) - hlen, ulen = ntohs(uh->uh_ulen);

	if (ulen < sizeof(*uh) || ulen > iplen)
		return &udpstat.badlen;
	if (ulen < iplen) {
		mbuf_adj(m, -(int)(iplen - ulen));
		ip->ip_len = htons((u_int16_t)(hlen + ulen));
	}
	if (uh->uh_sum == 0)
		NETSTAT_INC(udpstat.nosum);	/* the sender did not compute one */
	else if (udp_cksum(m, hlen, ip, ulen) != 0)
		return &udpstat.badsum;
	return NULL;
}

/* Nobody is bound to the port: tell the sender, unless it broadcast. */
static void
udp_noport(mbuf_t m)
{
	struct ip *ip = mbuf_data(m);

	if ((mbuf_flags(m) & (MBUF_BCAST | MBUF_MCAST)) ||
	    in_is_broadcast(ip->ip_dst, mbuf_pkthdr_rcvif(m)) ||
	    IN_MULTICAST(ntohl(ip->ip_dst.s_addr))) {
		udp_drop(m, &udpstat.noportbcast);
		return;
	}
	icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_PORT);
	udp_drop(m, &udpstat.noport);
}

static void
udp_sockaddr(struct sockaddr_in *sin, struct in_addr addr, u_int16_t port)
{
	bzero(sin, sizeof(*sin));
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr = addr;
	sin->sin_port = port;
}

/* Strip the headers and hand the data to the receiver. */
static void
udp_deliver(struct udp_receiver *ur, mbuf_t m, int hlen)
{
	struct ip *ip = mbuf_data(m);
	struct udphdr *uh = (struct udphdr *)((char *)ip + hlen);
	struct sockaddr_in from, to;

	udp_sockaddr(&from, ip->ip_src, uh->uh_sport);
	udp_sockaddr(&to, ip->ip_dst, uh->uh_dport);
	mbuf_adj(m, hlen + (int)sizeof(*uh));
	NETSTAT_INC(udpstat.delivered);
	ur->ur_func(ur->ur_cookie, m, &from, &to);
}

static void udp_echo(void *cookie, mbuf_t data,
    const struct sockaddr_in *from, const struct sockaddr_in *to);

/*
 * The echo service's fast path: a datagram to port 7 at one of our own
 * addresses is turned around where it lies, as icmp_echo does, instead
 * of being stripped, handed to udp_echo and given new headers.  Swapping
 * the addresses and the ports changes no sum, so the checksum udp_check
 * verified is already the reply's: the data is not summed again.  False
 * (m untouched) for anything else -- a broadcast, IP options, a datagram
 * from an echo port -- which takes the general path through udp_echo.
 */
static bool
udp_echo_fast(struct udp_receiver *ur, mbuf_t m, int hlen)
{
	struct ip *ip = mbuf_data(m);
	struct udphdr *uh = (struct udphdr *)((char *)ip + hlen);
	struct in_addr src = ip->ip_src;
	u_int16_t sport = uh->uh_sport;

	if (ur->ur_func != udp_echo || hlen != (int)sizeof(*ip) ||
	    sport == htons(UDP_ECHO_PORT) ||
	    (mbuf_flags(m) & (MBUF_BCAST | MBUF_MCAST)) ||
	    !in_is_local(ip->ip_dst) || src.s_addr == INADDR_ANY)
		return false;
	ip->ip_src = ip->ip_dst;
	ip->ip_dst = src;
	ip->ip_ttl = IPDEFTTL;
	ip->ip_off = 0;
	ip->ip_tos = 0;
	uh->uh_sport = uh->uh_dport;
	uh->uh_dport = sport;
	if (uh->uh_sum == 0) {		/* the sender did not compute one */
		uh->uh_sum = udp_cksum(m, hlen, ip, ntohs(uh->uh_ulen));
		if (uh->uh_sum == 0)
			uh->uh_sum = 0xffff;
	}
	NETSTAT_INC(udpstat.delivered);
	NETSTAT_INC(udpstat.echoed);
	NETSTAT_INC(udpstat.sent);
	ip_output(m);
	return true;
}

void
udp_input(mbuf_t m, int hlen)
{
	volatile u_int32_t *reason;
	struct udp_receiver *ur;
	struct udphdr *uh;
	struct ip *ip;

	NETSTAT_INC(udpstat.received);
	ip = mbuf_data(m);
	if (ntohs(ip->ip_len) < hlen + sizeof(struct udphdr)) {
		udp_drop(m, &udpstat.tooshort);
		return;
	}
	if (mbuf_len(m) < hlen + sizeof(struct udphdr) &&
	    mbuf_pullup(&m, hlen + sizeof(struct udphdr)) != 0) {
		NETSTAT_INC(udpstat.nomem);	/* pullup freed it */
		return;
	}
	if ((reason = udp_check(m, hlen)) != NULL) {
		udp_drop(m, reason);
		return;
	}
	uh = (struct udphdr *)((char *)mbuf_data(m) + hlen);
	if (!udp_receiver_get(ntohs(uh->uh_dport), &ur)) {
		udp_noport(m);
		return;
	}
	if (!udp_echo_fast(ur, m, hlen))
		udp_deliver(ur, m, hlen);
	udp_receiver_put(ur);
}

/* ---- Output ---- */

/* Our address toward `to`, when the sender did not choose one. */
static errno_t
udp_source(struct in_addr to, struct in_addr *src)
{
	struct in_route ro;
	errno_t error;

	if ((error = in_route_lookup(to, &ro)) != 0)
		return error;
	*src = ro.ro_src;
	in_route_release(&ro);
	return 0;
}

errno_t
udp_output(mbuf_t data, const struct sockaddr_in *from,
    const struct sockaddr_in *to)
{
	size_t len = mbuf_pkthdr_len(data), hlen = sizeof(struct ip);
	size_t ulen = len + sizeof(struct udphdr);
	struct in_addr src = from->sin_addr;
	struct udphdr *uh;
	struct ip *ip;
	errno_t error;

	if (ulen + hlen > IP_MAXPACKET) {
		udp_drop(data, &udpstat.toobig);
		return EMSGSIZE;
	}
	if (src.s_addr == INADDR_ANY &&
	    (error = udp_source(to->sin_addr, &src)) != 0) {
		udp_drop(data, &ipstat.ips_noroute);
		return error;
	}
	if (mbuf_prepend(&data, hlen + sizeof(*uh), MBUF_DONTWAIT) != 0) {
		NETSTAT_INC(udpstat.onomem);	/* prepend freed it */
		return ENOBUFS;
	}
	ip = mbuf_data(data);
	bzero(ip, hlen + sizeof(*uh));
	ip->ip_hl = hlen >> 2;
	ip->ip_len = htons((u_int16_t)(hlen + ulen));
	ip->ip_ttl = IPDEFTTL;
	ip->ip_p = IPPROTO_UDP;
	ip->ip_src = src;
	ip->ip_dst = to->sin_addr;
	uh = (struct udphdr *)(ip + 1);
	uh->uh_sport = from->sin_port;
	uh->uh_dport = to->sin_port;
	uh->uh_ulen = htons((u_int16_t)ulen);
	uh->uh_sum = udp_cksum(data, (int)hlen, ip, ulen);
	if (uh->uh_sum == 0)
		uh->uh_sum = 0xffff;	/* 0 would mean "no checksum" */
	NETSTAT_INC(udpstat.sent);
	return ip_output(data);
}

/* ---- The echo service ---- */

/*
 * Send the data back where it came from, from the address it went to
 * (or, for a broadcast, from ours).  Never to another echo port: two
 * echo services would bounce one datagram between them forever.
 */
static void
udp_echo(void *cookie, mbuf_t data, const struct sockaddr_in *from,
    const struct sockaddr_in *to)
{
	struct sockaddr_in src = *to;

	if (from->sin_port == htons(UDP_ECHO_PORT)) {
		udp_drop(data, &udpstat.echoloop);
		return;
	}
	if (!in_is_local(src.sin_addr))
		src.sin_addr.s_addr = INADDR_ANY;
	NETSTAT_INC(udpstat.echoed);
	udp_output(data, &src, from);
}

void
udp_init(void)
{
	udp_receiver_register(UDP_ECHO_PORT, udp_echo, NULL);
}
