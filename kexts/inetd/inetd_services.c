/*
 * inetd's services: what each does with a socket that has news.  The
 * worker calls a service's serve routine (inetd.c); every call here
 * is non-blocking (MSG_DONTWAIT), so a serve routine takes what there
 * is, sends what fits, and returns: the next upcall brings it back.
 *
 *	echo	  7  RFC 862: sends back what it receives
 *	discard	  9  RFC 863: swallows what it receives; on TCP, once the
 *		     client has shut down its sending side, answers the
 *		     number of bytes swallowed (decimal, a newline) and
 *		     closes -- so a client can time a transfer to the end
 *	chargen	 19  RFC 864: sends lines of printable characters; on TCP
 *		     until the client closes, on UDP one datagram of lines
 *		     for each datagram received
 *	http	 80  a status page (inetd_http.c)
 */
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>

#include "inetd.h"

/* What one serve call moves before it lets another socket have the
 * worker (it queues itself again): bytes, or datagrams. */
#define INETD_TURN	(256 * 1024)
#define INETD_DGRAM_TURN 64

/* chargen: lines of 72 characters and CR LF, each starting one
 * character further along the 95 printable ASCII characters. */
#define CHARGEN_LINE	72
#define CHARGEN_LINELEN	(CHARGEN_LINE + 2)
#define CHARGEN_CHARS	95		/* ' ' to '~' */
#define CHARGEN_PERIOD	(CHARGEN_CHARS * CHARGEN_LINELEN) /* then it repeats */
#define CHARGEN_DGRAM_LINES 6		/* a UDP answer: 444 bytes (RFC: < 512) */

static int	echo_tcp(struct inetd_conn *ic);
static int	echo_udp(struct inetd_conn *ic);
static int	discard_tcp(struct inetd_conn *ic);
static int	discard_udp(struct inetd_conn *ic);
static int	chargen_tcp(struct inetd_conn *ic);
static int	chargen_udp(struct inetd_conn *ic);

#define SERVICE(name, type, port, serve, done)				\
	{ .is_name = (name), .is_type = (type), .is_port = (port),	\
	  .is_serve = (serve), .is_done = (done) }

struct inetd_service inetd_services[] = {
	SERVICE("echo",		SOCK_STREAM,	7,	echo_tcp,	NULL),
	SERVICE("discard",	SOCK_STREAM,	9,	discard_tcp,	NULL),
	SERVICE("chargen",	SOCK_STREAM,	19,	chargen_tcp,	NULL),
	SERVICE("http",		SOCK_STREAM,	80,	inetd_http_serve,
	    inetd_http_done),
	SERVICE("echo",		SOCK_DGRAM,	7,	echo_udp,	NULL),
	SERVICE("discard",	SOCK_DGRAM,	9,	discard_udp,	NULL),
	SERVICE("chargen",	SOCK_DGRAM,	19,	chargen_udp,	NULL),
};
const int inetd_nservices = sizeof(inetd_services) / sizeof(inetd_services[0]);

/* One period of chargen's text (inetd_services_init). */
static char chargen_text[CHARGEN_PERIOD];

/* ---- Helpers ---- */

static void
inetd_msg(struct msghdr *msg, struct iovec *iov, int iovlen,
    struct sockaddr_in *name)
{
	bzero(msg, sizeof(*msg));
	msg->msg_iov = iov;
	msg->msg_iovlen = iovlen;
	if (name != NULL) {
		msg->msg_name = name;
		msg->msg_namelen = sizeof(*name);
	}
}

/* Receive up to len bytes into buf, without blocking (flags: MSG_PEEK
 * or 0).  *got is 0 at the end of the stream; EWOULDBLOCK when
 * nothing is waiting. */
static errno_t
inetd_recv(struct inetd_conn *ic, void *buf, size_t len, int flags,
    size_t *got)
{
	struct msghdr msg;
	struct iovec iov = { buf, len };

	inetd_msg(&msg, &iov, 1, NULL);
	return sock_receive(ic->ic_so, &msg, flags | MSG_DONTWAIT, got);
}

/* Send len bytes of buf, without blocking; *sent is what went, which
 * may be less (then the error is EWOULDBLOCK: the send buffer is
 * full, and the upcall comes when it has room). */
static errno_t
inetd_send(struct inetd_conn *ic, const void *buf, size_t len, size_t *sent)
{
	struct msghdr msg;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	errno_t error;

	inetd_msg(&msg, &iov, 1, NULL);
	error = sock_send(ic->ic_so, &msg, MSG_DONTWAIT, sent);
	ic->ic_out += *sent;
	ic->ic_service->is_bytes_out += *sent;
	return error;
}

/*
 * Read and drop whatever waits, counting it (chargen does not listen,
 * but must see the end of the stream; discard is nothing else).  0 while the stream goes on; INETD_DONE at
 * its end; an errno if it broke.
 */
static int
inetd_drain(struct inetd_conn *ic)
{
	size_t len, moved = 0;
	mbuf_t m;
	errno_t error;

	while (moved < INETD_TURN) {
		len = INETD_TURN;
		error = sock_receivembuf(ic->ic_so, NULL, &m, MSG_DONTWAIT,
		    &len);
		if (error == EWOULDBLOCK)
			return 0;
		if (error != 0)
			return error;
		if (m == NULL)
			return INETD_DONE;	/* the client closed */
		ic->ic_in += len;
		ic->ic_service->is_bytes_in += len;
		moved += len;
		mbuf_freem(m);
	}
	inetd_requeue(ic);		/* more may wait: look again soon */
	return 0;
}

/* ---- echo ---- */

/*
 * TCP echo.  The receive buffer is the queue: peek at what waits, send
 * what the send buffer takes, then remove exactly that much.  What
 * could not go stays in the receive buffer, whose window then closes:
 * a client that sends and never reads is slowed by TCP itself, and
 * inetd keeps no copy of its own.
 */
static int
echo_tcp(struct inetd_conn *ic)
{
	size_t got, sent, taken, moved = 0;
	errno_t error;

	while (moved < INETD_TURN) {
		error = inetd_recv(ic, inetd_scratch, sizeof(inetd_scratch),
		    MSG_PEEK, &got);
		if (error == EWOULDBLOCK)
			return 0;		/* wait for more */
		if (error != 0)
			return error;
		if (got == 0)
			return INETD_DONE;	/* the client closed */
		error = inetd_send(ic, inetd_scratch, got, &sent);
		if (sent > 0) {
			if (inetd_recv(ic, inetd_scratch, sent, 0, &taken) !=
			    0 || taken != sent)
				return EIO;	/* cannot be: we saw them */
			ic->ic_in += sent;
			ic->ic_service->is_bytes_in += sent;
			moved += sent;
		}
		if (error == EWOULDBLOCK)
			return 0;		/* wait for send space */
		if (error != 0)
			return error;
	}
	inetd_requeue(ic);
	return 0;
}

/* Sender addresses never answered: another echo, discard or chargen
 * service would answer back, and the two would talk for ever. */
static boolean_t
inetd_udp_loops(const struct sockaddr_in *from)
{
	u_int16_t port = ntohs(from->sin_port);

	return port == 7 || port == 9 || port == 19;
}

/*
 * Take one datagram from the service's UDP socket into an mbuf chain,
 * with its sender.  EWOULDBLOCK: none waits; EAGAIN: this one was
 * dropped (a sender we never answer), look for the next.
 */
static errno_t
inetd_recv_dgram(struct inetd_conn *ic, struct sockaddr_in *from, mbuf_t *m,
    size_t *len)
{
	struct msghdr msg;
	errno_t error;

	inetd_msg(&msg, NULL, 0, from);
	*len = 65535;
	error = sock_receivembuf(ic->ic_so, &msg, m, MSG_DONTWAIT, len);
	if (error != 0)
		return error;
	ic->ic_service->is_served++;
	ic->ic_service->is_bytes_in += *len;
	if (msg.msg_namelen < sizeof(*from) || inetd_udp_loops(from)) {
		if (*m != NULL)
			mbuf_freem(*m);
		*m = NULL;
		ic->ic_service->is_errors++;
		return EAGAIN;		/* dropped: look for the next one */
	}
	return 0;
}

/* UDP echo: each datagram goes back where it came from, as an mbuf
 * chain (no copy). */
static int
echo_udp(struct inetd_conn *ic)
{
	struct sockaddr_in from;
	struct msghdr msg;
	size_t len, sent;
	errno_t error;
	mbuf_t m;
	int n;

	for (n = 0; n < INETD_DGRAM_TURN; n++) {
		error = inetd_recv_dgram(ic, &from, &m, &len);
		if (error == EAGAIN)
			continue;
		if (error != 0)
			return 0;		/* EWOULDBLOCK: all answered */
		if (m == NULL &&		/* an empty datagram */
		    mbuf_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA, &m) != 0) {
			ic->ic_service->is_errors++;
			continue;
		}
		inetd_msg(&msg, NULL, 0, &from);
		if (sock_sendmbuf(ic->ic_so, &msg, m, MSG_DONTWAIT, &sent) ==
		    0)
			ic->ic_service->is_bytes_out += sent;
		else
			ic->ic_service->is_errors++;
	}
	inetd_requeue(ic);		/* a flood: let the others have a turn */
	return 0;
}

/* ---- discard ---- */

/*
 * TCP discard: count and free everything, as mbuf chains (no copy);
 * at the end of the stream answer the count and close.  sock_close
 * sends what is still in the send buffer, then the FIN.
 */
static int
discard_tcp(struct inetd_conn *ic)
{
	char count[24];
	size_t sent, n;
	int error;

	if ((error = inetd_drain(ic)) != INETD_DONE)
		return error;
	n = snprintf(count, sizeof(count), "%llu\n", ic->ic_in);
	error = inetd_send(ic, count, n, &sent);
	return error != 0 ? error : INETD_DONE;
}

/* UDP discard: count the datagrams and their bytes. */
static int
discard_udp(struct inetd_conn *ic)
{
	struct sockaddr_in from;
	size_t len;
	errno_t error;
	mbuf_t m;
	int n;

	for (n = 0; n < INETD_DGRAM_TURN; n++) {
		error = inetd_recv_dgram(ic, &from, &m, &len);
		if (error == EAGAIN)
			continue;
		if (error != 0)
			return 0;
		if (m != NULL)
			mbuf_freem(m);
	}
	inetd_requeue(ic);
	return 0;
}

/* ---- chargen ---- */

/*
 * chargen's text: one period in chargen_text (line i starts with
 * character i % 95, and the 96th line is the first again), and
 * CHARGEN_CHAIN bytes of it in chargen_chain, an mbuf chain of
 * clusters.  TCP chargen sends copies of that chain made by
 * mbuf_copym, which shares the clusters -- a reference each -- instead
 * of copying their bytes: 64 MiB of chargen never pass through memcpy.
 * Made by start, freed by the worker when it ends.
 */
#define CHARGEN_SEND_MAX (64 * 1024)	/* bytes in one send, at most */
#define CHARGEN_CHAIN	(11 * CHARGEN_PERIOD)	/* >= a period + SEND_MAX */
#define CHARGEN_SEND_MIN 2048		/* less room than this: wait */

static mbuf_t chargen_chain;

errno_t
inetd_services_init(void)
{
	char *p = chargen_text;
	size_t off;
	int line, i;
	errno_t error;

	for (line = 0; line < CHARGEN_CHARS; line++) {
		for (i = 0; i < CHARGEN_LINE; i++)
			*p++ = ' ' + (line + i) % CHARGEN_CHARS;
		*p++ = '\r';
		*p++ = '\n';
	}
	error = mbuf_allocpacket(MBUF_WAITOK, CHARGEN_CHAIN, NULL,
	    &chargen_chain);
	if (error != 0)
		return error;
	for (off = 0; off < CHARGEN_CHAIN; off += CHARGEN_PERIOD)
		if ((error = mbuf_copyback(chargen_chain, off, CHARGEN_PERIOD,
		    chargen_text, MBUF_WAITOK)) != 0)
			break;
	if (error != 0)
		inetd_services_fini();
	return error;
}

void
inetd_services_fini(void)
{
	if (chargen_chain != NULL)
		mbuf_freem(chargen_chain);
	chargen_chain = NULL;
}

/* Room in the send buffer: its size less what waits in it. */
static size_t
inetd_send_space(struct inetd_conn *ic)
{
	int size = 0, used = 0, len;

	len = sizeof(size);
	sock_getsockopt(ic->ic_so, SOL_SOCKET, SO_SNDBUF, &size, &len);
	len = sizeof(used);
	sock_getsockopt(ic->ic_so, SOL_SOCKET, SO_NWRITE, &used, &len);
	return size > used ? (size_t)(size - used) : 0;
}

/*
 * TCP chargen: fill the send buffer from where the stream is, until
 * it is full (the upcall says when an ACK made room) or the client
 * has gone.  sock_sendmbuf sends a chain whole or not at all (and
 * frees it either way), so each send is no bigger than the room
 * SO_SNDBUF and SO_NWRITE say is left.  Whatever the client sends is
 * read and dropped.
 */
static int
chargen_tcp(struct inetd_conn *ic)
{
	size_t room, len, sent, moved = 0;
	mbuf_t hdr, text;
	errno_t error;
	int verdict;

	/* A client that closes with text unread resets the connection:
	 * that is how chargen's clients leave. */
	if ((verdict = inetd_drain(ic)) != 0)
		return verdict == ECONNRESET ? INETD_DONE : verdict;
	while (moved < INETD_TURN) {
		if ((room = inetd_send_space(ic)) < CHARGEN_SEND_MIN)
			return 0;
		len = room < CHARGEN_SEND_MAX ? room : CHARGEN_SEND_MAX;
		/* A packet header, then the shared clusters. */
		if (mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &hdr) != 0)
			return ENOBUFS;
		if (mbuf_copym(chargen_chain, (size_t)(ic->ic_out %
		    CHARGEN_PERIOD), len, MBUF_WAITOK, &text) != 0) {
			mbuf_freem(hdr);
			return ENOBUFS;
		}
		mbuf_setnext(hdr, text);
		mbuf_pkthdr_setlen(hdr, len);
		error = sock_sendmbuf(ic->ic_so, NULL, hdr, MSG_DONTWAIT, &sent);
		ic->ic_out += sent;
		ic->ic_service->is_bytes_out += sent;
		moved += sent;
		if (error == EWOULDBLOCK)
			return 0;
		if (error == EPIPE || error == ECONNRESET)
			return INETD_DONE;	/* the client went: normal */
		if (error != 0)
			return error;
	}
	inetd_requeue(ic);
	return 0;
}

/*
 * UDP chargen: each datagram brings back CHARGEN_DGRAM_LINES lines,
 * going on from where the last answer (to anyone) ended.
 */
static int
chargen_udp(struct inetd_conn *ic)
{
	struct sockaddr_in from;
	struct iovec iov;
	struct msghdr msg;
	size_t len, sent;
	u_int32_t line;
	errno_t error;
	mbuf_t m;
	int n, i;

	for (n = 0; n < INETD_DGRAM_TURN; n++) {
		error = inetd_recv_dgram(ic, &from, &m, &len);
		if (error == EAGAIN)
			continue;
		if (error != 0)
			return 0;
		if (m != NULL)
			mbuf_freem(m);
		line = (u_int32_t)(ic->ic_out / CHARGEN_LINELEN);
		for (i = 0; i < CHARGEN_DGRAM_LINES; i++)
			bcopy(chargen_text + (line + i) % CHARGEN_CHARS *
			    CHARGEN_LINELEN, inetd_scratch + i * CHARGEN_LINELEN,
			    CHARGEN_LINELEN);
		iov.iov_base = inetd_scratch;
		iov.iov_len = CHARGEN_DGRAM_LINES * CHARGEN_LINELEN;
		inetd_msg(&msg, &iov, 1, &from);
		if (sock_send(ic->ic_so, &msg, MSG_DONTWAIT, &sent) == 0) {
			ic->ic_out += sent;
			ic->ic_service->is_bytes_out += sent;
		} else
			ic->ic_service->is_errors++;
	}
	inetd_requeue(ic);
	return 0;
}
