/*
 * TCP's timers (XNU and FreeBSD: tcp_timer.c).  The protocol slow timer
 * (pr_slowtimo, every 500 ms) counts down each connection's four timers
 * (tcp_timer.h) and runs the one that reaches zero: retransmit with
 * exponential backoff (RFC 6298 5.4-5.7) and a loss window (RFC 5681
 * 3.1), probe a zero window (RFC 9293 3.8.6.1), give up connecting or
 * probe an idle connection (keepalive, 3.8.4), end TIME_WAIT.  The fast
 * timer (pr_fasttimo, 200 ms) sends the ACKs that were delayed.  Both
 * run in the thread_call thread and reach each connection as the input
 * path does: a reference under the pcb table's lock, then the socket's
 * lock.
 */
#include <sys/systm.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/protosw.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/tcp_var.h>

void
tcp_timer_arm(struct tcpcb *tp, int timer, u_int32_t ms)
{
	tp->t_timer[timer] = TCP_MS_TO_TICKS(ms);
}

void
tcp_canceltimers(struct tcpcb *tp)
{
	int i;

	for (i = 0; i < TCPT_NTIMERS; i++)
		tp->t_timer[i] = 0;
}

/* RTO = SRTT + 4 * RTTVAR (RFC 6298 2.3), before any backoff. */
static u_int32_t
tcp_rto_base(struct tcpcb *tp)
{
	u_int32_t rto;

	if (tp->t_srtt == 0)
		return TCP_RTO_INIT_MS;
	rto = (u_int32_t)((tp->t_srtt >> 3) + tp->t_rttvar);
	return rto < TCP_RTO_MIN_MS ? TCP_RTO_MIN_MS : rto;
}

/* The RTO backed off t_rxtshift times, within its bounds (RFC 6298
 * 2.4, 2.5, 5.5). */
static u_int32_t
tcp_rto_backoff(struct tcpcb *tp, u_int32_t min, u_int32_t max)
{
	u_int64_t rto = (u_int64_t)tcp_rto_base(tp) << tp->t_rxtshift;

	if (rto < min)
		rto = min;
	return rto > max ? max : (u_int32_t)rto;
}

void
tcp_setpersist(struct tcpcb *tp)
{
	tcp_timer_arm(tp, TCPT_PERSIST, tcp_rto_backoff(tp, TCP_PERSMIN_MS,
	    TCP_PERSMAX_MS));
	if (tp->t_rxtshift < TCP_MAXRXTSHIFT)
		tp->t_rxtshift++;
}

/* The retransmission timer went off (RFC 6298 section 5). */
static struct tcpcb *
tcp_timer_rexmt(struct tcpcb *tp)
{
	u_int32_t flight;

	tp->t_rxtshift++;
	if (tp->t_rxtshift > TCP_MAXRXTSHIFT ||
	    ((tp->t_flags & TF_PASSIVE) && tp->t_state == TCPS_SYN_RECEIVED &&
	    tp->t_rxtshift > TCP_SYNACK_RETRIES)) {
		NETSTAT_INC(tcpstat.tcps_timeoutdrop);
		return tcp_drop(tp, ETIMEDOUT);
	}
	NETSTAT_INC(tcpstat.tcps_rexmttimeo);
	/* 5.5: back off; 5.6: restart the timer. */
	tp->t_rxtcur = tcp_rto_backoff(tp, TCP_RTO_MIN_MS, TCP_RTO_MAX_MS);
	tcp_timer_arm(tp, TCPT_REXMT, tp->t_rxtcur);
	/* Karn: a retransmitted segment gives no RTT sample. */
	tp->t_rtttime = 0;
	/* RFC 5681 (4): half the flight, and one segment to start again;
	 * RFC 6582: a new loss ends recovery, remember where we were. */
	if (TCPS_HAVEESTABLISHED(tp->t_state)) {
		flight = tp->snd_max - tp->snd_una;
		tp->snd_ssthresh = flight / 2 > 2 * tp->t_maxseg ? flight / 2 :
		    2 * tp->t_maxseg;
		tp->snd_cwnd = tp->t_maxseg;
	}
	tp->t_bytes_acked = 0;
	tp->snd_recover = tp->snd_max;
	tp->t_dupacks = 0;
	tp->t_flags &= ~TF_FASTRECOVERY;
	/* 5.4: retransmit the earliest unacknowledged segment. */
	tp->snd_nxt = tp->snd_una;
	tcp_output(tp);
	return tp;
}

/* Keepalive, or the connection-establishment limit (RFC 9293 3.8.4). */
static struct tcpcb *
tcp_timer_keep(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;
	u_int64_t idle = tcp_now_ms() - tp->t_rcvtime;

	if (tp->t_state < TCPS_ESTABLISHED) {
		NETSTAT_INC(tcpstat.tcps_timeoutdrop);
		return tcp_drop(tp, ETIMEDOUT);
	}
	if (!(so->so_options & SO_KEEPALIVE) ||
	    tp->t_state > TCPS_CLOSE_WAIT) {
		tcp_timer_arm(tp, TCPT_KEEP, tp->t_keepidle);
		return tp;
	}
	if (idle >= (u_int64_t)tp->t_keepidle +
	    (u_int64_t)TCP_KEEPCNT * TCP_KEEPINTVL_MS) {
		NETSTAT_INC(tcpstat.tcps_keepdrops);
		return tcp_drop(tp, ETIMEDOUT);
	}
	if (idle >= tp->t_keepidle) {
		/* A segment the peer must answer: one byte it already has. */
		NETSTAT_INC(tcpstat.tcps_keepprobe);
		tcp_respond(tp, inp->inp_laddr, inp->inp_lport, inp->inp_faddr,
		    inp->inp_fport, tp->snd_una - 1, tp->rcv_nxt, TH_ACK);
		tcp_timer_arm(tp, TCPT_KEEP, TCP_KEEPINTVL_MS);
	} else {
		tcp_timer_arm(tp, TCPT_KEEP, tp->t_keepidle - (u_int32_t)idle);
	}
	return tp;
}

/* TIME_WAIT is over; or a closed socket's FIN_WAIT_2 waited enough. */
static struct tcpcb *
tcp_timer_2msl(struct tcpcb *tp)
{
	u_int64_t idle = tcp_now_ms() - tp->t_rcvtime;

	if (tp->t_state == TCPS_TIME_WAIT)
		return tcp_close(tp);
	if (tp->t_state == TCPS_FIN_WAIT_2 && idle >= TCP_FIN2_MS) {
		NETSTAT_INC(tcpstat.tcps_fin2_timeout);
		return tcp_close(tp);
	}
	if (tp->t_state == TCPS_FIN_WAIT_2)
		tcp_timer_arm(tp, TCPT_2MSL, TCP_FIN2_MS - (u_int32_t)idle);
	return tp;
}

/* A zero-window probe is due. */
static struct tcpcb *
tcp_timer_persist(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;

	if (tp->snd_wnd > 0 || so->so_snd.sb_cc == 0) {
		tp->t_rxtshift = 0;	/* nothing to probe for any more */
		tcp_output(tp);
		return tp;
	}
	NETSTAT_INC(tcpstat.tcps_persisttimeo);
	tcp_setpersist(tp);
	tp->t_force = 1;
	tcp_output(tp);
	tp->t_force = 0;
	return tp;
}

/* One slow tick of one connection.  Socket locked. */
static void
tcp_slowtimo_one(struct tcpcb *tp, void *arg)
{
	static struct tcpcb *(*const run[TCPT_NTIMERS])(struct tcpcb *) = {
		[TCPT_REXMT] = tcp_timer_rexmt,
		[TCPT_PERSIST] = tcp_timer_persist,
		[TCPT_KEEP] = tcp_timer_keep,
		[TCPT_2MSL] = tcp_timer_2msl,
	};
	int i;

	for (i = 0; i < TCPT_NTIMERS && tp != NULL; i++)
		if (tp->t_timer[i] != 0 && --tp->t_timer[i] == 0)
			tp = run[i](tp);
}

/* The delayed ACK is due (RFC 9293 3.8.6.3). */
static void
tcp_fasttimo_one(struct tcpcb *tp, void *arg)
{
	if (tp->t_flags & TF_DELACK) {
		NETSTAT_INC(tcpstat.tcps_delack);
		tp->t_flags |= TF_ACKNOW;
		tcp_output(tp);
	}
}

/* The pcbs are picked up under the table's lock with a reference each,
 * then visited one by one with no other lock held. */
void
tcp_foreach(void (*fn)(struct tcpcb *tp, void *arg), void *arg)
{
	struct tcp_visit {
		struct inpcb	*inp;	/* compared, never read: it may
					   be freed before the visit */
		struct socket	*so;	/* referenced: alive */
	} *v;
	struct inpcb *inp;
	struct socket *so;
	u_int32_t n = 0, max;

	max = tcbinfo.ipi_count + 16;
	if ((v = tcp_alloc(max * sizeof(*v))) == NULL)
		return;				/* next tick */
	simple_lock(&tcbinfo.ipi_lock);
	LIST_FOREACH(inp, &tcbinfo.ipi_listhead, inp_list) {
		if (n == max)
			break;
		soreference(inp->inp_socket);
		v[n].inp = inp;
		v[n++].so = inp->inp_socket;
	}
	simple_unlock(&tcbinfo.ipi_lock);
	while (n > 0) {
		n--;
		so = v[n].so;
		socket_lock(so, 0);
		if (so->so_pcb == v[n].inp && intotcpcb(v[n].inp) != NULL)
			fn(intotcpcb(v[n].inp), arg);
		socket_unlock(so, 1);
	}
	tcp_free(v, max * sizeof(*v));
}

void
tcp_slowtimo(void)
{
	tcp_foreach(tcp_slowtimo_one, NULL);
	tcp_tw_trim();
}

void
tcp_fasttimo(void)
{
	tcp_foreach(tcp_fasttimo_one, NULL);
}
