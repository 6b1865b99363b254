/*
 * TCP output (XNU and FreeBSD: tcp_output.c): decide what to send --
 * new data as the windows allow (the peer's, RFC 9293 3.8.6, and the
 * congestion window, RFC 5681), a retransmission, a SYN or a FIN, a
 * window update, an ACK that is owed -- then build the segment, its
 * options (MSS, window scale, timestamps: RFC 9293 3.7.1, RFC 7323) and
 * its headers, and hand it to IP along the pcb's cached route.  On the
 * outbound path of docs/design.md this is the step after the socket
 * layer's send buffer and before ip_output.
 */
#include <sys/systm.h>
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

/* The flags each state sends with (RFC 9293, figure 5): a SYN until
 * synchronized, a FIN once closing, an ACK once the peer's ISN is known. */
static const u_char tcp_outflags[TCP_NSTATES] = {
	TH_RST | TH_ACK,	/* CLOSED */
	0,			/* LISTEN */
	TH_SYN,			/* SYN_SENT */
	TH_SYN | TH_ACK,	/* SYN_RECEIVED */
	TH_ACK,			/* ESTABLISHED */
	TH_ACK,			/* CLOSE_WAIT */
	TH_FIN | TH_ACK,	/* FIN_WAIT_1 */
	TH_FIN | TH_ACK,	/* CLOSING */
	TH_FIN | TH_ACK,	/* LAST_ACK */
	TH_ACK,			/* FIN_WAIT_2 */
	TH_ACK,			/* TIME_WAIT */
};

/* Room in front of the headers for the link layer's. */
#define TCP_LINKHDR_RESERVE	32

/*
 * Our MSS: the outgoing interface's MTU less the headers (RFC 9293
 * 3.7.1, RFC 879); the default 536 if there is no route.
 */
u_int32_t
tcp_mss_local(struct tcpcb *tp)
{
	struct inpcb *inp = tp->t_inpcb;
	const struct in_route *ro;
	u_int32_t mtu;

	if (in_pcbroute(inp, inp->inp_faddr, &ro) != 0)
		return 536;
	mtu = ifnet_mtu(ro->ro_ifp);
	if (mtu < 68 + sizeof(struct ip) + sizeof(struct tcphdr))
		return 536;
	return mtu - (u_int32_t)(sizeof(struct ip) + sizeof(struct tcphdr));
}

/* The peer's SYN offered `offer` (0: none, RFC 9293 3.7.1: 536). */
void
tcp_mss_update(struct tcpcb *tp, u_int32_t offer)
{
	u_int32_t mss = tcp_mss_local(tp);

	if (offer == 0)
		offer = 536;
	if (offer < 64)
		offer = 64;		/* nobody sends less sensibly */
	tp->t_peermss = offer;
	if (offer < mss)
		mss = offer;
	/* Every segment carries a timestamp: room for it. */
	if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) ==
	    (TF_REQ_TSTMP | TF_RCVD_TSTMP))
		mss -= TCPOLEN_TSTAMP_APPA;
	tp->t_maxseg = mss;
	tp->snd_cwnd = tcp_initial_window(tp);
}

u_int32_t
tcp_initial_window(const struct tcpcb *tp)
{
	u_int32_t mss = tp->t_maxseg;

	return mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss;
}

/* The window we offer: the receive buffer's room, never shrinking what
 * we advertised (RFC 9293 3.8.6.2.1), scaled. */
static u_int32_t
tcp_rcvwin(struct tcpcb *tp, struct socket *so)
{
	long win = sbspace(&so->so_rcv);

	/* Receiver SWS avoidance (RFC 9293 3.8.6.2.2): no tiny windows. */
	if (win < (long)so->so_rcv.sb_hiwat / 4 && win < (long)tp->t_maxseg)
		win = 0;
	if (win > (long)TCP_MAXWIN << tp->rcv_scale)
		win = (long)TCP_MAXWIN << tp->rcv_scale;
	if (win < (long)(tp->rcv_adv - tp->rcv_nxt))
		win = (long)(tp->rcv_adv - tp->rcv_nxt);
	return win > 0 ? (u_int32_t)win : 0;
}

/* The options of a segment with flags, into opt (40 bytes); returns
 * their length, a multiple of 4. */
static int
tcp_addoptions(struct tcpcb *tp, int flags, u_char *opt)
{
	int n = 0;
	u_int32_t mss;

	if ((flags & TH_SYN) && !(tp->t_flags & TF_NOOPT)) {
		mss = tcp_mss_local(tp);
		opt[n++] = TCPOPT_MAXSEG;
		opt[n++] = TCPOLEN_MAXSEG;
		opt[n++] = (u_char)(mss >> 8);
		opt[n++] = (u_char)mss;
		/* Offer scaling in a SYN; answer it only if offered. */
		if ((tp->t_flags & TF_REQ_SCALE) && (!(flags & TH_ACK) ||
		    (tp->t_flags & TF_RCVD_SCALE))) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_WINDOW;
			opt[n++] = TCPOLEN_WINDOW;
			opt[n++] = tp->request_r_scale;
		}
	}
	/* Timestamps: in our SYN if we offer them, in the SYN-ACK if the
	 * peer did, in every segment once both did. */
	if ((tp->t_flags & TF_REQ_TSTMP) && !(flags & TH_RST) &&
	    (!(flags & TH_ACK) || (tp->t_flags & TF_RCVD_TSTMP)) &&
	    !((flags & TH_SYN) && (tp->t_flags & TF_NOOPT))) {
		u_int32_t ts = htonl(TCPOPT_TSTAMP_HDR), now, ecr;

		now = htonl(tcp_ts_now());
		ecr = htonl(tp->ts_recent);
		memcpy(opt + n, &ts, 4);
		memcpy(opt + n + 4, &now, 4);
		memcpy(opt + n + 8, &ecr, 4);
		n += TCPOLEN_TSTAMP_APPA;
	}
	return n;
}

/* Should a segment go out now, or wait (for more data, for the window,
 * for the delayed-ACK timer)? */
static bool
tcp_should_send(struct tcpcb *tp, struct socket *so, long len, int off,
    int flags, u_int32_t recwin, bool idle)
{
	long adv;

	if (len > 0) {
		if (len >= (long)tp->t_maxseg)
			return true;
		/* Nagle (RFC 9293 3.7.4): a small segment only when nothing
		 * is in flight, or TCP_NODELAY; and only the last piece. */
		if ((idle || (tp->t_flags & TF_NODELAY)) &&
		    len + off >= (long)so->so_snd.sb_cc)
			return true;
		if (tp->t_force)
			return true;
		if (len >= (long)tp->max_sndwnd / 2 && tp->max_sndwnd > 0)
			return true;	/* sender SWS avoidance (3.8.6.2.1) */
		if (SEQ_LT(tp->snd_nxt, tp->snd_max))
			return true;	/* a retransmission */
	}
	/*
	 * A window update worth a segment of its own (RFC 9293 3.8.6.2.2):
	 * the window opens by two segments and by a quarter of the buffer
	 * -- or by two segments when little was left or the buffer is
	 * small -- or by half the buffer (FreeBSD's rule: a reader that
	 * keeps up must not double the ACKs the data already brings).
	 */
	if (recwin > 0 && TCPS_HAVERCVDSYN(tp->t_state)) {
		long hiwat = (long)so->so_rcv.sb_hiwat;

		adv = (long)recwin - (long)(tp->rcv_adv - tp->rcv_nxt);
		if (adv >= (long)(2 * tp->t_maxseg) && (adv >= hiwat / 4 ||
		    (long)(tp->rcv_adv - tp->rcv_nxt) <= hiwat / 8 ||
		    hiwat <= 8 * (long)tp->t_maxseg))
			return true;
		if (2 * adv >= hiwat)
			return true;
	}
	if (tp->t_flags & TF_ACKNOW)
		return true;
	if (flags & (TH_SYN | TH_RST))
		return true;
	if (SEQ_GT(tp->snd_up, tp->snd_una))
		return true;
	if ((flags & TH_FIN) && (!(tp->t_flags & TF_SENTFIN) ||
	    tp->snd_nxt == tp->snd_una))
		return true;
	return false;
}

/*
 * One segment: headers, options, len bytes of the send buffer from off.
 * Consumes nothing of the socket; ENOBUFS or ip_output's error.
 */
static errno_t
tcp_send_segment(struct tcpcb *tp, struct socket *so, int off, long len,
    int flags, u_int32_t recwin, tcp_seq seq)
{
	struct inpcb *inp = tp->t_inpcb;
	const struct in_route *ro;
	u_char opt[TCP_MAXOLEN];
	struct mbuf *m, *data = NULL;
	struct tcphdr *th;
	struct ip *ip;
	int optlen, hdrlen;
	errno_t error;

	optlen = tcp_addoptions(tp, flags, opt);
	hdrlen = (int)(sizeof(*ip) + sizeof(*th)) + optlen;
	if ((error = in_pcbroute(inp, inp->inp_faddr, &ro)) != 0) {
		NETSTAT_INC(tcpstat.tcps_noroute);
		return error;
	}
	m = m_gethdr(MBUF_DONTWAIT, MBUF_TYPE_HEADER, MBUF_OWNER_KERNEL);
	if (m == NULL)
		goto nomem;
	m->m_data += TCP_LINKHDR_RESERVE;
	m->m_len = hdrlen;
	if (len > 0) {
		/* Small data rides in the header mbuf; the rest shares the
		 * send buffer's clusters. */
		if (len <= MHLEN - TCP_LINKHDR_RESERVE - hdrlen) {
			m_copydata(so->so_snd.sb_mb, (size_t)off, (size_t)len,
			    m->m_data + hdrlen);
			m->m_len += (int32_t)len;
		} else if (m_copym(so->so_snd.sb_mb, (size_t)off, (size_t)len,
		    MBUF_DONTWAIT, MBUF_OWNER_KERNEL, &data) != 0) {
			m_free(m);
			goto nomem;
		} else {
			m->m_next = data;
		}
	}
	m->m_pkthdr.len = hdrlen + (int32_t)len;
	ip = (struct ip *)m->m_data;
	th = (struct tcphdr *)(ip + 1);
	bzero(ip, sizeof(*ip) + sizeof(*th));
	memcpy(th + 1, opt, (size_t)optlen);
	th->th_sport = inp->inp_lport;
	th->th_dport = inp->inp_fport;
	th->th_seq = htonl(seq);
	th->th_ack = (flags & TH_ACK) ? htonl(tp->rcv_nxt) : 0;
	th->th_off = (u_int)((sizeof(*th) + (size_t)optlen) >> 2);
	th->th_flags = (u_char)flags;
	/* The window field of a SYN is never scaled (RFC 7323 2.2). */
	th->th_win = htons((u_short)((flags & TH_SYN) ?
	    (recwin > TCP_MAXWIN ? TCP_MAXWIN : recwin) :
	    recwin >> tp->rcv_scale));
	if (SEQ_GT(tp->snd_up, seq) &&
	    tp->snd_up - seq <= TCP_MAXWIN) {
		th->th_urp = htons((u_short)(tp->snd_up - seq));
		th->th_flags |= TH_URG;
	}
	th->th_sum = in_cksum_mbuf(m, sizeof(*ip), (size_t)(m->m_pkthdr.len -
	    (int32_t)sizeof(*ip)), in_pseudo(inp->inp_laddr.s_addr,
	    inp->inp_faddr.s_addr, htons((u_int16_t)(m->m_pkthdr.len -
	    (int32_t)sizeof(*ip) + IPPROTO_TCP))));
	ip->ip_hl = sizeof(*ip) >> 2;
	ip->ip_len = htons((u_int16_t)m->m_pkthdr.len);
	ip->ip_ttl = inp->inp_ip_ttl;
	ip->ip_tos = inp->inp_ip_tos;
	ip->ip_p = IPPROTO_TCP;
	ip->ip_src = inp->inp_laddr;
	ip->ip_dst = inp->inp_faddr;
	NETSTAT_INC(tcpstat.tcps_sndtotal);
	return ip_output_route(m, ro);
nomem:
	NETSTAT_INC(tcpstat.tcps_onomem);
	return ENOBUFS;
}

/* Count what is about to go out. */
static void
tcp_output_count(struct tcpcb *tp, long len, int flags)
{
	if (tp->t_force && len == 1 && tp->snd_wnd == 0) {
		NETSTAT_INC(tcpstat.tcps_sndprobe);
	} else if (len > 0 && SEQ_LT(tp->snd_nxt, tp->snd_max)) {
		NETSTAT_INC(tcpstat.tcps_sndrexmitpack);
		NETSTAT_ADD(tcpstat.tcps_sndrexmitbyte, (u_int32_t)len);
	} else if (len > 0) {
		NETSTAT_INC(tcpstat.tcps_sndpack);
		NETSTAT_ADD(tcpstat.tcps_sndbyte, (u_int32_t)len);
	} else if (flags & (TH_SYN | TH_FIN)) {
		NETSTAT_INC(tcpstat.tcps_sndctrl);
	} else if (tp->t_flags & (TF_ACKNOW | TF_DELACK)) {
		NETSTAT_INC(tcpstat.tcps_sndacks);
	} else {
		NETSTAT_INC(tcpstat.tcps_sndwinup);
	}
}

errno_t
tcp_output(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;
	u_int32_t win, recwin;
	tcp_seq seq;
	long len;
	int off, flags;
	bool idle, sendalot;
	errno_t error;

	if (tp->t_state == TCPS_LISTEN || tp->t_state == TCPS_CLOSED)
		return 0;
	/* Nothing in flight: Nagle lets a small segment go.  And after
	 * an idle spell longer than the RTO the network may have changed:
	 * start again from the initial window (RFC 5681 4.1). */
	idle = tp->snd_max == tp->snd_una;
	if (idle && TCPS_HAVEESTABLISHED(tp->t_state) &&
	    tcp_now_ms() - tp->t_lastsend >= tp->t_rxtcur &&
	    tp->snd_cwnd > tcp_initial_window(tp))
		tp->snd_cwnd = tcp_initial_window(tp);
again:
	sendalot = false;
	off = (int)(tp->snd_nxt - tp->snd_una);
	win = tp->snd_wnd < tp->snd_cwnd ? tp->snd_wnd : tp->snd_cwnd;
	flags = tcp_outflags[tp->t_state];
	/* A persist probe: one byte into a zero window. */
	if (tp->t_force && win == 0)
		win = 1;
	len = (long)(so->so_snd.sb_cc < win ? so->so_snd.sb_cc : win) - off;
	/* A SYN carries no data here; its sequence number counts alone. */
	if ((flags & TH_SYN) && tp->snd_nxt != tp->iss)
		flags &= ~TH_SYN;
	if (flags & TH_SYN)
		len = 0;
	if (len < 0)
		len = 0;
	/*
	 * A closed window, data waiting -- maybe sent already, the window
	 * shrinking under it: go back to snd_una and let the persist timer
	 * probe (RFC 9293 3.8.6.1).  The retransmission timer would resend
	 * nothing and only count towards giving the peer up.  What was
	 * sent goes again: Karn's rule, no RTT sample from it.
	 */
	if (win == 0 && so->so_snd.sb_cc > 0 &&
	    tp->t_timer[TCPT_PERSIST] == 0) {
		tp->t_timer[TCPT_REXMT] = 0;
		tp->t_rxtshift = 0;
		tp->t_rtttime = 0;
		tp->snd_nxt = tp->snd_una;
		tcp_setpersist(tp);
	}
	if (len > (long)tp->t_maxseg) {
		len = (long)tp->t_maxseg;
		sendalot = true;
	}
	/* A FIN only with the last byte of the buffer. */
	if ((flags & TH_FIN) &&
	    SEQ_LT(tp->snd_nxt + (tcp_seq)len, tp->snd_una + so->so_snd.sb_cc))
		flags &= ~TH_FIN;
	recwin = tcp_rcvwin(tp, so);
	if (!tcp_should_send(tp, so, len, off, flags, recwin, idle)) {
		/* Data waits for a window: the persist timer asks for it. */
		if (so->so_snd.sb_cc > 0 && tp->t_timer[TCPT_REXMT] == 0 &&
		    tp->t_timer[TCPT_PERSIST] == 0) {
			tp->t_rxtshift = 0;
			tcp_setpersist(tp);
		}
		return 0;
	}
	/* A FIN already sent goes out again with its own number. */
	if ((flags & TH_FIN) && (tp->t_flags & TF_SENTFIN) &&
	    tp->snd_nxt == tp->snd_max)
		tp->snd_nxt--;
	/* A pure ACK carries snd_max, the edge of what was sent; data,
	 * SYN, FIN and probes their own place, snd_nxt. */
	seq = (len > 0 || (flags & (TH_SYN | TH_FIN)) ||
	    tp->t_timer[TCPT_PERSIST] != 0) ? tp->snd_nxt : tp->snd_max;
	tcp_output_count(tp, len, flags);
	if (len > 0)
		tp->t_lastsend = tcp_now_ms();
	error = tcp_send_segment(tp, so, off, len, flags, recwin, seq);

	/* Advance, whatever IP said: a lost segment is retransmitted. */
	if (!tp->t_force || tp->t_timer[TCPT_PERSIST] == 0) {
		tcp_seq startseq = tp->snd_nxt;

		if (flags & TH_SYN)
			tp->snd_nxt++;
		if (flags & TH_FIN) {
			tp->snd_nxt++;
			tp->t_flags |= TF_SENTFIN;
		}
		tp->snd_nxt += (tcp_seq)len;
		if (SEQ_GT(tp->snd_nxt, tp->snd_max)) {
			tp->snd_max = tp->snd_nxt;
			/* Time this segment if none is (Karn: never a
			 * retransmission). */
			if (tp->t_rtttime == 0) {
				tp->t_rtttime = tcp_now_ns();
				tp->t_rtseq = startseq;
			}
		}
		if (tp->t_timer[TCPT_REXMT] == 0 &&
		    tp->snd_nxt != tp->snd_una) {
			tp->t_timer[TCPT_PERSIST] = 0;
			tp->t_rxtshift = 0;
			tcp_timer_arm(tp, TCPT_REXMT, tp->t_rxtcur);
		}
	} else if (SEQ_GT(tp->snd_nxt + (tcp_seq)len, tp->snd_max)) {
		/* The probe's byte counts as sent. */
		tp->snd_max = tp->snd_nxt + (tcp_seq)len;
	}
	if (error == ENOBUFS) {
		/* Out of mbufs: the timer retries; say nothing more now. */
		if (tp->t_timer[TCPT_REXMT] == 0 &&
		    tp->t_timer[TCPT_PERSIST] == 0)
			tcp_timer_arm(tp, TCPT_REXMT, tp->t_rxtcur);
		return error;
	}
	if (recwin > 0 && SEQ_GT(tp->rcv_nxt + recwin, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + recwin;
	tp->last_ack_sent = tp->rcv_nxt;
	tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
	tp->t_segs_unacked = 0;
	if (sendalot && error == 0)
		goto again;
	return error;
}
