/*
 * IPv4 output: ICMP and UDP hand ip_output() a datagram with its header
 * filled in; ip_output finds the route (in_route.c), completes the
 * header, shows it to the IP filters (kpi_ipfilter.c), cuts it into
 * fragments when it is bigger than the interface's MTU (RFC 791), and
 * passes each packet to ifnet_output --
 * where IPv4's pre_output (in_ether.c) resolves the next hop with ARP.
 * ip_ctloutput sets the IP options of a UDP or TCP socket (IP_TTL,
 * IP_TOS) that its datagrams' headers carry.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <net/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <bsd/kern/socketvar.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/kpi_ipfilter_var.h>

static volatile u_int16_t ip_id_last;	/* atomic */

u_int16_t
ip_newid(void)
{
	return htons(__atomic_add_fetch(&ip_id_last, 1, __ATOMIC_RELAXED));
}

/* The header checksum, over the header as it is now. */
static void
ip_set_cksum(struct ip *ip)
{
	ip->ip_sum = 0;
	ip->ip_sum = in_cksum_buf(ip, ip->ip_hl << 2);
}

/* One packet to the interface; the next hop goes to pre_output. */
static errno_t
ip_send(const struct in_route *ro, mbuf_t m)
{
	struct sockaddr_in sin;

	ip_set_cksum(mbuf_data(m));
	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr = ro->ro_nexthop;
	return ifnet_output(ro->ro_ifp, PF_INET, m, NULL,
	    (struct sockaddr *)&sin);
}

/*
 * One fragment: a copy of the header (Finch sends no options, so every
 * fragment can carry the first one's header), then len bytes of m's data
 * from off, shared with m rather than copied.  NULL if out of mbufs.
 */
static mbuf_t
ip_make_fragment(mbuf_t m, size_t hlen, size_t off, size_t len, bool last)
{
	struct ip *ip = mbuf_data(m), *fip;
	mbuf_t f, data;

	if (mbuf_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA, &f) != 0)
		return NULL;
	if (mbuf_copym(m, off, len, MBUF_DONTWAIT, &data) != 0) {
		mbuf_freem(f);
		return NULL;
	}
	mbuf_setdata(f, (char *)mbuf_datastart(f) + IN_LINKHDR_RESERVE, hlen);
	fip = mbuf_data(f);
	memcpy(fip, ip, hlen);
	fip->ip_len = htons((u_int16_t)(hlen + len));
	fip->ip_off = htons((u_int16_t)(((off - hlen) >> 3) |
	    (last ? 0 : IP_MF)));
	mbuf_setnext(f, data);
	mbuf_pkthdr_setlen(f, hlen + len);
	return f;
}

/*
 * Cut m into fragments that fit mtu: each carries a multiple of 8 data
 * bytes but the last.  Returns them as a nextpkt list and frees m; on
 * failure frees everything and returns NULL.
 */
static mbuf_t
ip_fragment(mbuf_t m, u_int32_t mtu)
{
	struct ip *ip = mbuf_data(m);
	size_t hlen = ip->ip_hl << 2, total = ntohs(ip->ip_len);
	size_t chunk = (mtu - hlen) & ~7u, off, len;
	mbuf_t head = NULL, tail = NULL, f;

	for (off = hlen; off < total; off += len) {
		len = total - off < chunk ? total - off : chunk;
		f = ip_make_fragment(m, hlen, off, len, off + len == total);
		if (f == NULL) {
			mbuf_freem_list(head);
			head = NULL;
			break;
		}
		if (tail != NULL)
			mbuf_setnextpkt(tail, f);
		else
			head = f;
		tail = f;
	}
	mbuf_freem(m);
	return head;
}

/* Too big for the interface: fragment, unless the sender said not to. */
static errno_t
ip_output_fragments(const struct in_route *ro, mbuf_t m, u_int32_t mtu)
{
	struct ip *ip = mbuf_data(m);
	errno_t error = 0, e;
	mbuf_t list, next;

	if ((ip->ip_off & htons(IP_DF)) || mtu < (u_int32_t)(ip->ip_hl << 2) + 8) {
		NETSTAT_INC(ipstat.ips_cantfrag);
		mbuf_freem(m);
		return EMSGSIZE;
	}
	if ((list = ip_fragment(m, mtu)) == NULL) {
		NETSTAT_INC(ipstat.ips_odropped);
		return ENOBUFS;
	}
	NETSTAT_INC(ipstat.ips_fragmented);
	for (; list != NULL; list = next) {
		next = mbuf_nextpkt(list);
		mbuf_setnextpkt(list, NULL);
		NETSTAT_INC(ipstat.ips_ofragments);
		if ((e = ip_send(ro, list)) != 0 && error == 0)
			error = e;
	}
	return error;
}

/* A datagram with its header complete, filters done: out it goes. */
static errno_t
ip_output_send(mbuf_t m, const struct in_route *ro)
{
	u_int32_t mtu;

	mtu = ifnet_mtu(ro->ro_ifp);
	if (mtu == 0)
		mtu = ETHERMTU;		/* the driver never said */
	if (ntohs(((struct ip *)mbuf_data(m))->ip_len) <= mtu)
		return ip_send(ro, m);
	return ip_output_fragments(ro, m, mtu);
}

errno_t
ip_output_route(mbuf_t m, const struct in_route *ro)
{
	struct ip *ip = mbuf_data(m);
	errno_t error;

	if (ip->ip_src.s_addr == INADDR_ANY)
		ip->ip_src = ro->ro_src;
	ip->ip_v = IPVERSION;
	ip->ip_id = ip_newid();
	NETSTAT_INC(ipstat.ips_localout);
	/* IP filters: the whole datagram, before it is cut in fragments. */
	if (ipf_any() && (error = ipf_output_hook(&m, NULL)) != 0)
		return error == EJUSTRETURN ? 0 : error;
	return ip_output_send(m, ro);
}

errno_t
ip_output_inject(mbuf_t m)
{
	struct in_route ro;
	struct ip *ip;
	errno_t error;

	if (mbuf_len(m) < sizeof(*ip) && mbuf_pullup(&m, sizeof(*ip)) != 0)
		return ENOBUFS;
	ip = mbuf_data(m);
	if (ip->ip_v != IPVERSION || ip->ip_hl < 5 ||
	    (size_t)(ip->ip_hl << 2) > mbuf_len(m) ||
	    ntohs(ip->ip_len) != mbuf_pkthdr_len(m)) {
		mbuf_freem(m);
		return EINVAL;
	}
	if ((error = in_route_lookup(ip->ip_dst, &ro)) != 0) {
		NETSTAT_INC(ipstat.ips_noroute);
		mbuf_freem(m);
		return error;
	}
	if (ip->ip_src.s_addr == INADDR_ANY)
		ip->ip_src = ro.ro_src;
	NETSTAT_INC(ipstat.ips_localout);
	error = ip_output_send(m, &ro);
	in_route_release(&ro);
	return error;
}

errno_t
ip_output(mbuf_t m)
{
	struct ip *ip = mbuf_data(m);
	struct in_route ro;
	errno_t error;

	if ((error = in_route_lookup(ip->ip_dst, &ro)) != 0) {
		NETSTAT_INC(ipstat.ips_noroute);
		mbuf_freem(m);
		return error;
	}
	error = ip_output_route(m, &ro);
	in_route_release(&ro);
	return error;
}

/* ---- Socket options ---- */

errno_t
ip_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct inpcb *inp = sotoinpcb(so);
	int optval;
	errno_t error;

	if (sopt->sopt_level != IPPROTO_IP)
		return ENOPROTOOPT;
	if (inp == NULL)
		return EINVAL;
	switch (sopt->sopt_name) {
	case IP_TTL:
	case IP_TOS:
		if (sopt->sopt_dir == SOPT_GET) {
			optval = sopt->sopt_name == IP_TTL ? inp->inp_ip_ttl :
			    inp->inp_ip_tos;
			return sooptcopyout(sopt, &optval, sizeof(optval));
		}
		if ((error = sooptcopyin(sopt, &optval, sizeof(optval),
		    sizeof(optval))) != 0)
			return error;
		if (optval < 0 || optval > 255)
			return EINVAL;
		if (sopt->sopt_name == IP_TTL)
			inp->inp_ip_ttl = (u_char)optval;
		else
			inp->inp_ip_tos = (u_char)optval;
		return 0;
	default:
		return ENOPROTOOPT;	/* IP_HDRINCL: raw sockets only */
	}
}
