/*
 * inetd's HTTP status page on TCP port 80: `curl http://GUEST/` shows
 * inetd's services and their counters, its sockets (a netstat -a of
 * its own), the interfaces and the mbuf pool.
 *
 * A kext sees what the public KPI shows it, and no more: its own
 * sockets (sock_getsockname, sock_getpeername, SO_NREAD, SO_NWRITE),
 * the interfaces (ifnet_list_get, ifnet_stat, ifaddr_address) and the
 * mbuf pool (mbuf_stats).  The kernel's protocol counters (`netstat
 * -s`) and every socket of the system (`netstat -a`) have no KPI: they
 * are the monitor's, and the page says so.
 *
 * The HTTP is the least that curl and a browser accept: HTTP/1.0, one
 * request per connection (read until the blank line that ends the
 * headers), GET or HEAD of "/", an answer with Content-Length, then
 * close.  Anything else gets its status code and one line saying why.
 */
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_mbuf.h>
#include <net/kpi_interface.h>
#include <netinet/in.h>
#include <libkern/OSMalloc.h>

#include "inetd.h"

#define HTTP_REQUEST_MAX 2048	/* request line and headers, at most */
#define HTTP_REPLY_MAX	(INETD_SCRATCH + 512)	/* the page and headers */
#define HTTP_SOCKET_ROWS 48	/* sockets listed on the page, at most */

/* A connection's request as it comes in, then its reply as it goes. */
struct http_state {
	size_t	hs_reqlen;
	size_t	hs_replylen;		/* 0 until the request is complete */
	size_t	hs_sent;
	char	hs_request[HTTP_REQUEST_MAX + 1];
	char	hs_reply[HTTP_REPLY_MAX];
};

/* ---- Writing text into a buffer ---- */

struct page {
	char	*p_buf;
	size_t	p_len;
	size_t	p_size;
};

static void	page_printf(struct page *p, const char *fmt, ...)
		    __printflike(2, 3);

/* Append to the page; what does not fit is cut (the page stays NUL
 * ended). */
static void
page_printf(struct page *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->p_len + 1 >= p->p_size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->p_buf + p->p_len, p->p_size - p->p_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->p_len += (size_t)n < p->p_size - p->p_len ? (size_t)n :
		    p->p_size - p->p_len - 1;
}

/* "10.0.2.15.80" as netstat writes an address and port; "*" for any. */
static void
format_addr(char *buf, size_t len, const struct sockaddr_in *sin)
{
	u_int32_t a = ntohl(sin->sin_addr.s_addr);
	u_int16_t port = ntohs(sin->sin_port);
	char host[16];

	if (a == INADDR_ANY)
		strlcpy(host, "*", sizeof(host));
	else
		snprintf(host, sizeof(host), "%u.%u.%u.%u", a >> 24,
		    (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	if (port == 0)
		snprintf(buf, len, "%s.*", host);
	else
		snprintf(buf, len, "%s.%u", host, port);
}

/* ---- The page ---- */

static void
page_services(struct page *p)
{
	struct inetd_service *is;
	int i;

	page_printf(p, "Services\n%-8s %-5s %4s %8s %12s %12s %6s  %s\n",
	    "Service", "Proto", "Port", "Served", "Bytes in", "Bytes out",
	    "Errors", "Note");
	for (i = 0; i < inetd_nservices; i++) {
		is = &inetd_services[i];
		page_printf(p, "%-8s %-5s %4u %8u %12llu %12llu %6u  ",
		    is->is_name, is->is_type == SOCK_STREAM ? "tcp" : "udp",
		    is->is_port, is->is_served, is->is_bytes_in,
		    is->is_bytes_out, is->is_errors);
		if (is->is_error == EPROTONOSUPPORT)
			page_printf(p, "not offered: the kernel has no %s\n",
			    is->is_type == SOCK_STREAM ? "TCP" : "UDP");
		else if (is->is_error == EADDRINUSE)
			page_printf(p, "not offered: port in use%s\n",
			    is->is_type == SOCK_DGRAM && is->is_port == 7 ?
			    " (the kernel's built-in echo answers)" : "");
		else if (is->is_error != 0)
			page_printf(p, "not offered: error %d\n", is->is_error);
		else
			page_printf(p, "%s\n", is->is_type == SOCK_STREAM ?
			    "served: connections" : "served: datagrams");
	}
}

/* One row of the socket table, as `netstat -a` prints it. */
static void
page_socket(struct page *p, struct inetd_conn *ic)
{
	struct sockaddr_in local, peer;
	char laddr[24], faddr[24];
	int nread = 0, nwrite = 0, len;
	const char *state;

	bzero(&local, sizeof(local));
	bzero(&peer, sizeof(peer));
	sock_getsockname(ic->ic_so, (struct sockaddr *)&local, sizeof(local));
	if (ic->ic_role == INETD_STREAM)
		sock_getpeername(ic->ic_so, (struct sockaddr *)&peer,
		    sizeof(peer));
	len = sizeof(nread);
	sock_getsockopt(ic->ic_so, SOL_SOCKET, SO_NREAD, &nread, &len);
	len = sizeof(nwrite);
	sock_getsockopt(ic->ic_so, SOL_SOCKET, SO_NWRITE, &nwrite, &len);
	format_addr(laddr, sizeof(laddr), &local);
	format_addr(faddr, sizeof(faddr), &peer);
	/* The KPI tells connected or not, not the TCP state. */
	state = ic->ic_role == INETD_LISTENER ? "LISTEN" :
	    sock_isconnected(ic->ic_so) ? "connected" : "closing";
	if (ic->ic_role == INETD_DGRAM)		/* no state, no padding */
		page_printf(p, "%-5s %6d %6d  %-22s %s\n", "udp4", nread,
		    nwrite, laddr, faddr);
	else
		page_printf(p, "%-5s %6d %6d  %-22s %-22s %s\n", "tcp4", nread,
		    nwrite, laddr, faddr, state);
}

static void
page_sockets(struct page *p)
{
	struct inetd_conn *ic;
	int rows = 0, more = 0;

	page_printf(p, "\nActive sockets (inetd's own: %u connections)\n"
	    "%-5s %6s %6s  %-22s %-22s %s\n", inetd_connections(), "Proto",
	    "Recv-Q", "Send-Q", "Local Address", "Foreign Address",
	    "(state)");
	for (ic = inetd_first(); ic != NULL; ic = inetd_next(ic)) {
		if (rows++ < HTTP_SOCKET_ROWS)
			page_socket(p, ic);
		else
			more++;
	}
	if (more > 0)
		page_printf(p, "... and %d more\n", more);
}

/* The IPv4 addresses of one interface, comma separated, into buf. */
static void
format_if_addrs(ifnet_t ifp, char *buf, size_t len)
{
	struct sockaddr_in sin;
	ifaddr_t *addrs;
	char one[24];
	int i;

	buf[0] = '\0';
	if (ifnet_get_address_list_family(ifp, &addrs, AF_INET) != 0)
		return;
	for (i = 0; addrs[i] != NULL; i++) {
		if (ifaddr_address(addrs[i], (struct sockaddr *)&sin,
		    sizeof(sin)) != 0)
			continue;
		format_addr(one, sizeof(one), &sin);
		one[strlen(one) - 2] = '\0';	/* no ".*": no port */
		if (buf[0] != '\0')
			strlcat(buf, ",", len);
		strlcat(buf, one, len);
	}
	ifnet_free_address_list(addrs);
}

static void
page_interfaces(struct page *p)
{
	struct ifnet_stats_param st;
	char name[16], addrs[64];
	ifnet_t *list;
	u_int32_t count, i;

	page_printf(p, "\nInterfaces\n%-5s %5s %-16s %9s %5s %12s %9s %5s "
	    "%12s\n", "Name", "Mtu", "Address", "Ipkts", "Ierrs", "Ibytes",
	    "Opkts", "Oerrs", "Obytes");
	if (ifnet_list_get(IFNET_FAMILY_ANY, &list, &count) != 0) {
		page_printf(p, "(ifnet_list_get failed)\n");
		return;
	}
	for (i = 0; i < count; i++) {
		bzero(&st, sizeof(st));
		ifnet_stat(list[i], &st);
		snprintf(name, sizeof(name), "%s%u", ifnet_name(list[i]),
		    ifnet_unit(list[i]));
		format_if_addrs(list[i], addrs, sizeof(addrs));
		page_printf(p, "%-5s %5u %-16s %9llu %5llu %12llu %9llu %5llu "
		    "%12llu\n", name, ifnet_mtu(list[i]),
		    addrs[0] != '\0' ? addrs : "-", st.packets_in,
		    st.errors_in, st.bytes_in, st.packets_out, st.errors_out,
		    st.bytes_out);
	}
	ifnet_list_free(list);
}

static void
page_mbufs(struct page *p)
{
	struct mbuf_stat ms;
	u_int32_t inuse = 0;
	int t;

	mbuf_stats(&ms);
	for (t = 1; t < 256; t++)
		inuse += ms.mtypes[t];
	page_printf(p, "\nmbufs: %u in use (%u data, %u packet headers, %u "
	    "socket names), %lu of %lu 2 KB clusters free, %lu allocations "
	    "failed\n", inuse, ms.mtypes[MBUF_TYPE_DATA],
	    ms.mtypes[MBUF_TYPE_HEADER], ms.mtypes[MBUF_TYPE_SONAME],
	    ms.clfree, ms.clusters, ms.drops);
}

size_t
inetd_status_page(char *buf, size_t len)
{
	struct page p = { buf, 0, len };

	buf[0] = '\0';
	page_printf(&p, "inetd on Finch (%s), up %u s\n\n"
	    "What a kext can see through the public KPI: its own sockets, "
	    "the\ninterfaces and the mbuf pool.  The kernel's protocol "
	    "counters and\nevery socket of the system are the monitor's "
	    "(netstat -s, netstat -a).\n\n", INETD_NAME, inetd_uptime());
	page_services(&p);
	page_sockets(&p);
	page_interfaces(&p);
	page_mbufs(&p);
	return p.p_len;
}

/* ---- HTTP ---- */

/* The reply: status line, headers, and (unless HEAD) body. */
static void
http_reply(struct http_state *hs, const char *status, const char *body,
    boolean_t head)
{
	struct page p = { hs->hs_reply, 0, sizeof(hs->hs_reply) };

	page_printf(&p, "HTTP/1.0 %s\r\nServer: inetd (%s)\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Length: %u\r\nConnection: close\r\n\r\n%s", status,
	    INETD_NAME, (unsigned)strlen(body), head ? "" : body);
	hs->hs_replylen = p.p_len;
}

/* Answer a complete request (hs_request, NUL ended).  Its first line
 * is METHOD SP PATH SP VERSION. */
static void
http_answer(struct http_state *hs)
{
	const char *req = hs->hs_request, *path, *sp;
	boolean_t head = strncmp(req, "HEAD ", 5) == 0;

	path = strchr(req, ' ');
	if (path == NULL || (sp = strchr(path + 1, ' ')) == NULL ||
	    strncmp(sp + 1, "HTTP/", 5) != 0)
		http_reply(hs, "400 Bad Request", "inetd: that is not an "
		    "HTTP request line (METHOD PATH HTTP/1.x)\n", FALSE);
	else if (!head && strncmp(req, "GET ", 4) != 0)
		http_reply(hs, "405 Method Not Allowed", "inetd: only GET and "
		    "HEAD are served\n", FALSE);
	else if (sp != path + 2 || path[1] != '/')
		http_reply(hs, "404 Not Found", "inetd: no such page: the "
		    "status page is /\n", head);
	else {
		inetd_status_page(inetd_scratch, INETD_SCRATCH);
		http_reply(hs, "200 OK", inetd_scratch, head);
	}
}

/*
 * Read the request until its headers end, then send the reply, as
 * much as fits each time; when all of it went, the connection ends
 * (sock_close sends what is still queued, then the FIN).
 */
int
inetd_http_serve(struct inetd_conn *ic)
{
	struct http_state *hs = ic->ic_state;
	struct msghdr msg;
	struct iovec iov;
	size_t got, sent;
	errno_t error;

	if (hs == NULL) {
		if ((hs = OSMalloc(sizeof(*hs), inetd_tag)) == NULL)
			return ENOMEM;
		hs->hs_reqlen = hs->hs_replylen = hs->hs_sent = 0;
		ic->ic_state = hs;
	}
	while (hs->hs_replylen == 0) {
		bzero(&msg, sizeof(msg));
		iov.iov_base = hs->hs_request + hs->hs_reqlen;
		iov.iov_len = HTTP_REQUEST_MAX - hs->hs_reqlen;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		error = sock_receive(ic->ic_so, &msg, MSG_DONTWAIT, &got);
		if (error == EWOULDBLOCK)
			return 0;
		if (error != 0)
			return error;
		if (got == 0)
			return ECONNRESET;	/* it left before asking */
		ic->ic_in += got;
		ic->ic_service->is_bytes_in += got;
		hs->hs_reqlen += got;
		hs->hs_request[hs->hs_reqlen] = '\0';
		if (strstr(hs->hs_request, "\r\n\r\n") != NULL ||
		    strstr(hs->hs_request, "\n\n") != NULL)
			http_answer(hs);
		else if (hs->hs_reqlen == HTTP_REQUEST_MAX)
			http_reply(hs, "400 Bad Request", "inetd: the request "
			    "is longer than 2048 bytes\n", FALSE);
	}
	while (hs->hs_sent < hs->hs_replylen) {
		bzero(&msg, sizeof(msg));
		iov.iov_base = hs->hs_reply + hs->hs_sent;
		iov.iov_len = hs->hs_replylen - hs->hs_sent;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		error = sock_send(ic->ic_so, &msg, MSG_DONTWAIT, &sent);
		hs->hs_sent += sent;
		ic->ic_out += sent;
		ic->ic_service->is_bytes_out += sent;
		if (error == EWOULDBLOCK)
			return 0;		/* the upcall says when */
		if (error != 0)
			return error;
	}
	return INETD_DONE;
}

void
inetd_http_done(struct inetd_conn *ic)
{
	if (ic->ic_state != NULL)
		OSFree(ic->ic_state, sizeof(struct http_state), inetd_tag);
	ic->ic_state = NULL;
}
