"""Socket filters (<sys/kpi_socketfilter.h>) seen from kexts, on UDP.

One guest serves the module.  The kexts are small NKEs of the kind a
student writes, with positional struct sflt_filter initializers as Mac OS
X 10.4 sources have them: one traces every callback of two filters on
one socket (where each is called, and in which order), one checks the
KPI's refusals, one registers a global filter and unregisters it while
sockets still carry it, one forgets to unregister.  The traffic is the
guest's own UDP echo service on 127.0.0.1 port 7, and the monitor's `udp
send`.  On TCP, one traces a listener, a client and their connection, and
one answers sf_accept (SFLT_EXTENDED, later Mac OS X's).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from finch.errors import FinchError
from finch.kext.guest import KextGuest
from finch.wirepeer import netstat_s

MakeKext = Callable[..., Path]

KPIS = {
    "com.apple.kpi.bsd": "8.0.0",
    "com.apple.kpi.libkern": "8.0.0",
    "com.apple.kpi.mach": "8.0.0",
}

PROLOGUE = """\
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_socketfilter.h>
#include <sys/kpi_mbuf.h>
#include <net/kext_net.h>
#include <netinet/in.h>

kern_return_t {name}_start(kmod_info_t *ki, void *data);
kern_return_t {name}_stop(kmod_info_t *ki, void *data);

static int {name}_failed;

static void __attribute__((unused))
{name}_check(const char *what, int got, int want)
{{
	if (got != want) {{
		{name}_failed++;
		printf("{name}: FAIL %s: got %d, want %d\\n", what, got, want);
	}}
}}

static struct sockaddr_in __attribute__((unused))
{name}_sin(u_int32_t addr, int port)
{{
	struct sockaddr_in sin;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	sin.sin_port = htons(port);
	return sin;
}}

/* Wait (SO_RCVTIMEO) for a datagram into buf: the bytes received, or
 * -error. */
static int __attribute__((unused))
{name}_recv(socket_t so, char *buf, size_t buflen)
{{
	struct msghdr msg;
	struct iovec iov;
	size_t n;
	errno_t error;

	bzero(&msg, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = buflen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((error = sock_receive(so, &msg, 0, &n)) != 0)
		return -error;
	return (int)n;
}}

/* Send len bytes of text on so (connected), then receive: the bytes
 * received, or -error. */
static int __attribute__((unused))
{name}_roundtrip(socket_t so, const char *text, size_t len, char *buf,
	size_t buflen)
{{
	struct msghdr msg;
	struct iovec iov;
	size_t n;
	errno_t error;

	bzero(&msg, sizeof(msg));
	iov.iov_base = (void *)text;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((error = sock_send(so, &msg, 0, &n)) != 0)
		return -error;
	return {name}_recv(so, buf, buflen);
}}

/* A UDP socket that gives up a receive after ms milliseconds. */
static socket_t __attribute__((unused))
{name}_socket(int ms)
{{
	struct timeval tv = {{ ms / 1000, (ms % 1000) * 1000 }};
	socket_t so = NULL;

	if (sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, NULL, &so) == 0)
		sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return so;
}}
"""

# Two programmatic filters, A and B, on one UDP socket: every callback
# prints one line "sftrace: <filter> <callback> ...", so the console shows
# where and in which order each runs.  Filter A also answers EJUSTRETURN
# and errors for chosen ports and payloads; a second socket checks those.
SFTRACE = (
    PROLOGUE.format(name="sftrace")
    + r"""
#define HANDLE_A	0x73667461	/* 'sfta' */
#define HANDLE_B	0x73667462	/* 'sftb' */

static int quiet;		/* phase two: no trace, only checks */
static int passing;		/* data we inject goes by A untouched */
static mbuf_t held_in;		/* what A's sf_data_in kept */
static struct sockaddr_in held_from;

static void
trace(void *cookie, const char *what, int arg)
{
	if (!quiet)
		printf("sftrace: %s %s %d\n", (const char *)cookie, what, arg);
}

static errno_t
attach_a(void **cookie, socket_t so)
{
	*cookie = "A";
	trace(*cookie, "attach", 0);
	return 0;
}

static errno_t
attach_b(void **cookie, socket_t so)
{
	*cookie = "B";
	trace(*cookie, "attach", 0);
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
	trace(cookie, "detach", 0);
}

static void
unregistered(sflt_handle handle)
{
	printf("sftrace: %s unregistered 0\n", handle == HANDLE_A ? "A" : "B");
}

static void
notify(void *cookie, socket_t so, sflt_event_t event, void *param)
{
	trace(cookie, "notify", event == sock_evt_shutdown ?
		event * 10 + *(int *)param : event);
}

static int
port_of(const struct sockaddr *sa)
{
	return sa != NULL ? ntohs(((const struct sockaddr_in *)sa)->sin_port) : -1;
}

static int
getsockname_f(void *cookie, socket_t so, struct sockaddr **sa)
{
	trace(cookie, "getsockname", port_of(*sa) != 0);
	return 0;
}

static int
getpeername_f(void *cookie, socket_t so, struct sockaddr **sa)
{
	trace(cookie, "getpeername", port_of(*sa));
	return 0;
}

static errno_t
data_in(void *cookie, socket_t so, const struct sockaddr *from,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	char first;

	trace(cookie, "data_in", (int)mbuf_pkthdr_len(*data));
	if (*(char *)cookie != 'A' || passing)
		return 0;
	mbuf_copydata(*data, 0, 1, &first);
	if (first == 'k') {		/* "keep": hold it for the test */
		memcpy(&held_from, from, sizeof(held_from));
		held_in = *data;
		wakeup(&held_in);
		return EJUSTRETURN;
	}
	return first == 'r' ? EPERM : 0;	/* "refuse" */
}

static errno_t
data_out(void *cookie, socket_t so, const struct sockaddr *to,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	char first;

	trace(cookie, "data_out", (int)mbuf_pkthdr_len(*data));
	if (*(char *)cookie != 'A' || passing)
		return 0;
	mbuf_copydata(*data, 0, 1, &first);
	if (first == 'd')		/* "deny" */
		return EACCES;
	if (first == 's') {		/* "swallow": gone, and no error */
		mbuf_freem(*data);
		return EJUSTRETURN;
	}
	return 0;
}

static errno_t
connect_out(void *cookie, socket_t so, const struct sockaddr *to)
{
	trace(cookie, "connect_out", port_of(to));
	return *(char *)cookie == 'A' && port_of(to) == 9 ? ECONNREFUSED : 0;
}

static errno_t
bind_f(void *cookie, socket_t so, const struct sockaddr *to)
{
	trace(cookie, "bind", port_of(to));
	return *(char *)cookie == 'A' && port_of(to) == 9 ? EJUSTRETURN : 0;
}

static errno_t
setoption(void *cookie, socket_t so, sockopt_t opt)
{
	int v = 0;

	if (*(char *)cookie == 'A' && !quiet) {
		sockopt_copyin(opt, &v, sizeof(v));
		printf("sftrace: A setoption dir %d level 0x%x name 0x%x size %d "
			"value %d\n", sockopt_direction(opt), sockopt_level(opt),
			sockopt_name(opt), (int)sockopt_valsize(opt), v);
		return 0;
	}
	trace(cookie, "setoption", sockopt_name(opt));
	return 0;
}

static errno_t
getoption(void *cookie, socket_t so, sockopt_t opt)
{
	int v = 4242;

	trace(cookie, "getoption", sockopt_direction(opt));
	/* A answers SO_TYPE itself. */
	if (*(char *)cookie == 'A' && sockopt_name(opt) == SO_TYPE) {
		sockopt_copyout(opt, &v, sizeof(v));
		return EJUSTRETURN;
	}
	return 0;
}

static errno_t
ioctl_f(void *cookie, socket_t so, u_int32_t request, const char *argp)
{
	trace(cookie, "ioctl", request == FIONBIO);
	return 0;
}

static struct sflt_filter filter_a = {
	HANDLE_A,
	SFLT_PROG,
	"sftrace A",
	unregistered,
	attach_a,
	detach,
	notify,
	getpeername_f,
	getsockname_f,
	data_in,
	data_out,
	NULL,			/* sf_connect_in: UDP has no listeners */
	connect_out,
	bind_f,
	setoption,
	getoption,
	NULL,			/* sf_listen */
	ioctl_f,
};

static struct sflt_filter filter_b = {
	HANDLE_B, SFLT_PROG, "sftrace B", unregistered, attach_b, detach,
	notify, getpeername_f, getsockname_f, data_in, data_out, NULL,
	connect_out, bind_f, setoption, getoption, NULL, ioctl_f,
};

/* Phase one: both filters on one socket, every callback traced. */
static void
trace_one_socket(void)
{
	struct sockaddr_in sin = sftrace_sin(INADDR_LOOPBACK, 0);
	struct sockaddr_in echo = sftrace_sin(INADDR_LOOPBACK, 7);
	char buf[32];
	int v = 6000, len = sizeof(v), off = 0;
	socket_t so = sftrace_socket(2000);

	printf("sftrace: phase one\n");
	sftrace_check("attach A", sflt_attach(so, HANDLE_A), 0);
	sftrace_check("attach B", sflt_attach(so, HANDLE_B), 0);
	sftrace_check("attach A twice", sflt_attach(so, HANDLE_A), EEXIST);
	sftrace_check("bind", sock_bind(so, (struct sockaddr *)&sin), 0);
	sftrace_check("setsockopt", sock_setsockopt(so, SOL_SOCKET, SO_RCVBUF,
		&v, sizeof(v)), 0);
	sftrace_check("getsockopt", sock_getsockopt(so, SOL_SOCKET, SO_RCVBUF,
		&v, &len), 0);
	sftrace_check("ioctl", sock_ioctl(so, FIONBIO, &off), 0);
	sftrace_check("connect", sock_connect(so, (struct sockaddr *)&echo, 0),
		0);
	sftrace_check("echo", sftrace_roundtrip(so, "ping", 4, buf,
		sizeof(buf)), 4);
	sftrace_check("getsockname", sock_getsockname(so,
		(struct sockaddr *)&sin, sizeof(sin)), 0);
	sftrace_check("getpeername", sock_getpeername(so,
		(struct sockaddr *)&sin, sizeof(sin)), 0);
	sftrace_check("detach B", sflt_detach(so, HANDLE_B), 0);
	sftrace_check("shutdown", sock_shutdown(so, SHUT_WR), 0);
	sock_close(so);
}

/* Phase two: A alone answers EJUSTRETURN and errors. */
static void
answers(void)
{
	struct sockaddr_in sin = sftrace_sin(INADDR_LOOPBACK, 9);
	struct sockaddr_in echo = sftrace_sin(INADDR_LOOPBACK, 7);
	struct so_nke nke;
	struct timespec ts = { 2, 0 };
	char buf[32];
	int v = 0, len = sizeof(v);
	socket_t so = sftrace_socket(300);	/* "nothing came" */
	mbuf_t m;

	quiet = 1;
	bzero(&nke, sizeof(nke));
	nke.nke_handle = HANDLE_A;
	sftrace_check("SO_NKE", sock_setsockopt(so, SOL_SOCKET, SO_NKE, &nke,
		sizeof(nke)), 0);
	sftrace_check("SO_NKE again", sock_setsockopt(so, SOL_SOCKET, SO_NKE,
		&nke, sizeof(nke)), EEXIST);
	sftrace_check("bind kept by A", sock_bind(so, (struct sockaddr *)&sin),
		0);
	sftrace_check("getsockname", sock_getsockname(so,
		(struct sockaddr *)&sin, sizeof(sin)), 0);
	sftrace_check("... so not bound", sin.sin_port, 0);
	sftrace_check("SO_TYPE answered by A", sock_getsockopt(so, SOL_SOCKET,
		SO_TYPE, &v, &len) == 0 && v == 4242, 1);
	sin = sftrace_sin(INADDR_LOOPBACK, 9);
	sftrace_check("connect refused by A", sock_connect(so,
		(struct sockaddr *)&sin, 0), ECONNREFUSED);
	sftrace_check("connect", sock_connect(so, (struct sockaddr *)&echo, 0),
		0);
	sftrace_check("deny", sftrace_roundtrip(so, "deny", 4, buf,
		sizeof(buf)), -EACCES);
	sftrace_check("swallow: sent", sftrace_roundtrip(so, "swallow", 7, buf,
		sizeof(buf)), -EWOULDBLOCK);
	sftrace_check("refuse: dropped", sftrace_roundtrip(so, "refuse", 6, buf,
		sizeof(buf)), -EWOULDBLOCK);

	/* "keep" comes back from the echo, A keeps it; we put it back. */
	sftrace_check("keep: held", sftrace_roundtrip(so, "keep", 4, buf,
		sizeof(buf)), -EWOULDBLOCK);
	if (held_in == NULL)
		msleep(&held_in, NULL, 0, "sftrace", &ts);
	sftrace_check("keep: A has it", held_in != NULL, 1);
	if (held_in != NULL) {
		sftrace_check("inject in", sock_inject_data_in(so,
			(struct sockaddr *)&held_from, held_in, NULL, 0), 0);
		held_in = NULL;
		sftrace_check("keep: read after inject", sftrace_recv(so, buf,
			sizeof(buf)), 4);
	}
	/* Out again through the filters: A lets what we inject pass. */
	mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &m);
	mbuf_copyback(m, 0, 6, "again!", MBUF_WAITOK);
	passing = 1;
	sftrace_check("inject out", sock_inject_data_out(so, NULL, m, NULL, 0),
		0);
	sftrace_check("inject out: echoed", sftrace_recv(so, buf,
		sizeof(buf)), 6);
	passing = 0;
	sock_close(so);
	quiet = 0;
}

kern_return_t
sftrace_start(kmod_info_t *ki, void *data)
{
	if (sflt_register(&filter_a, PF_INET, SOCK_DGRAM, IPPROTO_UDP) != 0 ||
		sflt_register(&filter_b, PF_INET, SOCK_DGRAM, IPPROTO_UDP) != 0) {
		printf("sftrace: cannot register\n");
		return KERN_FAILURE;
	}
	trace_one_socket();
	answers();
	printf("sftrace: done, %d failed\n", sftrace_failed);
	return KERN_SUCCESS;
}

kern_return_t
sftrace_stop(kmod_info_t *ki, void *data)
{
	sflt_unregister(HANDLE_A);
	sflt_unregister(HANDLE_B);
	return KERN_SUCCESS;
}
"""
)

# The KPI's refusals, and a filter whose sf_attach says no.
SFARGS = (
    PROLOGUE.format(name="sfargs")
    + r"""
#define HANDLE		0x73666172	/* 'sfar' */
#define HANDLE_NO	0x7366616e	/* 'sfan' */

static int detached;

static errno_t
attach(void **cookie, socket_t so)
{
	return 0;
}

static errno_t
attach_no(void **cookie, socket_t so)
{
	return EPERM;
}

static void
detach(void *cookie, socket_t so)
{
	detached++;
}

static struct sflt_filter good = {
	HANDLE, SFLT_PROG, "sfargs", NULL, attach, detach,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

kern_return_t
sfargs_start(kmod_info_t *ki, void *data)
{
	struct sflt_filter bad = good;
	struct sockaddr_in from = sfargs_sin(INADDR_LOOPBACK, 7);
	struct so_nke nke;
	socket_t so = sfargs_socket(300);
	mbuf_t m;

	sfargs_check("NULL filter", sflt_register(NULL, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), EINVAL);
	bad.sf_handle = 0;
	sfargs_check("handle 0", sflt_register(&bad, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), EINVAL);
	bad = good;
	bad.sf_name = NULL;
	sfargs_check("no name", sflt_register(&bad, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), EINVAL);
	bad = good;
	bad.sf_attach = NULL;
	sfargs_check("no sf_attach", sflt_register(&bad, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), EINVAL);
	bad = good;
	bad.sf_detach = NULL;
	sfargs_check("no sf_detach", sflt_register(&bad, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), EINVAL);
	sfargs_check("no such protocol", sflt_register(&good, PF_INET,
		SOCK_DGRAM, 99), ENOENT);
	sfargs_check("no such domain", sflt_register(&good, 77, SOCK_DGRAM, 0),
		ENOENT);
	sfargs_check("PF_SYSTEM (kernel controls)", sflt_register(&good, 32,
		SOCK_DGRAM, 2), ENOENT);
	sfargs_check("register", sflt_register(&good, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), 0);
	sfargs_check("the same handle again", sflt_register(&good, PF_INET,
		SOCK_DGRAM, IPPROTO_UDP), EEXIST);
	bad = good;
	bad.sf_handle = HANDLE_NO;
	bad.sf_attach = attach_no;
	sfargs_check("register a refusing one", sflt_register(&bad, PF_INET,
		SOCK_DGRAM, IPPROTO_UDP), 0);

	sfargs_check("attach to NULL", sflt_attach(NULL, HANDLE), EINVAL);
	sfargs_check("attach handle 0", sflt_attach(so, 0), EINVAL);
	sfargs_check("attach an unknown handle", sflt_attach(so, 0x12345),
		EINVAL);
	sfargs_check("sf_attach refuses", sflt_attach(so, HANDLE_NO), EPERM);
	bzero(&nke, sizeof(nke));
	nke.nke_handle = 0x12345;
	sfargs_check("SO_NKE with an unknown handle", sock_setsockopt(so,
		SOL_SOCKET, SO_NKE, &nke, sizeof(nke)), ENOENT);
	sfargs_check("detach from NULL", sflt_detach(NULL, HANDLE), EINVAL);
	sfargs_check("detach handle 0", sflt_detach(so, 0), EINVAL);
	sfargs_check("detach what is not attached", sflt_detach(so, HANDLE), 0);
	sfargs_check("attach", sflt_attach(so, HANDLE), 0);
	sfargs_check("attach again", sflt_attach(so, HANDLE), EEXIST);
	sfargs_check("detach", sflt_detach(so, HANDLE), 0);
	sfargs_check("... sf_detach ran once", detached, 1);
	sfargs_check("detach again", sflt_detach(so, HANDLE), 0);
	sfargs_check("unregister an unknown handle", sflt_unregister(0x12345),
		ENOENT);

	sfargs_check("inject in, NULL socket", sock_inject_data_in(NULL,
		(struct sockaddr *)&from, NULL, NULL, 0), EINVAL);
	mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &m);
	sfargs_check("inject a datagram without its sender",
		sock_inject_data_in(so, NULL, m, NULL, 0), EINVAL);
	from.sin_len = 0;
	sfargs_check("inject a datagram from a malformed address",
		sock_inject_data_in(so, (struct sockaddr *)&from, m, NULL, 0),
		EINVAL);
	mbuf_freem(m);		/* on error the caller frees */
	sfargs_check("inject out, no data", sock_inject_data_out(so, NULL, NULL,
		NULL, 0), EINVAL);
	sock_close(so);
	sfargs_check("unregister", sflt_unregister(HANDLE), 0);
	sfargs_check("unregister twice", sflt_unregister(HANDLE), ENOENT);
	sfargs_check("unregister the refusing one", sflt_unregister(HANDLE_NO),
		0);
	sfargs_check("sf_detach never ran for the refusal", detached, 1);
	printf("sfargs: done, %d failed\n", sfargs_failed);
	return KERN_SUCCESS;
}

kern_return_t
sfargs_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

# A global filter on UDP: it attaches to every UDP socket made while it
# is registered (two of its own, the monitor's `udp send`); stop
# unregisters it with its sockets still open, and waits, bounded, for
# sf_unregistered.
SFGLOBAL = (
    PROLOGUE.format(name="sfglobal")
    + r"""
#define HANDLE	0x7366676c	/* 'sfgl' */

static socket_t one, two;
static int gone;

static errno_t
attach(void **cookie, socket_t so)
{
	printf("sfglobal: attach\n");
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
	printf("sfglobal: detach\n");
}

static void
unregistered(sflt_handle handle)
{
	printf("sfglobal: unregistered\n");
	gone = 1;
	wakeup(&gone);
}

static void
notify(void *cookie, socket_t so, sflt_event_t event, void *param)
{
	printf("sfglobal: notify %d\n", event);
}

static errno_t
data_in(void *cookie, socket_t so, const struct sockaddr *from,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	printf("sfglobal: data_in %d\n", (int)mbuf_pkthdr_len(*data));
	return 0;
}

static errno_t
data_out(void *cookie, socket_t so, const struct sockaddr *to,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	printf("sfglobal: data_out %d\n", (int)mbuf_pkthdr_len(*data));
	return 0;
}

static struct sflt_filter filter = {
	HANDLE, SFLT_GLOBAL, "sfglobal", unregistered, attach, detach,
	notify, NULL, NULL, data_in, data_out, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL,
};

kern_return_t
sfglobal_start(kmod_info_t *ki, void *data)
{
	if (sflt_register(&filter, PF_INET, SOCK_DGRAM, IPPROTO_UDP) != 0)
		return KERN_FAILURE;
	one = sfglobal_socket(300);
	two = sfglobal_socket(300);
	printf("sfglobal: started\n");
	return KERN_SUCCESS;
}

kern_return_t
sfglobal_stop(kmod_info_t *ki, void *data)
{
	struct timespec ts = { 2, 0 };

	printf("sfglobal: stopping\n");
	if (sflt_unregister(HANDLE) == 0 && !gone)
		msleep(&gone, NULL, 0, "sfglobal", &ts);
	sock_close(one);
	sock_close(two);
	return gone ? KERN_SUCCESS : KERN_FAILURE;
}
"""
)

# Unregisters its filter while the filter's sf_data_in runs (it sleeps
# there, 300 ms, on purpose): sf_detach must wait for the callback to
# return, and sf_unregistered come after it.
SFBUSY = (
    PROLOGUE.format(name="sfbusy")
    + r"""
#define HANDLE	0x73666275	/* 'sfbu' */

static volatile int in_callback, callback_done, detached, unregistered;

static errno_t
attach(void **cookie, socket_t so)
{
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
	printf("sfbusy: sf_detach, the callback %s\n",
		callback_done ? "returned" : "STILL RUNNING");
	detached = 1;
}

static void
unregistered_f(sflt_handle handle)
{
	printf("sfbusy: sf_unregistered, sf_detach %s\n",
		detached ? "before it" : "NOT YET");
	unregistered = 1;
	wakeup((void *)&unregistered);
}

static errno_t
data_in(void *cookie, socket_t so, const struct sockaddr *from,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	struct timespec ts = { 0, 300000000 };

	printf("sfbusy: sf_data_in sleeps\n");
	in_callback = 1;
	wakeup((void *)&in_callback);
	msleep((void *)&callback_done, NULL, 0, "sfbusy", &ts);
	printf("sfbusy: sf_data_in returns\n");
	callback_done = 1;
	return 0;
}

static struct sflt_filter filter = {
	HANDLE, SFLT_PROG, "sfbusy", unregistered_f, attach, detach,
	NULL, NULL, NULL, data_in, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL,
};

kern_return_t
sfbusy_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in echo = sfbusy_sin(INADDR_LOOPBACK, 7);
	struct timespec ts = { 2, 0 };
	struct msghdr msg;
	struct iovec iov;
	char buf[8];
	errno_t error;
	socket_t so = sfbusy_socket(2000);

	sfbusy_check("register", sflt_register(&filter, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), 0);
	sfbusy_check("attach", sflt_attach(so, HANDLE), 0);
	sfbusy_check("connect", sock_connect(so, (struct sockaddr *)&echo, 0), 0);
	/* The echo comes back in the input thread, into sf_data_in. */
	bzero(&msg, sizeof(msg));
	iov.iov_base = "x";
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	sfbusy_check("send", sock_send(so, &msg, 0, NULL), 0);
	if (!in_callback)
		msleep((void *)&in_callback, NULL, 0, "sfbusy", &ts);
	error = sflt_unregister(HANDLE);
	printf("sfbusy: sflt_unregister returned %d, sf_detach %s\n", error,
		detached ? "CAME" : "not yet");
	if (!unregistered)
		msleep((void *)&unregistered, NULL, 0, "sfbusy", &ts);
	sfbusy_check("the echo, let through", sfbusy_recv(so, buf,
		sizeof(buf)), 1);
	sock_close(so);
	printf("sfbusy: done, %d failed\n", sfbusy_failed);
	return KERN_SUCCESS;
}

kern_return_t
sfbusy_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

# A global filter on TCP traces three sockets: a listener (L), a client
# (C) that connects to it over lo0, and the connection the listener makes
# for it (S), from sonewconn.
SFTCP = (
    PROLOGUE.format(name="sftcp")
    + r"""
#define HANDLE	0x73667463	/* 'sftc' */
#define PORT	5100

static char names[] = "LCSR";	/* R: a client the listener refuses */
static int nattached, refuse;
static volatile int gone;

static void
trace(void *cookie, const char *what, int arg)
{
	printf("sftcp: %c %s %d\n", *(char *)cookie, what, arg);
}

static errno_t
attach(void **cookie, socket_t so)
{
	*cookie = &names[nattached < 4 ? nattached++ : 3];
	trace(*cookie, "attach", 0);
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
	trace(cookie, "detach", 0);
}

static void
unregistered(sflt_handle handle)
{
	gone = 1;
	wakeup((void *)&gone);
}

static void
notify(void *cookie, socket_t so, sflt_event_t event, void *param)
{
	trace(cookie, "notify", event == sock_evt_shutdown ?
		event * 10 + *(int *)param : event);
}

static errno_t
data_in(void *cookie, socket_t so, const struct sockaddr *from,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	trace(cookie, from == NULL ? "data_in" : "data_in-from?",
		(int)mbuf_pkthdr_len(*data));
	return 0;
}

static errno_t
data_out(void *cookie, socket_t so, const struct sockaddr *to,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	trace(cookie, "data_out", (int)mbuf_pkthdr_len(*data));
	return 0;
}

static errno_t
connect_in(void *cookie, socket_t so, const struct sockaddr *from)
{
	trace(cookie, refuse ? "connect_in-refused" : "connect_in",
		from->sa_family);
	return refuse ? ECONNREFUSED : 0;
}

static errno_t
connect_out(void *cookie, socket_t so, const struct sockaddr *to)
{
	trace(cookie, "connect_out", ntohs(((const struct sockaddr_in *)to)->sin_port));
	return 0;
}

static errno_t
bind_f(void *cookie, socket_t so, const struct sockaddr *to)
{
	trace(cookie, "bind", ntohs(((const struct sockaddr_in *)to)->sin_port));
	return 0;
}

static errno_t
listen_f(void *cookie, socket_t so)
{
	trace(cookie, "listen", 0);
	return 0;
}

static struct sflt_filter filter = {
	HANDLE, SFLT_GLOBAL, "sftcp", unregistered, attach, detach, notify,
	NULL, NULL, data_in, data_out, connect_in, connect_out, bind_f, NULL,
	NULL, listen_f, NULL,
};

static socket_t
tcp_socket(void)
{
	socket_t so = NULL;
	struct timeval tv = { 2, 0 };

	if (sock_socket(PF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, NULL, &so) == 0)
		sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return so;
}

kern_return_t
sftcp_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in sin = sftcp_sin(INADDR_LOOPBACK, PORT);
	struct timespec ts = { 2, 0 };
	struct timeval tv = { 0, 500000 };
	struct msghdr msg;
	struct iovec iov;
	socket_t l, c, a = NULL;
	char buf[8];
	size_t n;
	errno_t error;

	error = sflt_register(&filter, PF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (error == ENOENT) {
		printf("sftcp: no TCP\n");
		return KERN_SUCCESS;
	}
	sftcp_check("register", error, 0);
	l = tcp_socket();
	sftcp_check("bind", sock_bind(l, (struct sockaddr *)&sin), 0);
	sftcp_check("listen", sock_listen(l, 5), 0);
	c = tcp_socket();
	sftcp_check("connect", sock_connect(c, (struct sockaddr *)&sin, 0), 0);
	sftcp_check("accept", sock_accept(l, NULL, 0, 0, NULL, NULL, &a), 0);
	bzero(&msg, sizeof(msg));
	iov.iov_base = "hello";
	iov.iov_len = 5;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	sftcp_check("send", sock_send(c, &msg, 0, &n), 0);
	iov.iov_base = buf;
	iov.iov_len = 5;
	sftcp_check("receive", a != NULL && sock_receive(a, &msg, MSG_WAITALL,
		&n) == 0 && n == 5, 1);
	sftcp_check("shutdown", sock_shutdown(c, SHUT_WR), 0);
	iov.iov_len = sizeof(buf);
	sftcp_check("end of stream", a != NULL && sock_receive(a, &msg, 0,
		&n) == 0 && n == 0, 1);
	if (a != NULL)
		sock_close(a);
	sock_close(c);

	/* sf_connect_in says no: the SYN is dropped (a full backlog too). */
	refuse = 1;
	c = tcp_socket();
	sftcp_check("connect, refused", sock_connect(c, (struct sockaddr *)&sin,
		MSG_DONTWAIT), EINPROGRESS);
	sftcp_check("still connecting", sock_connectwait(c, &tv), EINPROGRESS);
	sftcp_check("nothing to accept", sock_accept(l, NULL, 0, MSG_DONTWAIT,
		NULL, NULL, &a), EWOULDBLOCK);
	sock_close(c);
	sock_close(l);
	sftcp_check("unregister", sflt_unregister(HANDLE), 0);
	if (!gone)
		msleep((void *)&gone, NULL, 0, "sftcp", &ts);
	sftcp_check("sf_unregistered", gone, 1);
	printf("sftcp: done, %d failed\n", sftcp_failed);
	return KERN_SUCCESS;
}

kern_return_t
sftcp_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)

# A filter whose sf_data_out keeps what is sent and puts it back at once
# with sock_inject_data_out, from inside the callback -- as Mac OS X
# allows: the injection is sent within the send that called the filter.
# On UDP (to the echo service), then on TCP over lo0 with a send buffer
# smaller than what is sent, so that the stream goes to the filter in
# several pieces, each kept and put back; then one urgent byte.
SFINJECT = (
    PROLOGUE.format(name="sfinject")
    + r"""
#define HANDLE_UDP	0x73666975	/* 'sfiu' */
#define HANDLE_TCP	0x73666974	/* 'sfit' */
#define PORT		5101
#define TOTAL		12000

static int passing;		/* our own injection, on its way */
static int calls, inject_errors;
static sflt_data_flag_t last_flags;
static volatile int gone;
static char out[TOTAL], in[TOTAL];

static errno_t
attach(void **cookie, socket_t so)
{
	*cookie = NULL;
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
}

static void
unregistered(sflt_handle handle)
{
	gone++;
	wakeup((void *)&gone);
}

static errno_t
data_out(void *cookie, socket_t so, const struct sockaddr *to,
	mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	errno_t error;

	last_flags = flags;
	if (passing)
		return 0;
	calls++;
	passing = 1;
	error = sock_inject_data_out(so, to, *data, *control, flags);
	passing = 0;
	if (error != 0)
		inject_errors++;
	return EJUSTRETURN;	/* ours, and given back already */
}

static struct sflt_filter udp_filter = {
	HANDLE_UDP, SFLT_PROG, "sfinject UDP", unregistered, attach, detach,
	NULL, NULL, NULL, NULL, data_out, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL,
};

static struct sflt_filter tcp_filter = {
	HANDLE_TCP, SFLT_PROG, "sfinject TCP", unregistered, attach, detach,
	NULL, NULL, NULL, NULL, data_out, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL,
};

static socket_t
tcp_socket(void)
{
	socket_t so = NULL;
	struct timeval tv = { 2, 0 };

	if (sock_socket(PF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, NULL, &so) == 0)
		sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return so;
}

static int
send_bytes(socket_t so, const char *p, size_t len, int flags)
{
	struct msghdr msg;
	struct iovec iov;
	size_t n = 0;
	errno_t error;

	bzero(&msg, sizeof(msg));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	error = sock_send(so, &msg, flags, &n);
	return error != 0 ? -error : (int)n;
}

static void
udp_part(void)
{
	struct sockaddr_in echo = sfinject_sin(INADDR_LOOPBACK, 7);
	socket_t so = sfinject_socket(2000);
	char buf[16];

	sfinject_check("UDP attach", sflt_attach(so, HANDLE_UDP), 0);
	sfinject_check("UDP connect", sock_connect(so,
		(struct sockaddr *)&echo, 0), 0);
	sfinject_check("UDP echo", sfinject_roundtrip(so, "hello", 5, buf,
		sizeof(buf)), 5);
	sfinject_check("UDP kept and put back once", calls, 1);
	sock_close(so);
}

static void
tcp_part(void)
{
	struct sockaddr_in sin = sfinject_sin(INADDR_LOOPBACK, PORT);
	struct msghdr msg;
	struct iovec iov;
	socket_t l, c, a = NULL;
	int sndbuf = 4096, i;
	size_t n = 0;

	for (i = 0; i < TOTAL; i++)
		out[i] = 'a' + i % 26;
	l = tcp_socket();
	sfinject_check("bind", sock_bind(l, (struct sockaddr *)&sin), 0);
	sfinject_check("listen", sock_listen(l, 5), 0);
	c = tcp_socket();
	sfinject_check("SO_SNDBUF", sock_setsockopt(c, SOL_SOCKET, SO_SNDBUF,
		&sndbuf, sizeof(sndbuf)), 0);
	sfinject_check("connect", sock_connect(c, (struct sockaddr *)&sin, 0),
		0);
	sfinject_check("accept", sock_accept(l, NULL, 0, 0, NULL, NULL, &a), 0);
	sfinject_check("TCP attach", sflt_attach(c, HANDLE_TCP), 0);

	calls = 0;
	sfinject_check("TCP: every byte sent", send_bytes(c, out, TOTAL, 0),
		TOTAL);
	sfinject_check("TCP: in several pieces", calls > 1, 1);
	bzero(&msg, sizeof(msg));
	iov.iov_base = in;
	iov.iov_len = TOTAL;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	sfinject_check("TCP: every byte received", a != NULL &&
		sock_receive(a, &msg, MSG_WAITALL, &n) == 0 ? (int)n : -1,
		TOTAL);
	sfinject_check("TCP: the bytes sent", memcmp(in, out, TOTAL), 0);

	sfinject_check("urgent byte", send_bytes(c, "!", 1, MSG_OOB), 1);
	sfinject_check("sf_data_out hears it is urgent", last_flags,
		sock_data_filt_flag_oob);
	if (a != NULL)
		sock_close(a);
	sock_close(c);
	sock_close(l);
}

kern_return_t
sfinject_start(kmod_info_t *ki, void *data)
{
	struct timespec ts = { 2, 0 };
	errno_t error;

	sfinject_check("register UDP", sflt_register(&udp_filter, PF_INET,
		SOCK_DGRAM, IPPROTO_UDP), 0);
	udp_part();
	error = sflt_register(&tcp_filter, PF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (error == ENOENT) {
		gone++;			/* no TCP: nothing to unregister */
	} else {
		sfinject_check("register TCP", error, 0);
		tcp_part();
		sflt_unregister(HANDLE_TCP);
	}
	sfinject_check("no injection failed", inject_errors, 0);
	sflt_unregister(HANDLE_UDP);
	while (gone < 2 && msleep((void *)&gone, NULL, 0, "sfinject", &ts) == 0)
		;
	sfinject_check("sf_unregistered", gone, 2);
	printf("sfinject: done, %d failed\n", sfinject_failed);
	return KERN_SUCCESS;
}

kern_return_t
sfinject_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)


# sf_accept (SFLT_EXTENDED, later Mac OS X): a global TCP filter, set up
# the way newer sources do it (assignments through the sf_len and
# sf_accept macros), answers each accept of one listener in turn: 0,
# EJUSTRETURN, ECONNABORTED, 0.  Two more filters carry an sf_accept the
# kernel must not call: one without SFLT_EXTENDED, one whose sf_len stops
# short of it.
SFACCEPT = (
    PROLOGUE.format(name="sfaccept")
    + r"""
#define HANDLE	0x73666163	/* 'sfac' */
#define PORT	5200

static errno_t answer;
static u_int16_t client_port;
static volatile int gone;

static errno_t
attach(void **cookie, socket_t so)
{
	*cookie = so;
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
}

static void
unregistered(sflt_handle handle)
{
	gone++;
	wakeup((void *)&gone);
}

static errno_t
accept_f(void *cookie, socket_t so_listen, socket_t so,
	const struct sockaddr *local, const struct sockaddr *remote)
{
	const struct sockaddr_in *l = (const struct sockaddr_in *)local;
	const struct sockaddr_in *r = (const struct sockaddr_in *)remote;

	sfaccept_check("cookie is the new socket's", cookie == so, 1);
	sfaccept_check("listener", so_listen != NULL && so_listen != so, 1);
	sfaccept_check("local", l->sin_family == AF_INET &&
		ntohs(l->sin_port) == PORT, 1);
	sfaccept_check("remote", r->sin_family == AF_INET &&
		r->sin_port == client_port, 1);
	printf("sfaccept: accept answers %d\n", answer);
	return answer;
}

static errno_t
accept_never(void *cookie, socket_t so_listen, socket_t so,
	const struct sockaddr *local, const struct sockaddr *remote)
{
	printf("sfaccept: FAIL an sf_accept without SFLT_EXTENDED ran\n");
	sfaccept_failed++;
	return ECONNABORTED;
}

static socket_t
tcp_socket(void)
{
	socket_t so = NULL;
	struct timeval tv = { 2, 0 };

	if (sock_socket(PF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, NULL, &so) == 0)
		sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return so;
}

/* Receive into buf: the bytes, or -error. */
static int
receive_into(socket_t so, char *buf, size_t len)
{
	struct msghdr msg;
	struct iovec iov = { buf, len };
	size_t n = 0;
	errno_t error;

	bzero(&msg, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	error = sock_receive(so, &msg, 0, &n);
	return error != 0 ? -error : (int)n;
}

static errno_t
send_str(socket_t so, const char *what)
{
	struct msghdr msg;
	struct iovec iov = { (void *)what, strlen(what) };
	size_t n;

	bzero(&msg, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	return sock_send(so, &msg, 0, &n);
}

/* One connection to the listener l, whose sf_accept answers `how`:
 * what sock_accept returned, and the accepted socket in *a. */
static errno_t
connect_accept(socket_t l, errno_t how, socket_t *c, socket_t *a)
{
	struct sockaddr_in sin = sfaccept_sin(INADDR_LOOPBACK, PORT);
	struct sockaddr_in me;

	answer = how;
	*a = NULL;
	*c = tcp_socket();
	sfaccept_check("connect", sock_connect(*c, (struct sockaddr *)&sin, 0), 0);
	sock_getsockname(*c, (struct sockaddr *)&me, sizeof(me));
	client_port = me.sin_port;
	return sock_accept(l, NULL, 0, 0, NULL, NULL, a);
}

kern_return_t
sfaccept_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in sin = sfaccept_sin(INADDR_LOOPBACK, PORT);
	struct sflt_filter f;
	socket_t l, c, a;
	char buf[8];
	int n;

	bzero(&f, sizeof(f));
	f.sf_handle = HANDLE;
	f.sf_flags = SFLT_GLOBAL | SFLT_EXTENDED;
	f.sf_name = "sfaccept";
	f.sf_unregistered = unregistered;
	f.sf_attach = attach;
	f.sf_detach = detach;
	f.sf_len = sizeof(struct sflt_filter_ext);
	f.sf_accept = accept_f;
	if (sflt_register(&f, PF_INET, SOCK_STREAM, IPPROTO_TCP) == ENOENT) {
		printf("sfaccept: no TCP\n");
		return KERN_SUCCESS;
	}
	f.sf_handle = HANDLE + 1;	/* sf_ext, but no SFLT_EXTENDED */
	f.sf_flags = SFLT_GLOBAL;
	f.sf_accept = accept_never;
	sfaccept_check("register, no flag", sflt_register(&f, PF_INET,
		SOCK_STREAM, IPPROTO_TCP), 0);
	f.sf_handle = HANDLE + 2;	/* sf_len short of sf_accept */
	f.sf_flags = SFLT_GLOBAL | SFLT_EXTENDED;
	f.sf_len = sizeof(f.sf_ext.sf_ext_len);
	sfaccept_check("register, short", sflt_register(&f, PF_INET,
		SOCK_STREAM, IPPROTO_TCP), 0);

	l = tcp_socket();
	sfaccept_check("bind", sock_bind(l, (struct sockaddr *)&sin), 0);
	sfaccept_check("listen", sock_listen(l, 5), 0);

	/* 0: an ordinary connection. */
	sfaccept_check("accept, 0", connect_accept(l, 0, &c, &a), 0);
	sfaccept_check("send", send_str(c, "hello"), 0);
	sfaccept_check("receive", receive_into(a, buf, sizeof(buf)), 5);
	sock_close(a);
	sock_close(c);

	/* EJUSTRETURN: handed over, but disconnected. */
	sfaccept_check("accept, EJUSTRETURN", connect_accept(l, EJUSTRETURN,
		&c, &a), 0);
	sfaccept_check("a socket", a != NULL, 1);
	if (a != NULL) {
		n = receive_into(a, buf, sizeof(buf));
		sfaccept_check("its reader sees end of file", n, 0);
		sfaccept_check("its sender is refused", send_str(a, "x"), EPIPE);
		sock_close(a);
	}
	n = receive_into(c, buf, sizeof(buf));
	sfaccept_check("the client sees the end", n == 0 || n == -ECONNRESET, 1);
	sock_close(c);

	/* Another errno: closed, and accept fails with it. */
	sfaccept_check("accept, ECONNABORTED", connect_accept(l, ECONNABORTED,
		&c, &a), ECONNABORTED);
	sfaccept_check("no socket", a == NULL, 1);
	n = receive_into(c, buf, sizeof(buf));
	sfaccept_check("the client sees the close", n == 0 || n == -ECONNRESET, 1);
	sock_close(c);

	/* The listener goes on. */
	sfaccept_check("accept, 0 again", connect_accept(l, 0, &c, &a), 0);
	sfaccept_check("send again", send_str(c, "again"), 0);
	sfaccept_check("receive again", receive_into(a, buf, sizeof(buf)), 5);
	sock_close(a);
	sock_close(c);
	sock_close(l);
	printf("sfaccept: done, %d failed\n", sfaccept_failed);
	return KERN_SUCCESS;
}

kern_return_t
sfaccept_stop(kmod_info_t *ki, void *data)
{
	struct timespec ts = { 2, 0 };

	sflt_unregister(HANDLE);
	sflt_unregister(HANDLE + 1);
	sflt_unregister(HANDLE + 2);
	while (gone < 3 && msleep((void *)&gone, NULL, 0, "sfaccept", &ts) == 0)
		;
	return gone == 3 ? KERN_SUCCESS : KERN_FAILURE;
}
"""
)

# The addresses a socket's owner asks for, as Mac OS X hands them to
# sf_getpeername and sf_getsockname: *sa is a block of the kernel's
# (MALLOC, M_SONAME).  One filter rewrites it in place; the other frees
# it and answers with one of its own, which the kernel frees.
SFNAME = (
    PROLOGUE.format(name="sfname")
    + r"""
#include <sys/malloc.h>

#define HANDLE		0x73666e6d	/* 'sfnm' */

static volatile int gone;

static errno_t
attach(void **cookie, socket_t so)
{
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
}

static void
unregistered(sflt_handle handle)
{
	gone = 1;
	wakeup((void *)&gone);
}

static int
peername(void *cookie, socket_t so, struct sockaddr **sa)
{
	struct sockaddr_in *old = (struct sockaddr_in *)*sa, *new;

	MALLOC(new, struct sockaddr_in *, sizeof(*new), M_SONAME, M_WAITOK);
	if (new == NULL)
		return ENOMEM;
	*new = *old;
	new->sin_port = htons(9999);
	FREE(old, M_SONAME);
	*sa = (struct sockaddr *)new;
	return 0;
}

static int
sockname(void *cookie, socket_t so, struct sockaddr **sa)
{
	((struct sockaddr_in *)*sa)->sin_port = htons(8888);
	return 0;
}

static struct sflt_filter filter = {
	HANDLE, SFLT_PROG, "sfname", unregistered, attach, detach, NULL,
	peername, sockname, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL,
};

kern_return_t
sfname_start(kmod_info_t *ki, void *data)
{
	struct sockaddr_in echo = sfname_sin(INADDR_LOOPBACK, 7), sin;
	struct timespec ts = { 2, 0 };
	socket_t so = sfname_socket(1000);

	sfname_check("register", sflt_register(&filter, PF_INET, SOCK_DGRAM,
		IPPROTO_UDP), 0);
	sfname_check("attach", sflt_attach(so, HANDLE), 0);
	sfname_check("connect", sock_connect(so, (struct sockaddr *)&echo, 0),
		0);
	bzero(&sin, sizeof(sin));
	sfname_check("getpeername", sock_getpeername(so,
		(struct sockaddr *)&sin, sizeof(sin)), 0);
	sfname_check("the filter's answer", ntohs(sin.sin_port), 9999);
	bzero(&sin, sizeof(sin));
	sfname_check("getsockname", sock_getsockname(so,
		(struct sockaddr *)&sin, sizeof(sin)), 0);
	sfname_check("rewritten in place", ntohs(sin.sin_port), 8888);
	sock_close(so);
	sflt_unregister(HANDLE);
	if (!gone)
		msleep((void *)&gone, NULL, 0, "sfname", &ts);
	sfname_check("sf_unregistered", gone, 1);
	printf("sfname: done, %d failed\n", sfname_failed);
	return KERN_SUCCESS;
}

kern_return_t
sfname_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)


# Forgets sflt_unregister in stop.
SFLEAK = (
    PROLOGUE.format(name="sfleak")
    + r"""
static errno_t
attach(void **cookie, socket_t so)
{
	return 0;
}

static void
detach(void *cookie, socket_t so)
{
}

static struct sflt_filter filter = {
	0x6c65616b, SFLT_PROG, "leaky", NULL, attach, detach,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

kern_return_t
sfleak_start(kmod_info_t *ki, void *data)
{
	return sflt_register(&filter, PF_INET, SOCK_DGRAM, IPPROTO_UDP) ?
		KERN_FAILURE : KERN_SUCCESS;
}

kern_return_t
sfleak_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;
}
"""
)


@pytest.fixture(scope="module")
def guest(module_kext_guest: KextGuest) -> KextGuest:
    return module_kext_guest


def console_until(guest: KextGuest, pattern: str, timeout: float = 20) -> tuple[str, re.Match]:
    """The console's lines up to the one that matches pattern, and that match."""
    m = guest.machine.expect(re.compile(rf"(?P<before>.*?){pattern}", re.S), timeout)
    return m.group("before"), m


def lines_of(text: str, prefix: str) -> list[str]:
    return [
        line.strip()[len(prefix) :] for line in text.splitlines() if line.strip().startswith(prefix)
    ]


def test_each_callback_runs_at_its_place_and_the_last_attached_filter_runs_first(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sftrace", SFTRACE, libraries=KPIS))

    text, done = console_until(guest, r"sftrace: done, (?P<failed>\d+) failed")

    assert done.group("failed") == "0", text
    phase_one = text.split("sftrace: phase one", 1)[1]
    assert lines_of(phase_one, "sftrace: ") == [
        "A attach 0",
        "B attach 0",
        "B bind 0",  # the newest filter first, in both directions
        "A bind 0",
        "B notify 10",  # sock_evt_bound
        "A notify 10",
        "B setoption 4098",  # SO_RCVBUF
        "A setoption dir 2 level 0xffff name 0x1002 size 4 value 6000",
        "B getoption 1",
        "A getoption 1",
        "B ioctl 1",
        "A ioctl 1",
        "B connect_out 7",
        "A connect_out 7",
        "B notify 2",  # connected
        "A notify 2",
        "B data_out 4",
        "A data_out 4",
        "B data_in 4",  # the echo, in the input thread
        "A data_in 4",
        "B getsockname 1",
        "A getsockname 1",
        "B getpeername 7",
        "A getpeername 7",
        "B detach 0",
        "A notify 61",  # shutdown, how = SHUT_WR
        "A notify 8",  # cantsendmore
        "A notify 9",  # closing
        "A detach 0",
    ]
    counters = netstat_s(guest.machine)
    assert counters["socket.filtered_in"] >= 1  # "refuse"
    assert counters["sflt.held_in"] >= 1  # "keep"
    assert counters["sflt.held_out"] >= 1  # "swallow"
    assert counters["sflt.refused_out"] >= 1  # "deny"
    assert counters["sflt.injected_in"] >= 1
    assert counters["sflt.injected_out"] >= 1

    table = guest.monitor("sflt")
    assert re.search(
        r"^sftrace A\s+handle 0x73667461\s+prog\s+domain 2 type 2 protocol 17", table, re.M
    ), table
    assert "2 socket filters registered" in table

    guest.unload("com.example.sftrace")
    text, _ = console_until(guest, r"sftrace: B unregistered 0")
    assert "sftrace: A unregistered 0" in text
    assert "0 socket filters registered" in guest.monitor("sflt")


def test_the_kpi_refuses_bad_arguments_and_a_refused_attach_gets_no_detach(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sfargs", SFARGS, libraries=KPIS))

    text, done = console_until(guest, r"sfargs: done, (?P<failed>\d+) failed")

    assert done.group("failed") == "0", text
    guest.unload("com.example.sfargs")


def test_a_global_filter_joins_new_udp_sockets_and_unregisters_while_they_are_open(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sfglobal", SFGLOBAL, libraries=KPIS))
    text, _ = console_until(guest, "sfglobal: started")
    assert lines_of(text, "sfglobal: ") == ["attach", "attach"]
    table = guest.monitor("sflt")
    assert re.search(r"^sfglobal\s+handle 0x7366676c\s+global\s", table, re.M), table
    assert re.search(r"attached 2 \(ever 2\)", table), table

    # The monitor's `udp send` makes a UDP socket: the filter is on it.
    out = guest.machine.command("udp send 127.0.0.1 7 hello", timeout=20)
    assert "5 bytes from 127.0.0.1.7: hello" in out
    assert lines_of(out, "sfglobal: ") == [
        "attach",
        "data_out 5",
        "data_in 5",
        "notify 9",  # closing
        "detach",
    ]

    guest.unload("com.example.sfglobal")
    text, _ = console_until(guest, "sfglobal: unregistered")
    assert lines_of(text, "sfglobal: ") == ["stopping", "detach", "detach"]
    assert "0 socket filters registered" in guest.monitor("sflt")


def test_unregistering_while_a_callback_runs_defers_sf_detach_until_it_returns(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sfbusy", SFBUSY, libraries=KPIS))

    text, done = console_until(guest, r"sfbusy: done, (?P<failed>\d+) failed")

    assert done.group("failed") == "0", text
    assert lines_of(text, "sfbusy: ") == [
        "sf_data_in sleeps",
        "sflt_unregister returned 0, sf_detach not yet",
        "sf_data_in returns",
        "sf_detach, the callback returned",
        "sf_unregistered, sf_detach before it",
    ]
    guest.unload("com.example.sfbusy")


def test_sf_data_out_may_put_back_what_it_keeps_from_inside_the_callback(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sfinject", SFINJECT, libraries=KPIS))

    text, done = console_until(guest, r"sfinject: done, (?P<failed>\d+) failed")

    assert done.group("failed") == "0", text
    guest.unload("com.example.sfinject")


def test_sf_getpeername_may_answer_with_a_block_of_its_own_as_on_mac_os_x(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sfname", SFNAME, libraries=KPIS))

    text, done = console_until(guest, r"sfname: done, (?P<failed>\d+) failed")

    assert done.group("failed") == "0", text
    guest.unload("com.example.sfname")


def in_order(seen: list[str], wanted: list[str]) -> bool:
    """Are the `wanted` lines all in `seen`, in that order (others between)?"""
    it = iter(seen)
    return all(any(line == w for line in it) for w in wanted)


def test_on_tcp_each_callback_runs_at_its_place_for_listener_client_and_connection(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sftcp", SFTCP, libraries=KPIS))

    text, done = console_until(guest, r"sftcp: (done, (?P<failed>\d+) failed|no TCP)")

    if "no TCP" in done.group(0):
        guest.unload("com.example.sftcp")
        pytest.skip("the kernel has no TCP")
    assert done.group("failed") == "0", text
    lines = lines_of(text, "sftcp: ")
    by_socket = {name: [line[2:] for line in lines if line[0] == name] for name in "LCSR"}
    expected = {
        "L": [
            "attach 0",
            "bind 5100",
            "notify 10",
            "listen 0",
            "connect_in 2",
            "connect_in-refused 2",  # R's SYN: no connection is made for it
            "detach 0",
        ],
        "C": [
            "attach 0",
            "connect_out 5100",
            "notify 1",  # connecting
            "notify 2",  # connected
            "data_out 5",
            "notify 61",  # shutdown(SHUT_WR)
            "notify 8",  # cantsendmore
            "notify 9",  # closing
            "detach 0",
        ],
        "S": [
            "attach 0",  # in sonewconn, for the new connection
            "notify 2",
            "data_in 5",  # through sbappendstream, no sender address
            "notify 7",  # the client's FIN: cantrecvmore
            "notify 9",
            "detach 0",
        ],
    }
    for name, wanted in expected.items():
        assert in_order(by_socket[name], wanted), (name, by_socket[name])
    assert not any("connect_in" in line for line in by_socket["C"] + by_socket["S"])
    assert in_order(by_socket["R"], ["attach 0", "connect_out 5100", "notify 1", "detach 0"])
    assert "notify 2" not in by_socket["R"]  # never connected
    guest.unload("com.example.sftcp")


def test_sf_accept_runs_when_a_connection_is_accepted_and_its_answer_decides(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    before = netstat_s(guest.machine)
    guest.load(make_kext("sfaccept", SFACCEPT, libraries=KPIS))

    text, done = console_until(guest, r"sfaccept: (done, (?P<failed>\d+) failed|no TCP)")

    if "no TCP" in done.group(0):
        guest.unload("com.example.sfaccept")
        pytest.skip("the kernel has no TCP")
    assert done.group("failed") == "0", text
    # Only the SFLT_EXTENDED filter whose sf_len covers sf_accept is asked.
    assert lines_of(text, "sfaccept: accept answers ") == ["0", "-2", "53", "0"]
    after = netstat_s(guest.machine)
    assert after["sflt.accept_disconnected"] - before.get("sflt.accept_disconnected", 0) == 1
    assert after["sflt.accept_refused"] - before.get("sflt.accept_refused", 0) == 1
    table = guest.monitor("sflt")
    assert re.search(r"^sfaccept\s+handle 0x73666163\s+global\s.*\ssf_accept$", table, re.M), table
    assert not re.search(r"^sfaccept\s+handle 0x7366616[45].*sf_accept", table, re.M), table
    guest.unload("com.example.sfaccept")
    assert "sfaccept" not in guest.monitor("sflt")


def test_a_kext_that_stops_without_unregistering_is_kept_and_told_why(
    guest: KextGuest, make_kext: MakeKext
) -> None:
    guest.load(make_kext("sfleak", SFLEAK, libraries=KPIS))

    with pytest.raises(FinchError) as refused:
        guest.unload("com.example.sfleak")

    assert (
        "socket filter 'leaky' (handle 0x6c65616b) still registered: "
        "stop must call sflt_unregister and wait for sf_unregistered"
    ) in str(refused.value)
    assert any(k.identifier == "com.example.sfleak" for k in guest.kextstat())
    assert re.search(r"^leaky\s+handle 0x6c65616b", guest.monitor("sflt"), re.M)
