/*
 * The monitor's view of IPv4 sockets: `netstat -a`, every UDP (and later
 * TCP) socket in Darwin's columns, from the pcb tables (in_pcb.c); and
 * `udp send`, a small UDP client built on the socket KPI, as a student's
 * kext would be: it sends a line and prints the answer.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <kern/monitor.h>
#include <netinet/in.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>

/* ---- netstat -a ---- */

#define NETSTAT_A_MAX	256	/* rows netstat -a shows */

/* "*.7", "10.0.2.15.7", "*.*": Darwin's way of writing an endpoint. */
static void
netstat_a_endpoint(char *buf, size_t len, struct in_addr a, u_short port)
{
	char host[INET_ADDRSTRLEN], serv[8];

	if (a.s_addr == INADDR_ANY)
		strlcpy(host, "*", sizeof(host));
	else
		snprintf(host, sizeof(host), IN_ADDR_FMT, IN_ADDR_ARGS(a));
	if (port == 0)
		strlcpy(serv, "*", sizeof(serv));
	else
		snprintf(serv, sizeof(serv), "%u", ntohs(port));
	snprintf(buf, len, "%s.%s", host, serv);
}

static int
netstat_a(void)
{
	static struct in_pcb_xinfo xi[NETSTAT_A_MAX];	/* one at a time */
	char proto[8], local[24], foreign[24];
	int i, n;

	n = in_pcblist(xi, NETSTAT_A_MAX);
	printf("Active Internet connections (including servers)\n");
	printf("%-5.5s %6.6s %6.6s  %-22.22s %-22.22s %s\n", "Proto",
	    "Recv-Q", "Send-Q", "Local Address", "Foreign Address",
	    "(state)");
	for (i = 0; i < n && i < NETSTAT_A_MAX; i++) {
		snprintf(proto, sizeof(proto), "%s4", xi[i].xi_proto);
		netstat_a_endpoint(local, sizeof(local), xi[i].xi_laddr,
		    xi[i].xi_lport);
		netstat_a_endpoint(foreign, sizeof(foreign), xi[i].xi_faddr,
		    xi[i].xi_fport);
		printf("%-5.5s %6u %6u  %-22.22s %-22.22s %s\n", proto,
		    xi[i].xi_rcvcc, xi[i].xi_sndcc, local, foreign,
		    xi[i].xi_state);
	}
	if (n > NETSTAT_A_MAX)
		printf("... and %d more\n", n - NETSTAT_A_MAX);
	return 0;
}
NETSTAT_OPTION(a, 'a', netstat_a, "every socket, with its queues and state");

/* ---- udp send ---- */

struct udp_send_opts {
	struct sockaddr_in	dst;
	u_short			lport;		/* -p, host order; 0: any */
	u_int32_t		wait_ms;	/* -w, 0: do not wait */
	char			text[256];
};

static bool
udp_send_parse(int argc, char **argv, struct udp_send_opts *o)
{
	unsigned long v;
	char *end;
	size_t n = 0;
	int i;

	bzero(o, sizeof(*o));
	o->wait_ms = 1000;
	for (i = 2; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		v = strtoul(argv[i + 1], &end, 10);
		if (*end != '\0')
			return false;
		if (strcmp(argv[i], "-p") == 0 && v > 0 && v <= 65535)
			o->lport = (u_short)v;
		else if (strcmp(argv[i], "-w") == 0 && v <= 60)
			o->wait_ms = (u_int32_t)v * 1000;
		else
			return false;
	}
	if (i + 2 >= argc || !inet_aton(argv[i], &o->dst.sin_addr))
		return false;
	v = strtoul(argv[i + 1], &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return false;
	o->dst.sin_len = sizeof(o->dst);
	o->dst.sin_family = AF_INET;
	o->dst.sin_port = htons((u_short)v);
	for (i += 2; i < argc; i++)
		n += (size_t)snprintf(o->text + n, sizeof(o->text) - n, "%s%s",
		    n > 0 ? " " : "", argv[i]);
	return n < sizeof(o->text);
}

/* The answer, as text where it is printable. */
static void
udp_print_reply(const struct sockaddr_in *from, const char *buf, size_t len,
    int flags)
{
	size_t i;

	printf("%u bytes from " IN_ADDR_FMT ".%u%s: ", (unsigned)len,
	    IN_ADDR_ARGS(from->sin_addr), ntohs(from->sin_port),
	    (flags & MSG_TRUNC) ? " (truncated)" : "");
	for (i = 0; i < len; i++)
		printf(buf[i] >= ' ' && buf[i] < 127 ? "%c" : "\\x%02x",
		    (u_char)buf[i]);
	printf("\n");
}

/* Send o->text and wait up to o->wait_ms for one datagram back. */
static int
udp_send_run(socket_t so, struct udp_send_opts *o)
{
	static char buf[512];			/* one command at a time */
	struct sockaddr_in from;
	struct timeval tv;
	struct msghdr msg;
	struct iovec iov;
	size_t n;
	errno_t error;

	bzero(&msg, sizeof(msg));
	iov.iov_base = o->text;
	iov.iov_len = strlen(o->text);
	msg.msg_name = &o->dst;
	msg.msg_namelen = sizeof(o->dst);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((error = sock_send(so, &msg, 0, &n)) != 0) {
		printf("udp: send: error %d\n", error);
		return 1;
	}
	printf("sent %u bytes to " IN_ADDR_FMT ".%u\n", (unsigned)n,
	    IN_ADDR_ARGS(o->dst.sin_addr), ntohs(o->dst.sin_port));
	if (o->wait_ms == 0)
		return 0;
	tv.tv_sec = (time_t)(o->wait_ms / 1000);
	tv.tv_usec = (suseconds_t)(o->wait_ms % 1000) * 1000;
	sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	bzero(&msg, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	error = sock_receive(so, &msg, 0, &n);
	if (error == EWOULDBLOCK) {
		printf("no answer in %u s\n", o->wait_ms / 1000);
		return 1;
	}
	if (error != 0) {
		printf("udp: receive: error %d\n", error);
		return 1;
	}
	udp_print_reply(&from, buf, n, msg.msg_flags);
	return 0;
}

/* udp send [-p LPORT] [-w SECONDS] ADDR PORT TEXT... */
static int
mon_udp(int argc, char **argv)
{
	struct udp_send_opts o;
	struct sockaddr_in sin;
	socket_t so;
	errno_t error;
	int status;

	if (argc < 2 || strcmp(argv[1], "send") != 0 ||
	    !udp_send_parse(argc, argv, &o))
		return monitor_usage(argc, argv);
	if ((error = sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, NULL,
	    &so)) != 0) {
		printf("udp: socket: error %d\n", error);
		return 1;
	}
	if (o.lport != 0) {
		bzero(&sin, sizeof(sin));
		sin.sin_len = sizeof(sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons(o.lport);
		if ((error = sock_bind(so, (struct sockaddr *)&sin)) != 0) {
			printf("udp: bind to port %u: %s\n", o.lport,
			    error == EADDRINUSE ? "address already in use" :
			    "error");
			sock_close(so);
			return 1;
		}
	}
	status = udp_send_run(so, &o);
	sock_close(so);
	return status;
}
MONITOR_COMMAND(udp, mon_udp,
    "udp send [-p LPORT] [-w SECONDS] ADDR PORT TEXT...",
    "send TEXT in a UDP datagram and print the answer (-w 0: none)");
