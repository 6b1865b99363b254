/*
 * The echo service (RFC 862) on UDP port 7: an ordinary in-kernel
 * socket client, written against the sock_* KPI only, as a kext would
 * be.  Its upcall takes every datagram waiting (MSG_DONTWAIT: an upcall
 * never blocks) and sends each back where it came from; SO_WANTMORE's
 * MSG_HAVEMORE says when none is left.  Counters: `netstat -s`, group
 * "udp": echoed, echoloop, echofail.
 *
 * The boot option noudpecho leaves port 7 free, for a kext that offers
 * the service itself (kexts/inetd; `finch run --services` boots so).
 */
#include <sys/systm.h>
#include <kern/bootargs.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/udp_var.h>

/* Room for any datagram, both ways (a 64 KB one, reassembled, twice). */
#define UDP_ECHO_SNDBUF		65535
#define UDP_ECHO_RCVBUF		(2 * 65536)

static struct {
	u_int32_t	echoed;
	u_int32_t	echoloop;
	u_int32_t	echofail;
} echostat;

static const struct netstat_counter echo_counters[] = {
	{ "echoed", "datagrams sent back by the echo service (port 7)",
	    &echostat.echoed },
	{ "echoloop", "dropped: echo request from port 7 (would loop)",
	    &echostat.echoloop },
	{ "echofail", "dropped: the echo service could not send it back "
	    "(UDP or IP counts why)", &echostat.echofail },
};
NETSTAT_GROUP(udp, echo_counters);

/*
 * Data arrived: answer everything queued.  Never to another echo port:
 * two echo services would bounce one datagram between them forever.
 * A datagram that comes after the last receive brings another upcall.
 */
static void
udp_echo_upcall(socket_t so, void *cookie, int waitf)
{
	struct sockaddr_in from;
	struct msghdr msg;
	bool more = true;
	size_t len;
	mbuf_t m;

	while (more) {
		bzero(&msg, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		len = UDP_ECHO_SNDBUF;
		if (sock_receivembuf(so, &msg, &m, MSG_DONTWAIT, &len) != 0)
			return;			/* EWOULDBLOCK: nothing came */
		more = (msg.msg_flags & MSG_HAVEMORE) != 0;
		if (m == NULL && mbuf_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA,
		    &m) != 0) {
			NETSTAT_INC(echostat.echofail);
			continue;
		}
		if (from.sin_port == htons(UDP_ECHO_PORT)) {
			NETSTAT_INC(echostat.echoloop);
			mbuf_freem(m);
			continue;
		}
		if (sock_sendmbuf(so, &msg, m, MSG_DONTWAIT, NULL) == 0)
			NETSTAT_INC(echostat.echoed);
		else
			NETSTAT_INC(echostat.echofail);
	}
}

void
udp_echo_init(void)
{
	struct sockaddr_in sin;
	int sndbuf = UDP_ECHO_SNDBUF, rcvbuf = UDP_ECHO_RCVBUF, on = 1;
	socket_t so;
	errno_t error;

	if (boot_arg_present("noudpecho")) {
		printf("udp: no built-in echo service on port %d (boot option "
		    "noudpecho)\n", UDP_ECHO_PORT);
		return;
	}
	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(UDP_ECHO_PORT);
	error = sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_UDP, udp_echo_upcall,
	    NULL, &so);
	if (error != 0) {
		printf("udp: no socket for the echo service: error %d\n", error);
		return;
	}
	if ((error = sock_setsockopt(so, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf))) != 0 ||
	    (error = sock_setsockopt(so, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf))) != 0 ||
	    (error = sock_setsockopt(so, SOL_SOCKET, SO_WANTMORE, &on,
	    sizeof(on))) != 0 ||
	    (error = sock_bind(so, (struct sockaddr *)&sin)) != 0) {
		printf("udp: the echo service cannot open port %d: error %d\n",
		    UDP_ECHO_PORT, error);
		sock_close(so);
	}
}
