/*
 * TCP's private interface: the connection block (struct tcpcb), the
 * counters `netstat -s` prints as group "tcp", and the functions the
 * five files share.  tcp_input.c takes segments from IP (RFC 9293,
 * 3.10.7), tcp_output.c decides what to send and builds segments,
 * tcp_timer.c runs the four timers and the delayed ACK, tcp_subr.c
 * makes and frees connections, ISNs (RFC 6528) and bare replies, and
 * tcp_usrreq.c answers the socket layer.
 *
 * Locks: the rule of socketvar.h.  A tcpcb belongs to its socket's
 * lock, like the inpcb it hangs off (inp_ppcb); tcbinfo.ipi_lock guards
 * TCP's pcb table (in_pcb.h), tcp_tw_lock the TIME_WAIT list.
 */
#ifndef _BSD_NETINET_TCP_VAR_H_
#define _BSD_NETINET_TCP_VAR_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/tcp_seq.h>
#include <bsd/netinet/tcp_fsm.h>
#include <bsd/netinet/tcp_timer.h>

#define TCP_HASHSIZE	256	/* buckets in each of TCP's pcb hashes */
#define TCP_REASS_MAXSEGS 64	/* out-of-order segments held per connection */
#define TCP_TW_MAX	512	/* connections in TIME_WAIT at most */
#define TCP_CHALLENGE_ACK_LIMIT 100	/* per second (RFC 5961, section 7) */

/* Default buffer limits: with window scaling, a 64 KB window. */
extern u_int32_t tcp_sendspace;
extern u_int32_t tcp_recvspace;

/* An out-of-order segment waiting for the hole before it. */
struct tseg_qent {
	TAILQ_ENTRY(tseg_qent) tqe_q;
	tcp_seq		tqe_seq;	/* its first byte */
	int		tqe_len;	/* bytes of data */
	int		tqe_fin;	/* it carried a FIN */
	mbuf_t		tqe_m;		/* the data */
};
TAILQ_HEAD(tsegqe_head, tseg_qent);

/*
 * A connection.  Names follow RFC 9293's variables (SND.UNA is
 * snd_una) and BSD's struct tcpcb, so that both read alongside.
 */
struct tcpcb {
	struct inpcb	*t_inpcb;	/* its pcb (inp_ppcb points back) */
	int		t_state;	/* TCPS_* */
	u_int32_t	t_flags;	/* TF_* below */
	int		t_timer[TCPT_NTIMERS];	/* slow ticks left; 0 off */

	/* Send sequence space (RFC 9293, 3.3.1, figure 3). */
	tcp_seq		snd_una;	/* oldest unacknowledged */
	tcp_seq		snd_nxt;	/* next to send */
	tcp_seq		snd_max;	/* highest ever sent, plus one */
	tcp_seq		snd_up;		/* urgent pointer: after the last
					   urgent byte (RFC 6093) */
	tcp_seq		snd_wl1;	/* SEG.SEQ of the last window update */
	tcp_seq		snd_wl2;	/* SEG.ACK of the last window update */
	tcp_seq		iss;		/* our initial sequence number */
	u_int32_t	snd_wnd;	/* the peer's window */
	u_int32_t	max_sndwnd;	/* the largest it offered */

	/* Receive sequence space (figure 4). */
	tcp_seq		rcv_nxt;	/* next expected */
	tcp_seq		rcv_adv;	/* right edge we advertised */
	tcp_seq		rcv_up;		/* the peer's urgent pointer */
	tcp_seq		irs;		/* the peer's initial sequence number */
	u_int32_t	rcv_wnd;	/* the window we offer */

	/* Congestion control (RFC 5681, RFC 6582). */
	u_int32_t	snd_cwnd;	/* congestion window */
	u_int32_t	snd_ssthresh;	/* slow start threshold */
	u_int32_t	t_bytes_acked;	/* congestion avoidance's counter */
	tcp_seq		snd_recover;	/* NewReno: snd_max at the loss */
	int		t_dupacks;	/* consecutive duplicate ACKs */
	u_int64_t	t_lastsend;	/* when data last went out (ms) */

	/* Round-trip time and the retransmission timeout (RFC 6298). */
	u_int64_t	t_rtttime;	/* when the timed segment left (ns);
					   0: none is timed */
	tcp_seq		t_rtseq;	/* the timed segment */
	int		t_srtt;		/* smoothed RTT, ms << 3; 0: none */
	int		t_rttvar;	/* its variation, ms << 2 */
	u_int32_t	t_rxtcur;	/* the current RTO, ms (backed off) */
	int		t_rxtshift;	/* retransmissions (backoff: 2^n) */
	u_int64_t	t_rcvtime;	/* last segment received (ms) */
	u_int32_t	t_keepidle;	/* TCP_KEEPALIVE: idle ms before probing */

	u_int32_t	t_maxseg;	/* MSS: the most data per segment */
	u_int32_t	t_peermss;	/* what the peer's SYN offered */
	int		t_force;	/* send one byte even into a zero
					   window (persist probe) */
	int		t_softerror;	/* an ICMP error, reported if we
					   time out */
	int		t_segs_unacked;	/* full segments since our last ACK */

	/* Window scaling and timestamps (RFC 7323). */
	u_char		snd_scale;	/* the peer's shift */
	u_char		rcv_scale;	/* ours */
	u_char		request_r_scale; /* the shift we offer */
	u_int32_t	ts_recent;	/* the peer's last TSval to echo */
	u_int64_t	ts_recent_age;	/* when it came (ms) */
	tcp_seq		last_ack_sent;	/* our last ACK, for ts_recent */

	/* The out-of-order queue. */
	struct tsegqe_head t_segq;
	int		t_segqlen;

	TAILQ_ENTRY(tcpcb) t_twentry;	/* (w) on the TIME_WAIT list */
	u_int64_t	t_twstart;	/* (w) when TIME_WAIT began (ms) */
	int		t_onlist;	/* (w) on the TIME_WAIT list */
};

/* t_flags. */
#define TF_ACKNOW	0x0001	/* send an ACK at once */
#define TF_DELACK	0x0002	/* an ACK is owed: the fast timer sends it */
#define TF_NODELAY	0x0004	/* TCP_NODELAY: no Nagle */
#define TF_NOOPT	0x0008	/* TCP_NOOPT: no options in our SYN */
#define TF_SENTFIN	0x0010	/* our FIN went out */
#define TF_REQ_SCALE	0x0020	/* we offer window scaling */
#define TF_RCVD_SCALE	0x0040	/* the peer offered it */
#define TF_REQ_TSTMP	0x0080	/* we offer timestamps */
#define TF_RCVD_TSTMP	0x0100	/* the peer offered them */
#define TF_FASTRECOVERY	0x0200	/* in NewReno fast recovery */
#define TF_PASSIVE	0x0400	/* made by a listener (SYN_RECEIVED from
				   LISTEN, not a simultaneous open) */
#define TF_NEEDFIN	0x0800	/* closed in SYN_RECEIVED: the FIN goes
				   once the handshake completes */

#define intotcpcb(inp)	((struct tcpcb *)(inp)->inp_ppcb)
#define sototcpcb(so)	(intotcpcb(sotoinpcb(so)))

/* Counters: `netstat -s`, group "tcp"; every drop has its reason. */
struct tcpstat {
	/* Connections. */
	u_int32_t	tcps_connattempt;	/* connect()s started */
	u_int32_t	tcps_accepts;		/* SYNs a listener took */
	u_int32_t	tcps_connects;		/* connections established */
	u_int32_t	tcps_closed;		/* connections closed */
	u_int32_t	tcps_drops;		/* established ones dropped */
	u_int32_t	tcps_conndrops;		/* embryonic ones dropped */
	u_int32_t	tcps_synflood;		/* half-open dropped: queue full */
	u_int32_t	tcps_listendrop;	/* SYN: the listener refused */
	u_int32_t	tcps_timeoutdrop;	/* retransmitted too often */
	u_int32_t	tcps_keepdrops;		/* keepalive unanswered */
	u_int32_t	tcps_tw_recycled;	/* TIME_WAIT ended early */
	u_int32_t	tcps_tw_reopened;	/* ... by a new SYN of its 4-tuple */
	u_int32_t	tcps_fin2_timeout;	/* FIN_WAIT_2 given up */
	/* Input: checks. */
	u_int32_t	tcps_rcvtotal;
	u_int32_t	tcps_rcvshort;
	u_int32_t	tcps_rcvbadoff;
	u_int32_t	tcps_rcvbadsum;
	u_int32_t	tcps_rcvbadopt;
	u_int32_t	tcps_rcvmulti;
	u_int32_t	tcps_noport;
	u_int32_t	tcps_rcvclosed;
	u_int32_t	tcps_nomem;
	u_int32_t	tcps_gone;
	/* Input: listeners and SYN_SENT. */
	u_int32_t	tcps_listen_rst;
	u_int32_t	tcps_listen_ack;
	u_int32_t	tcps_listen_nosyn;
	u_int32_t	tcps_badsynack;
	u_int32_t	tcps_synsent_noflags;
	u_int32_t	tcps_synrcvd_badack;
	/* Input: the synchronized states. */
	u_int32_t	tcps_paws;
	u_int32_t	tcps_outofwin;
	u_int32_t	tcps_rst_badseq;
	u_int32_t	tcps_rst_challenge;
	u_int32_t	tcps_syn_challenge;
	u_int32_t	tcps_challenge_limited;
	u_int32_t	tcps_noack;
	u_int32_t	tcps_ackfuture;
	u_int32_t	tcps_ackold;
	u_int32_t	tcps_rcvafterclose;
	u_int32_t	tcps_rcvpack;
	u_int32_t	tcps_rcvbyte;
	u_int32_t	tcps_rcvduppack;
	u_int32_t	tcps_rcvdupbyte;
	u_int32_t	tcps_rcvpartdupbyte;
	u_int32_t	tcps_rcvafterwin;
	u_int32_t	tcps_rcvoopack;
	u_int32_t	tcps_reass_dup;
	u_int32_t	tcps_reass_full;
	u_int32_t	tcps_rcvwinprobe;
	u_int32_t	tcps_rcvurg;
	u_int32_t	tcps_rcvackpack;
	u_int32_t	tcps_rcvackbyte;
	u_int32_t	tcps_rcvdupack;
	u_int32_t	tcps_rcvwinupd;
	u_int32_t	tcps_filtered;
	/* Output. */
	u_int32_t	tcps_sndtotal;
	u_int32_t	tcps_sndpack;
	u_int32_t	tcps_sndbyte;
	u_int32_t	tcps_sndrexmitpack;
	u_int32_t	tcps_sndrexmitbyte;
	u_int32_t	tcps_sndacks;
	u_int32_t	tcps_delack;
	u_int32_t	tcps_sndprobe;
	u_int32_t	tcps_sndwinup;
	u_int32_t	tcps_sndctrl;
	u_int32_t	tcps_sndrst;
	u_int32_t	tcps_onomem;
	u_int32_t	tcps_noroute;
	/* Timers and congestion control. */
	u_int32_t	tcps_rexmttimeo;
	u_int32_t	tcps_persisttimeo;
	u_int32_t	tcps_keepprobe;
	u_int32_t	tcps_rttupdated;
	u_int32_t	tcps_fastrexmt;
	u_int32_t	tcps_partialack;
};
extern struct tcpstat tcpstat;

extern struct inpcbinfo tcbinfo;

/* ---- tcp_input.c ---- */

/* A segment from IP (pr_input): data at the IP header.  Consumes m.
 * The DLIL input thread; never sleeps. */
void	tcp_input(mbuf_t m, int hlen);
/* An ICMP error about a segment we sent (pr_ctlinput). */
void	tcp_ctlinput(int cmd, const struct sockaddr *sa, void *vip);
/* A sample of the round-trip time, ms: update SRTT, RTTVAR, RTO. */
void	tcp_xmit_timer(struct tcpcb *tp, u_int32_t rtt_ms);

/* ---- tcp_output.c ---- */

/* Send what the state, the windows and the flags call for.  ENOBUFS,
 * or an error of ip_output.  Socket locked. */
errno_t	tcp_output(struct tcpcb *tp);
/* Our MSS for a connection through its route; the peer's offer. */
u_int32_t tcp_mss_local(struct tcpcb *tp);
void	tcp_mss_update(struct tcpcb *tp, u_int32_t offer);
/* The initial congestion window for the MSS (RFC 5681 3.1). */
u_int32_t tcp_initial_window(const struct tcpcb *tp);

/* ---- tcp_subr.c ---- */

void	tcp_init(void);
/* A tcpcb for the inpcb of a new socket; NULL out of memory. */
struct tcpcb *tcp_newtcpcb(struct inpcb *inp);
/* The connection is over: timers off, queues freed, the socket told
 * (soisdisconnected) and the pcb detached.  Returns NULL: tp is gone,
 * and so may be the socket once the caller unlocks it. */
struct tcpcb *tcp_close(struct tcpcb *tp);
/* Drop the connection with errno (RST to the peer if synchronized). */
struct tcpcb *tcp_drop(struct tcpcb *tp, int error);
/* Enter TIME_WAIT (2MSL timer, the bounded list).  The socket's
 * filters hear of it, maybe with the lock released: returns tp, or NULL
 * if the connection went meanwhile. */
struct tcpcb *tcp_timewait(struct tcpcb *tp);
/* The ISN for a connection of this 4-tuple (RFC 6528). */
tcp_seq	tcp_new_isn(struct in_addr laddr, u_short lport, struct in_addr faddr,
	    u_short fport);
/* Our clock for timestamps (ms); monotonic time in ms (the last clock
 * tick's: cheap) and in ns (precise: it reads the timer chip). */
u_int32_t tcp_ts_now(void);
u_int64_t tcp_now_ms(void);
u_int64_t tcp_now_ns(void);
/*
 * A bare segment (no data) from laddr:lport to faddr:fport: seq, ack,
 * flags.  tp (may be NULL) gives the window and the timestamp option.
 * For RSTs and ACKs outside tcp_output (answers to strays, challenge
 * ACKs, keepalive probes).
 */
void	tcp_respond(struct tcpcb *tp, struct in_addr laddr, u_short lport,
	    struct in_addr faddr, u_short fport, tcp_seq seq, tcp_seq ack,
	    int flags);
/* A challenge ACK (RFC 5961), rate limited.  Socket locked. */
void	tcp_challenge_ack(struct tcpcb *tp);
/* The out-of-order queue: free it all. */
void	tcp_reass_flush(struct tcpcb *tp);
/* Memory charged to TCP (`mem`): never sleeps. */
void	*tcp_alloc(size_t size);
void	tcp_free(void *p, size_t size);
/* The slow timer's TIME_WAIT trim to tcp_tw_max (TCP_TW_MAX; the
 * selftest lowers it); how many connections are in TIME_WAIT. */
extern int tcp_tw_max;
void	tcp_tw_trim(void);
int	tcp_tw_active(void);
/* The window shift we offer for a receive buffer of hiwat bytes. */
u_char	tcp_rscale(u_int32_t hiwat);

/* ---- tcp_usrreq.c ---- */

/* The user closed (or shut down writing): the FIN side of the state
 * machine.  Returns NULL if tp was closed. */
struct tcpcb *tcp_usrclosed(struct tcpcb *tp);
/* IPPROTO_TCP options (pr_ctloutput). */
errno_t	tcp_ctloutput(struct socket *so, struct sockopt *sopt);

/* ---- tcp_reass.c: the out-of-order queue, pure logic ---- */

/*
 * Add the segment (seq, len bytes in m, fin) to tp's queue; then move
 * whatever is now in order from rcv_nxt into *inorder (a chain, NULL if
 * nothing), advancing rcv_nxt; *fin set if a FIN was reached.  Drops
 * are counted.  Consumes m.  Socket locked.
 */
void	tcp_reass(struct tcpcb *tp, tcp_seq seq, int len, int fin, mbuf_t m,
	    mbuf_t *inorder, int *fin_reached);

#endif /* _BSD_NETINET_TCP_VAR_H_ */
