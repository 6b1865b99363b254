/*
 * Unit tests of the socket layer (`selftest socket`): socket buffers
 * (records with their addresses, streams, drops, limits) taken apart
 * directly, then the sock_* KPI's errno rules, options and a datagram's
 * trip through lo0 (receive, peek, truncation, timeouts, the upcall, a
 * full buffer, shutdown, ICMP's port unreachable reaching a connected
 * socket), and kextunload's check.  Loopback only, so that they run on a
 * guest without a NIC.  Each test checks that every socket it made is
 * freed and no address mbuf is left.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/filio.h>
#include <sys/kpi_socket.h>
#include <netinet/in.h>
#include <kern/kmod_check.h>
#include <kern/selftest.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/kern/socketvar.h>
#include <bsd/net/netstat_var.h>

/* ---- Helpers ---- */

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

/* A UDP socket (with upcall, may be NULL), or NULL. */
static socket_t
st_udp(sock_upcall upcall, void *cookie)
{
	socket_t so;

	if (sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_UDP, upcall, cookie,
	    &so) != 0)
		return NULL;
	return so;
}

/* A UDP socket bound to 127.0.0.1 and an ephemeral port; its port. */
static socket_t
st_udp_local(u_int16_t *port)
{
	struct sockaddr_in sin = st_sin(INADDR_LOOPBACK, 0);
	socket_t so = st_udp(NULL, NULL);

	if (so == NULL)
		return NULL;
	if (sock_bind(so, (struct sockaddr *)&sin) != 0 ||
	    sock_getsockname(so, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		sock_close(so);
		return NULL;
	}
	*port = ntohs(sin.sin_port);
	return so;
}

static errno_t
st_sendto(socket_t so, u_int16_t port, const void *buf, size_t len)
{
	struct sockaddr_in to = st_sin(INADDR_LOOPBACK, port);
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr msg;

	bzero(&msg, sizeof(msg));
	msg.msg_name = &to;
	msg.msg_namelen = sizeof(to);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	return sock_send(so, &msg, 0, NULL);
}

/* Receive into buf (len bytes); *got and *from (may be NULL) filled. */
static errno_t
st_recv(socket_t so, void *buf, size_t len, int flags, size_t *got,
    struct sockaddr_in *from, int *msgflags)
{
	struct iovec iov = { buf, len };
	struct msghdr msg;
	errno_t error;

	bzero(&msg, sizeof(msg));
	msg.msg_name = from;
	msg.msg_namelen = from != NULL ? sizeof(*from) : 0;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	error = sock_receive(so, &msg, flags, got);
	if (msgflags != NULL)
		*msgflags = msg.msg_flags;
	return error;
}

static errno_t
st_rcvtimeo(socket_t so, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void
st_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	int chan;

	msleep(&chan, NULL, 0, "sosttest", &ts);
}

static u_int32_t
st_counter(const char *group, const char *name)
{
	u_int32_t v = 0;

	netstat_counter_get(group, name, &v);
	return v;
}

static u_int32_t
st_sonames(void)
{
	struct mbuf_stat st;

	mbuf_stats(&st);
	return st.mtypes[MBUF_TYPE_SONAME];
}

/*
 * Run a test; then every socket it made must be freed (a reference the
 * input path holds goes within moments) and no address mbuf left.
 */
static int
socket_st_run(int (*body)(void))
{
	u_int32_t made = sockstat.sos_created, freed = sockstat.sos_freed;
	u_int32_t sonames = st_sonames();
	int failed, tries;

	failed = body();
	for (tries = 0; tries < 50; tries++) {
		if (sockstat.sos_created - made == sockstat.sos_freed - freed &&
		    st_sonames() == sonames)
			return failed;
		st_sleep_ms(10);
	}
	printf("    leaked: %u sockets, %d address mbufs\n",
	    (sockstat.sos_created - made) - (sockstat.sos_freed - freed),
	    (int)(st_sonames() - sonames));
	return 1;
}

#define SOCKET_TEST(name, func)						\
	static int name##_run(void) { return socket_st_run(func); }	\
	SELFTEST(name, name##_run)

/* A datagram of len bytes (a packet-header chain of pieces of at most
 * piece bytes, and at most what an mbuf holds), byte i = i + seed. */
static struct mbuf *
st_data(size_t len, size_t piece, u_char seed)
{
	struct mbuf *top = NULL, **tail = &top, *m;
	size_t i, n;

	do {
		m = top == NULL ? m_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, 0) :
		    m_get(MBUF_WAITOK, MBUF_TYPE_DATA, 0);
		if (m == NULL)
			break;
		n = len < piece ? len : piece;
		if (n > (size_t)M_STORAGE_SIZE(m))	/* no clusters here */
			n = (size_t)M_STORAGE_SIZE(m);
		for (i = 0; i < n; i++)
			m->m_data[i] = (char)(seed + i);
		m->m_len = (int32_t)n;
		seed = (u_char)(seed + n);
		len -= n;
		*tail = m;
		tail = &m->m_next;
		top->m_pkthdr.len += (int32_t)n;
	} while (len > 0);
	return top;
}

/* ---- Socket buffers ---- */

static int
test_sockbuf_records(void)
{
	struct sockaddr_in a = st_sin(0x0a000001, 1), b = st_sin(0x0a000002, 2);
	socket_t so = st_udp(NULL, NULL);
	struct sockbuf *sb;
	struct mbuf *m;
	int ok = 1;

	ST_ASSERT(so != NULL);
	socket_lock(so, 1);
	sb = &so->so_rcv;
	ok = ok && sbappendaddr(sb, (struct sockaddr *)&a, st_data(10, 200, 0),
	    NULL) == 0;
	ok = ok && sbappendaddr(sb, (struct sockaddr *)&b, st_data(300, 100, 0),
	    NULL) == 0;
	/* Two records: each an address mbuf, then its data. */
	ok = ok && sb->sb_cc == 16 + 10 + 16 + 300 && sb->sb_ctl == 32;
	m = sb->sb_mb;
	ok = ok && m->m_type == MBUF_TYPE_SONAME && m->m_next->m_len == 10;
	ok = ok && m->m_nextpkt == sb->sb_lastrecord &&
	    sb->sb_lastrecord->m_nextpkt == NULL;
	ok = ok && ((struct sockaddr_in *)m->m_nextpkt->m_data)->sin_port ==
	    htons(2);
	ok = ok && sb->sb_mbcnt == 6 * MSIZE;	/* 2 addresses, 1 + 3 data */
	sbdroprecord(sb);
	ok = ok && sb->sb_cc == 16 + 300 && sb->sb_mb == sb->sb_lastrecord;
	/* A buffer of 100 bytes takes no datagram of 120: ENOBUFS. */
	sbreserve(sb, 100);
	ok = ok && sbappendaddr(sb, (struct sockaddr *)&a, st_data(120, 200, 0),
	    NULL) == ENOBUFS;
	ok = ok && sbspace(sb) < 0 && sb->sb_cc == 16 + 300;
	sbflush(sb);
	ok = ok && sb->sb_cc == 0 && sb->sb_mbcnt == 0 && sb->sb_mb == NULL &&
	    sb->sb_lastrecord == NULL && sb->sb_mbtail == NULL;
	socket_unlock(so, 1);
	sock_close(so);
	ST_ASSERT(ok);
	return 0;
}
SOCKET_TEST(socket_sockbuf_records, test_sockbuf_records);

static int
test_sockbuf_stream(void)
{
	socket_t so = st_udp(NULL, NULL);
	struct sockbuf *sb;
	struct mbuf *m;
	u_char want = 40;
	int ok = 1, n = 0;

	ST_ASSERT(so != NULL);
	socket_lock(so, 1);
	sb = &so->so_snd;			/* no filters on a send buffer */
	ok = ok && sbappendstream(sb, st_data(50, 50, 0)) == 0;
	/* Small pieces are copied into the room the tail has. */
	ok = ok && sbappendstream(sb, st_data(30, 10, 50)) == 0;
	for (m = sb->sb_mb; m != NULL; m = m->m_next)
		n++;
	ok = ok && n == 1 && sb->sb_cc == 80 && sb->sb_mbtail == sb->sb_mb;
	ok = ok && sbappendstream(sb, st_data(300, 300, 80)) == 0;
	ok = ok && sb->sb_cc == 380;
	/* Drop across mbufs: what stays starts with byte 40. */
	sbdrop(sb, 40);
	ok = ok && sb->sb_cc == 340 && (u_char)sb->sb_mb->m_data[0] == want;
	sbdrop(sb, 41);
	ok = ok && sb->sb_cc == 299 && (u_char)sb->sb_mb->m_data[0] == 81;
	sbdrop(sb, 299);
	ok = ok && sb->sb_cc == 0 && sb->sb_mb == NULL && sb->sb_mbcnt == 0 &&
	    sb->sb_mbtail == NULL;
	socket_unlock(so, 1);
	sock_close(so);
	ST_ASSERT(ok);
	return 0;
}
SOCKET_TEST(socket_sockbuf_stream, test_sockbuf_stream);

/* ---- The KPI's errno rules and options ---- */

static int
test_kpi_errnos(void)
{
	struct sockaddr_in sin, to = st_sin(INADDR_LOOPBACK, 9);
	char big[64];
	socket_t so, nso;
	int dom, type, proto, on = 1;
	size_t n;

	ST_ASSERT(sock_socket(PF_INET, SOCK_RAW, 0, NULL, NULL, &so) ==
	    EPROTONOSUPPORT);	/* no raw sockets yet */
	ST_ASSERT(sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_ICMP, NULL, NULL,
	    &so) == EPROTOTYPE);
	ST_ASSERT(sock_socket(99, SOCK_DGRAM, 0, NULL, NULL, &so) ==
	    EAFNOSUPPORT);
	ST_ASSERT(sock_socket(PF_INET, SOCK_DGRAM, 0, NULL, NULL, NULL) ==
	    EINVAL);
	ST_ASSERT((so = st_udp(NULL, NULL)) != NULL);
	ST_ASSERT(sock_gettype(so, &dom, &type, &proto) == 0);
	ST_ASSERT(dom == PF_INET && type == SOCK_DGRAM && proto == IPPROTO_UDP);
	ST_ASSERT(sock_listen(so, 5) == EOPNOTSUPP);
	ST_ASSERT(sock_accept(so, NULL, 0, 0, NULL, NULL, &nso) == EINVAL);
	ST_ASSERT(sock_getpeername(so, (struct sockaddr *)&sin,
	    sizeof(sin)) == ENOTCONN);
	ST_ASSERT(sock_isconnected(so) == 0 && sock_isnonblocking(so) == 0);
	ST_ASSERT(st_recv(so, big, sizeof(big), MSG_DONTWAIT, &n, NULL,
	    NULL) == EWOULDBLOCK);
	ST_ASSERT(sock_ioctl(so, FIONBIO, &on) == 0);
	ST_ASSERT(sock_isnonblocking(so) == 1);
	ST_ASSERT(st_recv(so, big, sizeof(big), 0, &n, NULL, NULL) ==
	    EWOULDBLOCK && n == 0);
	/* Sending: an unconnected socket needs an address. */
	ST_ASSERT(sock_sendmbuf(so, NULL, st_data(4, 4, 0), 0, &n) ==
	    EDESTADDRREQ);
	ST_ASSERT(sock_connect(so, (struct sockaddr *)&to, 0) == 0);
	ST_ASSERT(sock_isconnected(so) == 1);
	ST_ASSERT(sock_getpeername(so, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && sin.sin_port == htons(9));
	ST_ASSERT(st_sendto(so, 9, "x", 1) == EISCONN);
	ST_ASSERT(sock_shutdown(so, 3) == EINVAL);
	ST_ASSERT(sock_shutdown(so, SHUT_WR) == 0);
	ST_ASSERT(sock_sendmbuf(so, NULL, st_data(4, 4, 0), 0, &n) == EPIPE);
	sock_close(so);
	return 0;
}
SOCKET_TEST(socket_kpi_errnos, test_kpi_errnos);

static int
test_options(void)
{
	socket_t so = st_udp(NULL, NULL);
	struct linger l = { 1, 7 }, lo;
	struct timeval tv = { 2, 500000 }, tvo;
	int v, len;

	ST_ASSERT(so != NULL);
	v = 4096;
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_RCVBUF, &v,
	    sizeof(v)) == 0);
	len = sizeof(v);
	ST_ASSERT(sock_getsockopt(so, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0);
	ST_ASSERT(v == 4096 && len == sizeof(v));
	v = 0;
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_SNDBUF, &v,
	    sizeof(v)) == EINVAL);
	v = 1 << 30;
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_SNDBUF, &v,
	    sizeof(v)) == ENOBUFS);
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_LINGER_SEC, &l,
	    sizeof(l)) == 0);
	len = sizeof(lo);
	ST_ASSERT(sock_getsockopt(so, SOL_SOCKET, SO_LINGER, &lo, &len) == 0);
	ST_ASSERT(lo.l_onoff != 0 && lo.l_linger == 7 * hz);
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0);
	len = sizeof(tvo);
	ST_ASSERT(sock_getsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tvo,
	    &len) == 0 && tvo.tv_sec == 2 && tvo.tv_usec == 500000);
	tv.tv_usec = 1000000;
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) == EDOM);
	v = 1;
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_REUSEADDR, &v,
	    sizeof(v)) == 0);
	len = sizeof(v);
	ST_ASSERT(sock_getsockopt(so, SOL_SOCKET, SO_REUSEADDR, &v, &len) ==
	    0 && v != 0);
	ST_ASSERT(sock_getsockopt(so, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
	    v == SOCK_DGRAM);
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_NKE, &v, sizeof(v)) ==
	    EINVAL);		/* shorter than a struct so_nke */
	ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, 0x7777, &v, sizeof(v)) ==
	    ENOPROTOOPT);
	ST_ASSERT(sock_setsockopt(so, IPPROTO_TCP, 1, &v, sizeof(v)) ==
	    ENOPROTOOPT);
	v = 300;
	ST_ASSERT(sock_setsockopt(so, IPPROTO_IP, IP_TTL, &v, sizeof(v)) ==
	    EINVAL);
	v = 9;
	ST_ASSERT(sock_setsockopt(so, IPPROTO_IP, IP_TTL, &v, sizeof(v)) == 0);
	ST_ASSERT(sock_getsockopt(so, IPPROTO_IP, IP_TTL, &v, &len) == 0 &&
	    v == 9);
	sock_close(so);
	return 0;
}
SOCKET_TEST(socket_options, test_options);

/* ---- Datagrams through lo0 ---- */

static volatile int st_upcalls;

static void
st_count_upcall(socket_t so, void *cookie, int waitf)
{
	__atomic_add_fetch(&st_upcalls, 1, __ATOMIC_RELAXED);
	wakeup((void *)(uintptr_t)&st_upcalls);
}

static int
test_loopback_datagrams(void)
{
	struct sockaddr_in from, sin = st_sin(INADDR_LOOPBACK, 0);
	u_int16_t port, sport;
	char buf[16];
	socket_t rx, tx;
	size_t n;
	int flags, v, len = sizeof(v);
	mbuf_t m;

	st_upcalls = 0;
	ST_ASSERT((rx = st_udp(st_count_upcall, NULL)) != NULL);
	ST_ASSERT(sock_bind(rx, (struct sockaddr *)&sin) == 0);
	ST_ASSERT(sock_getsockname(rx, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0);
	port = ntohs(sin.sin_port);
	ST_ASSERT((tx = st_udp_local(&sport)) != NULL);
	ST_ASSERT(st_rcvtimeo(rx, 2000) == 0);
	ST_ASSERT(st_sendto(tx, port, "hello, finch", 12) == 0);
	ST_ASSERT(st_sendto(tx, port, "0123456789abcdefXYZ", 19) == 0);
	ST_ASSERT(st_sendto(tx, port, "", 0) == 0);
	/* Peek leaves it; the sender's address comes with it. */
	ST_ASSERT(st_recv(rx, buf, sizeof(buf), MSG_PEEK, &n, &from, NULL) ==
	    0 && n == 12);
	ST_ASSERT(from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
	    ntohs(from.sin_port) == sport);
	ST_ASSERT(sock_getsockopt(rx, SOL_SOCKET, SO_NREAD, &v, &len) == 0 &&
	    v == 12);
	ST_ASSERT(st_recv(rx, buf, sizeof(buf), 0, &n, NULL, NULL) == 0 &&
	    n == 12 && memcmp(buf, "hello, finch", 12) == 0);
	/* Too big for the buffer: cut, MSG_TRUNC, the rest dropped. */
	ST_ASSERT(st_recv(rx, buf, sizeof(buf), 0, &n, NULL, &flags) == 0);
	ST_ASSERT(n == sizeof(buf) && (flags & MSG_TRUNC));
	/* An empty datagram is a datagram. */
	n = 99;
	ST_ASSERT(sock_receivembuf(rx, NULL, &m, 0, &n) == 0 && n == 0);
	mbuf_freem(m);
	ST_ASSERT(sock_ioctl(rx, FIONREAD, &v) == 0 && v == 0);
	ST_ASSERT(st_upcalls >= 1);
	/* Nothing more: SO_RCVTIMEO runs out. */
	ST_ASSERT(st_rcvtimeo(rx, 100) == 0);
	ST_ASSERT(st_recv(rx, buf, sizeof(buf), 0, &n, NULL, NULL) ==
	    EWOULDBLOCK);
	/* As an mbuf chain, at most *len bytes; a peek is a copy. */
	ST_ASSERT(st_rcvtimeo(rx, 2000) == 0);
	ST_ASSERT(st_sendto(tx, port, "0123456789", 10) == 0);
	n = 4;
	ST_ASSERT(sock_receivembuf(rx, NULL, &m, MSG_PEEK, &n) == 0 && n == 4);
	ST_ASSERT(m != NULL && mbuf_len(m) == 4 &&
	    memcmp(mbuf_data(m), "0123", 4) == 0);
	mbuf_freem(m);
	ST_ASSERT(sock_ioctl(rx, FIONREAD, &v) == 0 && v == 10);
	n = 4;
	ST_ASSERT(sock_receivembuf(rx, NULL, &m, 0, &n) == 0 && n == 4);
	ST_ASSERT(mbuf_pkthdr_len(m) == 4 || mbuf_len(m) == 4);
	mbuf_freem(m);
	sock_close(tx);
	sock_close(rx);
	return 0;
}
SOCKET_TEST(socket_loopback_datagrams, test_loopback_datagrams);

static int
test_full_buffer_counted(void)
{
	u_int32_t full = st_counter("udp", "fullsock");
	u_int16_t port, sport;
	char data[100], buf[128];
	socket_t rx, tx;
	int v = 512, i, got = 0;
	size_t n;

	bzero(data, sizeof(data));
	ST_ASSERT((rx = st_udp_local(&port)) != NULL);
	ST_ASSERT((tx = st_udp_local(&sport)) != NULL);
	ST_ASSERT(sock_setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &v,
	    sizeof(v)) == 0);
	for (i = 0; i < 10; i++)
		ST_ASSERT(st_sendto(tx, port, data, sizeof(data)) == 0);
	st_sleep_ms(100);			/* lo0 delivers them */
	while (st_recv(rx, buf, sizeof(buf), MSG_DONTWAIT, &n, NULL,
	    NULL) == 0)
		got++;
	ST_ASSERT(got > 0 && got < 10);
	ST_ASSERT(st_counter("udp", "fullsock") - full == (u_int32_t)(10 - got));
	sock_close(tx);
	sock_close(rx);
	return 0;
}
SOCKET_TEST(socket_full_buffer_counted, test_full_buffer_counted);

static int
test_connected_refused(void)
{
	u_int16_t port, dead;
	struct sockaddr_in to;
	socket_t so, gone;
	char buf[8];
	size_t n;

	/* A port nobody listens on: bind one, then close it. */
	ST_ASSERT((gone = st_udp_local(&dead)) != NULL);
	sock_close(gone);
	ST_ASSERT((so = st_udp_local(&port)) != NULL);
	to = st_sin(INADDR_LOOPBACK, dead);
	ST_ASSERT(sock_connect(so, (struct sockaddr *)&to, 0) == 0);
	ST_ASSERT(st_rcvtimeo(so, 2000) == 0);
	ST_ASSERT(sock_sendmbuf(so, NULL, st_data(3, 3, 0), 0, &n) == 0);
	/* ICMP port unreachable comes back through pr_ctlinput. */
	ST_ASSERT(st_recv(so, buf, sizeof(buf), 0, &n, NULL, NULL) ==
	    ECONNREFUSED);
	sock_close(so);
	return 0;
}
SOCKET_TEST(socket_connected_refused, test_connected_refused);

static int
test_shutdown_read(void)
{
	u_int32_t cant = st_counter("udp", "cantrcv");
	u_int16_t port, sport;
	socket_t rx, tx;
	char buf[8];
	size_t n;

	ST_ASSERT((rx = st_udp_local(&port)) != NULL);
	ST_ASSERT((tx = st_udp_local(&sport)) != NULL);
	ST_ASSERT(sock_shutdown(rx, SHUT_RD) == 0);
	ST_ASSERT(st_sendto(tx, port, "late", 4) == 0);
	st_sleep_ms(50);
	ST_ASSERT(st_counter("udp", "cantrcv") == cant + 1);
	/* End of file, not an error, not a wait. */
	ST_ASSERT(st_recv(rx, buf, sizeof(buf), 0, &n, NULL, NULL) == 0 &&
	    n == 0);
	sock_close(tx);
	sock_close(rx);
	return 0;
}
SOCKET_TEST(socket_shutdown_read, test_shutdown_read);

/* ---- kextunload's check ---- */

static int
test_unload_check(void)
{
	u_int32_t fn = (u_int32_t)st_count_upcall;
	char why[KMOD_WHY_MAX];
	socket_t so;
	int others;

	ST_ASSERT((so = st_udp(st_count_upcall, NULL)) != NULL);
	/* As if st_count_upcall were in a kext's image. */
	ST_ASSERT(kmod_points_into(fn, fn + 1, 0, why, sizeof(why), &others));
	ST_ASSERT(strstr(why, "socket (UDP 0.0.0.0:0)") != NULL);
	ST_ASSERT(strstr(why, "upcall") != NULL);
	/* As if a kext at `fn` had made it. */
	socket_lock(so, 1);
	so->so_creator = fn;
	socket_unlock(so, 1);
	ST_ASSERT(kmod_points_into(fn, fn + 1, 0, why, sizeof(why), &others));
	ST_ASSERT(strstr(why, "made by the kext is still open: stop must "
	    "call sock_close") != NULL);
	sock_close(so);
	ST_ASSERT(!kmod_points_into(fn, fn + 1, 0, why, sizeof(why), &others));
	return 0;
}
SOCKET_TEST(socket_unload_check, test_unload_check);

/* ---- Listen queues (what TCP will drive) ---- */

/* Drop the reference sonewconn gave the caller. */
static void
st_put(struct socket *so)
{
	socket_lock(so, 0);
	socket_unlock(so, 1);
}

static int
test_listen_queues(void)
{
	u_int32_t full = sockstat.sos_listenfull;
	struct socket *c1, *c2, *c3, *c4, *c5;
	socket_t head, a1 = NULL, a2 = NULL, a3 = NULL;
	int ok;

	ST_ASSERT((head = st_udp(NULL, NULL)) != NULL);
	/* UDP has no pru_listen: listen by hand, as TCP's will. */
	socket_lock(head, 1);
	head->so_options |= SO_ACCEPTCONN;
	head->so_qlimit = 2;
	c1 = sonewconn(head, 0, NULL);
	c2 = sonewconn(head, 0, NULL);
	c3 = sonewconn(head, 1, NULL);		/* complete at once */
	c4 = sonewconn(head, 0, NULL);		/* 3 of 2, BSD's slack */
	c5 = sonewconn(head, 0, NULL);		/* over it: refused */
	ok = c1 != NULL && c2 != NULL && c3 != NULL && c4 != NULL &&
	    c5 == NULL && sockstat.sos_listenfull == full + 1 &&
	    head->so_qlen == 4 && head->so_incqlen == 3 &&
	    (c3->so_state & (SS_COMP | SS_ISCONNECTED | SS_NOFDREF)) ==
	    (SS_COMP | SS_ISCONNECTED | SS_NOFDREF) && c1->so_head == head;
	socket_unlock(head, 1);
	ST_ASSERT(ok);
	/* c1's handshake completes: to the completed queue. */
	socket_lock(c1, 0);
	soisconnected(c1);
	ok = (c1->so_state & (SS_COMP | SS_ISCONNECTED)) ==
	    (SS_COMP | SS_ISCONNECTED) && head->so_incqlen == 2;
	socket_unlock(c1, 1);
	st_put(c3);
	st_put(c4);
	/* Accepted in the order they completed; then nothing ready. */
	ok = ok && sock_accept(head, NULL, 0, MSG_DONTWAIT, NULL, NULL,
	    &a1) == 0 && a1 == c3 && !(a1->so_state & (SS_COMP | SS_NOFDREF));
	ok = ok && sock_accept(head, NULL, 0, MSG_DONTWAIT, NULL, NULL,
	    &a2) == 0 && a2 == c1 && a2->so_head == NULL;
	ok = ok && sock_accept(head, NULL, 0, MSG_DONTWAIT, NULL, NULL,
	    &a3) == EWOULDBLOCK && head->so_qlen == 2;
	/* c2 dies before completing (TCP: a RST): off the queue, freed. */
	socket_lock(c2, 0);
	soabort(c2);
	socket_unlock(c2, 1);
	ok = ok && head->so_qlen == 1 && head->so_incqlen == 1;
	if (a1 != NULL)
		sock_close(a1);
	if (a2 != NULL)
		sock_close(a2);
	sock_close(head);			/* and c4 with it */
	ST_ASSERT(ok);
	return 0;
}
SOCKET_TEST(socket_listen_queues, test_listen_queues);

static int
test_broadcast_to_every_socket(void)
{
	struct sockaddr_in sin;
	struct iovec iov;
	struct msghdr msg;
	socket_t a, b, spec, tx;
	u_int16_t port = 47100, sport;
	char buf[8];
	int on = 1, i;
	size_t n;

	ST_ASSERT((tx = st_udp_local(&sport)) != NULL);
	ST_ASSERT((a = st_udp(NULL, NULL)) != NULL);
	ST_ASSERT((b = st_udp(NULL, NULL)) != NULL);
	ST_ASSERT((spec = st_udp(NULL, NULL)) != NULL);
	for (i = 0; i < 3; i++) {
		socket_t so = i == 0 ? a : i == 1 ? b : spec;

		sin = st_sin(i == 2 ? INADDR_LOOPBACK : INADDR_ANY, port);
		ST_ASSERT(sock_setsockopt(so, SOL_SOCKET, SO_REUSEPORT, &on,
		    sizeof(on)) == 0);
		ST_ASSERT(sock_bind(so, (struct sockaddr *)&sin) == 0);
		ST_ASSERT(st_rcvtimeo(so, 1000) == 0);
	}
	/* lo0's subnet broadcast: SO_BROADCAST first. */
	sin = st_sin(0x7fffffff, port);
	bzero(&msg, sizeof(msg));
	iov.iov_base = "all";
	iov.iov_len = 3;
	msg.msg_name = &sin;
	msg.msg_namelen = sizeof(sin);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	ST_ASSERT(sock_send(tx, &msg, 0, &n) == EACCES);
	ST_ASSERT(sock_setsockopt(tx, SOL_SOCKET, SO_BROADCAST, &on,
	    sizeof(on)) == 0);
	ST_ASSERT(sock_send(tx, &msg, 0, &n) == 0 && n == 3);
	/* Every socket bound to the port and any address has a copy; the
	 * one bound to 127.0.0.1 does not. */
	ST_ASSERT(st_recv(a, buf, sizeof(buf), 0, &n, NULL, NULL) == 0 &&
	    n == 3);
	ST_ASSERT(st_recv(b, buf, sizeof(buf), 0, &n, NULL, NULL) == 0 &&
	    n == 3 && memcmp(buf, "all", 3) == 0);
	ST_ASSERT(st_recv(spec, buf, sizeof(buf), MSG_DONTWAIT, &n, NULL,
	    NULL) == EWOULDBLOCK);
	sock_close(spec);
	sock_close(b);
	sock_close(a);
	sock_close(tx);
	return 0;
}
SOCKET_TEST(socket_broadcast_to_every_socket, test_broadcast_to_every_socket);

static int
test_retain_release(void)
{
	struct sockaddr_in sin;
	u_int16_t port;
	socket_t so;

	ST_ASSERT((so = st_udp_local(&port)) != NULL);
	sock_retain(so);
	sock_close(so);		/* retained: still open */
	ST_ASSERT(sock_getsockname(so, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && ntohs(sin.sin_port) == port);
	sock_release(so);	/* the last retain closes it: the leak check
				   after the test sees it freed */
	return 0;
}
SOCKET_TEST(socket_retain_release, test_retain_release);
