/*
 * TCP input (XNU and FreeBSD: tcp_input.c), written to be read next to
 * RFC 9293 section 3.10.7, "SEGMENT ARRIVES": check the segment, find
 * its connection, then in the RFC's order -- sequence number, RST, SYN,
 * ACK, urgent pointer, text, FIN -- with RFC 5961's defences (challenge
 * ACKs for RSTs and SYNs in the window, old and future ACKs), RFC 7323's
 * timestamps and PAWS, RFC 6298's RTT samples, RFC 5681 and RFC 6582's
 * congestion control and NewReno recovery.  On the inbound path of
 * docs/design.md this is the step between IP (ip_protox[]) and the
 * socket filters and receive buffer (sbappendstream).
 *
 * Socket filters run inside sonewconn, soisconnected, sbappendstream
 * and socantrcvmore, and release the socket's lock around each call into
 * a filter (socket_filter_var.h): after each such call, tcp_input looks
 * again whether the pcb is still the socket's (tcp_still_ours) before it
 * goes on.
 */
#include <sys/systm.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/protosw.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/tcp_var.h>

/* The options of a segment (RFC 9293 3.2, RFC 7323). */
struct tcpopt {
	u_int		to_flags;	/* TOF_* */
	u_int16_t	to_mss;
	u_char		to_wscale;
	u_int32_t	to_tsval;
	u_int32_t	to_tsecr;
};
#define TOF_MSS		0x1
#define TOF_SCALE	0x2
#define TOF_TS		0x4

/* A segment as the state machine sees it: host byte order, data
 * (m) without headers. */
struct tcpseg {
	tcp_seq		seq;
	tcp_seq		ack;
	int		flags;		/* TH_* */
	u_int32_t	win;		/* as sent: not yet scaled */
	bool		synwin;		/* it came in a SYN: never scaled */
	u_int16_t	urp;
	int		len;		/* data bytes */
	struct tcpopt	to;
	struct in_addr	src, dst;
	u_short		sport, dport;	/* network order */
};

/* What happens to a segment once the state machine is done with it. */
enum tcp_verdict {
	TCP_DONE,		/* processed (the segment is consumed) */
	TCP_DROP,		/* drop it silently */
	TCP_DROP_ACK,		/* drop it, answer with an ACK */
	TCP_DROP_RST,		/* drop it, answer with a RST */
};

/* ---- Checks and options ---- */

/* Parse the options; a malformed list ends the parse (counted). */
static void
tcp_dooptions(const u_char *cp, int cnt, int flags, struct tcpopt *to)
{
	int opt, optlen;
	u_int32_t v;

	bzero(to, sizeof(*to));
	for (; cnt > 0; cnt -= optlen, cp += optlen) {
		opt = cp[0];
		if (opt == TCPOPT_EOL)
			break;
		if (opt == TCPOPT_NOP) {
			optlen = 1;
			continue;
		}
		if (cnt < 2 || (optlen = cp[1]) < 2 || optlen > cnt) {
			NETSTAT_INC(tcpstat.tcps_rcvbadopt);
			break;
		}
		switch (opt) {
		case TCPOPT_MAXSEG:
			if (optlen != TCPOLEN_MAXSEG || !(flags & TH_SYN))
				continue;
			to->to_flags |= TOF_MSS;
			to->to_mss = (u_int16_t)(cp[2] << 8 | cp[3]);
			break;
		case TCPOPT_WINDOW:
			if (optlen != TCPOLEN_WINDOW || !(flags & TH_SYN))
				continue;
			to->to_flags |= TOF_SCALE;
			to->to_wscale = cp[2] > TCP_MAX_WINSHIFT ?
			    TCP_MAX_WINSHIFT : cp[2];	/* RFC 7323 2.3 */
			break;
		case TCPOPT_TIMESTAMP:
			if (optlen != TCPOLEN_TIMESTAMP)
				continue;
			to->to_flags |= TOF_TS;
			memcpy(&v, cp + 2, 4);
			to->to_tsval = ntohl(v);
			memcpy(&v, cp + 6, 4);
			to->to_tsecr = ntohl(v);
			break;
		default:
			break;
		}
	}
}

/*
 * Check the header and checksum, parse the options, strip the headers:
 * m then holds the data only.  NULL if the segment is good, else the
 * counter of the reason to drop it (m freed if pullup failed: *mp NULL).
 */
static volatile u_int32_t *
tcp_check(mbuf_t *mp, int hlen, struct tcpseg *seg)
{
	struct ip *ip = mbuf_data(*mp);
	struct tcphdr *th;
	int tlen, off;

	tlen = ntohs(ip->ip_len) - hlen;
	if (tlen < (int)sizeof(*th))
		return &tcpstat.tcps_rcvshort;
	if (mbuf_len(*mp) < hlen + sizeof(*th) &&
	    mbuf_pullup(mp, hlen + sizeof(*th)) != 0)
		return &tcpstat.tcps_nomem;
	ip = mbuf_data(*mp);
	if ((mbuf_flags(*mp) & (MBUF_BCAST | MBUF_MCAST)) ||
	    IN_MULTICAST(ntohl(ip->ip_dst.s_addr)) ||
	    in_is_broadcast(ip->ip_dst, mbuf_pkthdr_rcvif(*mp)))
		return &tcpstat.tcps_rcvmulti;
	if (in_cksum_mbuf(*mp, (size_t)hlen, (size_t)tlen,
	    in_pseudo(ip->ip_src.s_addr, ip->ip_dst.s_addr,
	    htons((u_int16_t)(tlen + IPPROTO_TCP)))) != 0)
		return &tcpstat.tcps_rcvbadsum;
	th = (struct tcphdr *)((char *)ip + hlen);
	off = th->th_off << 2;
	if (off < (int)sizeof(*th) || off > tlen)
		return &tcpstat.tcps_rcvbadoff;
	if (mbuf_len(*mp) < (size_t)(hlen + off) &&
	    mbuf_pullup(mp, (size_t)(hlen + off)) != 0)
		return &tcpstat.tcps_nomem;
	ip = mbuf_data(*mp);
	th = (struct tcphdr *)((char *)ip + hlen);
	seg->seq = ntohl(th->th_seq);
	seg->ack = ntohl(th->th_ack);
	seg->flags = th->th_flags;
	seg->win = ntohs(th->th_win);
	seg->synwin = (seg->flags & TH_SYN) != 0;
	seg->urp = ntohs(th->th_urp);
	seg->len = tlen - off;
	seg->src = ip->ip_src;
	seg->dst = ip->ip_dst;
	seg->sport = th->th_sport;
	seg->dport = th->th_dport;
	tcp_dooptions((const u_char *)(th + 1), off - (int)sizeof(*th),
	    seg->flags, &seg->to);
	mbuf_adj(*mp, hlen + off);
	return NULL;
}

/* SEG.LEN: the data, and the SYN and the FIN, which count. */
static int
tcp_seglen(const struct tcpseg *seg)
{
	return seg->len + ((seg->flags & TH_SYN) != 0) +
	    ((seg->flags & TH_FIN) != 0);
}

/*
 * A RST for a segment nobody wants (RFC 9293 3.10.7.1): never for a
 * RST.  If it had an ACK, <SEQ=SEG.ACK><CTL=RST>; else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 */
static void
tcp_reset_stray(const struct tcpseg *seg)
{
	if (seg->flags & TH_RST)
		return;
	if (seg->flags & TH_ACK)
		tcp_respond(NULL, seg->dst, seg->dport, seg->src, seg->sport,
		    seg->ack, 0, TH_RST);
	else
		tcp_respond(NULL, seg->dst, seg->dport, seg->src, seg->sport,
		    0, seg->seq + (tcp_seq)tcp_seglen(seg), TH_RST | TH_ACK);
}

/* Did a filter callback (or anyone, while the lock was out) close the
 * connection?  Returns the tcpcb if it is still inp's and alive. */
static struct tcpcb *
tcp_still_ours(struct socket *so, struct inpcb *inp)
{
	struct tcpcb *tp;

	if (so->so_pcb != inp || (tp = intotcpcb(inp)) == NULL ||
	    tp->t_state == TCPS_CLOSED) {
		NETSTAT_INC(tcpstat.tcps_gone);
		return NULL;
	}
	return tp;
}

/* SND.WND from the segment: shifted by the peer's scale, unless the
 * segment is a SYN (RFC 7323 2.2). */
static u_int32_t
tcp_seg_window(const struct tcpcb *tp, const struct tcpseg *seg)
{
	return seg->synwin ? seg->win : seg->win << tp->snd_scale;
}

/* ---- Round-trip time (RFC 6298 section 2) ---- */

void
tcp_xmit_timer(struct tcpcb *tp, u_int32_t rtt)
{
	int delta;
	u_int32_t rto;

	if (rtt == 0)
		rtt = 1;		/* the clock's granularity */
	/* A sample past the largest RTO tells nothing more, and a larger
	 * one would overflow the fixed point below. */
	if (rtt > TCP_RTO_MAX_MS)
		rtt = TCP_RTO_MAX_MS;
	NETSTAT_INC(tcpstat.tcps_rttupdated);
	if (tp->t_srtt == 0) {
		/* (2.2) SRTT = R, RTTVAR = R/2. */
		tp->t_srtt = (int)rtt << 3;
		tp->t_rttvar = (int)rtt << 1;
	} else {
		/* (2.3) RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, then
		 * SRTT = 7/8 SRTT + 1/8 R', in fixed point. */
		delta = (int)rtt - (tp->t_srtt >> 3);
		tp->t_rttvar += (delta < 0 ? -delta : delta) -
		    (tp->t_rttvar >> 2);
		tp->t_srtt += delta;
		if (tp->t_srtt <= 0)
			tp->t_srtt = 1;
	}
	rto = (u_int32_t)((tp->t_srtt >> 3) + tp->t_rttvar);
	tp->t_rxtcur = rto < TCP_RTO_MIN_MS ? TCP_RTO_MIN_MS :
	    rto > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : rto;
	tp->t_rxtshift = 0;
}

/* ---- Options of a SYN ---- */

/* The peer's SYN: which of window scaling and timestamps both sides
 * use (RFC 7323 1.3), and the MSS. */
static void
tcp_syn_options(struct tcpcb *tp, const struct tcpseg *seg)
{
	if (tp->t_flags & TF_NOOPT)		/* we offer none */
		tp->t_flags &= ~(TF_REQ_SCALE | TF_REQ_TSTMP);
	if ((seg->to.to_flags & TOF_SCALE) && (tp->t_flags & TF_REQ_SCALE)) {
		tp->t_flags |= TF_RCVD_SCALE;
		tp->snd_scale = seg->to.to_wscale;
		tp->rcv_scale = tp->request_r_scale;
	} else {
		tp->t_flags &= ~TF_REQ_SCALE;
		tp->snd_scale = tp->rcv_scale = 0;
	}
	if ((seg->to.to_flags & TOF_TS) && (tp->t_flags & TF_REQ_TSTMP)) {
		tp->t_flags |= TF_RCVD_TSTMP;
		tp->ts_recent = seg->to.to_tsval;
		tp->ts_recent_age = tcp_now_ms();
	} else {
		tp->t_flags &= ~TF_REQ_TSTMP;
	}
	tcp_mss_update(tp, (seg->to.to_flags & TOF_MSS) ? seg->to.to_mss : 0);
}

/* The connection is established: the windows, the keepalive timer,
 * the socket told.  May release the lock (soisconnected): re-check. */
static struct tcpcb *
tcp_established(struct tcpcb *tp, const struct tcpseg *seg)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;

	tp->t_state = TCPS_ESTABLISHED;
	NETSTAT_INC(tcpstat.tcps_connects);
	/* RFC 6298 (5.7): a SYN sent again left no RTT sample; data starts
	 * with a 3 s RTO. */
	if (tp->t_rxtshift > 0 && tp->t_srtt == 0)
		tp->t_rxtcur = TCP_RTO_SYN_MS;
	tp->t_rxtshift = 0;
	tp->snd_wl1 = seg->seq;
	tp->snd_wl2 = seg->ack;
	tcp_timer_arm(tp, TCPT_KEEP, tp->t_keepidle);
	soisconnected(so);
	return tcp_still_ours(so, inp);
}

/* ---- LISTEN (RFC 9293 3.10.7.2) ---- */

/*
 * A full SYN queue: drop the oldest half-open connection to make room,
 * silently (a flood's sources are mostly forged).  head locked.
 */
static void
tcp_synq_make_room(struct socket *head)
{
	struct socket *sp;

	if (head->so_qlen <= 3 * head->so_qlimit / 2 || head->so_incqlen == 0)
		return;
	sp = TAILQ_FIRST(&head->so_incomp);
	socket_lock(sp, 0);
	so_unqueue(head, sp);		/* the queue's reference is ours */
	if (sp->so_pcb != NULL && sototcpcb(sp) != NULL) {
		NETSTAT_INC(tcpstat.tcps_synflood);
		tcp_close(sototcpcb(sp));
	}
	socket_unlock(sp, 1);		/* freed */
}

/* A connection of head was refused after sonewconn queued it: take it
 * back.  head and so unlocked, so referenced (the caller's). */
static void
tcp_newconn_abort(struct socket *head, struct socket *so)
{
	socket_lock(head, 0);
	socket_lock(so, 0);
	if (so->so_head == head) {
		so_unqueue(head, so);	/* the owner's reference: ours */
		sorelease_notlast(so);
	}
	if (so->so_pcb != NULL && sototcpcb(so) != NULL)
		tcp_close(sototcpcb(so));
	lck_mtx_unlock(so->so_mtx);
	socket_unlock(head, 0);
	socket_lock(so, 0);
	socket_unlock(so, 1);
}

/*
 * A segment to a listener.  Drops RSTs, answers ACKs with a RST, and
 * for a SYN makes the new connection in SYN_RECEIVED on the listener's
 * incomplete queue and sends the SYN-ACK.  Unlocks head and drops the
 * lookup's reference on it.  Consumes m.
 */
static void
tcp_input_listen(struct socket *head, struct tcpcb *ltp,
    struct tcpseg *seg, mbuf_t m)
{
	struct inpcb *linp = ltp->t_inpcb, *inp;
	struct sockaddr_in from;
	struct socket *so;
	struct tcpcb *tp;
	u_int32_t lflags = ltp->t_flags, keepidle = ltp->t_keepidle;
	u_char ttl = linp->inp_ip_ttl, tos = linp->inp_ip_tos;

	mbuf_freem(m);		/* data in a SYN waits for its resend */
	if (seg->flags & TH_RST) {
		NETSTAT_INC(tcpstat.tcps_listen_rst);
		goto unlock;
	}
	if (seg->flags & TH_ACK) {
		NETSTAT_INC(tcpstat.tcps_listen_ack);
		tcp_reset_stray(seg);
		goto unlock;
	}
	if (!(seg->flags & TH_SYN)) {
		NETSTAT_INC(tcpstat.tcps_listen_nosyn);
		goto unlock;
	}
	tcp_synq_make_room(head);
	bzero(&from, sizeof(from));
	from.sin_len = sizeof(from);
	from.sin_family = AF_INET;
	from.sin_addr = seg->src;
	from.sin_port = seg->sport;
	/* sf_connect_in runs in here. */
	so = sonewconn(head, 0, (struct sockaddr *)&from);
	if (so == NULL) {
		NETSTAT_INC(tcpstat.tcps_listendrop);
		goto unlock;
	}
	if (head->so_pcb != linp || !(head->so_options & SO_ACCEPTCONN)) {
		/* The listener closed while a filter had the lock. */
		NETSTAT_INC(tcpstat.tcps_gone);
		socket_unlock(head, 0);
		tcp_newconn_abort(head, so);
		socket_lock(head, 0);
		goto unlock;
	}
	socket_unlock(head, 1);

	socket_lock(so, 0);
	inp = sotoinpcb(so);
	if (inp == NULL || (tp = intotcpcb(inp)) == NULL) {
		NETSTAT_INC(tcpstat.tcps_gone);
		goto done;
	}
	if (in_pcbsetaddr(inp, seg->dst, seg->dport, seg->src,
	    seg->sport) != 0) {
		NETSTAT_INC(tcpstat.tcps_listendrop);
		tcp_close(tp);
		goto done;
	}
	NETSTAT_INC(tcpstat.tcps_accepts);
	inp->inp_ip_ttl = ttl;
	inp->inp_ip_tos = tos;
	tp->t_flags = (tp->t_flags & ~(TF_NODELAY | TF_NOOPT)) |
	    (lflags & (TF_NODELAY | TF_NOOPT)) | TF_PASSIVE | TF_ACKNOW;
	tp->t_keepidle = keepidle;
	tp->request_r_scale = tcp_rscale(so->so_rcv.sb_hiwat);
	tp->irs = seg->seq;
	tp->rcv_nxt = tp->rcv_adv = tp->rcv_up = seg->seq + 1;
	tp->iss = tcp_new_isn(seg->dst, seg->dport, seg->src, seg->sport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_up = tp->iss;
	tp->snd_recover = tp->iss;
	tcp_syn_options(tp, seg);
	tp->snd_wnd = seg->win;		/* a SYN's window is not scaled */
	tp->snd_wl1 = seg->seq;
	tp->t_state = TCPS_SYN_RECEIVED;
	tcp_timer_arm(tp, TCPT_KEEP, TCP_KEEPINIT_MS);
	tcp_output(tp);
done:
	socket_unlock(so, 1);
	return;
unlock:
	socket_unlock(head, 1);
}

/* ---- SYN_SENT (RFC 9293 3.10.7.3) ---- */

static enum tcp_verdict
tcp_syn_sent(struct tcpcb *tp, struct tcpseg *seg)
{
	if ((seg->flags & TH_ACK) && (SEQ_LEQ(seg->ack, tp->iss) ||
	    SEQ_GT(seg->ack, tp->snd_max))) {
		NETSTAT_INC(tcpstat.tcps_badsynack);
		return (seg->flags & TH_RST) ? TCP_DROP : TCP_DROP_RST;
	}
	if (seg->flags & TH_RST) {
		if (seg->flags & TH_ACK)	/* "connection refused" */
			tcp_drop(tp, ECONNREFUSED);
		return TCP_DONE;
	}
	if (!(seg->flags & TH_SYN)) {
		NETSTAT_INC(tcpstat.tcps_synsent_noflags);
		return TCP_DROP;
	}
	tp->irs = seg->seq;
	tp->rcv_nxt = tp->rcv_adv = tp->rcv_up = seg->seq + 1;
	tcp_syn_options(tp, seg);
	tp->snd_wnd = seg->win;		/* a SYN's window is not scaled */
	if (tp->snd_wnd > tp->max_sndwnd)
		tp->max_sndwnd = tp->snd_wnd;
	tp->t_flags |= TF_ACKNOW;
	tp->t_timer[TCPT_REXMT] = 0;
	if (!(seg->flags & TH_ACK)) {
		/* Simultaneous open: our SYN again, with an ACK. */
		tp->t_state = TCPS_SYN_RECEIVED;
		tp->snd_nxt = tp->iss;
		tp->snd_wl1 = seg->seq - 1;
		tp->t_rtttime = 0;
		tcp_output(tp);
		return TCP_DONE;
	}
	tp->snd_una = seg->ack;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	if (tp->t_rtttime != 0 && SEQ_GT(seg->ack, tp->t_rtseq)) {
		tcp_xmit_timer(tp, (u_int32_t)((tcp_now_ns() - tp->t_rtttime) /
		    1000000));
		tp->t_rtttime = 0;
	}
	if ((tp = tcp_established(tp, seg)) == NULL)
		return TCP_DONE;
	/* Data or a FIN riding on the SYN-ACK is not taken: the peer sends
	 * it again, after our ACK. */
	tcp_output(tp);
	return TCP_DONE;
}

/* ---- The synchronized states ---- */

/* RCV.WND: what we offer now, never less than we advertised. */
static long
tcp_rcv_window(struct tcpcb *tp, struct socket *so)
{
	long win = sbspace(&so->so_rcv);

	if (win < (long)(tp->rcv_adv - tp->rcv_nxt))
		win = (long)(tp->rcv_adv - tp->rcv_nxt);
	return win < 0 ? 0 : win;
}

/*
 * A RST (RFC 9293 3.10.7.4 second, RFC 5961 3.2): only one exactly at
 * RCV.NXT resets the connection; one elsewhere in the window earns a
 * challenge ACK, one outside it nothing.
 */
static enum tcp_verdict
tcp_input_rst(struct tcpcb *tp, struct tcpseg *seg, long win)
{
	struct socket *so = tp->t_inpcb->inp_socket;

	if (seg->seq != tp->rcv_nxt) {
		if (SEQ_GEQ(seg->seq, tp->rcv_nxt) &&
		    SEQ_LT(seg->seq, tp->rcv_nxt + (tcp_seq)(win > 0 ? win : 1))) {
			NETSTAT_INC(tcpstat.tcps_rst_challenge);
			tcp_challenge_ack(tp);
		} else {
			NETSTAT_INC(tcpstat.tcps_rst_badseq);
		}
		return TCP_DROP;
	}
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
		/* Passive: the request goes (back to LISTEN, for the
		 * listener); active: the peer refused. */
		so->so_error = (tp->t_flags & TF_PASSIVE) ? 0 : ECONNREFUSED;
		NETSTAT_INC(tcpstat.tcps_conndrops);
		break;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
		so->so_error = ECONNRESET;
		NETSTAT_INC(tcpstat.tcps_drops);
		break;
	default:			/* CLOSING, LAST_ACK, TIME_WAIT */
		break;
	}
	tcp_close(tp);
	return TCP_DONE;
}

/*
 * Trim the segment to the window (RFC 9293 3.10.7.4 first): bytes
 * before RCV.NXT are duplicates, bytes past RCV.NXT+RCV.WND do not fit.
 * TCP_DONE to go on with what is left (the ACK field counts even when
 * no byte does), else what to do with it.
 */
static enum tcp_verdict
tcp_trim(struct tcpcb *tp, struct tcpseg *seg, mbuf_t m, long win)
{
	int todrop;

	todrop = (int)(tp->rcv_nxt - seg->seq);
	if (todrop > 0) {
		if (todrop > seg->len ||
		    (todrop == seg->len && !(seg->flags & TH_FIN))) {
			/* All old: ACK it (the peer may have lost ours),
			 * but let its ACK field be processed. */
			if (seg->len > 0 || (seg->flags & TH_FIN)) {
				NETSTAT_INC(tcpstat.tcps_rcvduppack);
				NETSTAT_ADD(tcpstat.tcps_rcvdupbyte,
				    (u_int32_t)seg->len);
				tp->t_flags |= TF_ACKNOW;
			}
			seg->flags &= ~TH_FIN;
			todrop = seg->len;
		} else {
			NETSTAT_ADD(tcpstat.tcps_rcvpartdupbyte,
			    (u_int32_t)todrop);
		}
		mbuf_adj(m, todrop);
		seg->seq += (tcp_seq)todrop;
		seg->len -= todrop;
		seg->urp = seg->urp > todrop ? (u_int16_t)(seg->urp - todrop) :
		    0;
		if (seg->urp == 0)
			seg->flags &= ~TH_URG;
	}
	todrop = (int)(seg->seq + (tcp_seq)seg->len - (tp->rcv_nxt +
	    (tcp_seq)win));
	if (todrop > 0) {
		if (todrop >= seg->len) {
			if (win == 0 && seg->seq == tp->rcv_nxt) {
				/* A zero-window probe: answer it, and let
				 * its ACK field count. */
				NETSTAT_INC(tcpstat.tcps_rcvwinprobe);
				tp->t_flags |= TF_ACKNOW;
			} else {
				NETSTAT_INC(tcpstat.tcps_outofwin);
				return TCP_DROP_ACK;
			}
		}
		if (todrop > seg->len)
			todrop = seg->len;
		NETSTAT_ADD(tcpstat.tcps_rcvafterwin, (u_int32_t)todrop);
		mbuf_adj(m, -todrop);
		seg->len -= todrop;
		seg->flags &= ~(TH_PUSH | TH_FIN);
	}
	return TCP_DONE;
}

/* NewReno (RFC 6582 3.2) after three duplicate ACKs: retransmit the
 * first unacknowledged segment, halve, inflate by the three. */
static void
tcp_fast_retransmit(struct tcpcb *tp)
{
	u_int32_t flight = tp->snd_max - tp->snd_una;
	tcp_seq onxt = tp->snd_nxt;

	NETSTAT_INC(tcpstat.tcps_fastrexmt);
	tp->snd_ssthresh = flight / 2 > 2 * tp->t_maxseg ? flight / 2 :
	    2 * tp->t_maxseg;
	tp->snd_recover = tp->snd_max;
	tp->t_flags |= TF_FASTRECOVERY;
	tp->t_timer[TCPT_REXMT] = 0;
	tp->t_rtttime = 0;
	tp->snd_nxt = tp->snd_una;
	tp->snd_cwnd = tp->t_maxseg;
	tcp_output(tp);
	tp->snd_cwnd = tp->snd_ssthresh + 3 * tp->t_maxseg;
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
}

/* A partial ACK in recovery (RFC 6582 3.2 step 5): the next hole. */
static void
tcp_partial_ack(struct tcpcb *tp, u_int32_t acked)
{
	tcp_seq onxt = tp->snd_nxt;
	u_int32_t ocwnd = tp->snd_cwnd;

	NETSTAT_INC(tcpstat.tcps_partialack);
	tp->t_timer[TCPT_REXMT] = 0;
	tp->t_rtttime = 0;
	tp->snd_nxt = tp->snd_una;
	tp->snd_cwnd = tp->t_maxseg;
	tcp_output(tp);
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
	/* Deflate by what was acknowledged, add back one segment. */
	tp->snd_cwnd = ocwnd > acked ? ocwnd - acked + tp->t_maxseg :
	    tp->t_maxseg;
}

/* Duplicate ACK bookkeeping (RFC 5681 3.2).  true: the segment was a
 * duplicate ACK and nothing else -- done with it. */
static bool
tcp_dupack(struct tcpcb *tp, const struct tcpseg *seg, u_int32_t tiwin)
{
	if (seg->len != 0 || tiwin != tp->snd_wnd ||
	    (seg->flags & (TH_SYN | TH_FIN)) || tp->snd_max == tp->snd_una ||
	    seg->ack != tp->snd_una) {
		tp->t_dupacks = 0;
		return false;
	}
	NETSTAT_INC(tcpstat.tcps_rcvdupack);
	if (tp->t_timer[TCPT_REXMT] == 0) {
		tp->t_dupacks = 0;
		return true;
	}
	if (++tp->t_dupacks == 3) {
		/* RFC 6582 (4.1): not again for losses of the same window. */
		if (!(tp->t_flags & TF_FASTRECOVERY) &&
		    SEQ_GT(seg->ack, tp->snd_recover))
			tcp_fast_retransmit(tp);
		else if (!(tp->t_flags & TF_FASTRECOVERY))
			tp->t_dupacks = 0;
	} else if (tp->t_dupacks > 3 && (tp->t_flags & TF_FASTRECOVERY)) {
		tp->snd_cwnd += tp->t_maxseg;	/* a segment left the net */
		tcp_output(tp);
	}
	return true;
}

/* Open the congestion window for acked new bytes (RFC 5681 3.1). */
static void
tcp_cwnd_grow(struct tcpcb *tp, u_int32_t acked)
{
	u_int32_t incr = tp->t_maxseg;

	if (tp->snd_cwnd < tp->snd_ssthresh) {
		/* Slow start, counting bytes (RFC 3465, L = 2 SMSS). */
		incr = acked < 2 * tp->t_maxseg ? acked : 2 * tp->t_maxseg;
	} else {
		/* Congestion avoidance: one segment per window acked. */
		tp->t_bytes_acked += acked;
		if (tp->t_bytes_acked < tp->snd_cwnd)
			return;
		tp->t_bytes_acked -= tp->snd_cwnd;
	}
	if (tp->snd_cwnd + incr <= (u_int32_t)TCP_MAXWIN << tp->snd_scale)
		tp->snd_cwnd += incr;
}

/*
 * The ACK field (RFC 9293 3.10.7.4 fifth, RFC 5961 5.2) in ESTABLISHED
 * and after.  Returns TCP_DONE to go on with the segment (tp may have
 * moved on to TIME_WAIT: see *tpp, NULL if closed), or a verdict.
 */
static enum tcp_verdict
tcp_input_ack(struct tcpcb **tpp, struct tcpseg *seg, bool *needoutput)
{
	struct tcpcb *tp = *tpp;
	struct socket *so = tp->t_inpcb->inp_socket;
	u_int32_t tiwin = tcp_seg_window(tp, seg), acked;
	bool ourfinisacked = false;

	if (SEQ_GT(seg->ack, tp->snd_max)) {
		NETSTAT_INC(tcpstat.tcps_ackfuture);
		return TCP_DROP_ACK;
	}
	if (SEQ_LT(seg->ack, tp->snd_una - tp->max_sndwnd)) {
		NETSTAT_INC(tcpstat.tcps_ackold);
		tcp_challenge_ack(tp);
		return TCP_DROP;
	}
	if (SEQ_LEQ(seg->ack, tp->snd_una)) {
		if (tcp_dupack(tp, seg, tiwin))
			return TCP_DROP;
		goto window;
	}

	/* New data is acknowledged. */
	acked = seg->ack - tp->snd_una;
	NETSTAT_INC(tcpstat.tcps_rcvackpack);
	NETSTAT_ADD(tcpstat.tcps_rcvackbyte, acked);
	/* An RTT sample (RFC 7323 4.1 with timestamps -- never an echo of
	 * a time still to come -- else the timed segment; Karn's rule
	 * cleared t_rtttime on retransmission). */
	if ((seg->to.to_flags & TOF_TS) && seg->to.to_tsecr != 0 &&
	    (tp->t_flags & TF_RCVD_TSTMP) &&
	    TSTMP_GEQ(tcp_ts_now(), seg->to.to_tsecr))
		tcp_xmit_timer(tp, tcp_ts_now() - seg->to.to_tsecr);
	else if (tp->t_rtttime != 0 && SEQ_GT(seg->ack, tp->t_rtseq))
		tcp_xmit_timer(tp, (u_int32_t)((tcp_now_ns() - tp->t_rtttime) /
		    1000000));
	if (tp->t_rtttime != 0 && SEQ_GT(seg->ack, tp->t_rtseq))
		tp->t_rtttime = 0;
	/* RFC 6298 (5.2, 5.3): all acked, timer off; else restart it. */
	if (seg->ack == tp->snd_max)
		tp->t_timer[TCPT_REXMT] = 0;
	else if (tp->t_timer[TCPT_PERSIST] == 0)
		tcp_timer_arm(tp, TCPT_REXMT, tp->t_rxtcur);
	/* The acknowledged bytes leave the send buffer: snd_una is its
	 * first byte again. */
	if (acked > so->so_snd.sb_cc) {
		/* Our FIN is acknowledged too. */
		tp->snd_wnd -= so->so_snd.sb_cc < tp->snd_wnd ?
		    so->so_snd.sb_cc : tp->snd_wnd;
		sbdrop(&so->so_snd, (int)so->so_snd.sb_cc);
		ourfinisacked = (tp->t_flags & TF_SENTFIN) != 0;
	} else {
		sbdrop(&so->so_snd, (int)acked);
		tp->snd_wnd -= acked < tp->snd_wnd ? acked : tp->snd_wnd;
	}
	sowwakeup(so);
	tp->snd_una = seg->ack;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	*needoutput = true;
	/* Congestion control, once the buffer matches snd_una. */
	if (!(tp->t_flags & TF_FASTRECOVERY)) {
		tp->t_dupacks = 0;
		tcp_cwnd_grow(tp, acked);
	} else if (SEQ_LT(seg->ack, tp->snd_recover)) {
		tcp_partial_ack(tp, acked);
	} else {
		/* Full ACK: recovery is over (RFC 6582 3.2 step 3). */
		u_int32_t flight = tp->snd_max - seg->ack;

		tp->t_flags &= ~TF_FASTRECOVERY;
		tp->snd_cwnd = flight + tp->t_maxseg < tp->snd_ssthresh ?
		    flight + tp->t_maxseg : tp->snd_ssthresh;
		tp->t_dupacks = 0;
	}

	if (ourfinisacked) {
		switch (tp->t_state) {
		case TCPS_FIN_WAIT_1:
			tp->t_state = TCPS_FIN_WAIT_2;
			/* A closed socket waits for the peer's FIN only so
			 * long (the peer may be gone). */
			if (so->so_state & SS_CANTRCVMORE) {
				tcp_timer_arm(tp, TCPT_2MSL, TCP_FIN2_MS);
				soisdisconnected(so);
				*tpp = tcp_still_ours(so, tp->t_inpcb);
				if (*tpp == NULL)
					return TCP_DROP;
				tp = *tpp;
			}
			break;
		case TCPS_CLOSING:
			*tpp = tcp_timewait(tp);
			return TCP_DROP;
		case TCPS_LAST_ACK:
			*tpp = tcp_close(tp);
			return TCP_DONE;
		default:
			break;
		}
	}
window:
	/* The send window (3.10.7.4 fifth, ESTABLISHED): from a newer
	 * segment, or the same one acknowledging more. */
	if (SEQ_LT(tp->snd_wl1, seg->seq) || (tp->snd_wl1 == seg->seq &&
	    SEQ_LEQ(tp->snd_wl2, seg->ack))) {
		if (seg->len == 0 && tp->snd_wl2 == seg->ack &&
		    tiwin > tp->snd_wnd)
			NETSTAT_INC(tcpstat.tcps_rcvwinupd);
		if (tiwin > tp->snd_wnd)
			*needoutput = true;
		if (tiwin > 0 && tp->t_timer[TCPT_PERSIST] != 0) {
			tp->t_timer[TCPT_PERSIST] = 0;	/* open again */
			tp->t_rxtshift = 0;
		}
		tp->snd_wnd = tiwin;
		tp->snd_wl1 = seg->seq;
		tp->snd_wl2 = seg->ack;
		if (tp->snd_wnd > tp->max_sndwnd)
			tp->max_sndwnd = tp->snd_wnd;
	}
	if (tp->t_state == TCPS_TIME_WAIT) {
		/* Only the peer's FIN can come again: ACK it, restart. */
		tcp_timer_arm(tp, TCPT_2MSL, 2 * TCP_MSL_MS);
		return TCP_DROP_ACK;
	}
	return TCP_DONE;
}

/*
 * The urgent pointer (RFC 9293 3.10.7.4 sixth, RFC 6093): it points
 * just past the last urgent byte, and the urgent data stays in line
 * with the rest (RFC 6093 section 5: there is no out-of-band byte to
 * read).  TCP notes the mark (so_oobmark, SIOCATMARK when it is at the
 * front) and wakes the reader; the socket layer does not stop a read
 * at the mark.
 */
static void
tcp_input_urg(struct tcpcb *tp, const struct tcpseg *seg)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	tcp_seq up;

	if ((seg->flags & TH_URG) && seg->urp > 0 &&
	    !TCPS_HAVERCVDFIN(tp->t_state)) {
		up = seg->seq + seg->urp;
		if (SEQ_GT(up, tp->rcv_up)) {
			NETSTAT_INC(tcpstat.tcps_rcvurg);
			tp->rcv_up = up;
			so->so_oobmark = so->so_rcv.sb_cc +
			    (up - tp->rcv_nxt) - 1;
			if (so->so_oobmark == 0)
				so->so_state |= SS_RCVATMARK;
			sohasoutofband(so);
		}
	}
	if (SEQ_GT(tp->rcv_nxt, tp->rcv_up))
		tp->rcv_up = tp->rcv_nxt;
}

/* Hand in-order data to the socket: sf_data_in runs inside. */
static void
tcp_deliver(struct socket *so, mbuf_t m)
{
	errno_t error;

	if (m == NULL)
		return;
	if (so->so_state & SS_CANTRCVMORE) {
		m_freem(m);		/* shut down for reading */
		return;
	}
	error = sbappendstream(&so->so_rcv, m);
	if (error == 0)
		sorwakeup(so);
	else
		NETSTAT_INC(tcpstat.tcps_filtered);
}

/*
 * The text and the FIN (3.10.7.4 seventh and eighth).  Consumes m.
 * Returns tp, or NULL if the connection is gone (closed here, or by
 * someone while a filter had the lock).
 */
static struct tcpcb *
tcp_input_data(struct tcpcb *tp, struct tcpseg *seg, mbuf_t m)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;
	mbuf_t inorder = NULL;
	int fin = 0;

	if ((seg->len == 0 && !(seg->flags & TH_FIN)) ||
	    TCPS_HAVERCVDFIN(tp->t_state)) {
		mbuf_freem(m);
		return tp;
	}
	if (seg->seq == tp->rcv_nxt && TAILQ_EMPTY(&tp->t_segq)) {
		/* In order, the usual case: ACK every second full segment
		 * at once (RFC 9293 3.8.6.3), the others after a delay. */
		tp->rcv_nxt += (tcp_seq)seg->len;
		if (seg->len > 0) {
			NETSTAT_INC(tcpstat.tcps_rcvpack);
			NETSTAT_ADD(tcpstat.tcps_rcvbyte, (u_int32_t)seg->len);
			if (++tp->t_segs_unacked >= 2 ||
			    (seg->flags & TH_PUSH && seg->len < (int)tp->t_maxseg))
				tp->t_flags |= TF_ACKNOW;
			else
				tp->t_flags |= TF_DELACK;
			inorder = m;
		} else {
			mbuf_freem(m);
		}
		fin = (seg->flags & TH_FIN) != 0;
	} else {
		/* Out of order, or filling a hole: ACK at once (RFC 5681
		 * 4.2) so that the sender learns of the hole. */
		tcp_reass(tp, seg->seq, seg->len, (seg->flags & TH_FIN) != 0,
		    m, &inorder, &fin);
		tp->t_flags |= TF_ACKNOW;
	}
	tcp_deliver(so, inorder);
	if ((tp = tcp_still_ours(so, inp)) == NULL)
		return NULL;
	if (!fin)
		return tp;

	/* The FIN: the peer sends no more. */
	tp->rcv_nxt++;
	tp->t_flags |= TF_ACKNOW;
	tp->t_flags &= ~TF_DELACK;
	socantrcvmore(so);
	if ((tp = tcp_still_ours(so, inp)) == NULL)
		return NULL;
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		tp->t_state = TCPS_CLOSE_WAIT;
		break;
	case TCPS_FIN_WAIT_1:
		tp->t_state = TCPS_CLOSING;	/* simultaneous close */
		break;
	case TCPS_FIN_WAIT_2:
		return tcp_timewait(tp);
	default:
		break;
	}
	return tp;
}

/*
 * Everything but LISTEN and SYN_SENT, in RFC 9293's order.  Consumes m
 * (by the verdict it returns, for the caller).
 */
static enum tcp_verdict
tcp_input_synced(struct tcpcb *tp, struct tcpseg *seg, mbuf_t *mp)
{
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;
	enum tcp_verdict v;
	bool needoutput = false;
	long win = tcp_rcv_window(tp, so);

	/* PAWS (RFC 7323 5.3): an old timestamp is an old duplicate. */
	if ((seg->to.to_flags & TOF_TS) && (tp->t_flags & TF_RCVD_TSTMP) &&
	    !(seg->flags & TH_RST) && tp->ts_recent != 0 &&
	    TSTMP_LT(seg->to.to_tsval, tp->ts_recent)) {
		if (tcp_now_ms() - tp->ts_recent_age > 24ULL * 24 * 3600 * 1000) {
			tp->ts_recent = 0;	/* too old to compare */
		} else {
			NETSTAT_INC(tcpstat.tcps_paws);
			return (seg->flags & TH_RST) ? TCP_DROP : TCP_DROP_ACK;
		}
	}
	/* second: RST. */
	if (seg->flags & TH_RST)
		return tcp_input_rst(tp, seg, win);
	/*
	 * fourth: SYN (RFC 5961 4.2), before trimming hides it.  In
	 * SYN_RECEIVED the peer's own SYN may come again: with an ACK of
	 * ours (a simultaneous open's SYN-ACK) it is that ACK that counts;
	 * alone, our SYN-ACK was lost: send it again.
	 */
	if ((seg->flags & TH_SYN) && tp->t_state == TCPS_SYN_RECEIVED &&
	    seg->seq == tp->irs) {
		if (!(seg->flags & TH_ACK) || SEQ_LEQ(seg->ack, tp->snd_una) ||
		    SEQ_GT(seg->ack, tp->snd_max)) {
			tp->snd_nxt = tp->iss;
			tp->t_flags |= TF_ACKNOW;
			tcp_output(tp);
			return TCP_DROP;
		}
		seg->flags &= ~TH_SYN;
		seg->seq++;
	}
	if (seg->flags & TH_SYN) {
		NETSTAT_INC(tcpstat.tcps_syn_challenge);
		tcp_challenge_ack(tp);
		return TCP_DROP;
	}
	/* first: the sequence number. */
	if ((v = tcp_trim(tp, seg, *mp, win)) != TCP_DONE)
		return v;
	/* Timestamps (RFC 7323 4.3): remember the one to echo. */
	if ((seg->to.to_flags & TOF_TS) && (tp->t_flags & TF_RCVD_TSTMP) &&
	    SEQ_LEQ(seg->seq, tp->last_ack_sent) &&
	    TSTMP_GEQ(seg->to.to_tsval, tp->ts_recent)) {
		tp->ts_recent = seg->to.to_tsval;
		tp->ts_recent_age = tcp_now_ms();
	}
	/* Data for a socket its owner closed has nowhere to go. */
	if ((so->so_state & SS_NOFDREF) && tp->t_state > TCPS_CLOSE_WAIT &&
	    seg->len > 0) {
		NETSTAT_INC(tcpstat.tcps_rcvafterclose);
		tcp_close(tp);
		return TCP_DROP_RST;
	}
	/* fifth: the ACK field. */
	if (!(seg->flags & TH_ACK)) {
		NETSTAT_INC(tcpstat.tcps_noack);
		return TCP_DROP;
	}
	if (tp->t_state == TCPS_SYN_RECEIVED) {
		if (SEQ_LEQ(seg->ack, tp->snd_una) ||
		    SEQ_GT(seg->ack, tp->snd_max)) {
			NETSTAT_INC(tcpstat.tcps_synrcvd_badack);
			return TCP_DROP_RST;
		}
		if (tp->t_rtttime != 0 && SEQ_GT(seg->ack, tp->t_rtseq)) {
			tcp_xmit_timer(tp, (u_int32_t)((tcp_now_ns() -
			    tp->t_rtttime) / 1000000));
			tp->t_rtttime = 0;
		}
		tp->t_flags &= ~TF_PASSIVE;	/* no longer a SYN-queue entry */
		if ((tp = tcp_established(tp, seg)) == NULL)
			return TCP_DROP;
		/* ... and on to the ACK of our SYN below. */
		tp->snd_una++;
		if (tp->t_state == TCPS_ESTABLISHED && SEQ_LT(tp->snd_nxt,
		    tp->snd_una))
			tp->snd_nxt = tp->snd_una;
		tp->snd_wnd = tcp_seg_window(tp, seg);
		tp->snd_wl1 = seg->seq - 1;	/* the update below takes it */
		tp->t_timer[TCPT_REXMT] = 0;
		if (tp->t_flags & TF_NEEDFIN) {
			/* Closed in SYN_RECEIVED: now the FIN (3.10.4). */
			tp->t_flags &= ~TF_NEEDFIN;
			tp->t_state = TCPS_FIN_WAIT_1;
			needoutput = true;
		}
	}
	v = tcp_input_ack(&tp, seg, &needoutput);
	if (tp == NULL || v != TCP_DONE)
		return tp == NULL ? TCP_DROP : v;
	/* sixth and seventh and eighth. */
	tcp_input_urg(tp, seg);
	tp = tcp_input_data(tp, seg, *mp);
	*mp = NULL;
	if (tp != NULL && (needoutput || (tp->t_flags & TF_ACKNOW)))
		tcp_output(tp);
	return TCP_DONE;
}

/* ---- The entry point ---- */

/*
 * A SYN for a 4-tuple in TIME_WAIT may open a new connection if it
 * cannot be an old duplicate: its sequence number is past everything
 * the old connection used, or its timestamp is newer (RFC 9293 3.6.1,
 * RFC 6191).  Clients that reuse ports quickly need this.
 */
static bool
tcp_timewait_reopens(const struct tcpcb *tp, const struct tcpseg *seg)
{
	if (tp->t_state != TCPS_TIME_WAIT ||
	    (seg->flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN)
		return false;
	if ((seg->to.to_flags & TOF_TS) && (tp->t_flags & TF_RCVD_TSTMP))
		return TSTMP_LT(tp->ts_recent, seg->to.to_tsval);
	return SEQ_GT(seg->seq, tp->rcv_nxt);
}

void
tcp_input(mbuf_t m, int hlen)
{
	volatile u_int32_t *reason;
	struct tcpseg seg;
	struct inpcb *inp;
	struct socket *so;
	struct tcpcb *tp;
	enum tcp_verdict v;

	NETSTAT_INC(tcpstat.tcps_rcvtotal);
	if ((reason = tcp_check(&m, hlen, &seg)) != NULL) {
		NETSTAT_INC(*reason);
		if (m != NULL)
			mbuf_freem(m);
		return;
	}
findpcb:
	inp = in_pcblookup_hash(&tcbinfo, seg.src, seg.sport, seg.dst,
	    seg.dport, true);
	if (inp == NULL) {
		NETSTAT_INC(tcpstat.tcps_noport);
		tcp_reset_stray(&seg);
		mbuf_freem(m);
		return;
	}
	so = inp->inp_socket;
	socket_lock(so, 0);
	if (so->so_pcb != inp || (tp = intotcpcb(inp)) == NULL ||
	    tp->t_state == TCPS_CLOSED) {
		NETSTAT_INC(tcpstat.tcps_rcvclosed);
		v = TCP_DROP_RST;
		goto out;
	}
	if (tp->t_state == TCPS_LISTEN) {
		tcp_input_listen(so, tp, &seg, m);	/* unlocks so */
		return;
	}
	if (tcp_timewait_reopens(tp, &seg)) {
		/* A new incarnation of the 4-tuple: TIME_WAIT gives way, and
		 * the SYN goes to the listener, if there is one. */
		NETSTAT_INC(tcpstat.tcps_tw_reopened);
		tcp_close(tp);
		socket_unlock(so, 1);
		goto findpcb;
	}
	tp->t_rcvtime = tcp_now_ms();
	if (tp->t_state == TCPS_SYN_SENT)
		v = tcp_syn_sent(tp, &seg);
	else
		v = tcp_input_synced(tp, &seg, &m);
out:
	if (m != NULL)
		mbuf_freem(m);
	if (v == TCP_DROP_RST)
		tcp_reset_stray(&seg);
	else if (v == TCP_DROP_ACK && (tp = tcp_still_ours(so, inp)) != NULL) {
		tp->t_flags |= TF_ACKNOW;
		tcp_output(tp);
	}
	socket_unlock(so, 1);
}

/* ---- ICMP errors (pr_ctlinput) ---- */

void
tcp_ctlinput(int cmd, const struct sockaddr *sa, void *vip)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	struct ip *ip = vip;
	struct tcphdr *th;
	struct inpcb *inp;
	struct socket *so;
	struct tcpcb *tp;
	tcp_seq seq;
	int error;

	if (cmd < 0 || cmd >= PRC_NCMDS || ip == NULL ||
	    (error = inetctlerrmap[cmd]) == 0 || cmd == PRC_MSGSIZE)
		return;
	th = (struct tcphdr *)((char *)ip + (ip->ip_hl << 2));
	inp = in_pcblookup_hash(&tcbinfo, sin->sin_addr, th->th_dport,
	    ip->ip_src, th->th_sport, false);
	if (inp == NULL)
		return;
	so = inp->inp_socket;
	socket_lock(so, 0);
	seq = ntohl(th->th_seq);
	/* Only an error about data in flight is believed (RFC 5927). */
	if (so->so_pcb == inp && (tp = intotcpcb(inp)) != NULL &&
	    SEQ_GEQ(seq, tp->snd_una) && SEQ_LT(seq, tp->snd_max)) {
		if (tp->t_state == TCPS_SYN_SENT && tp->t_rxtshift >= 2)
			tcp_drop(tp, error);
		else
			tp->t_softerror = error;
	}
	socket_unlock(so, 1);
}
