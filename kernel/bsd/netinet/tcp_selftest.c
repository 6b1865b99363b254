/*
 * Unit tests of TCP's pure logic (`selftest tcp`): sequence arithmetic
 * across the wrap, the out-of-order queue (tcp_reass.c) filling holes,
 * trimming overlaps, dropping duplicates and stopping at its limit, a
 * FIN ending the stream; ISNs that differ per 4-tuple and climb with the
 * clock; the RTT estimator recovering from an absurd sample; timers
 * never firing early; TIME_WAIT kept to its bound, over lo0.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <IOKit/IOLib.h>
#include <kern/selftest.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/kern/protosw.h>
#include <bsd/netinet/tcp_var.h>

static int
test_seq_wrap(void)
{
	tcp_seq a = 0xfffffff0u, b = 0x00000010u;

	ST_ASSERT(SEQ_LT(a, b) && SEQ_GT(b, a));
	ST_ASSERT(SEQ_LEQ(a, a) && SEQ_GEQ(b, b));
	ST_ASSERT(!SEQ_LT(b, a) && !SEQ_GT(a, b));
	ST_ASSERT(SEQ_MAX(a, b) == b && SEQ_MIN(a, b) == a);
	ST_ASSERT(b - a == 0x20);
	ST_ASSERT(TSTMP_LT(0xffffff00u, 5) && TSTMP_GEQ(5, 0xffffff00u));
	return 0;
}
SELFTEST(tcp_seq_wrap, test_seq_wrap);

/* An mbuf of len bytes, byte i of the stream being (seq + i) & 0xff. */
static mbuf_t
st_seg(tcp_seq seq, int len)
{
	struct mbuf *m = m_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA,
	    MBUF_OWNER_KERNEL);
	int i;

	if (m == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		m->m_data[i] = (char)((seq + (tcp_seq)i) & 0xff);
	m->m_len = len;
	m->m_pkthdr.len = len;
	return m;
}

/* Is chain m exactly the stream bytes [seq, seq + len)? Frees it. */
static bool
st_check_stream(mbuf_t m, tcp_seq seq, int len)
{
	struct mbuf *n;
	int i, total = 0;
	bool ok = true;

	for (n = m; n != NULL; n = n->m_next)
		for (i = 0; i < n->m_len; i++, total++)
			if ((u_char)n->m_data[i] !=
			    ((seq + (tcp_seq)total) & 0xff))
				ok = false;
	if (m != NULL)
		m_freem(m);
	return ok && total == len;
}

static int
test_reass(void)
{
	struct tcpcb tp;
	mbuf_t in;
	tcp_seq base = 0xfffffff0u;	/* across the wrap */
	tcp_seq start;
	int fin, i;

	bzero(&tp, sizeof(tp));
	TAILQ_INIT(&tp.t_segq);
	tp.rcv_nxt = base;

	/* Two segments past a hole wait; overlaps are trimmed. */
	tcp_reass(&tp, base + 20, 10, 0, st_seg(base + 20, 10), &in, &fin);
	ST_ASSERT(in == NULL && tp.t_segqlen == 1 && tp.rcv_nxt == base);
	tcp_reass(&tp, base + 25, 15, 0, st_seg(base + 25, 15), &in, &fin);
	ST_ASSERT(in == NULL && tp.t_segqlen == 2);
	/* A duplicate of what is queued is dropped. */
	tcp_reass(&tp, base + 22, 5, 0, st_seg(base + 22, 5), &in, &fin);
	ST_ASSERT(in == NULL && tp.t_segqlen == 2);
	/* One covering a queued segment replaces it. */
	tcp_reass(&tp, base + 10, 40, 1, st_seg(base + 10, 40), &in, &fin);
	ST_ASSERT(in == NULL && tp.t_segqlen == 1);
	/* The hole fills: everything comes out in order, with the FIN. */
	tcp_reass(&tp, base, 12, 0, st_seg(base, 12), &in, &fin);
	/* One record: its head has the whole run's length, nothing behind
	 * it is a packet header any more (a filter reads the length). */
	ST_ASSERT(in != NULL && (in->m_flags & M_PKTHDR) &&
	    in->m_pkthdr.len == 50);
	ST_ASSERT(in->m_next != NULL && !(in->m_next->m_flags & M_PKTHDR));
	ST_ASSERT(st_check_stream(in, base, 50));
	ST_ASSERT(fin && tp.rcv_nxt == base + 50 && tp.t_segqlen == 0);

	/* The queue stops at its limit, and frees what it holds. */
	for (i = 0; i < TCP_REASS_MAXSEGS + 4; i++)
		tcp_reass(&tp, tp.rcv_nxt + 10 + 10 * (tcp_seq)i, 5, 0,
		    st_seg(tp.rcv_nxt + 10 + 10 * (tcp_seq)i, 5), &in, &fin);
	ST_ASSERT(tp.t_segqlen == TCP_REASS_MAXSEGS);
	/* ... but always takes the segment that fills the hole: else a
	 * full queue would wait for it forever. */
	start = tp.rcv_nxt;
	tcp_reass(&tp, start, 10, 0, st_seg(start, 10), &in, &fin);
	ST_ASSERT(in != NULL && st_check_stream(in, start, 15));
	ST_ASSERT(tp.rcv_nxt == start + 15 &&
	    tp.t_segqlen == TCP_REASS_MAXSEGS - 1);
	tcp_reass_flush(&tp);
	ST_ASSERT(tp.t_segqlen == 0 && TAILQ_EMPTY(&tp.t_segq));
	return 0;
}
SELFTEST(tcp_reass, test_reass);

static int
test_isn(void)
{
	struct in_addr a = { htonl(0x0a00020f) }, b = { htonl(0x0a000202) };
	u_int64_t start = tcp_now_ns();
	tcp_seq x, y, z;

	x = tcp_new_isn(a, htons(80), b, htons(40000));
	y = tcp_new_isn(a, htons(80), b, htons(40001));
	ST_ASSERT(x != y);		/* another 4-tuple, another offset */
	while (tcp_now_ns() - start < 2000000)
		;			/* 2 ms */
	z = tcp_new_isn(a, htons(80), b, htons(40000));
	/* The same 4-tuple climbs with the 4 us clock: 2 ms is ~500. */
	ST_ASSERT(SEQ_GT(z, x) && z - x >= 400 && z - x < 100000);
	return 0;
}
SELFTEST(tcp_isn, test_isn);

/* One absurd RTT sample (a timestamp echo from the future makes one of
 * about 2^32 ms) must not leave the estimator unable to come back. */
static int
test_rtt_absurd_sample(void)
{
	struct tcpcb tp;
	int i;

	bzero(&tp, sizeof(tp));
	tcp_xmit_timer(&tp, 0xffffff00u);
	ST_ASSERT(tp.t_srtt > 0 && tp.t_rttvar > 0);
	ST_ASSERT(tp.t_rxtcur == TCP_RTO_MAX_MS);
	for (i = 0; i < 100; i++)
		tcp_xmit_timer(&tp, 10);
	ST_ASSERT(tp.t_rxtcur == TCP_RTO_MIN_MS);
	return 0;
}
SELFTEST(tcp_rtt_absurd_sample, test_rtt_absurd_sample);

/* A timer armed for ms never fires sooner, though the slow timer's
 * next tick may come at once (RFC 6298 2.4: the RTO is at least 1 s). */
static int
test_timer_ticks(void)
{
	static const u_int32_t ms[] = { 1, 200, 500, 501, 1000, 3000 };
	unsigned int i;

	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		ST_ASSERT((u_int32_t)(TCP_MS_TO_TICKS(ms[i]) - 1) *
		    PR_SLOWHZ_MS >= ms[i]);
	return 0;
}
SELFTEST(tcp_timer_ticks, test_timer_ticks);

/* One connection over lo0 to the listener l, closed by the client
 * first: the client's side ends in TIME_WAIT. */
static int
st_timewait_one(socket_t l, struct sockaddr_in *sin)
{
	struct msghdr msg;
	struct iovec iov;
	socket_t c, s;
	char buf[8];
	size_t n;

	ST_ASSERT(sock_socket(PF_INET, SOCK_STREAM, 0, NULL, NULL, &c) == 0);
	ST_ASSERT(sock_connect(c, (struct sockaddr *)sin, 0) == 0);
	ST_ASSERT(sock_accept(l, NULL, 0, 0, NULL, NULL, &s) == 0);
	sock_close(c);				/* FIN_WAIT_1, then _2 */
	bzero(&msg, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	ST_ASSERT(sock_receive(s, &msg, 0, &n) == 0 && n == 0);	/* EOF */
	sock_close(s);				/* its FIN: TIME_WAIT there */
	return 0;
}

/* Wait up to 2 s for TIME_WAIT to hold `want` connections or fewer. */
static bool
st_timewait_settles(int want)
{
	u_int64_t start = tcp_now_ms();

	while (tcp_tw_active() > want && tcp_now_ms() - start < 2000)
		IOSleep(50);
	return tcp_tw_active() <= want;
}

static int
test_timewait_bound(void)
{
	struct sockaddr_in sin;
	int i, before = tcp_tw_active(), saved = tcp_tw_max, failed = 0;
	socket_t l;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(47100);
	ST_ASSERT(sock_socket(PF_INET, SOCK_STREAM, 0, NULL, NULL, &l) == 0);
	ST_ASSERT(sock_bind(l, (struct sockaddr *)&sin) == 0);
	ST_ASSERT(sock_listen(l, 4) == 0);
	tcp_tw_max = before + 2;
	for (i = 0; i < 5 && failed == 0; i++)
		failed = st_timewait_one(l, &sin);
	sock_close(l);
	/* The slow timer trims to the bound, oldest first ... */
	if (failed == 0 && !st_timewait_settles(before + 2))
		failed = 1;
	/* ... and to nothing, to leave the kernel as it was. */
	tcp_tw_max = 0;
	st_timewait_settles(0);
	tcp_tw_max = saved;
	ST_ASSERT(failed == 0);
	return 0;
}
SELFTEST(tcp_timewait_bound, test_timewait_bound);
