/*
 * TCP under PF_INET's SOCK_STREAM sockets (XNU and FreeBSD:
 * tcp_usrreq.c): the socket layer's requests -- attach, bind, listen,
 * connect, accept, send, shutdown, disconnect, close -- turned into the
 * user calls of RFC 9293 section 3.10 (OPEN, SEND, CLOSE, ABORT), the
 * IPPROTO_TCP options, and TCP's entry in the protocol switch.  Each
 * request comes with the socket locked (protosw.h).
 *
 * TCP keeps no pointer into a kext: a kext's upcall hangs off the socket,
 * and kpi_socket.c's unload check covers it; a connection that outlives
 * its owner's sock_close (FIN_WAIT, TIME_WAIT) has no upcall any more.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/kern/socketvar.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/tcp_var.h>

/*
 * Default buffer sizes, which bound what is in flight each way: on a tap
 * (no QEMU TCP in between) 64 KiB left the guest idle 40% of a transfer,
 * waiting for a window; 128 KiB took 64 MiB in 20% faster (Linux starts
 * at 128 KiB too).  Window scaling announces more than 64 KiB.
 */
u_int32_t tcp_sendspace = 128 * 1024;
u_int32_t tcp_recvspace = 128 * 1024;

/* The connection of so, or NULL if the protocol let go of it. */
static struct tcpcb *
tcp_sotcpcb(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	return inp != NULL ? intotcpcb(inp) : NULL;
}

static errno_t
tcp_usr_attach(struct socket *so, int proto)
{
	struct inpcb *inp;
	errno_t error;

	if (so->so_pcb != NULL)
		return EISCONN;
	/* sonewconn reserved the listener's sizes already. */
	if ((so->so_snd.sb_hiwat == 0 || so->so_rcv.sb_hiwat == 0) &&
	    (error = soreserve(so, tcp_sendspace, tcp_recvspace)) != 0)
		return error;
	if ((error = in_pcballoc(so, &tcbinfo)) != 0)
		return error;
	inp = sotoinpcb(so);
	if (tcp_newtcpcb(inp) == NULL) {
		in_pcbdetach(inp);
		return ENOBUFS;
	}
	return 0;
}

static errno_t
tcp_usr_bind(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	return inp != NULL ? in_pcbbind(inp, nam) : EINVAL;
}

static errno_t
tcp_usr_listen(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);
	struct tcpcb *tp = tcp_sotcpcb(so);
	errno_t error;

	if (tp == NULL)
		return EINVAL;
	if (tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN)
		return EINVAL;
	if (inp->inp_lport == 0 && (error = in_pcbbind(inp, NULL)) != 0)
		return error;
	tp->t_state = TCPS_LISTEN;
	return 0;
}

/* OPEN, active (RFC 9293 3.10.1): the 4-tuple, an ISN, the SYN. */
static errno_t
tcp_usr_connect(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	struct tcpcb *tp = tcp_sotcpcb(so);
	errno_t error;

	if (tp == NULL)
		return EINVAL;
	if (tp->t_state != TCPS_CLOSED)
		return tp->t_state == TCPS_LISTEN ? EOPNOTSUPP : EISCONN;
	if ((error = in_pcbconnect(inp, nam)) != 0)
		return error;
	tp->request_r_scale = tcp_rscale(so->so_rcv.sb_hiwat);
	tp->iss = tcp_new_isn(inp->inp_laddr, inp->inp_lport, inp->inp_faddr,
	    inp->inp_fport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_up = tp->iss;
	tp->snd_recover = tp->iss;
	tp->t_maxseg = tcp_mss_local(tp);
	tp->t_state = TCPS_SYN_SENT;
	tcp_timer_arm(tp, TCPT_KEEP, TCP_KEEPINIT_MS);
	NETSTAT_INC(tcpstat.tcps_connattempt);
	/* sf_notify(connecting) runs in here. */
	soisconnecting(so);
	if ((tp = tcp_sotcpcb(so)) == NULL)
		return ECONNABORTED;
	(void)tcp_output(tp);	/* if the SYN is lost, the timer sends it */
	return 0;
}

/*
 * CLOSE (RFC 9293 3.10.4): the FIN side of the state machine.  A
 * connection not yet synchronized simply goes away.  In SYN_RECEIVED
 * nothing can have been sent yet, and a FIN cannot precede the ACK of
 * our SYN: it waits (TF_NEEDFIN) until the handshake completes, then
 * the connection goes to FIN_WAIT_1 (tcp_input).
 */
struct tcpcb *
tcp_usrclosed(struct tcpcb *tp)
{
	switch (tp->t_state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		return tcp_close(tp);
	case TCPS_SYN_RECEIVED:
		tp->t_flags |= TF_NEEDFIN;
		break;
	case TCPS_ESTABLISHED:
		tp->t_state = TCPS_FIN_WAIT_1;
		break;
	case TCPS_CLOSE_WAIT:
		tp->t_state = TCPS_LAST_ACK;
		break;
	default:
		break;
	}
	return tp;
}

/* Disconnect: at once with a RST (SO_LINGER with 0), else by a FIN
 * after the data queued.  Before SYN_RECEIVED there is nobody to tell. */
static errno_t
tcp_disconnect(struct socket *so, struct tcpcb *tp)
{
	struct inpcb *inp = sotoinpcb(so);

	if (tp->t_state < TCPS_SYN_RECEIVED) {
		tcp_close(tp);
		return 0;
	}
	if ((so->so_options & SO_LINGER) && so->so_linger == 0) {
		tcp_drop(tp, 0);
		return 0;
	}
	/* sf_notify(disconnecting) runs in here. */
	soisdisconnecting(so);
	if (so->so_pcb != inp || (tp = intotcpcb(inp)) == NULL)
		return 0;
	sbflush(&so->so_rcv);
	if ((tp = tcp_usrclosed(tp)) != NULL)
		tcp_output(tp);
	return 0;
}

static errno_t
tcp_usr_disconnect(struct socket *so)
{
	struct tcpcb *tp = tcp_sotcpcb(so);

	return tp != NULL ? tcp_disconnect(so, tp) : EINVAL;
}

/* The owner closed: a connection still closing goes on alone (the pcb
 * keeps the socket), one that never reached the peer goes now. */
static errno_t
tcp_usr_detach(struct socket *so)
{
	struct tcpcb *tp = tcp_sotcpcb(so);

	if (tp == NULL)
		return 0;
	if (tp->t_state < TCPS_SYN_RECEIVED)
		tcp_close(tp);
	else if (!(so->so_state & SS_ISDISCONNECTING))
		tcp_disconnect(so, tp);
	return 0;
}

static errno_t
tcp_usr_abort(struct socket *so)
{
	struct tcpcb *tp = tcp_sotcpcb(so);

	if (tp != NULL)
		tcp_drop(tp, ECONNABORTED);
	return 0;
}

static errno_t
tcp_usr_accept(struct socket *so, struct sockaddr *nam)
{
	if (so->so_state & SS_ISDISCONNECTED)
		return ECONNABORTED;
	return in_setpeeraddr(so, nam);
}

/*
 * SEND (RFC 9293 3.10.2): into the send buffer, then out as the windows
 * allow.  Urgent data (MSG_OOB) moves the urgent pointer past its last
 * byte (RFC 6093) and goes out at once.  Once queued the data is TCP's:
 * a failure to send it now is retried by the timer, not reported (the
 * caller would send it twice), and remembered for a timeout's errno.
 */
static errno_t
tcp_usr_send(struct socket *so, int flags, mbuf_t m, struct sockaddr *addr,
    mbuf_t control)
{
	struct tcpcb *tp = tcp_sotcpcb(so);
	errno_t error = 0;

	if (control != NULL)
		mbuf_freem(control);	/* TCP takes no ancillary data */
	if (tp == NULL || tp->t_state < TCPS_ESTABLISHED) {
		mbuf_freem(m);
		return tp == NULL ? ECONNRESET : ENOTCONN;
	}
	sbappendstream_nofilter(&so->so_snd, m);
	if (flags & PRUS_OOB) {
		tp->snd_up = tp->snd_una + so->so_snd.sb_cc;
		tp->t_force = 1;
		error = tcp_output(tp);
		tp->t_force = 0;
	} else {
		if (flags & PRUS_EOF) {
			socantsendmore(so);
			if ((tp = tcp_sotcpcb(so)) != NULL)
				tp = tcp_usrclosed(tp);
		}
		if (tp != NULL && !(flags & PRUS_MORETOCOME))
			error = tcp_output(tp);
	}
	if (tp != NULL && error != 0 && error != ENOBUFS)
		tp->t_softerror = error;
	return 0;
}

/* The reader made room: maybe a window update is worth sending. */
static errno_t
tcp_usr_rcvd(struct socket *so, int flags)
{
	struct tcpcb *tp = tcp_sotcpcb(so);

	if (tp != NULL)
		tcp_output(tp);
	return 0;
}

/* Urgent data stays in line (RFC 6093 section 5): no out-of-band byte
 * to read. */
static errno_t
tcp_usr_rcvoob(struct socket *so, mbuf_t m, int flags)
{
	return EINVAL;
}

static errno_t
tcp_usr_shutdown(struct socket *so)
{
	struct tcpcb *tp;

	/* sf_notify(cantsendmore) runs in here. */
	socantsendmore(so);
	if ((tp = tcp_sotcpcb(so)) == NULL)
		return 0;
	if ((tp = tcp_usrclosed(tp)) != NULL)
		tcp_output(tp);
	return 0;
}

/* ---- Options at IPPROTO_TCP ---- */

static errno_t
tcp_setopt(struct tcpcb *tp, struct sockopt *sopt)
{
	int optval;
	errno_t error;

	if ((error = sooptcopyin(sopt, &optval, sizeof(optval),
	    sizeof(optval))) != 0)
		return error;
	switch (sopt->sopt_name) {
	case TCP_NODELAY:
	case TCP_NOOPT:
		if (optval)
			tp->t_flags |= sopt->sopt_name == TCP_NODELAY ?
			    TF_NODELAY : TF_NOOPT;
		else
			tp->t_flags &= ~(sopt->sopt_name == TCP_NODELAY ?
			    TF_NODELAY : TF_NOOPT);
		if (sopt->sopt_name == TCP_NODELAY && optval)
			tcp_output(tp);		/* what Nagle held back */
		return 0;
	case TCP_NOPUSH:
		return 0;
	case TCP_MAXSEG:
		/* Lower only: the path decided the most. */
		if (optval <= 0 || (u_int32_t)optval > tp->t_maxseg)
			return EINVAL;
		tp->t_maxseg = (u_int32_t)optval;
		return 0;
	case TCP_KEEPALIVE:
		if (optval <= 0 || optval > 24 * 3600)
			return EINVAL;
		tp->t_keepidle = (u_int32_t)optval * 1000;
		if (TCPS_HAVEESTABLISHED(tp->t_state) &&
		    tp->t_state <= TCPS_CLOSE_WAIT)
			tcp_timer_arm(tp, TCPT_KEEP, tp->t_keepidle);
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

static errno_t
tcp_getopt(struct tcpcb *tp, struct sockopt *sopt)
{
	int optval;

	switch (sopt->sopt_name) {
	case TCP_NODELAY:
		optval = (tp->t_flags & TF_NODELAY) != 0;
		break;
	case TCP_NOOPT:
		optval = (tp->t_flags & TF_NOOPT) != 0;
		break;
	case TCP_NOPUSH:
		optval = 0;
		break;
	case TCP_MAXSEG:
		optval = (int)tp->t_maxseg;
		break;
	case TCP_KEEPALIVE:
		optval = (int)(tp->t_keepidle / 1000);
		break;
	default:
		return ENOPROTOOPT;
	}
	return sooptcopyout(sopt, &optval, sizeof(optval));
}

errno_t
tcp_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct tcpcb *tp = tcp_sotcpcb(so);

	if (sopt->sopt_level == SOL_SOCKET) {
		/* SO_KEEPALIVE: the keep timer runs in ESTABLISHED anyway,
		 * and reads the option when it fires. */
		return 0;
	}
	if (sopt->sopt_level != IPPROTO_TCP)
		return ip_ctloutput(so, sopt);
	if (tp == NULL)
		return ECONNRESET;
	return sopt->sopt_dir == SOPT_SET ? tcp_setopt(tp, sopt) :
	    tcp_getopt(tp, sopt);
}

static struct pr_usrreqs tcp_usrreqs = {
	.pru_abort = tcp_usr_abort,
	.pru_accept = tcp_usr_accept,
	.pru_attach = tcp_usr_attach,
	.pru_bind = tcp_usr_bind,
	.pru_connect = tcp_usr_connect,
	.pru_control = in_control,
	.pru_detach = tcp_usr_detach,
	.pru_disconnect = tcp_usr_disconnect,
	.pru_listen = tcp_usr_listen,
	.pru_peeraddr = in_setpeeraddr,
	.pru_rcvd = tcp_usr_rcvd,
	.pru_rcvoob = tcp_usr_rcvoob,
	.pru_send = tcp_usr_send,
	.pru_shutdown = tcp_usr_shutdown,
	.pru_sockaddr = in_setsockaddr,
};

static struct protosw tcp_protosw = {
	.pr_type = SOCK_STREAM,
	.pr_domain = &inetdomain,
	.pr_protocol = IPPROTO_TCP,
	.pr_flags = PR_CONNREQUIRED | PR_WANTRCVD | PR_IMPLOPCL,
	.pr_input = tcp_input,
	.pr_ctlinput = tcp_ctlinput,
	.pr_ctloutput = tcp_ctloutput,
	.pr_init = tcp_init,
	.pr_fasttimo = tcp_fasttimo,
	.pr_slowtimo = tcp_slowtimo,
	.pr_usrreqs = &tcp_usrreqs,
};
PROTOSW_SET(tcp_protosw);
