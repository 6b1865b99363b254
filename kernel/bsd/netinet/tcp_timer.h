/*
 * TCP's timers (tcp_timer.c).  Each connection has four, counted down
 * in ticks of the protocol slow timer (PR_SLOWHZ_MS, 500 ms); 0 is off:
 *
 *   REXMT    retransmission (RFC 6298), also the SYN's and the FIN's
 *   PERSIST  zero-window probes (RFC 9293, section 3.8.6.1)
 *   KEEP     connection establishment, then keepalive (RFC 9293 3.8.4)
 *   2MSL     TIME_WAIT, and FIN_WAIT_2 when the owner is gone
 *
 * Delayed ACKs (TF_DELACK) ride the 200 ms fast timer instead.
 * Durations below are in milliseconds.
 */
#ifndef _BSD_NETINET_TCP_TIMER_H_
#define _BSD_NETINET_TCP_TIMER_H_

#define TCPT_REXMT	0
#define TCPT_PERSIST	1
#define TCPT_KEEP	2
#define TCPT_2MSL	3
#define TCPT_NTIMERS	4

#define TCP_MSL_MS		15000	/* maximum segment lifetime (short:
					   TIME_WAIT lasts 2 MSL = 30 s) */
#define TCP_RTO_MIN_MS		1000	/* RFC 6298 (2.4) */
#define TCP_RTO_MAX_MS		60000	/* RFC 6298 (2.5) */
#define TCP_RTO_INIT_MS		1000	/* RFC 6298 (2.1) */
#define TCP_RTO_SYN_MS		3000	/* RFC 6298 (5.7): after a lost SYN */
#define TCP_PERSMIN_MS		1000	/* zero-window probes: at least, */
#define TCP_PERSMAX_MS		60000	/* ... and at most this apart */
#define TCP_KEEPINIT_MS		75000	/* give up connecting */
#define TCP_KEEPIDLE_MS		(2 * 3600 * 1000) /* idle before probing */
#define TCP_KEEPINTVL_MS	75000	/* between probes */
#define TCP_KEEPCNT		8	/* unanswered probes before dropping */
#define TCP_FIN2_MS		60000	/* FIN_WAIT_2 of a closed socket */
#define TCP_MAXRXTSHIFT		12	/* retransmissions before dropping */
#define TCP_SYNACK_RETRIES	3	/* a half-open connection's SYN-ACKs */
#define TCP_DELACK_MS		200	/* RFC 9293 3.8.6.3: under 500 ms */

/*
 * Milliseconds as slow-timer ticks, rounded up, plus one: the first tick
 * may come at once, so n ticks last between n - 1 and n of them, and a
 * timer must not fire early (an RTO under 1 s: RFC 6298 2.4).
 */
#define TCP_MS_TO_TICKS(ms)						\
	((int)(((ms) + PR_SLOWHZ_MS - 1) / PR_SLOWHZ_MS) + 1)

struct tcpcb;

/* The slow and fast protocol timers (pr_slowtimo, pr_fasttimo). */
void	tcp_slowtimo(void);
void	tcp_fasttimo(void);
/* Arm a timer ms from now; cancel them all. */
void	tcp_timer_arm(struct tcpcb *tp, int timer, u_int32_t ms);
void	tcp_canceltimers(struct tcpcb *tp);
/* Run fn(tp, arg) on every connection, its socket locked, no other
 * lock held (the timers, the monitor).  A connection made meanwhile
 * waits for the next round.  May allocate; never sleeps otherwise. */
void	tcp_foreach(void (*fn)(struct tcpcb *tp, void *arg), void *arg);
/* The zero-window probe timer, backed off (tcp_output). */
void	tcp_setpersist(struct tcpcb *tp);

#endif /* _BSD_NETINET_TCP_TIMER_H_ */
