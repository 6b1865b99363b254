/*
 * The host's PF_SYSTEM sockets: host-link requests (docs/hostlink.md,
 * section 6) that open a kernel-control or kernel-event socket in the
 * guest and use it -- ioctl, connect, send, receive, options, close.
 * Until Finch has processes, this is how a client outside the kernel
 * (`finch kctl`, `finch events`) reaches a kext's control.  Each socket
 * is an ordinary one made with sock_socket, so it takes the path user
 * space will take; the host acts as root unless it asks to be
 * unprivileged (SYS_OPEN flag), which drops the socket's credential.
 *
 * The sockets outlive a host session (a tool may open in one and
 * close in another); at most HL_SYS_MAX are open.  Only the link thread
 * touches the table, so it has no lock.
 */
#include <sys/systm.h>
#include <sys/ioccom.h>
#include <sys/socket.h>
#include <sys/sys_domain.h>
#include <sys/kpi_socket.h>
#include <kern/hostlink_var.h>
#include <kern/monitor.h>

#define HL_SYS_MAX		16	/* sockets open at once */
#define HL_SYS_UNPRIV		0x1	/* SYS_OPEN flags: not as root */
#define HL_SYS_STREAM		0x2	/* a SOCK_STREAM control socket */
#define HL_SYS_WAIT_MAX		2000	/* ms a SYS_RECV may wait: well under
					   the host's request timeout */
#define HL_SYS_IOCTL_MAX	256	/* bytes of an ioctl's argument */

static struct hl_sys_socket {
	socket_t	hs_so;		/* NULL: free */
	int		hs_proto;	/* SYSPROTO_* */
	bool		hs_unpriv;
} hl_sys_sockets[HL_SYS_MAX];

/* The socket of handle h (slot + 1), or NULL. */
static struct hl_sys_socket *
hl_sys_lookup(uint32_t h)
{
	if (h == 0 || h > HL_SYS_MAX || hl_sys_sockets[h - 1].hs_so == NULL)
		return NULL;
	return &hl_sys_sockets[h - 1];
}

/* SYS_OPEN: u32 protocol, u32 flags -> i32 status, u32 handle.  An
 * event socket is SOCK_RAW; a control socket SOCK_DGRAM, or SOCK_STREAM
 * with HL_SYS_STREAM. */
static errno_t
hl_sys_open(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t proto = hl_get32(in), flags = hl_get32(in), h;
	struct hl_sys_socket *hs = NULL;
	errno_t error;

	if (!hl_in_ok(in))
		return EINVAL;
	for (h = 0; h < HL_SYS_MAX; h++)
		if (hl_sys_sockets[h].hs_so == NULL) {
			hs = &hl_sys_sockets[h];
			break;
		}
	if (hs == NULL)
		error = ENFILE;
	else if (proto != SYSPROTO_CONTROL && proto != SYSPROTO_EVENT)
		error = EPROTONOSUPPORT;
	else
		error = sock_socket(PF_SYSTEM, proto == SYSPROTO_EVENT ?
		    SOCK_RAW : (flags & HL_SYS_STREAM) ? SOCK_STREAM :
		    SOCK_DGRAM, proto, NULL, NULL, &hs->hs_so);
	if (error == 0 && (flags & HL_SYS_UNPRIV))
		sock_setpriv(hs->hs_so, 0);	/* see kern_control_socket.c */
	if (error == 0) {
		hs->hs_proto = proto;
		hs->hs_unpriv = (flags & HL_SYS_UNPRIV) != 0;
	}
	hl_put32(out, error);
	hl_put32(out, error == 0 ? h + 1 : 0);
	return 0;
}

/*
 * SYS_CLOSE: u32 handle -> i32 status.  Handle 0 closes every host
 * socket: those a host tool that died left open, which a `hostsock`
 * lists and which keep their controls busy.
 */
static errno_t
hl_sys_close(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t handle = hl_get32(in), h;
	struct hl_sys_socket *hs;
	errno_t error = handle == 0 ? 0 : EBADF;

	if (!hl_in_ok(in))
		return EINVAL;
	for (h = 1; h <= HL_SYS_MAX; h++) {
		if ((hs = hl_sys_lookup(h)) == NULL ||
		    (handle != 0 && h != handle))
			continue;
		sock_close(hs->hs_so);
		hs->hs_so = NULL;
		error = 0;
	}
	hl_put32(out, error);
	return 0;
}

/*
 * SYS_IOCTL: u32 handle, u32 cmd, the argument (IOCPARM_LEN(cmd) bytes
 * for an IOC_IN command, else none) -> i32 status, the argument after
 * the call (for an IOC_OUT command).
 */
static errno_t
hl_sys_ioctl(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	struct hl_sys_socket *hs = hl_sys_lookup(hl_get32(in));
	uint32_t cmd = hl_get32(in), n, len = IOCPARM_LEN(cmd);
	const uint8_t *arg = hl_get_rest(in, &n);
	uint8_t buf[HL_SYS_IOCTL_MAX];
	errno_t error;

	if (!hl_in_ok(in))
		return EINVAL;
	bzero(buf, sizeof(buf));
	if (hs == NULL)
		error = EBADF;
	else if (len > sizeof(buf) || n != ((cmd & IOC_IN) ? len : 0))
		error = EINVAL;
	else {
		memcpy(buf, arg, n);
		error = sock_ioctl(hs->hs_so, cmd, buf);
	}
	hl_put32(out, error);
	if (error == 0 && (cmd & IOC_OUT))
		hl_put_bytes(out, buf, len);
	return 0;
}

/* SYS_CONNECT: u32 handle, the address -> i32 status. */
static errno_t
hl_sys_connect(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	struct hl_sys_socket *hs = hl_sys_lookup(hl_get32(in));
	struct sockaddr_storage ss;
	const uint8_t *sa;
	uint32_t n;
	errno_t error;

	sa = hl_get_rest(in, &n);
	if (!hl_in_ok(in))
		return EINVAL;
	bzero(&ss, sizeof(ss));
	if (hs == NULL)
		error = EBADF;
	else if (n < sizeof(struct sockaddr) || n > sizeof(ss) ||
	    sa[0] != n)
		error = EINVAL;		/* sa_len must say its size */
	else {
		memcpy(&ss, sa, n);
		error = sock_connect(hs->hs_so, (struct sockaddr *)&ss, 0);
	}
	hl_put32(out, error);
	return 0;
}

/* SYS_SEND: u32 handle, u32 flags (MSG_*), the data -> i32 status,
 * u32 bytes sent. */
static errno_t
hl_sys_send(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	struct hl_sys_socket *hs = hl_sys_lookup(hl_get32(in));
	uint32_t flags = hl_get32(in), n;
	const uint8_t *data = hl_get_rest(in, &n);
	struct iovec iov = { (void *)(uintptr_t)data, n };
	struct msghdr msg;
	size_t sent = 0;
	errno_t error;

	if (!hl_in_ok(in))
		return EINVAL;
	bzero(&msg, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/* Never wait for room: the link thread must go on answering. */
	error = hs == NULL ? EBADF : sock_send(hs->hs_so, &msg,
	    (int)flags | MSG_DONTWAIT, &sent);
	hl_put32(out, error);
	hl_put32(out, sent);
	return 0;
}

/*
 * SYS_RECV: u32 handle, u32 most bytes, u32 ms to wait for a record (at
 * most HL_SYS_WAIT_MAX; 0: don't) -> i32 status (EAGAIN: nothing came),
 * u32 MSG_* flags (MSG_TRUNC: the rest of the record was dropped), the
 * data.
 */
static errno_t
hl_sys_recv(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	struct hl_sys_socket *hs = hl_sys_lookup(hl_get32(in));
	uint32_t max = hl_get32(in), wait = hl_get32(in);
	struct timeval tv;
	struct msghdr msg;
	struct iovec iov;
	uint8_t *status, *flags;
	size_t got = 0;
	errno_t error;

	if (!hl_in_ok(in))
		return EINVAL;
	status = hl_room(out, 4);
	flags = hl_room(out, 4);
	max = min(max, out->o_size - out->o_len);
	wait = min(wait, HL_SYS_WAIT_MAX);
	bzero(&msg, sizeof(msg));
	iov.iov_base = out->o_buf + out->o_len;
	iov.iov_len = max;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (hs == NULL) {
		error = EBADF;
	} else {
		tv.tv_sec = wait / 1000;
		tv.tv_usec = (wait % 1000) * 1000;
		error = sock_setsockopt(hs->hs_so, SOL_SOCKET, SO_RCVTIMEO,
		    &tv, sizeof(tv));
		if (error == 0)
			error = sock_receive(hs->hs_so, &msg, wait == 0 ?
			    MSG_DONTWAIT : 0, &got);
	}
	if (error == EWOULDBLOCK)
		error = EAGAIN;		/* the same number in Darwin */
	out->o_len += error == 0 ? got : 0;
	hl_le32enc(status, error);
	hl_le32enc(flags, error == 0 ? msg.msg_flags : 0);
	return 0;
}

/* SYS_SETOPT: u32 handle, i32 level, i32 name, the value -> i32 status. */
static errno_t
hl_sys_setopt(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	struct hl_sys_socket *hs = hl_sys_lookup(hl_get32(in));
	int level = (int)hl_get32(in), name = (int)hl_get32(in);
	const uint8_t *val;
	uint32_t n;

	val = hl_get_rest(in, &n);
	if (!hl_in_ok(in))
		return EINVAL;
	hl_put32(out, hs == NULL ? EBADF : sock_setsockopt(hs->hs_so, level,
	    name, val, n));
	return 0;
}

/* SYS_GETOPT: u32 handle, i32 level, i32 name, u32 most bytes ->
 * i32 status, the value. */
static errno_t
hl_sys_getopt(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	struct hl_sys_socket *hs = hl_sys_lookup(hl_get32(in));
	int level = (int)hl_get32(in), name = (int)hl_get32(in);
	uint32_t max = hl_get32(in);
	uint8_t *status;
	int len;
	errno_t error;

	if (!hl_in_ok(in))
		return EINVAL;
	status = hl_room(out, 4);
	max = min(max, out->o_size - out->o_len);
	len = (int)max;
	error = hs == NULL ? EBADF : sock_getsockopt(hs->hs_so, level, name,
	    out->o_buf + out->o_len, &len);
	if (error == 0)
		out->o_len += min((uint32_t)len, max);
	hl_le32enc(status, error);
	return 0;
}

#define HL_SYS_REQUEST(type, name, fn)					\
	static const struct hl_request fn##_rq = { type, name, fn };	\
	HL_REQUEST_SET(fn##_rq)

HL_SYS_REQUEST(HL_SYS_OPEN, "SYS_OPEN", hl_sys_open);
HL_SYS_REQUEST(HL_SYS_CLOSE, "SYS_CLOSE", hl_sys_close);
HL_SYS_REQUEST(HL_SYS_IOCTL, "SYS_IOCTL", hl_sys_ioctl);
HL_SYS_REQUEST(HL_SYS_CONNECT, "SYS_CONNECT", hl_sys_connect);
HL_SYS_REQUEST(HL_SYS_SEND, "SYS_SEND", hl_sys_send);
HL_SYS_REQUEST(HL_SYS_RECV, "SYS_RECV", hl_sys_recv);
HL_SYS_REQUEST(HL_SYS_SETOPT, "SYS_SETOPT", hl_sys_setopt);
HL_SYS_REQUEST(HL_SYS_GETOPT, "SYS_GETOPT", hl_sys_getopt);

/* The `hostsock` command: the host's sockets. */
static int
mon_hostsock(int argc, char **argv)
{
	struct hl_sys_socket *hs;
	int h, n = 0;

	if (argc != 1)
		return monitor_usage(argc, argv);
	for (h = 0; h < HL_SYS_MAX; h++) {
		hs = &hl_sys_sockets[h];
		if (hs->hs_so == NULL)
			continue;
		printf("handle %d: %s socket %p%s%s\n", h + 1,
		    hs->hs_proto == SYSPROTO_EVENT ? "kernel event" :
		    "kernel control", hs->hs_so,
		    sock_isconnected(hs->hs_so) ? ", connected" : "",
		    hs->hs_unpriv ? ", unprivileged" : "");
		n++;
	}
	printf("%d of %d host sockets open\n", n, HL_SYS_MAX);
	return 0;
}
MONITOR_COMMAND(hostsock, mon_hostsock, "hostsock",
    "the PF_SYSTEM sockets the host opened over the host link");
