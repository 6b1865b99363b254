/*
 * The in-kernel socket KPI (<sys/kpi_socket.h>; XNU: bsd/kern/
 * kpi_socket.c): sockets without file descriptors, for kexts and for the
 * kernel's own services (the UDP echo service).  Each call checks its
 * arguments, copies what the caller handed in, and calls the socket
 * layer (uipc_socket.c), as the system calls will.  Sockets a kext makes
 * are recorded with the kext, and kextunload refuses to unload a kext
 * while one is open or while any socket would still call into it.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <kern/kalloc.h>
#include <kern/kmod_check.h>
#include <kern/kmod_var.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/uio_var.h>

/* The return address of the call into the function that uses it. */
#define CALLER_RA()	((u_int32_t)__builtin_return_address(0))

/* iovecs copied on the stack; more are copied into the heap. */
#define SOCK_IOV_STACK	8

/* The return address ra if it lies in a kext, else 0 (the kernel). */
static u_int32_t
sock_kext_ra(u_int32_t ra)
{
	return kmod_lookup_address(ra) != NULL ? ra : 0;
}

/* A caller's socket address, checked and copied: EINVAL unless it is at
 * least a struct sockaddr, fits len and a sockaddr_storage. */
static errno_t
sock_copy_addr(struct sockaddr_storage *ss, const struct sockaddr *sa,
    size_t len)
{
	if (sa == NULL || len < sizeof(struct sockaddr) ||
	    sa->sa_len < offsetof(struct sockaddr, sa_data) ||
	    sa->sa_len > len || sa->sa_len > sizeof(*ss))
		return EINVAL;
	memcpy(ss, sa, sa->sa_len);	/* protocols read sa_len bytes */
	return 0;
}

/* Set the upcall (socket locked). */
static void
sock_set_upcall(struct socket *so, sock_upcall callback, void *cookie)
{
	so->so_upcall = callback;
	so->so_upcallarg = cookie;
	if (callback != NULL) {
		so->so_rcv.sb_flags |= SB_UPCALL;
		so->so_snd.sb_flags |= SB_UPCALL;
	} else {
		so->so_rcv.sb_flags &= ~SB_UPCALL;
		so->so_snd.sb_flags &= ~SB_UPCALL;
	}
}

/* ---- Making and closing ---- */

errno_t
sock_socket(int domain, int type, int protocol, sock_upcall callback,
    void *cookie, socket_t *new_so)
{
	struct socket *so;
	errno_t error;

	if (new_so == NULL)
		return EINVAL;
	*new_so = NULL;
	error = socreate(domain, &so, type, protocol,
	    sock_kext_ra(CALLER_RA()));
	if (error != 0)
		return error;
	socket_lock(so, 0);
	so->so_flags |= SOF_KPI;
	/* The kernel's sockets are root's: see kern_control_socket.c. */
	so->so_state |= SS_PRIV;
	so->so_rcv.sb_flags |= SB_NOINTR;
	so->so_snd.sb_flags |= SB_NOINTR;
	sock_set_upcall(so, callback, cookie);
	socket_unlock(so, 0);
	*new_so = so;
	return 0;
}

void
sock_close(socket_t so)
{
	if (so != NULL)
		soclose(so);
}

void
sock_retain(socket_t so)
{
	if (so == NULL)
		return;
	socket_lock(so, 1);
	so->so_retaincnt++;
	soreference(so);		/* the retain's */
	socket_unlock(so, 1);
}

void
sock_release(socket_t so)
{
	if (so == NULL)
		return;
	socket_lock(so, 1);
	if (so->so_retaincnt == 0)
		panic("sock_release: socket %p was not retained", so);
	if (--so->so_retaincnt == 0 && (so->so_flags & SOF_CLOSEWAIT))
		soclose_deferred(so);
	sorelease_notlast(so);		/* the retain's: ours remains */
	socket_unlock(so, 1);		/* ours: maybe the last */
}

/* ---- Addresses, connections ---- */

errno_t
sock_bind(socket_t so, const struct sockaddr *to)
{
	struct sockaddr_storage ss;

	if (so == NULL || to == NULL || sock_copy_addr(&ss, to, to->sa_len))
		return EINVAL;
	return sobind(so, (struct sockaddr *)&ss);
}

errno_t
sock_listen(socket_t so, int backlog)
{
	if (so == NULL)
		return EINVAL;
	return solisten(so, backlog);
}

errno_t
sock_connect(socket_t so, const struct sockaddr *to, int flags)
{
	struct sockaddr_storage ss;
	bool nonblocking;
	errno_t error;

	if (so == NULL || to == NULL || sock_copy_addr(&ss, to, to->sa_len))
		return EINVAL;
	socket_lock(so, 1);
	nonblocking = (flags & MSG_DONTWAIT) || (so->so_state & SS_NBIO);
	if ((so->so_state & SS_ISCONNECTING) && nonblocking) {
		socket_unlock(so, 1);
		return EALREADY;
	}
	socket_unlock(so, 1);
	error = soconnect(so, (struct sockaddr *)&ss);
	socket_lock(so, 1);
	if (error != 0)
		so->so_state &= ~SS_ISCONNECTING;
	else if ((so->so_state & SS_ISCONNECTING) && nonblocking)
		error = EINPROGRESS;	/* the upcall will say when */
	else {
		while ((so->so_state & SS_ISCONNECTING) && so->so_error == 0)
			msleep(&so->so_timeo, so->so_mtx, 0, "sock_connect",
			    NULL);
		error = so->so_error;
		so->so_error = 0;
	}
	socket_unlock(so, 1);
	return error;
}

errno_t
sock_connectwait(socket_t so, const struct timeval *tv)
{
	struct timespec ts;
	errno_t error = 0;

	if (so == NULL || tv == NULL)
		return EINVAL;
	if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
		return EDOM;
	socket_lock(so, 1);
	if ((so->so_state & SS_ISCONNECTING) && so->so_error == 0) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
		if (ts.tv_sec != 0 || ts.tv_nsec != 0)
			msleep(&so->so_timeo, so->so_mtx, 0,
			    "sock_connectwait", &ts);
	}
	if (so->so_error != 0) {
		error = so->so_error;
		so->so_error = 0;
	} else if (so->so_state & SS_ISCONNECTING)
		error = EINPROGRESS;
	else if (!(so->so_state & SS_ISCONNECTED))
		error = EINVAL;		/* no connection was started */
	socket_unlock(so, 1);
	return error;
}

errno_t
sock_accept(socket_t so, struct sockaddr *from, int fromlen, int flags,
    sock_upcall callback, void *cookie, socket_t *new_so)
{
	struct sockaddr_storage ss;
	struct socket *new;
	sock_upcall upcall = callback;
	void *arg = cookie;
	errno_t error;

	if (so == NULL || new_so == NULL || (from != NULL && fromlen < 0))
		return EINVAL;
	*new_so = NULL;
	if (flags & ~(MSG_DONTWAIT | MSG_USEUPCALL))
		return ENOTSUP;
	if (flags & MSG_USEUPCALL) {
		socket_lock(so, 1);
		upcall = so->so_upcall;
		arg = so->so_upcallarg;
		socket_unlock(so, 1);
	}
	if ((error = soaccept(so, (flags & MSG_DONTWAIT) != 0, &new)) != 0)
		return error;
	socket_lock(new, 0);
	new->so_flags |= SOF_KPI;
	new->so_creator = sock_kext_ra(CALLER_RA());
	bzero(&ss, sizeof(ss));
	if (new->so_pcb == NULL)
		error = ECONNABORTED;	/* the connection died on the queue */
	else if (new->so_proto->pr_usrreqs->pru_accept != NULL)
		error = new->so_proto->pr_usrreqs->pru_accept(new,
		    (struct sockaddr *)&ss);
	if (error != 0) {
		socket_unlock(new, 0);
		soclose(new);
		return error;
	}
	sock_set_upcall(new, upcall, arg);
	if (upcall != NULL && (new->so_rcv.sb_cc > 0 ||
	    (new->so_state & SS_CANTRCVMORE)))
		sorwakeup(new);		/* data or EOF came before the upcall */
	if (from != NULL)
		memcpy(from, &ss, (size_t)fromlen < ss.ss_len ?
		    (size_t)fromlen : ss.ss_len);
	socket_unlock(new, 0);
	*new_so = new;
	return 0;
}

errno_t
sock_shutdown(socket_t so, int how)
{
	if (so == NULL)
		return EINVAL;
	return soshutdown(so, how);
}

/* The local or peer address, up to len bytes. */
static errno_t
sock_getaddr(socket_t so, struct sockaddr *sa, int len, bool peer)
{
	struct sockaddr_storage ss;
	errno_t error;

	if (so == NULL || sa == NULL || len < 0)
		return EINVAL;
	if ((error = sogetaddr(so, (struct sockaddr *)&ss, peer)) != 0)
		return error;
	memcpy(sa, &ss, (size_t)len < ss.ss_len ? (size_t)len : ss.ss_len);
	return 0;
}

errno_t
sock_getpeername(socket_t so, struct sockaddr *peername, int peernamelen)
{
	return sock_getaddr(so, peername, peernamelen, true);
}

errno_t
sock_getsockname(socket_t so, struct sockaddr *sockname, int socknamelen)
{
	return sock_getaddr(so, sockname, socknamelen, false);
}

/* ---- Options, ioctls ---- */

errno_t
sock_setsockopt(socket_t so, int level, int optname, const void *optval,
    int optlen)
{
	struct sockopt sopt;

	if (so == NULL || optlen < 0 || (optval == NULL && optlen > 0))
		return EINVAL;
	sopt.sopt_dir = SOPT_SET;
	sopt.sopt_level = level;
	sopt.sopt_name = optname;
	sopt.sopt_val = (void *)(uintptr_t)optval;
	sopt.sopt_valsize = (size_t)optlen;
	sopt.sopt_p = NULL;
	return sosetopt(so, &sopt);
}

errno_t
sock_getsockopt(socket_t so, int level, int optname, void *optval,
    int *optlen)
{
	struct sockopt sopt;
	errno_t error;

	if (so == NULL || optlen == NULL || *optlen < 0)
		return EINVAL;
	sopt.sopt_dir = SOPT_GET;
	sopt.sopt_level = level;
	sopt.sopt_name = optname;
	sopt.sopt_val = optval;
	sopt.sopt_valsize = (size_t)*optlen;
	sopt.sopt_p = NULL;
	error = sogetopt(so, &sopt);
	if (error == 0)
		*optlen = (int)sopt.sopt_valsize;
	return error;
}

errno_t
sock_ioctl(socket_t so, unsigned long request, void *argp)
{
	if (so == NULL || argp == NULL)
		return EINVAL;
	return soioctl(so, request, argp);
}

/* ---- Sending and receiving ---- */

/* Copy msg's iovecs (the uio advances through its own copy): into
 * stack[], or into the heap when there are more.  *iovp is the copy. */
static errno_t
sock_copy_iov(const struct msghdr *msg, struct iovec *stack,
    struct iovec **iovp)
{
	size_t size;

	*iovp = stack;
	if (msg->msg_iovlen < 0 || msg->msg_iovlen > UIO_MAXIOV ||
	    (msg->msg_iovlen > 0 && msg->msg_iov == NULL))
		return EINVAL;
	size = (size_t)msg->msg_iovlen * sizeof(struct iovec);
	if (msg->msg_iovlen > SOCK_IOV_STACK &&
	    (*iovp = kalloc(size)) == NULL)
		return ENOMEM;
	if (size > 0)
		memcpy(*iovp, msg->msg_iov, size);
	return 0;
}

static void
sock_free_iov(const struct msghdr *msg, struct iovec *stack,
    struct iovec *iov)
{
	if (iov != stack)
		kfree(iov, (size_t)msg->msg_iovlen * sizeof(struct iovec));
}

static errno_t
sock_send_internal(socket_t so, const struct msghdr *msg, mbuf_t data,
    int flags, size_t *sentlen)
{
	struct iovec stack[SOCK_IOV_STACK], *iov = NULL;
	struct sockaddr_storage ss;
	struct sockaddr *to = NULL;
	struct uio uio, *uiop = NULL;
	struct mbuf *control = NULL;
	errno_t error;

	if (sentlen != NULL)
		*sentlen = 0;
	if (so == NULL || (data == NULL && msg == NULL)) {
		error = EINVAL;
		goto out;
	}
	if (data != NULL && !(data->m_flags & M_PKTHDR)) {
		error = EINVAL;		/* a chain starts with mbuf_gethdr */
		goto out;
	}
	if (msg != NULL && msg->msg_name != NULL && msg->msg_namelen > 0) {
		if ((error = sock_copy_addr(&ss, msg->msg_name,
		    msg->msg_namelen)) != 0)
			goto out;
		to = (struct sockaddr *)&ss;
	}
	if (msg != NULL && msg->msg_control != NULL &&
	    msg->msg_controllen > 0) {
		if (msg->msg_controllen < sizeof(struct cmsghdr)) {
			error = EINVAL;
			goto out;
		}
		if (msg->msg_controllen > (socklen_t)MLEN) {
			error = ENOBUFS;
			goto out;
		}
		control = m_get(MBUF_WAITOK, MBUF_TYPE_CONTROL,
		    MBUF_OWNER_KERNEL);
		if (control == NULL) {
			error = ENOBUFS;
			goto out;
		}
		memcpy(control->m_data, msg->msg_control, msg->msg_controllen);
		control->m_len = (int32_t)msg->msg_controllen;
	}
	if (data == NULL) {
		if ((error = sock_copy_iov(msg, stack, &iov)) != 0)
			goto out;
		error = uio_init_kernel(&uio, iov, msg->msg_iovlen, UIO_WRITE);
		if (error != 0)
			goto out;
		uiop = &uio;
	}
	error = sosend(so, to, uiop, data, control, flags, sentlen);
	data = NULL;			/* sosend consumed them */
	control = NULL;
out:
	if (iov != NULL)
		sock_free_iov(msg, stack, iov);
	if (data != NULL)
		mbuf_freem(data);
	if (control != NULL)
		m_freem(control);
	return error;
}

errno_t
sock_send(socket_t so, const struct msghdr *msg, int flags, size_t *sentlen)
{
	if (msg == NULL)
		return EINVAL;
	return sock_send_internal(so, msg, NULL, flags, sentlen);
}

errno_t
sock_sendmbuf(socket_t so, const struct msghdr *msg, mbuf_t data, int flags,
    size_t *sentlen)
{
	if (data == NULL) {
		if (sentlen != NULL)
			*sentlen = 0;
		return EINVAL;
	}
	return sock_send_internal(so, msg, data, flags, sentlen);
}

/* The sender's address into msg_name, the control mbufs into
 * msg_control, as much as fits. */
static void
sock_fill_msg(struct msghdr *msg, struct mbuf *addr, struct mbuf *control,
    int flags)
{
	socklen_t len, room;
	struct mbuf *m;
	char *p;

	msg->msg_flags = flags & (MSG_TRUNC | MSG_CTRUNC | MSG_EOR | MSG_OOB |
	    MSG_HAVEMORE);
	if (msg->msg_name != NULL) {
		len = addr != NULL ? (socklen_t)addr->m_len : 0;
		if (len > msg->msg_namelen)
			len = msg->msg_namelen;
		if (len > 0)
			memcpy(msg->msg_name, addr->m_data, len);
		msg->msg_namelen = len;
	}
	if (msg->msg_control != NULL) {
		p = msg->msg_control;
		room = msg->msg_controllen;
		for (m = control; m != NULL; m = m->m_next) {
			len = (socklen_t)m->m_len;
			if (len > room) {
				len = room;
				msg->msg_flags |= MSG_CTRUNC;
			}
			memcpy(p, m->m_data, len);
			p += len;
			room -= len;
		}
		msg->msg_controllen -= room;
	}
}

static errno_t
sock_receive_internal(socket_t so, struct msghdr *msg, mbuf_t *data,
    int flags, size_t *recvdlen)
{
	struct iovec stack[SOCK_IOV_STACK], *iov = NULL;
	struct mbuf *addr = NULL, *control = NULL, *m = NULL;
	struct uio uio;
	size_t want;
	errno_t error;

	if (so == NULL)
		return EINVAL;
	if (data != NULL) {
		*data = NULL;
		if (recvdlen == NULL)
			return EINVAL;
		bzero(&uio, sizeof(uio));
		uio.uio_resid = *recvdlen;
		uio.uio_rw = UIO_READ;
	} else {
		if ((error = sock_copy_iov(msg, stack, &iov)) != 0)
			return error;
		error = uio_init_kernel(&uio, iov, msg->msg_iovlen, UIO_READ);
		if (error != 0)
			goto out;
	}
	want = uio.uio_resid;
	error = soreceive(so, msg != NULL && msg->msg_name != NULL ? &addr :
	    NULL, &uio, data != NULL ? &m : NULL,
	    msg != NULL && msg->msg_control != NULL ? &control : NULL, &flags);
	if (recvdlen != NULL)
		*recvdlen = want - uio.uio_resid;
	if (error == 0 && msg != NULL)
		sock_fill_msg(msg, addr, control, flags);
	if (data != NULL)
		*data = m;
	else if (m != NULL)
		m_freem(m);
out:
	if (iov != NULL)
		sock_free_iov(msg, stack, iov);
	if (addr != NULL)
		m_freem(addr);
	if (control != NULL)
		m_freem(control);
	return error;
}

errno_t
sock_receive(socket_t so, struct msghdr *msg, int flags, size_t *recvdlen)
{
	if (msg == NULL) {
		if (recvdlen != NULL)
			*recvdlen = 0;
		return EINVAL;
	}
	return sock_receive_internal(so, msg, NULL, flags, recvdlen);
}

errno_t
sock_receivembuf(socket_t so, struct msghdr *msg, mbuf_t *data, int flags,
    size_t *recvlen)
{
	if (data == NULL)
		return EINVAL;
	return sock_receive_internal(so, msg, data, flags, recvlen);
}

/* ---- Accessors ---- */

errno_t
sock_setpriv(socket_t so, int on)
{
	if (so == NULL)
		return EINVAL;
	socket_lock(so, 1);
	if (on)
		so->so_state |= SS_PRIV;
	else
		so->so_state &= ~SS_PRIV;
	socket_unlock(so, 1);
	return 0;
}

int
sock_isconnected(socket_t so)
{
	int connected;

	if (so == NULL)
		return 0;
	socket_lock(so, 1);
	connected = (so->so_state & SS_ISCONNECTED) != 0;
	socket_unlock(so, 1);
	return connected;
}

int
sock_isnonblocking(socket_t so)
{
	int nbio;

	if (so == NULL)
		return 0;
	socket_lock(so, 1);
	nbio = (so->so_state & SS_NBIO) != 0;
	socket_unlock(so, 1);
	return nbio;
}

errno_t
sock_gettype(socket_t so, int *domain, int *type, int *protocol)
{
	if (so == NULL)
		return EINVAL;
	if (domain != NULL)
		*domain = so->so_proto->pr_domain->dom_family;
	if (type != NULL)
		*type = so->so_type;
	if (protocol != NULL)
		*protocol = so->so_proto->pr_protocol;
	return 0;
}

errno_t
sock_nointerrupt(socket_t so, int on)
{
	if (so == NULL)
		return EINVAL;
	socket_lock(so, 1);
	if (on) {
		so->so_rcv.sb_flags |= SB_NOINTR;
		so->so_snd.sb_flags |= SB_NOINTR;
	} else {
		so->so_rcv.sb_flags &= ~SB_NOINTR;
		so->so_snd.sb_flags &= ~SB_NOINTR;
	}
	socket_unlock(so, 1);
	return 0;
}

/* ---- kextunload's check ---- */

struct sock_check {
	u_int32_t	start, end;	/* the kext's image */
	char		*why;
	size_t		whylen;
	bool		found;
};

static bool
sock_in(const struct sock_check *sc, const void *p)
{
	return (u_int32_t)p >= sc->start && (u_int32_t)p < sc->end;
}

/* "UDP 0.0.0.0:5000", if the socket's lock is free (we must not sleep). */
static void
sock_describe(struct socket *so, char *buf, size_t len)
{
	struct domain *dom = so->so_proto->pr_domain;

	snprintf(buf, len, "domain %d, type %d", dom->dom_family, so->so_type);
	if (dom->dom_describe != NULL && lck_mtx_try_lock(so->so_mtx)) {
		dom->dom_describe(so, buf, len);
		lck_mtx_unlock(so->so_mtx);
	}
}

static void
sock_check_one(struct socket *so, void *arg)
{
	struct sock_check *sc = arg;
	char what[64];

	if (sc->found)
		return;
	if ((so->so_flags & SOF_KPI) && !(so->so_state & SS_NOFDREF) &&
	    so->so_creator != 0 && sock_in(sc, (void *)so->so_creator)) {
		sock_describe(so, what, sizeof(what));
		snprintf(sc->why, sc->whylen, "socket (%s) made by the kext is "
		    "still open: stop must call sock_close", what);
	} else if (so->so_upcall != NULL && sock_in(sc, (void *)so->so_upcall)) {
		sock_describe(so, what, sizeof(what));
		snprintf(sc->why, sc->whylen, "socket (%s) still has the "
		    "kext's upcall 0x%08x: stop must sock_close it", what,
		    (u_int32_t)so->so_upcall);
	} else if (so->so_upcall != NULL && sock_in(sc, so->so_upcallarg)) {
		sock_describe(so, what, sizeof(what));
		snprintf(sc->why, sc->whylen, "socket (%s) still hands its "
		    "upcall the kext's cookie 0x%08x: stop must sock_close it",
		    what, (u_int32_t)so->so_upcallarg);
	} else
		return;
	sc->found = true;
}

/*
 * Only the kext could close a socket it left open (no descriptor table
 * will do it for it), so a socket that holds the kext holds it until the
 * guest reboots.
 */
static enum kmod_hold
sock_points_into(u_int32_t start, u_int32_t end, uint64_t stopped, char *why,
    size_t whylen)
{
	struct sock_check sc = { start, end, why, whylen, false };

	soall_foreach(sock_check_one, &sc);
	return sc.found ? KMOD_HOLD_FOREVER : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(socket, sock_points_into);
