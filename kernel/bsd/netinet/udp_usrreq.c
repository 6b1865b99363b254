/*
 * UDP (RFC 768) under PF_INET's SOCK_DGRAM sockets.  udp_input checks
 * length and checksum, finds the socket by its pcb (in_pcb.c) and
 * appends the datagram, its sender's address ahead of it, to the
 * socket's receive buffer -- or answers ICMP port unreachable.
 * udp_output puts the UDP and IP headers in front of what the socket
 * sends.  The pr_usrreqs at the bottom are what the socket layer calls;
 * UDP registers with the protocol switch beside them.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/kern/socketvar.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/icmp_var.h>
#include <bsd/netinet/udp_var.h>

u_int32_t udp_sendspace = 9216;
u_int32_t udp_recvspace = 40 * (1024 + sizeof(struct sockaddr_in));

struct inpcbinfo udbinfo;

static struct udpstat {
	u_int32_t	received;
	u_int32_t	delivered;
	u_int32_t	tooshort;
	u_int32_t	badlen;
	u_int32_t	badsum;
	u_int32_t	nosum;
	u_int32_t	noport;
	u_int32_t	noportbcast;
	u_int32_t	fullsock;
	u_int32_t	cantrcv;
	u_int32_t	multimax;
	u_int32_t	nomem;
	u_int32_t	sent;
	u_int32_t	toobig;
	u_int32_t	onomem;
} udpstat;

static const struct netstat_counter udp_counters[] = {
	{ "received", "datagrams received", &udpstat.received },
	{ "delivered", "datagrams put in a socket's receive buffer",
	    &udpstat.delivered },
	{ "tooshort", "dropped: shorter than a UDP header", &udpstat.tooshort },
	{ "badlen", "dropped: UDP length disagrees with IP's",
	    &udpstat.badlen },
	{ "badsum", "dropped: bad checksum", &udpstat.badsum },
	{ "nosum", "datagrams without a checksum (accepted)", &udpstat.nosum },
	{ "noport", "dropped: port unreachable (no socket bound)",
	    &udpstat.noport },
	{ "noportbcast", "dropped: broadcast to a port no socket is bound to",
	    &udpstat.noportbcast },
	{ "fullsock", "dropped: the socket's receive buffer was full",
	    &udpstat.fullsock },
	{ "cantrcv", "dropped: the socket shut its reading side",
	    &udpstat.cantrcv },
	{ "multimax", "dropped: copies of a broadcast beyond UDP_MULTI_MAX "
	    "sockets", &udpstat.multimax },
	{ "nomem", "dropped: out of mbufs (allocation failure)",
	    &udpstat.nomem },
	{ "sent", "datagrams sent", &udpstat.sent },
	{ "toobig", "not sent: longer than an IP datagram can be",
	    &udpstat.toobig },
	{ "onomem", "not sent: out of mbufs (allocation failure)",
	    &udpstat.onomem },
};
NETSTAT_GROUP(udp, udp_counters);

static void
udp_drop(mbuf_t m, volatile u_int32_t *reason)
{
	NETSTAT_INC(*reason);
	mbuf_freem(m);
}

static void
udp_init(void)
{
	in_pcbinfo_init(&udbinfo, "udp", UDP_HASHSIZE, NULL);
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

/* Is the datagram a broadcast or a multicast? */
static bool
udp_is_multi(mbuf_t m, const struct ip *ip)
{
	return (mbuf_flags(m) & (MBUF_BCAST | MBUF_MCAST)) ||
	    in_is_broadcast(ip->ip_dst, mbuf_pkthdr_rcvif(m)) ||
	    IN_MULTICAST(ntohl(ip->ip_dst.s_addr));
}

/* Nobody is bound to the port: tell the sender, unless it broadcast. */
static void
udp_noport(mbuf_t m)
{
	struct ip *ip = mbuf_data(m);

	if (udp_is_multi(m, ip)) {
		udp_drop(m, &udpstat.noportbcast);
		return;
	}
	icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_PORT);
	udp_drop(m, &udpstat.noport);
}

/*
 * Append the data (headers stripped) to the socket of inp, whose socket
 * the lookup referenced; drops that reference.  Consumes m.
 */
static void
udp_append(struct inpcb *inp, const struct sockaddr_in *from, mbuf_t m)
{
	struct socket *so = inp->inp_socket;
	errno_t error;

	socket_lock(so, 0);
	if (so->so_pcb != inp) {		/* closed since the lookup */
		udp_drop(m, &udpstat.noport);
	} else if (so->so_state & SS_CANTRCVMORE) {
		udp_drop(m, &udpstat.cantrcv);
	} else {
		/* sbappendaddr runs the socket filters' sf_data_in. */
		error = sbappendaddr(&so->so_rcv, (const struct sockaddr *)from,
		    m, NULL);
		if (error == 0) {
			NETSTAT_INC(udpstat.delivered);
			sorwakeup(so);
		} else if (error == ENOBUFS) {
			NETSTAT_INC(udpstat.fullsock);
		} else if (error == ENOMEM) {
			NETSTAT_INC(udpstat.nomem);
		}	/* else a socket filter took or refused it (counted) */
	}
	socket_unlock(so, 1);
}

/* A broadcast or multicast: a copy to every socket that matches (the
 * last one gets the original). */
static void
udp_input_multi(mbuf_t m, int hlen, const struct sockaddr_in *from,
    struct in_addr dst, u_short dport)
{
	struct inpcb *inps[UDP_MULTI_MAX];
	mbuf_t copy;
	int i, n;

	n = in_pcblookup_all(&udbinfo, from->sin_addr, from->sin_port, dst,
	    dport, inps, UDP_MULTI_MAX);
	if (n == 0) {
		udp_noport(m);
		return;
	}
	if (n > UDP_MULTI_MAX) {
		NETSTAT_ADD(udpstat.multimax, n - UDP_MULTI_MAX);
		n = UDP_MULTI_MAX;
	}
	mbuf_adj(m, hlen + (int)sizeof(struct udphdr));
	for (i = 0; i < n; i++) {
		if (i == n - 1)
			copy = m;
		else if (mbuf_copym(m, 0, MBUF_COPYALL, MBUF_DONTWAIT,
		    &copy) != 0) {
			NETSTAT_INC(udpstat.nomem);
			socket_lock(inps[i]->inp_socket, 0);
			socket_unlock(inps[i]->inp_socket, 1);
			continue;
		}
		udp_append(inps[i], from, copy);
	}
}

void
udp_input(mbuf_t m, int hlen)
{
	volatile u_int32_t *reason;
	struct sockaddr_in from;
	struct udphdr *uh;
	struct inpcb *inp;
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
	ip = mbuf_data(m);
	uh = (struct udphdr *)((char *)ip + hlen);
	bzero(&from, sizeof(from));
	from.sin_len = sizeof(from);
	from.sin_family = AF_INET;
	from.sin_addr = ip->ip_src;
	from.sin_port = uh->uh_sport;
	if (udp_is_multi(m, ip)) {
		udp_input_multi(m, hlen, &from, ip->ip_dst, uh->uh_dport);
		return;
	}
	inp = in_pcblookup_hash(&udbinfo, ip->ip_src, uh->uh_sport,
	    ip->ip_dst, uh->uh_dport, true);
	if (inp == NULL) {
		udp_noport(m);
		return;
	}
	mbuf_adj(m, hlen + (int)sizeof(struct udphdr));
	udp_append(inp, &from, m);
}

void
udp_ctlinput(int cmd, const struct sockaddr *sa, void *vip)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	struct ip *ip = vip;
	struct udphdr *uh;

	if (cmd < 0 || cmd >= PRC_NCMDS || inetctlerrmap[cmd] == 0 ||
	    ip == NULL)
		return;
	/* Only a connected socket hears of its errors (BSD). */
	uh = (struct udphdr *)((char *)ip + (ip->ip_hl << 2));
	in_pcbnotify(&udbinfo, sin->sin_addr, uh->uh_dport, ip->ip_src,
	    uh->uh_sport, inetctlerrmap[cmd]);
}

/* ---- Output ---- */

/*
 * Send m (data only) from inp to addr (NULL: the peer it is connected
 * to), binding an ephemeral port first if needed.  Consumes m.  Socket
 * locked.
 */
static errno_t
udp_output(struct inpcb *inp, mbuf_t m, struct sockaddr *addr)
{
	struct socket *so = inp->inp_socket;
	struct sockaddr_in *sin = (struct sockaddr_in *)addr;
	size_t hlen = sizeof(struct ip), len = mbuf_pkthdr_len(m);
	size_t ulen = len + sizeof(struct udphdr);
	const struct in_route *ro;
	struct in_addr faddr, laddr;
	struct udphdr *uh;
	struct ip *ip;
	u_short fport;
	errno_t error;

	if (ulen + hlen > IP_MAXPACKET) {
		udp_drop(m, &udpstat.toobig);
		return EMSGSIZE;
	}
	if (sin != NULL) {
		if (addr->sa_len != sizeof(*sin))
			error = EINVAL;
		else if (addr->sa_family != AF_INET)
			error = EAFNOSUPPORT;
		else if (inp->inp_faddr.s_addr != INADDR_ANY)
			error = EISCONN;
		else if (sin->sin_port == 0)
			error = EADDRNOTAVAIL;
		else if (inp->inp_lport == 0)
			error = in_pcbbind(inp, NULL);
		else
			error = 0;
		if (error != 0)
			goto bad;
		faddr = sin->sin_addr;
		fport = sin->sin_port;
	} else {
		if (inp->inp_faddr.s_addr == INADDR_ANY) {
			error = ENOTCONN;
			goto bad;
		}
		faddr = inp->inp_faddr;
		fport = inp->inp_fport;
	}
	/* The route (kept in the pcb for the next datagram) gives the source
	 * of an unbound socket, and says whether faddr is a broadcast, which
	 * needs SO_BROADCAST. */
	if ((error = in_pcbroute(inp, faddr, &ro)) != 0) {
		NETSTAT_INC(ipstat.ips_noroute);
		goto bad;
	}
	if ((faddr.s_addr == htonl(INADDR_BROADCAST) ||
	    (ro->ro_flags & IN_RTF_BROADCAST)) &&
	    !(so->so_options & SO_BROADCAST)) {
		error = EACCES;
		goto bad;
	}
	laddr = inp->inp_laddr.s_addr != INADDR_ANY ? inp->inp_laddr :
	    ro->ro_src;
	if (mbuf_prepend(&m, hlen + sizeof(*uh), MBUF_DONTWAIT) != 0) {
		NETSTAT_INC(udpstat.onomem);	/* prepend freed it */
		return ENOBUFS;
	}
	ip = mbuf_data(m);
	bzero(ip, hlen + sizeof(*uh));
	ip->ip_hl = hlen >> 2;
	ip->ip_len = htons((u_int16_t)(hlen + ulen));
	ip->ip_ttl = inp->inp_ip_ttl;
	ip->ip_tos = inp->inp_ip_tos;
	ip->ip_p = IPPROTO_UDP;
	ip->ip_src = laddr;
	ip->ip_dst = faddr;
	uh = (struct udphdr *)(ip + 1);
	uh->uh_sport = inp->inp_lport;
	uh->uh_dport = fport;
	uh->uh_ulen = htons((u_int16_t)ulen);
	uh->uh_sum = udp_cksum(m, (int)hlen, ip, ulen);
	if (uh->uh_sum == 0)
		uh->uh_sum = 0xffff;	/* 0 would mean "no checksum" */
	NETSTAT_INC(udpstat.sent);
	return ip_output_route(m, ro);
bad:
	mbuf_freem(m);
	return error;
}

/* ---- The socket layer's requests ---- */

static errno_t
udp_attach(struct socket *so, int proto)
{
	errno_t error;

	if (so->so_pcb != NULL)
		return EINVAL;
	if ((error = soreserve(so, udp_sendspace, udp_recvspace)) != 0)
		return error;
	return in_pcballoc(so, &udbinfo);
}

static errno_t
udp_detach(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return EINVAL;
	in_pcbdetach(inp);
	return 0;
}

static errno_t
udp_abort(struct socket *so)
{
	soisdisconnected(so);
	return udp_detach(so);
}

static errno_t
udp_bind(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	return inp != NULL ? in_pcbbind(inp, nam) : EINVAL;
}

static errno_t
udp_connect(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	errno_t error;

	if (inp == NULL)
		return EINVAL;
	if (inp->inp_faddr.s_addr != INADDR_ANY)
		return EISCONN;
	if ((error = in_pcbconnect(inp, nam)) == 0)
		soisconnected(so);
	return error;
}

static errno_t
udp_disconnect(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return EINVAL;
	if (inp->inp_faddr.s_addr == INADDR_ANY)
		return ENOTCONN;
	in_pcbdisconnect(inp);
	/* connect chose the local address: forget it too (BSD). */
	simple_lock(&udbinfo.ipi_lock);
	inp->inp_laddr.s_addr = INADDR_ANY;
	simple_unlock(&udbinfo.ipi_lock);
	so->so_state &= ~SS_ISCONNECTED;
	return 0;
}

static errno_t
udp_send(struct socket *so, int flags, mbuf_t m, struct sockaddr *addr,
    mbuf_t control)
{
	struct inpcb *inp = sotoinpcb(so);

	if (control != NULL)
		mbuf_freem(control);	/* UDP takes no ancillary data */
	if (inp == NULL) {
		mbuf_freem(m);
		return EINVAL;
	}
	return udp_output(inp, m, addr);
}

static errno_t
udp_shutdown(struct socket *so)
{
	socantsendmore(so);
	return 0;
}

static struct pr_usrreqs udp_usrreqs = {
	.pru_abort = udp_abort,
	.pru_attach = udp_attach,
	.pru_bind = udp_bind,
	.pru_connect = udp_connect,
	.pru_control = in_control,
	.pru_detach = udp_detach,
	.pru_disconnect = udp_disconnect,
	.pru_peeraddr = in_setpeeraddr,
	.pru_send = udp_send,
	.pru_shutdown = udp_shutdown,
	.pru_sockaddr = in_setsockaddr,
};

static struct protosw udp_protosw = {
	.pr_type = SOCK_DGRAM,
	.pr_domain = &inetdomain,
	.pr_protocol = IPPROTO_UDP,
	.pr_flags = PR_ATOMIC | PR_ADDR,
	.pr_input = udp_input,
	.pr_ctlinput = udp_ctlinput,
	.pr_ctloutput = ip_ctloutput,
	.pr_init = udp_init,
	.pr_usrreqs = &udp_usrreqs,
};
PROTOSW_SET(udp_protosw);
