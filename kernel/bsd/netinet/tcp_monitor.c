/*
 * The monitor's view of TCP: `tcp` lists every connection block with
 * its state, sequence numbers, congestion window, RTT estimate and
 * running timers; `tcp connect ADDR PORT [BYTES]` is a small client on
 * the socket KPI, as a student's kext would be: it connects, sends
 * BYTES bytes (or none) and reads what comes back until the peer
 * closes, and prints what happened with a CRC-32 of each direction.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <libkern/crc32.h>
#include <kern/monitor.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/tcp_var.h>

/* ---- tcp ---- */

#define TCP_SHOW_MAX	64	/* rows `tcp` shows */

struct tcp_row {
	struct in_addr	laddr, faddr;
	u_short		lport, fport;
	int		state;
	tcp_seq		snd_una, snd_nxt, rcv_nxt, iss, irs;
	u_int32_t	cwnd, ssthresh, snd_wnd, srtt, rto;
	int		timer[TCPT_NTIMERS];
};

struct tcp_rows {
	struct tcp_row	row[TCP_SHOW_MAX];
	int		n;		/* connections seen, maybe > max */
};

static void
tcp_show_one(struct tcpcb *tp, void *arg)
{
	struct tcp_rows *rows = arg;
	struct inpcb *inp = tp->t_inpcb;
	struct tcp_row *r;
	int i;

	if (rows->n++ >= TCP_SHOW_MAX)
		return;
	r = &rows->row[rows->n - 1];
	r->laddr = inp->inp_laddr;
	r->faddr = inp->inp_faddr;
	r->lport = inp->inp_lport;
	r->fport = inp->inp_fport;
	r->state = tp->t_state;
	r->snd_una = tp->snd_una - tp->iss;
	r->snd_nxt = tp->snd_nxt - tp->iss;
	r->rcv_nxt = tp->rcv_nxt - tp->irs;
	r->cwnd = tp->snd_cwnd;
	r->ssthresh = tp->snd_ssthresh;
	r->snd_wnd = tp->snd_wnd;
	r->srtt = (u_int32_t)(tp->t_srtt >> 3);
	r->rto = tp->t_rxtcur;
	for (i = 0; i < TCPT_NTIMERS; i++)
		r->timer[i] = tp->t_timer[i] * PR_SLOWHZ_MS;
}

/* A timer's time left, "-" when off. */
static void
tcp_show_timer(char *buf, size_t len, const char *name, int ms)
{
	if (ms == 0)
		snprintf(buf, len, " %s:-", name);
	else
		snprintf(buf, len, " %s:%d.%ds", name, ms / 1000,
		    ms % 1000 / 100);
}

static int
tcp_show(void)
{
	static struct tcp_rows rows;		/* one command at a time */
	static const char *const names[TCPT_NTIMERS] = {
		"rexmt", "persist", "keep", "2msl"
	};
	char local[24], foreign[24], timers[80];
	struct tcp_row *r;
	size_t n;
	int i, t;

	rows.n = 0;
	tcp_foreach(tcp_show_one, &rows);
	printf("%-21s %-21s %-11s %10s %10s %10s %7s %10s %7s %5s %5s timers\n",
	    "Local Address", "Foreign Address", "State", "snd_una",
	    "snd_nxt", "rcv_nxt", "cwnd", "ssthresh", "snd_wnd", "srtt",
	    "rto");
	for (i = 0; i < rows.n && i < TCP_SHOW_MAX; i++) {
		r = &rows.row[i];
		snprintf(local, sizeof(local), IN_ADDR_FMT ".%u",
		    IN_ADDR_ARGS(r->laddr), ntohs(r->lport));
		snprintf(foreign, sizeof(foreign), IN_ADDR_FMT ".%u",
		    IN_ADDR_ARGS(r->faddr), ntohs(r->fport));
		for (n = 0, t = 0; t < TCPT_NTIMERS; t++) {
			tcp_show_timer(timers + n, sizeof(timers) - n, names[t],
			    r->timer[t]);
			n = strlen(timers);
		}
		printf("%-21s %-21s %-11s %10u %10u %10u %7u %10u %7u %5u %5u%s\n",
		    local, foreign, tcpstates[r->state], r->snd_una,
		    r->snd_nxt, r->rcv_nxt, r->cwnd, r->ssthresh, r->snd_wnd,
		    r->srtt, r->rto, timers);
	}
	if (rows.n > TCP_SHOW_MAX)
		printf("... and %d more\n", rows.n - TCP_SHOW_MAX);
	printf("(sequence numbers relative to the ISNs; times in ms; "
	    "%d in TIME_WAIT)\n", tcp_tw_active());
	return 0;
}

/* ---- tcp connect ---- */

/* The bytes `tcp connect` sends: byte i is i mod 251, a pattern that
 * does not repeat at any power of two (the tests compute it too). */
#define TCP_PATTERN(i)	((u_char)((i) % 251))

static const char *
tcp_strerror(errno_t error)
{
	switch (error) {
	case ECONNREFUSED:	return "connection refused";
	case ECONNRESET:	return "connection reset by peer";
	case ETIMEDOUT:		return "timed out";
	case EHOSTUNREACH:	return "no route to host";
	case ENETUNREACH:	return "network unreachable";
	case EWOULDBLOCK:	return "nothing came in time";
	case EPIPE:		return "the connection closed";
	default:		return "error";
	}
}

/* Send `bytes` bytes of the pattern; prints the count and its CRC. */
static errno_t
tcp_connect_send(socket_t so, u_int32_t bytes)
{
	static u_char buf[4096];		/* one command at a time */
	struct msghdr msg;
	struct iovec iov;
	u_int32_t done = 0, crc = 0, chunk, i;
	size_t n;
	errno_t error = 0;

	while (done < bytes) {
		chunk = bytes - done < sizeof(buf) ? bytes - done : sizeof(buf);
		for (i = 0; i < chunk; i++)
			buf[i] = TCP_PATTERN(done + i);
		bzero(&msg, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = chunk;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		error = sock_send(so, &msg, 0, &n);
		crc = crc32(crc, buf, n);
		done += (u_int32_t)n;
		if (error != 0)
			break;
	}
	printf("sent %u bytes, crc32 %08x\n", done, crc);
	if (error != 0)
		printf("tcp: send: %s (error %d)\n", tcp_strerror(error), error);
	return error;
}

/* Read until the peer closes; prints the count, its CRC and the first
 * bytes as text. */
static errno_t
tcp_connect_receive(socket_t so)
{
	static u_char buf[4096];
	char first[49];
	struct msghdr msg;
	struct iovec iov;
	u_int32_t total = 0, crc = 0;
	size_t n, i, shown = 0;
	errno_t error;

	for (;;) {
		bzero(&msg, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		error = sock_receive(so, &msg, 0, &n);
		if (error != 0 || n == 0)
			break;
		for (i = 0; i < n && shown < sizeof(first) - 1; i++)
			first[shown++] = buf[i] >= ' ' && buf[i] < 127 ?
			    (char)buf[i] : '.';
		crc = crc32(crc, buf, n);
		total += (u_int32_t)n;
	}
	first[shown] = '\0';
	printf("received %u bytes, crc32 %08x%s%s%s\n", total, crc,
	    shown > 0 ? ": \"" : "", first, shown > 0 ? "\"" : "");
	if (error != 0)
		printf("tcp: receive: %s (error %d)\n", tcp_strerror(error),
		    error);
	return error;
}

/* tcp connect [-w SECONDS] ADDR PORT [BYTES] */
static int
tcp_connect_cmd(int argc, char **argv)
{
	struct sockaddr_in dst, me;
	struct timeval tv = { 10, 0 };
	unsigned long port, bytes = 0, wait;
	socket_t so;
	char *end;
	int i = 2, one = 1;
	errno_t error;

	if (i + 1 < argc && strcmp(argv[i], "-w") == 0) {
		wait = strtoul(argv[i + 1], &end, 10);
		if (*end != '\0' || wait == 0 || wait > 600)
			return monitor_usage(argc, argv);
		tv.tv_sec = (time_t)wait;
		i += 2;
	}
	bzero(&dst, sizeof(dst));
	if (i + 1 >= argc || !inet_aton(argv[i], &dst.sin_addr))
		return monitor_usage(argc, argv);
	port = strtoul(argv[i + 1], &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return monitor_usage(argc, argv);
	if (i + 2 < argc) {
		bytes = strtoul(argv[i + 2], &end, 10);
		if (*end != '\0' || bytes > 256UL << 20 || i + 3 < argc)
			return monitor_usage(argc, argv);
	}
	dst.sin_len = sizeof(dst);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((u_short)port);
	if ((error = sock_socket(PF_INET, SOCK_STREAM, IPPROTO_TCP, NULL,
	    NULL, &so)) != 0) {
		printf("tcp: socket: error %d\n", error);
		return 1;
	}
	sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sock_setsockopt(so, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	sock_setsockopt(so, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Not blocking, then waiting -w seconds: a silent host does not
	 * hold the monitor for the 75 s TCP gives a connection attempt. */
	error = sock_connect(so, (struct sockaddr *)&dst, MSG_DONTWAIT);
	if (error == EINPROGRESS) {
		error = sock_connectwait(so, &tv);
		if (error == EINPROGRESS)
			error = ETIMEDOUT;
	}
	if (error != 0) {
		printf("tcp: connect to " IN_ADDR_FMT ".%lu: %s (error %d)\n",
		    IN_ADDR_ARGS(dst.sin_addr), port, tcp_strerror(error),
		    error);
		sock_close(so);
		return 1;
	}
	sock_getsockname(so, (struct sockaddr *)&me, sizeof(me));
	printf("connected to " IN_ADDR_FMT ".%lu from " IN_ADDR_FMT ".%u\n",
	    IN_ADDR_ARGS(dst.sin_addr), port, IN_ADDR_ARGS(me.sin_addr),
	    ntohs(me.sin_port));
	error = 0;
	if (bytes > 0) {
		error = tcp_connect_send(so, (u_int32_t)bytes);
		sock_shutdown(so, SHUT_WR);
	}
	if (error == 0)
		error = tcp_connect_receive(so);
	sock_close(so);
	printf("closed\n");
	return error != 0;
}

static int
mon_tcp(int argc, char **argv)
{
	if (argc == 1)
		return tcp_show();
	if (strcmp(argv[1], "connect") == 0)
		return tcp_connect_cmd(argc, argv);
	return monitor_usage(argc, argv);
}
MONITOR_COMMAND(tcp, mon_tcp, "tcp | tcp connect [-w SECONDS] ADDR PORT [BYTES]",
    "TCP connections with their state and timers; or connect, send BYTES "
    "bytes (i mod 251), read until the peer closes");
