/*
 * Unit tests of the inet pcb rules and the address ioctls (`selftest
 * inpcb`): binding (EADDRINUSE, SO_REUSEADDR, SO_REUSEPORT, a wildcard
 * against a specific address, EADDRNOTAVAIL), lookups (the 4-tuple, a
 * specific bind beating the wildcard), ephemeral ports, and in_control's
 * argument checks and aliases on lo0.  Sockets through the KPI, lookups
 * straight on UDP's table; lo0 only.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/kpi_socket.h>
#include <netinet/in.h>
#include <kern/selftest.h>
#include <bsd/kern/socketvar.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/udp_var.h>

#define ST_PORT		47000	/* below the ephemeral range: ours */

static struct sockaddr_in
st_sin(u_int32_t addr, u_int16_t port)
{
	struct sockaddr_in sin;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	sin.sin_port = htons(port);
	return sin;
}

/* A UDP socket, with SO_REUSEADDR / SO_REUSEPORT as asked. */
static socket_t
st_udp(int reuse)
{
	int on = 1;
	socket_t so;

	if (sock_socket(PF_INET, SOCK_DGRAM, 0, NULL, NULL, &so) != 0)
		return NULL;
	if ((reuse & SO_REUSEADDR) && sock_setsockopt(so, SOL_SOCKET,
	    SO_REUSEADDR, &on, sizeof(on)) != 0)
		return NULL;
	if ((reuse & SO_REUSEPORT) && sock_setsockopt(so, SOL_SOCKET,
	    SO_REUSEPORT, &on, sizeof(on)) != 0)
		return NULL;
	return so;
}

static errno_t
st_bind(socket_t so, u_int32_t addr, u_int16_t port)
{
	struct sockaddr_in sin = st_sin(addr, port);

	return sock_bind(so, (struct sockaddr *)&sin);
}

/* The socket UDP's table gives a datagram from 10.9.9.9:1234 to
 * addr:port (NULL: none); the lookup's reference is dropped. */
static socket_t
st_lookup(u_int32_t addr, u_int16_t port)
{
	struct in_addr faddr = { htonl(0x0a090909) }, laddr = { htonl(addr) };
	struct inpcb *inp;
	socket_t so;

	inp = in_pcblookup_hash(&udbinfo, faddr, htons(1234), laddr,
	    htons(port), true);
	if (inp == NULL)
		return NULL;
	so = inp->inp_socket;
	socket_lock(so, 0);
	socket_unlock(so, 1);
	return so;
}

static void
st_close(socket_t *so, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (so[i] != NULL)
			sock_close(so[i]);
}

static int
test_bind_rules(void)
{
	u_int32_t lo = INADDR_LOOPBACK, any = INADDR_ANY;
	struct sockaddr_in sin = st_sin(lo, ST_PORT);
	socket_t s[7] = { NULL };
	int failed = 1;

	if ((s[0] = st_udp(0)) == NULL || (s[1] = st_udp(0)) == NULL ||
	    (s[2] = st_udp(0)) == NULL || (s[3] = st_udp(SO_REUSEADDR)) ==
	    NULL || (s[4] = st_udp(SO_REUSEPORT)) == NULL ||
	    (s[5] = st_udp(SO_REUSEPORT)) == NULL || (s[6] = st_udp(0)) == NULL)
		goto out;
	if (st_bind(s[0], any, ST_PORT) != 0 ||
	    st_bind(s[0], any, ST_PORT + 1) != EINVAL ||	/* bound */
	    st_bind(s[1], any, ST_PORT) != EADDRINUSE ||
	    st_bind(s[2], lo, ST_PORT) != EADDRINUSE ||	/* under a wildcard */
	    st_bind(s[3], lo, ST_PORT) != 0 ||		/* SO_REUSEADDR */
	    st_bind(s[4], any, ST_PORT + 2) != 0 ||
	    st_bind(s[5], any, ST_PORT + 2) != 0 ||	/* both SO_REUSEPORT */
	    st_bind(s[6], 0xc0000201, ST_PORT) != EADDRNOTAVAIL)
		goto out;
	/* A malformed address. */
	sin.sin_len = 8;
	if (sock_bind(s[6], (struct sockaddr *)&sin) != EINVAL)
		goto out;
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_UNIX;
	if (sock_bind(s[6], (struct sockaddr *)&sin) != EAFNOSUPPORT)
		goto out;
	failed = 0;
out:
	st_close(s, 7);
	ST_ASSERT(!failed);
	return 0;
}
SELFTEST(inpcb_bind_rules, test_bind_rules);

static int
test_lookup(void)
{
	u_int32_t lo = INADDR_LOOPBACK;
	struct sockaddr_in peer = st_sin(0x0a090909, 1234);
	socket_t wild, spec, conn;
	int ok;

	ST_ASSERT((wild = st_udp(0)) != NULL);
	ST_ASSERT((spec = st_udp(SO_REUSEADDR)) != NULL);
	ST_ASSERT((conn = st_udp(SO_REUSEADDR)) != NULL);
	ok = st_bind(wild, INADDR_ANY, ST_PORT) == 0 &&
	    st_bind(spec, lo, ST_PORT) == 0 &&
	    st_lookup(lo, ST_PORT) == spec &&		/* specific wins */
	    st_lookup(0x0a00020f, ST_PORT) == wild &&	/* else the wildcard */
	    st_lookup(lo, ST_PORT + 9) == NULL;
	/* A connected socket on the port gets exactly its 4-tuple: route
	 * 10.9.9.9 through lo0 as a host route for the test. */
	ok = ok && in_route_add(peer.sin_addr, in_len_mask(32),
	    (struct in_addr){ INADDR_ANY }, lo_ifp, 0) == 0;
	ok = ok && st_bind(conn, lo, ST_PORT) == EADDRINUSE;	/* spec has it */
	sock_close(spec);
	ok = ok && st_bind(conn, lo, ST_PORT) == 0 &&
	    sock_connect(conn, (struct sockaddr *)&peer, 0) == 0 &&
	    st_lookup(lo, ST_PORT) == conn;
	in_route_delete(peer.sin_addr, in_len_mask(32));
	sock_close(conn);
	ok = ok && st_lookup(lo, ST_PORT) == wild;
	sock_close(wild);
	ok = ok && st_lookup(lo, ST_PORT) == NULL;
	ST_ASSERT(ok);
	return 0;
}
SELFTEST(inpcb_lookup_specific_beats_wildcard, test_lookup);

static int
test_ephemeral_ports(void)
{
	struct sockaddr_in sin;
	u_int16_t ports[16];
	socket_t s[16] = { NULL };
	int i, j, ok = 1;

	for (i = 0; i < 16 && ok; i++) {
		ok = (s[i] = st_udp(0)) != NULL &&
		    st_bind(s[i], INADDR_ANY, 0) == 0 &&
		    sock_getsockname(s[i], (struct sockaddr *)&sin,
		    sizeof(sin)) == 0;
		ports[i] = ok ? ntohs(sin.sin_port) : 0;
		ok = ok && ports[i] >= IPPORT_HIFIRSTAUTO;	/* to 65535 */
		for (j = 0; ok && j < i; j++)
			ok = ports[j] != ports[i];
	}
	/* The next socket does not get the port the last one closed. */
	if (ok) {
		sock_close(s[15]);
		s[15] = NULL;
		ok = (s[15] = st_udp(0)) != NULL &&
		    st_bind(s[15], INADDR_ANY, 0) == 0 &&
		    sock_getsockname(s[15], (struct sockaddr *)&sin,
		    sizeof(sin)) == 0 && ntohs(sin.sin_port) != ports[15];
	}
	st_close(s, 16);
	ST_ASSERT(ok);
	return 0;
}
SELFTEST(inpcb_ephemeral_ports, test_ephemeral_ports);

/* ---- in_control ---- */

static struct ifreq
st_ifreq(const char *name, u_int32_t addr)
{
	struct ifreq ifr;
	struct sockaddr_in sin = st_sin(addr, 0);

	bzero(&ifr, sizeof(ifr));
	strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (addr != 0)
		memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return ifr;
}

/* Is dst/len in the routing table, out of ifp? */
static bool
st_has_route(u_int32_t dst, int len, ifnet_t ifp)
{
	static struct in_route_info ri[RT_TABLE_SIZE];	/* one test at a time */
	int i, n = in_route_list(ri, RT_TABLE_SIZE);

	for (i = 0; i < n && i < RT_TABLE_SIZE; i++)
		if (ri[i].ri_dst.s_addr == htonl(dst) &&
		    in_mask_len(ri[i].ri_mask) == len &&
		    ri[i].ri_ifindex == ifnet_index(ifp))
			return true;
	return false;
}

static int
test_ioctl_args(void)
{
	struct ifreq ifr;
	struct ifaliasreq ifra;
	struct sockaddr_in sin = st_sin(0x7f000002, 0), mask = st_sin(0xff000000, 0);
	struct in_addr alias = { htonl(0x7f000002) };
	socket_t so;
	int ok;

	ST_ASSERT(sock_socket(PF_INET, SOCK_DGRAM, 0, NULL, NULL, &so) == 0);
	ifr = st_ifreq("lo0", 0);
	ok = sock_ioctl(so, SIOCGIFADDR, NULL) == EINVAL &&
	    sock_ioctl(so, SIOCGIFADDR, &ifr) == 0 &&
	    ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr ==
	    htonl(INADDR_LOOPBACK);
	ok = ok && sock_ioctl(so, SIOCGIFNETMASK, &ifr) == 0 &&
	    ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr ==
	    htonl(IN_CLASSA_NET);
	ok = ok && sock_ioctl(so, SIOCGIFFLAGS, &ifr) == 0 &&
	    (ifr.ifr_flags & (IFF_UP | IFF_LOOPBACK)) == (IFF_UP | IFF_LOOPBACK);
	ifr = st_ifreq("zz9", 0);
	ok = ok && sock_ioctl(so, SIOCGIFADDR, &ifr) == ENXIO;
	ifr = st_ifreq("lo0", 0x7f0000fe);
	ok = ok && sock_ioctl(so, SIOCDIFADDR, &ifr) == EADDRNOTAVAIL;
	ifr.ifr_addr.sa_family = AF_LINK;
	ok = ok && sock_ioctl(so, SIOCDIFADDR, &ifr) == EINVAL;
	ok = ok && sock_ioctl(so, _IOW('i', 200, struct ifreq), &ifr) ==
	    EOPNOTSUPP;
	/* An alias: added, then deleted; 127/8's route stays. */
	bzero(&ifra, sizeof(ifra));
	strlcpy(ifra.ifra_name, "lo0", sizeof(ifra.ifra_name));
	memcpy(&ifra.ifra_addr, &sin, sizeof(sin));
	memcpy(&ifra.ifra_mask, &mask, sizeof(mask));
	ok = ok && sock_ioctl(so, SIOCAIFADDR, &ifra) == 0 &&
	    in_is_local(alias) && in_ifaddr_has(lo_ifp, alias);
	ifr = st_ifreq("lo0", 0x7f000002);
	ok = ok && sock_ioctl(so, SIOCDIFADDR, &ifr) == 0 &&
	    !in_is_local(alias) && st_has_route(0x7f000000, 8, lo_ifp);
	ifra.ifra_addr.sa_family = AF_UNIX;
	ok = ok && sock_ioctl(so, SIOCAIFADDR, &ifra) == EINVAL;
	sock_close(so);
	ST_ASSERT(ok);
	return 0;
}
SELFTEST(inpcb_ioctl_args, test_ioctl_args);
