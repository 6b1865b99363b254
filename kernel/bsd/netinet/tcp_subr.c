/*
 * TCP's housekeeping (XNU and FreeBSD: tcp_subr.c): the counters, the
 * birth and death of a connection block (tcp_newtcpcb, tcp_close,
 * tcp_drop), TIME_WAIT and its bounded list, initial sequence numbers
 * (RFC 6528), the clocks, and bare segments sent outside tcp_output --
 * RSTs to strays, challenge ACKs (RFC 5961), keepalive probes.
 */
#include <sys/systm.h>
#include <mach/mach_time.h>
#include <kern/kalloc.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/tcp_var.h>

struct tcpstat tcpstat;
struct inpcbinfo tcbinfo;

static const struct netstat_counter tcp_counters[] = {
	{ "connattempt", "connections initiated", &tcpstat.tcps_connattempt },
	{ "accepts", "connection requests a listener took",
	    &tcpstat.tcps_accepts },
	{ "connects", "connections established", &tcpstat.tcps_connects },
	{ "closed", "connections closed", &tcpstat.tcps_closed },
	{ "drops", "connections dropped (reset, timeout, abort)",
	    &tcpstat.tcps_drops },
	{ "conndrops", "embryonic connections dropped", &tcpstat.tcps_conndrops },
	{ "synflood", "half-open connections dropped: SYN queue full (oldest)",
	    &tcpstat.tcps_synflood },
	{ "listendrop", "dropped: SYN the listener refused (backlog full, "
	    "filter, memory)", &tcpstat.tcps_listendrop },
	{ "timeoutdrop", "connections dropped: retransmitted too often",
	    &tcpstat.tcps_timeoutdrop },
	{ "keepdrops", "connections dropped: keepalive unanswered",
	    &tcpstat.tcps_keepdrops },
	{ "tw_recycled", "TIME_WAIT connections ended early (over the limit)",
	    &tcpstat.tcps_tw_recycled },
	{ "tw_reopened", "TIME_WAIT connections ended by a new SYN of their "
	    "4-tuple (RFC 6191)", &tcpstat.tcps_tw_reopened },
	{ "fin2_timeout", "FIN_WAIT_2 connections of closed sockets given up",
	    &tcpstat.tcps_fin2_timeout },
	{ "rcvtotal", "segments received", &tcpstat.tcps_rcvtotal },
	{ "rcvshort", "dropped: shorter than a TCP header",
	    &tcpstat.tcps_rcvshort },
	{ "rcvbadoff", "dropped: bad data offset", &tcpstat.tcps_rcvbadoff },
	{ "rcvbadsum", "dropped: bad checksum", &tcpstat.tcps_rcvbadsum },
	{ "rcvbadopt", "malformed options (rest of the options ignored)",
	    &tcpstat.tcps_rcvbadopt },
	{ "rcvmulti", "dropped: to a broadcast or multicast address",
	    &tcpstat.tcps_rcvmulti },
	{ "noport", "dropped: no socket on the port (answered with RST)",
	    &tcpstat.tcps_noport },
	{ "rcvclosed", "dropped: the connection is closed",
	    &tcpstat.tcps_rcvclosed },
	{ "nomem", "dropped: out of mbufs (allocation failure)",
	    &tcpstat.tcps_nomem },
	{ "gone", "dropped: the socket closed during a filter callback",
	    &tcpstat.tcps_gone },
	{ "listen_rst", "dropped: RST to a listener", &tcpstat.tcps_listen_rst },
	{ "listen_ack", "dropped: ACK to a listener (answered with RST)",
	    &tcpstat.tcps_listen_ack },
	{ "listen_nosyn", "dropped: no SYN to a listener",
	    &tcpstat.tcps_listen_nosyn },
	{ "badsynack", "dropped: SYN_SENT, unacceptable ACK (answered with "
	    "RST)", &tcpstat.tcps_badsynack },
	{ "synsent_noflags", "dropped: SYN_SENT, neither SYN nor RST",
	    &tcpstat.tcps_synsent_noflags },
	{ "synrcvd_badack", "dropped: SYN_RECEIVED, unacceptable ACK "
	    "(answered with RST)", &tcpstat.tcps_synrcvd_badack },
	{ "paws", "dropped: old timestamp (PAWS, RFC 7323)", &tcpstat.tcps_paws },
	{ "outofwin", "dropped: outside the receive window (answered with "
	    "ACK)", &tcpstat.tcps_outofwin },
	{ "rst_badseq", "dropped: RST outside the window", &tcpstat.tcps_rst_badseq },
	{ "rst_challenge", "dropped: RST in the window, not at RCV.NXT "
	    "(challenge ACK, RFC 5961)", &tcpstat.tcps_rst_challenge },
	{ "syn_challenge", "dropped: SYN on a synchronized connection "
	    "(challenge ACK, RFC 5961)", &tcpstat.tcps_syn_challenge },
	{ "challenge_limited", "challenge ACKs not sent: over the rate limit",
	    &tcpstat.tcps_challenge_limited },
	{ "noack", "dropped: no ACK flag", &tcpstat.tcps_noack },
	{ "ackfuture", "dropped: ACK of data never sent (answered with ACK)",
	    &tcpstat.tcps_ackfuture },
	{ "ackold", "dropped: ACK older than the window (challenge ACK, "
	    "RFC 5961)", &tcpstat.tcps_ackold },
	{ "rcvafterclose", "dropped: data after the socket closed (answered "
	    "with RST)", &tcpstat.tcps_rcvafterclose },
	{ "rcvpack", "data segments received in sequence", &tcpstat.tcps_rcvpack },
	{ "rcvbyte", "bytes received in sequence", &tcpstat.tcps_rcvbyte },
	{ "rcvduppack", "dropped: completely duplicate segments",
	    &tcpstat.tcps_rcvduppack },
	{ "rcvdupbyte", "duplicate bytes dropped", &tcpstat.tcps_rcvdupbyte },
	{ "rcvpartdupbyte", "bytes trimmed off partly duplicate segments",
	    &tcpstat.tcps_rcvpartdupbyte },
	{ "rcvafterwin", "bytes trimmed: beyond the receive window",
	    &tcpstat.tcps_rcvafterwin },
	{ "rcvoopack", "out-of-order segments queued", &tcpstat.tcps_rcvoopack },
	{ "reass_dup", "dropped: out-of-order segment already queued",
	    &tcpstat.tcps_reass_dup },
	{ "reass_full", "dropped: out-of-order queue full",
	    &tcpstat.tcps_reass_full },
	{ "rcvwinprobe", "zero-window probes received", &tcpstat.tcps_rcvwinprobe },
	{ "rcvurg", "urgent pointers received", &tcpstat.tcps_rcvurg },
	{ "rcvackpack", "ACKs of new data", &tcpstat.tcps_rcvackpack },
	{ "rcvackbyte", "bytes acknowledged", &tcpstat.tcps_rcvackbyte },
	{ "rcvdupack", "duplicate ACKs", &tcpstat.tcps_rcvdupack },
	{ "rcvwinupd", "window updates received", &tcpstat.tcps_rcvwinupd },
	{ "filtered", "dropped: data a socket filter took or refused",
	    &tcpstat.tcps_filtered },
	{ "sndtotal", "segments sent", &tcpstat.tcps_sndtotal },
	{ "sndpack", "data segments sent", &tcpstat.tcps_sndpack },
	{ "sndbyte", "data bytes sent", &tcpstat.tcps_sndbyte },
	{ "sndrexmitpack", "data segments retransmitted",
	    &tcpstat.tcps_sndrexmitpack },
	{ "sndrexmitbyte", "data bytes retransmitted",
	    &tcpstat.tcps_sndrexmitbyte },
	{ "sndacks", "pure ACKs sent", &tcpstat.tcps_sndacks },
	{ "delack", "ACKs delayed, then sent by the fast timer",
	    &tcpstat.tcps_delack },
	{ "sndprobe", "zero-window probes sent", &tcpstat.tcps_sndprobe },
	{ "sndwinup", "window updates sent", &tcpstat.tcps_sndwinup },
	{ "sndctrl", "SYN and FIN segments sent", &tcpstat.tcps_sndctrl },
	{ "sndrst", "RSTs sent", &tcpstat.tcps_sndrst },
	{ "onomem", "not sent: out of mbufs (allocation failure)",
	    &tcpstat.tcps_onomem },
	{ "noroute", "not sent: no route", &tcpstat.tcps_noroute },
	{ "rexmttimeo", "retransmission timeouts", &tcpstat.tcps_rexmttimeo },
	{ "persisttimeo", "persist timeouts (zero window)",
	    &tcpstat.tcps_persisttimeo },
	{ "keepprobe", "keepalive probes sent", &tcpstat.tcps_keepprobe },
	{ "rttupdated", "round-trip time samples", &tcpstat.tcps_rttupdated },
	{ "fastrexmt", "fast retransmits (three duplicate ACKs)",
	    &tcpstat.tcps_fastrexmt },
	{ "partialack", "NewReno partial ACKs (retransmitted the next hole)",
	    &tcpstat.tcps_partialack },
};
NETSTAT_GROUP(tcp, tcp_counters);

const char *const tcpstates[TCP_NSTATES] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED",
	"CLOSE_WAIT", "FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2",
	"TIME_WAIT",
};

static OSMallocTag tcp_tag;		/* tcpcbs and queue entries: `mem` */

/* The TIME_WAIT list, oldest first, (w): tcp_tw_lock. */
static simple_lock_data_t tcp_tw_lock = SIMPLE_LOCK_INITIALIZER("tcp_tw");
static TAILQ_HEAD(, tcpcb) tcp_twq = TAILQ_HEAD_INITIALIZER(tcp_twq);
static int tcp_tw_count;
int tcp_tw_max = TCP_TW_MAX;

/* netstat -a's state column: read under ipi_lock, without the socket's
 * lock -- a snapshot for people. */
static const char *
tcp_state_name(struct inpcb *inp)
{
	struct tcpcb *tp = intotcpcb(inp);

	if (tp == NULL || tp->t_state < 0 || tp->t_state >= TCP_NSTATES)
		return "CLOSED";
	return tcpstates[tp->t_state];
}

static void tcp_isn_init(void);

void
tcp_init(void)
{
	tcp_tag = kalloc_tag_create("tcp", 0);
	if (tcp_tag == NULL)
		panic("tcp_init: out of memory");
	in_pcbinfo_init(&tcbinfo, "tcp", TCP_HASHSIZE, tcp_state_name);
	tcp_isn_init();
}

/* ---- Clocks ---- */

/*
 * Two clocks.  The precise one reads the timer chip, which costs a trip
 * out of the emulator: only for what happens once a round trip or once
 * a connection (timing a segment, an ISN).  Everything done per segment
 * -- timers' bookkeeping, timestamps -- uses the time of the last clock
 * tick (10 ms), which costs nothing.
 */
u_int64_t
tcp_now_ns(void)
{
	return mach_absolute_time();
}

u_int64_t
tcp_now_ms(void)
{
	return mach_approximate_time() / 1000000;
}

/* RFC 7323 (5.4): a clock between 1 ms and 1 s a tick: milliseconds,
 * advancing by the clock tick. */
u_int32_t
tcp_ts_now(void)
{
	return (u_int32_t)tcp_now_ms();
}

/* ---- Initial sequence numbers (RFC 6528) ---- */

/*
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey):
 * M a clock that ticks every 4 microseconds, F a keyed hash (SipHash-2-4,
 * a pseudo-random function) so that an off-path attacker cannot guess
 * another connection's ISN, while one 4-tuple's ISNs still climb with
 * the clock, as TIME_WAIT's reuse rules want.
 */
static u_int64_t tcp_isn_key[2];

#define ROTL64(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

static void
sipround(u_int64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL64(v[1], 13); v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3]; v[3] = ROTL64(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL64(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL64(v[1], 17); v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

/* SipHash-2-4 of two 64-bit words (the 4-tuple fits in 12 bytes). */
static u_int64_t
siphash24_2w(const u_int64_t key[2], u_int64_t w0, u_int64_t w1)
{
	u_int64_t v[4], words[3];
	int i, r;

	v[0] = key[0] ^ 0x736f6d6570736575ULL;
	v[1] = key[1] ^ 0x646f72616e646f6dULL;
	v[2] = key[0] ^ 0x6c7967656e657261ULL;
	v[3] = key[1] ^ 0x7465646279746573ULL;
	words[0] = w0;
	words[1] = w1;
	words[2] = (u_int64_t)16 << 56;		/* the length byte */
	for (i = 0; i < 3; i++) {
		v[3] ^= words[i];
		for (r = 0; r < 2; r++)
			sipround(v);
		v[0] ^= words[i];
	}
	v[2] ^= 0xff;
	for (r = 0; r < 4; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The secret: the cycle counter at boot under an emulator is as good a
 * seed as Finch has (no entropy pool yet). */
static void
tcp_isn_init(void)
{
	u_int64_t t = __builtin_ia32_rdtsc();

	tcp_isn_key[0] = siphash24_2w((u_int64_t[2]){ t, ~t },
	    mach_absolute_time(), (u_int64_t)(uintptr_t)&t);
	tcp_isn_key[1] = siphash24_2w((u_int64_t[2]){ ~t, t },
	    __builtin_ia32_rdtsc(), tcp_isn_key[0]);
}

tcp_seq
tcp_new_isn(struct in_addr laddr, u_short lport, struct in_addr faddr,
    u_short fport)
{
	u_int64_t f, m;

	f = siphash24_2w(tcp_isn_key, (u_int64_t)laddr.s_addr << 32 |
	    faddr.s_addr, (u_int64_t)lport << 16 | fport);
	m = tcp_now_ns() / 4000;
	return (tcp_seq)(m + (u_int32_t)f);
}

/* ---- Birth and death ---- */

struct tcpcb *
tcp_newtcpcb(struct inpcb *inp)
{
	struct tcpcb *tp = kalloc_tag(sizeof(*tp), tcp_tag);

	if (tp == NULL)
		return NULL;
	bzero(tp, sizeof(*tp));
	tp->t_inpcb = inp;
	TAILQ_INIT(&tp->t_segq);
	tp->t_maxseg = TCP_MSS;
	tp->t_flags = TF_REQ_SCALE | TF_REQ_TSTMP;
	/* RFC 6298 (2.1): no sample yet, RTO 1 s. */
	tp->t_rxtcur = TCP_RTO_INIT_MS;
	tp->snd_cwnd = TCP_MAXWIN << TCP_MAX_WINSHIFT;
	tp->snd_ssthresh = TCP_MAXWIN << TCP_MAX_WINSHIFT;
	tp->t_rcvtime = tcp_now_ms();
	tp->t_keepidle = TCP_KEEPIDLE_MS;
	inp->inp_ppcb = tp;
	return tp;
}

u_char
tcp_rscale(u_int32_t hiwat)
{
	u_char shift = 0;

	while (shift < TCP_MAX_WINSHIFT && (u_int32_t)TCP_MAXWIN << shift < hiwat)
		shift++;
	return shift;
}

void *
tcp_alloc(size_t size)
{
	return kalloc_tag(size, tcp_tag);
}

void
tcp_free(void *p, size_t size)
{
	kfree_tag(p, size, tcp_tag);
}

static void
tcp_tw_remove(struct tcpcb *tp)
{
	simple_lock(&tcp_tw_lock);
	if (tp->t_onlist) {
		TAILQ_REMOVE(&tcp_twq, tp, t_twentry);
		tp->t_onlist = 0;
		tcp_tw_count--;
	}
	simple_unlock(&tcp_tw_lock);
}

struct tcpcb *
tcp_close(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;

	tp->t_state = TCPS_CLOSED;
	tcp_canceltimers(tp);
	tcp_reass_flush(tp);
	tcp_tw_remove(tp);
	inp->inp_ppcb = NULL;
	kfree_tag(tp, sizeof(*tp), tcp_tag);
	NETSTAT_INC(tcpstat.tcps_closed);
	/* so_pcb goes NULL here: whoever locks the socket later sees the
	 * connection gone. */
	in_pcbdetach(inp);
	sbflush(&so->so_snd);
	soisdisconnected(so);
	return NULL;
}

struct tcpcb *
tcp_drop(struct tcpcb *tp, int error)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;

	if (TCPS_HAVERCVDSYN(tp->t_state)) {
		tcp_respond(tp, inp->inp_laddr, inp->inp_lport, inp->inp_faddr,
		    inp->inp_fport, tp->snd_nxt, tp->rcv_nxt, TH_RST | TH_ACK);
		NETSTAT_INC(tcpstat.tcps_drops);
	} else {
		NETSTAT_INC(tcpstat.tcps_conndrops);
	}
	if (error == ETIMEDOUT && tp->t_softerror != 0)
		error = tp->t_softerror;
	so->so_error = (u_short)error;
	return tcp_close(tp);
}

/*
 * TIME_WAIT (RFC 9293, 3.6.1): hold the 4-tuple for 2 MSL so that old
 * duplicates die and a lost last ACK can be sent again.  The socket is
 * disconnected now; the pcb stays, on a list the slow timer trims to
 * tcp_tw_max, oldest first.
 */
struct tcpcb *
tcp_timewait(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;

	tp->t_state = TCPS_TIME_WAIT;
	tcp_canceltimers(tp);
	tcp_timer_arm(tp, TCPT_2MSL, 2 * TCP_MSL_MS);
	simple_lock(&tcp_tw_lock);
	if (!tp->t_onlist) {
		tp->t_onlist = 1;
		tp->t_twstart = tcp_now_ms();
		TAILQ_INSERT_TAIL(&tcp_twq, tp, t_twentry);
		tcp_tw_count++;
	}
	simple_unlock(&tcp_tw_lock);
	/* sf_notify(disconnected) runs in here: look again after. */
	soisdisconnected(so);
	if (so->so_pcb != inp || intotcpcb(inp) == NULL)
		return NULL;
	return intotcpcb(inp);
}

/* The slow timer: close the oldest TIME_WAIT connections over the
 * limit.  No lock held. */
void
tcp_tw_trim(void)
{
	struct socket *so;
	struct inpcb *inp;
	struct tcpcb *tp;

	for (;;) {
		simple_lock(&tcp_tw_lock);
		if (tcp_tw_count <= tcp_tw_max) {
			simple_unlock(&tcp_tw_lock);
			return;
		}
		tp = TAILQ_FIRST(&tcp_twq);
		/* Off the list now, so that the next round looks further. */
		TAILQ_REMOVE(&tcp_twq, tp, t_twentry);
		tp->t_onlist = 0;
		tcp_tw_count--;
		inp = tp->t_inpcb;
		so = inp->inp_socket;
		soreference(so);	/* alive: its tcpcb was on the list */
		simple_unlock(&tcp_tw_lock);
		socket_lock(so, 0);
		if (so->so_pcb == inp && intotcpcb(inp) != NULL &&
		    intotcpcb(inp)->t_state == TCPS_TIME_WAIT) {
			NETSTAT_INC(tcpstat.tcps_tw_recycled);
			tcp_close(intotcpcb(inp));
		}
		socket_unlock(so, 1);
	}
}

int
tcp_tw_active(void)
{
	return tcp_tw_count;
}

/* ---- Bare segments ---- */

/* Room in front of the headers for the link layer's. */
#define TCP_LINKHDR_RESERVE	32

void
tcp_respond(struct tcpcb *tp, struct in_addr laddr, u_short lport,
    struct in_addr faddr, u_short fport, tcp_seq seq, tcp_seq ack, int flags)
{
	struct mbuf *m;
	struct ip *ip;
	struct tcphdr *th;
	u_int32_t *opt, win = 0;
	int optlen = 0, tlen;
	long space;

	if (tp != NULL && (tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) ==
	    (TF_REQ_TSTMP | TF_RCVD_TSTMP) && !(flags & TH_RST))
		optlen = TCPOLEN_TSTAMP_APPA;
	m = m_gethdr(MBUF_DONTWAIT, MBUF_TYPE_HEADER, MBUF_OWNER_KERNEL);
	if (m == NULL) {
		NETSTAT_INC(tcpstat.tcps_onomem);
		return;
	}
	tlen = (int)sizeof(*th) + optlen;
	m->m_data += TCP_LINKHDR_RESERVE;
	m->m_len = (int32_t)sizeof(*ip) + tlen;
	m->m_pkthdr.len = m->m_len;
	ip = (struct ip *)m->m_data;
	th = (struct tcphdr *)(ip + 1);
	bzero(ip, sizeof(*ip) + sizeof(*th));
	if (tp != NULL) {
		/* As tcp_output offers it: the buffer's room (negative when
		 * small mbufs overfill it), never less than advertised. */
		space = sbspace(&tp->t_inpcb->inp_socket->so_rcv);
		if (space < (int32_t)(tp->rcv_adv - tp->rcv_nxt))
			space = (int32_t)(tp->rcv_adv - tp->rcv_nxt);
		win = space > 0 ? (u_int32_t)space >> tp->rcv_scale : 0;
		if (win > TCP_MAXWIN)
			win = TCP_MAXWIN;
	}
	if (optlen != 0) {
		opt = (u_int32_t *)(th + 1);
		opt[0] = htonl(TCPOPT_TSTAMP_HDR);
		opt[1] = htonl(tcp_ts_now());
		opt[2] = htonl(tp->ts_recent);
	}
	th->th_sport = lport;
	th->th_dport = fport;
	th->th_seq = htonl(seq);
	th->th_ack = (flags & TH_ACK) ? htonl(ack) : 0;
	th->th_off = (u_int)(tlen >> 2);
	th->th_flags = (u_char)flags;
	th->th_win = htons((u_short)win);
	th->th_sum = in_cksum_mbuf(m, sizeof(*ip), (size_t)tlen,
	    in_pseudo(laddr.s_addr, faddr.s_addr,
	    htons((u_int16_t)(tlen + IPPROTO_TCP))));
	ip->ip_hl = sizeof(*ip) >> 2;
	ip->ip_len = htons((u_int16_t)m->m_len);
	ip->ip_ttl = tp != NULL ? tp->t_inpcb->inp_ip_ttl : IPDEFTTL;
	ip->ip_p = IPPROTO_TCP;
	ip->ip_src = laddr;
	ip->ip_dst = faddr;
	NETSTAT_INC(tcpstat.tcps_sndtotal);
	if (flags & TH_RST)
		NETSTAT_INC(tcpstat.tcps_sndrst);
	else
		NETSTAT_INC(tcpstat.tcps_sndacks);
	(void)ip_output(m);
}

/*
 * RFC 5961 (section 7): at most TCP_CHALLENGE_ACK_LIMIT challenge ACKs
 * a second, over all connections, so that they cannot be used to probe
 * or to amplify.
 */
static simple_lock_data_t tcp_challenge_lock =
    SIMPLE_LOCK_INITIALIZER("tcp_challenge");
static u_int64_t tcp_challenge_second;
static int tcp_challenge_count;

void
tcp_challenge_ack(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	u_int64_t second = tcp_now_ms() / 1000;
	bool send;

	simple_lock(&tcp_challenge_lock);
	if (second != tcp_challenge_second) {
		tcp_challenge_second = second;
		tcp_challenge_count = 0;
	}
	send = tcp_challenge_count++ < TCP_CHALLENGE_ACK_LIMIT;
	simple_unlock(&tcp_challenge_lock);
	if (!send) {
		NETSTAT_INC(tcpstat.tcps_challenge_limited);
		return;
	}
	tcp_respond(tp, inp->inp_laddr, inp->inp_lport, inp->inp_faddr,
	    inp->inp_fport, tp->snd_nxt, tp->rcv_nxt, TH_ACK);
}
