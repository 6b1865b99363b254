/*
 * The socket layer's requests (XNU and FreeBSD: uipc_socket.c): make a
 * socket (socreate), bind, listen, connect, accept, send (sosend),
 * receive (soreceive), shut down, close with SO_LINGER, options at
 * SOL_SOCKET, ioctls -- each turned into pr_usrreqs calls of the
 * socket's protocol.  On the outbound path of docs/design.md this is
 * the first step: a socket sends, the socket filters see the data, then
 * TCP or UDP gets it.  The sock_* KPI (kpi_socket.c) calls these; the
 * socket system calls will too.  Each request takes the socket's lock
 * itself; its caller holds a reference (the owner's).
 */
#include <sys/systm.h>
#include <sys/filio.h>
#include <sys/sockio.h>
#include <net/kext_net.h>
#include <kern/kalloc.h>
#include <kern/thread_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/net/if_var.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/socket_filter_var.h>
#include <bsd/kern/uio_var.h>

struct sockstat sockstat;

static const struct netstat_counter socket_counters[] = {
	{ "created", "sockets made", &sockstat.sos_created },
	{ "freed", "sockets freed", &sockstat.sos_freed },
	{ "nomem", "sockets not made: out of memory", &sockstat.sos_nomem },
	{ "listenfull", "dropped: connection requests over a listener's "
	    "backlog", &sockstat.sos_listenfull },
	{ "filtered_in", "dropped: data a socket filter refused",
	    &sockstat.sos_filtered_in },
	{ "upcalls", "upcalls made to in-kernel socket clients",
	    &sockstat.sos_upcalls },
	{ "wakeups", "sleeping readers or writers woken", &sockstat.sos_wakeups },
};
NETSTAT_GROUP(socket, socket_counters);

/* Room the first mbuf of a datagram keeps in front for the protocols'
 * headers (link, IP, UDP or TCP), so that they need no mbuf of their own. */
#define SO_HDR_RESERVE	64

/* Every socket, (g) socket_list_lock: a spin lock, as kextunload's check
 * walks the list without sleeping. */
static simple_lock_data_t socket_list_lock =
    SIMPLE_LOCK_INITIALIZER("socket_list");
static TAILQ_HEAD(, socket) socket_list = TAILQ_HEAD_INITIALIZER(socket_list);

static lck_grp_t *socket_lck_grp;	/* every socket's mutex: `locks` */
static OSMallocTag socket_tag;		/* their memory: `mem` */

void
soinit(void)
{
	socket_lck_grp = lck_grp_alloc_init("socket", NULL);
	socket_tag = kalloc_tag_create("socket", 0);
	if (socket_lck_grp == NULL || socket_tag == NULL)
		panic("soinit: out of memory");
	sflt_init();
}

/* ---- Lifetime ---- */

struct socket *
soalloc(struct protosw *prp, int type)
{
	struct socket *so = kalloc_tag(sizeof(*so), socket_tag);

	if (so == NULL) {
		NETSTAT_INC(sockstat.sos_nomem);
		return NULL;
	}
	bzero(so, sizeof(*so));
	so->so_type = (short)type;
	so->so_proto = prp;
	TAILQ_INIT(&so->so_incomp);
	TAILQ_INIT(&so->so_comp);
	so->so_rcv.sb_so = so;
	so->so_snd.sb_so = so;
	so->so_rcv.sb_flags = SB_RECV;
	lck_mtx_init(&so->so_lck, socket_lck_grp, NULL);
	so->so_mtx = &so->so_lck;
	so->so_usecount = 1;			/* the owner's */
	simple_lock(&socket_list_lock);
	TAILQ_INSERT_TAIL(&socket_list, so, so_all);
	simple_unlock(&socket_list_lock);
	NETSTAT_INC(sockstat.sos_created);
	return so;
}

void
sofree(struct socket *so)
{
	if (so->so_pcb != NULL || so->so_head != NULL ||
	    !TAILQ_EMPTY(&so->so_incomp) || !TAILQ_EMPTY(&so->so_comp))
		panic("sofree: socket %p is still in use (pcb %p, head %p)",
		    so, so->so_pcb, so->so_head);
	sflt_sofree(so);
	simple_lock(&socket_list_lock);
	TAILQ_REMOVE(&socket_list, so, so_all);
	simple_unlock(&socket_list_lock);
	sbrelease(&so->so_rcv);
	sbrelease(&so->so_snd);
	lck_mtx_destroy(&so->so_lck, socket_lck_grp);
	kfree_tag(so, sizeof(*so), socket_tag);
	NETSTAT_INC(sockstat.sos_freed);
}

void
soall_foreach(void (*fn)(struct socket *so, void *arg), void *arg)
{
	struct socket *so;

	simple_lock(&socket_list_lock);
	TAILQ_FOREACH(so, &socket_list, so_all)
		fn(so, arg);
	simple_unlock(&socket_list_lock);
}

/* ---- Making, binding, listening, connecting ---- */

/* A NULL pru_* entry means the protocol does not do it. */
#define PRU(so)		((so)->so_proto->pr_usrreqs)

errno_t
socreate(int dom, struct socket **aso, int type, int proto, u_int32_t kext_ra)
{
	struct protosw *prp;
	struct socket *so;
	errno_t error;

	prp = proto != 0 ? pffindproto(dom, proto, type) : pffindtype(dom, type);
	if (prp == NULL || prp->pr_usrreqs == NULL ||
	    prp->pr_usrreqs->pru_attach == NULL) {
		if (pffinddomain(dom) == NULL)
			return EAFNOSUPPORT;
		if (proto != 0 && pffindproto(dom, proto, 0) != NULL)
			return EPROTOTYPE;
		return EPROTONOSUPPORT;
	}
	if (prp->pr_type != type)
		return EPROTOTYPE;
	if ((so = soalloc(prp, type)) == NULL)
		return ENOBUFS;
	so->so_creator = kext_ra;
	socket_lock(so, 0);
	error = prp->pr_usrreqs->pru_attach(so, proto);
	if (error != 0) {
		so->so_state |= SS_NOFDREF;
		socket_unlock(so, 1);		/* the only reference: freed */
		return error;
	}
	sflt_initsock(so);
	socket_unlock(so, 0);
	*aso = so;
	return 0;
}

errno_t
sobind(struct socket *so, struct sockaddr *nam)
{
	errno_t error;

	socket_lock(so, 1);
	/* sf_bind */
	error = sflt_bind(so, nam);
	if (error == 0)
		error = PRU(so)->pru_bind != NULL ?
		    PRU(so)->pru_bind(so, nam) : EOPNOTSUPP;
	/* sf_notify(sock_evt_bound) */
	if (error == 0)
		sflt_notify(so, SFLT_EV_BOUND, NULL);
	socket_unlock(so, 1);
	return error == EJUSTRETURN ? 0 : error;
}

errno_t
solisten(struct socket *so, int backlog)
{
	errno_t error;

	socket_lock(so, 1);
	if (PRU(so)->pru_listen == NULL) {
		error = EOPNOTSUPP;
		goto out;
	}
	if (so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING |
	    SS_ISDISCONNECTING)) {
		error = EINVAL;
		goto out;
	}
	/* sf_listen */
	if ((error = sflt_listen(so)) != 0)
		goto out;
	if ((error = PRU(so)->pru_listen(so)) != 0)
		goto out;
	if (TAILQ_EMPTY(&so->so_comp))
		so->so_options |= SO_ACCEPTCONN;
	if (backlog < 0 || backlog > SOMAXCONN)
		backlog = SOMAXCONN;
	so->so_qlimit = (short)backlog;
out:
	socket_unlock(so, 1);
	return error == EJUSTRETURN ? 0 : error;
}

/* pru_disconnect, socket locked. */
static errno_t
sodisconnect_locked(struct socket *so)
{
	if (!(so->so_state & SS_ISCONNECTED))
		return ENOTCONN;
	if (so->so_state & SS_ISDISCONNECTING)
		return EALREADY;
	if (PRU(so)->pru_disconnect == NULL)
		return EOPNOTSUPP;
	return PRU(so)->pru_disconnect(so);
}

errno_t
sodisconnect(struct socket *so)
{
	errno_t error;

	socket_lock(so, 1);
	error = sodisconnect_locked(so);
	socket_unlock(so, 1);
	return error;
}

errno_t
soconnect(struct socket *so, struct sockaddr *nam)
{
	errno_t error;

	socket_lock(so, 1);
	if (so->so_options & SO_ACCEPTCONN) {
		error = EOPNOTSUPP;
		goto out;
	}
	/*
	 * A connection-based protocol connects once; a datagram socket
	 * that is connected disconnects first (to connect elsewhere).
	 */
	if ((so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING)) &&
	    ((so->so_proto->pr_flags & PR_CONNREQUIRED) ||
	    sodisconnect_locked(so) != 0)) {
		error = EISCONN;
		goto out;
	}
	/* sf_connect_out */
	if ((error = sflt_connect_out(so, nam)) != 0)
		goto out;
	error = PRU(so)->pru_connect != NULL ?
	    PRU(so)->pru_connect(so, nam) : EOPNOTSUPP;
out:
	socket_unlock(so, 1);
	return error == EJUSTRETURN ? 0 : error;
}

/*
 * sf_accept of the new connection so's filters, head and so unlocked.
 * 0: the caller gets so.  EJUSTRETURN: the caller gets so, but
 * disconnected -- nothing more comes in, the peer gets the FIN -- the
 * way later XNU hands over a "defunct" socket (so that an accept loop
 * which checks no error goes on working).  Another errno: so is closed
 * and the accept fails with it.
 */
static errno_t
soacceptfilter(struct socket *head, struct socket *so)
{
	struct sockaddr_storage local, remote;
	errno_t error;

	socket_lock(so, 1);
	if (so->so_filt == NULL || so->so_pcb == NULL) {
		socket_unlock(so, 1);	/* no filter, or died: sock_accept's */
		return 0;
	}
	bzero(&local, sizeof(local));
	bzero(&remote, sizeof(remote));
	/* Every protocol that accepts (PR_CONNREQUIRED) has both. */
	if (PRU(so)->pru_sockaddr == NULL || PRU(so)->pru_peeraddr == NULL ||
	    PRU(so)->pru_sockaddr(so, (struct sockaddr *)&local) != 0 ||
	    PRU(so)->pru_peeraddr(so, (struct sockaddr *)&remote) != 0)
		error = ECONNABORTED;
	else
		error = sflt_accept(head, so, (struct sockaddr *)&local,
		    (struct sockaddr *)&remote);
	if (error == EJUSTRETURN) {
		error = 0;
		socantrcvmore(so);
		sbflush(&so->so_rcv);
		(void)sodisconnect_locked(so);
		socantsendmore(so);
	}
	socket_unlock(so, 1);
	if (error != 0)
		soclose(so);
	return error;
}

errno_t
soaccept(struct socket *head, bool nonblocking, struct socket **aso)
{
	struct socket *so;
	errno_t error = 0;

	socket_lock(head, 1);
	if (!(head->so_options & SO_ACCEPTCONN)) {
		error = EINVAL;
		goto out;
	}
	if ((nonblocking || (head->so_state & SS_NBIO)) &&
	    TAILQ_EMPTY(&head->so_comp)) {
		error = EWOULDBLOCK;
		goto out;
	}
	while (TAILQ_EMPTY(&head->so_comp) && head->so_error == 0) {
		if (head->so_state & SS_CANTRCVMORE) {
			head->so_error = ECONNABORTED;
			break;
		}
		msleep(&head->so_timeo, head->so_mtx, 0, "accept", NULL);
	}
	if (head->so_error != 0) {
		error = head->so_error;
		head->so_error = 0;
		goto out;
	}
	so = TAILQ_FIRST(&head->so_comp);
	socket_lock(so, 0);
	so_unqueue(head, so);		/* its owner's reference is ours */
	so->so_state &= ~SS_NOFDREF;
	lck_mtx_unlock(so->so_mtx);	/* no upcall yet: nothing to run */
	socket_unlock(head, 1);
	/* sf_accept */
	if ((error = soacceptfilter(head, so)) == 0)
		*aso = so;
	return error;
out:
	socket_unlock(head, 1);
	return error;
}

/* ---- Sending ---- */

/* Does the protocol take each send as one record? */
static bool
sosendallatonce(struct socket *so)
{
	return (so->so_proto->pr_flags & PR_ATOMIC) != 0;
}

/*
 * len bytes from uio as a packet-header chain in *mp: clusters for the
 * bulk, room in front of a small first mbuf for the headers.  ENOBUFS
 * when mbufs ran out (how: MBUF_DONTWAIT) -- *mp then holds what was
 * copied, for the caller to free.
 */
static errno_t
so_uio_to_mbufs(struct uio *uio, size_t len, mbuf_how_t how,
    struct mbuf **mp)
{
	struct mbuf *m, *top = NULL, **tail = &top;
	size_t chunk, room, reserve;

	*mp = NULL;
	do {
		reserve = top == NULL ? SO_HDR_RESERVE : 0;
		m = top == NULL ? m_gethdr(how, MBUF_TYPE_DATA,
		    MBUF_OWNER_KERNEL) : m_get(how, MBUF_TYPE_DATA,
		    MBUF_OWNER_KERNEL);
		if (m == NULL)
			goto nomem;
		if (len + reserve > (size_t)M_STORAGE_SIZE(m) &&
		    len + reserve >= (size_t)MINCLSIZE &&
		    m_clattach(m, how, MCLBYTES) != 0) {
			m_free(m);
			goto nomem;
		}
		room = (size_t)M_STORAGE_SIZE(m);
		if (top == NULL)	/* small: at the end (BSD's MH_ALIGN) */
			m->m_data += room >= reserve + len ? room - len : reserve;
		room -= (size_t)(m->m_data - M_STORAGE(m));
		chunk = len < room ? len : room;
		uiomove(m->m_data, chunk, uio);
		m->m_len = (int32_t)chunk;
		len -= chunk;
		*tail = m;
		tail = &m->m_next;
		top->m_pkthdr.len += (int32_t)chunk;
	} while (len > 0);
	*mp = top;
	return 0;
nomem:
	*mp = top;
	return ENOBUFS;
}

/*
 * sf_data_out, for what sosend is about to hand the protocol.  A filter
 * may put data back with sock_inject_data_out from inside the callback:
 * that sosend nests in this one, whose thread holds SB_LOCK, and must go
 * on under it rather than wait for itself (so_send_filt_thread).
 */
static errno_t
sosend_filter(struct socket *so, struct sockaddr *addr, struct mbuf **top,
    struct mbuf **control, int flags)
{
	thread_t outer = so->so_send_filt_thread;
	errno_t error;

	if (so->so_filt == NULL)
		return 0;
	so->so_send_filt_thread = current_thread();
	error = sflt_data_out(so, addr, top, control,
	    (flags & MSG_OOB) ? SFLT_DATA_OOB : 0);
	so->so_send_filt_thread = outer;
	return error;
}

errno_t
sosend(struct socket *so, struct sockaddr *addr, struct uio *uio,
    struct mbuf *top, struct mbuf *control, int flags, size_t *sentp)
{
	bool atomic = sosendallatonce(so) || top != NULL;
	bool dontwait = (flags & MSG_DONTWAIT) != 0;
	bool nested;
	long space, resid, clen = 0, len;
	size_t sent = 0;
	int prflags;
	errno_t error;

	resid = uio != NULL ? (long)uio->uio_resid : m_length(top);
	if (top != NULL && (top->m_flags & M_PKTHDR))
		top->m_pkthdr.len = (int32_t)resid;	/* the protocols trust it */
	if (resid < 0 || (so->so_type == SOCK_STREAM && (flags & MSG_EOR))) {
		error = EINVAL;
		goto out_unlocked;
	}
	if (control != NULL)
		clen = m_length(control);
	socket_lock(so, 1);
	dontwait = dontwait || (so->so_state & SS_NBIO);
	/* Injected from a filter's sf_data_out: the outer send's SB_LOCK
	 * is this thread's already (sosend_filter). */
	nested = so->so_send_filt_thread == current_thread();
restart:
	if (!nested &&
	    (error = sblock(&so->so_snd, !(flags & MSG_DONTWAIT))) != 0)
		goto out;
	do {
		if (so->so_state & SS_CANTSENDMORE) {
			error = EPIPE;
			goto release;
		}
		if (so->so_error != 0) {
			error = so->so_error;
			so->so_error = 0;
			goto release;
		}
		if (!(so->so_state & SS_ISCONNECTED)) {
			if (so->so_proto->pr_flags & PR_CONNREQUIRED) {
				if (!(so->so_state & SS_ISCONFIRMING) &&
				    !(resid == 0 && clen != 0)) {
					error = ENOTCONN;
					goto release;
				}
			} else if (addr == NULL) {
				error = EDESTADDRREQ;
				goto release;
			}
		}
		space = sbspace(&so->so_snd);
		if (flags & MSG_OOB)
			space += 1024;
		if ((atomic && resid > (long)so->so_snd.sb_hiwat) ||
		    clen > (long)so->so_snd.sb_hiwat) {
			error = EMSGSIZE;
			goto release;
		}
		if (space < resid + clen && (atomic ||
		    space < so->so_snd.sb_lowat || space < clen)) {
			if (dontwait) {
				error = EWOULDBLOCK;
				goto release;
			}
			if (!nested)
				sbunlock(&so->so_snd);
			if ((error = sbwait(&so->so_snd)) != 0)
				goto out;
			goto restart;
		}
		space -= clen;
		if (uio == NULL) {
			resid = 0;
			if (flags & MSG_EOR)
				top->m_flags |= M_EOR;
		} else {
			/* Copy with the lock released: SB_LOCK keeps other
			 * senders out, and the input path is not held up. */
			len = atomic ? resid : (resid < space ? resid : space);
			lck_mtx_unlock(so->so_mtx);
			error = so_uio_to_mbufs(uio, (size_t)len, dontwait ?
			    MBUF_DONTWAIT : MBUF_WAITOK, &top);
			lck_mtx_lock(so->so_mtx);
			resid = (long)uio->uio_resid;
			if (error != 0)
				goto release;
			if ((flags & MSG_EOR) && resid == 0)
				top->m_flags |= M_EOR;
		}
		/* The sender's bytes, before a filter changes them. */
		len = top != NULL ? m_length(top) : 0;
		/* sf_data_out */
		error = sosend_filter(so, addr, &top, &control, flags);
		if (error == EJUSTRETURN) {
			/* The filter has it: sent, as far as the sender
			 * knows; the rest of a stream goes on. */
			top = NULL;
			control = NULL;
			clen = 0;
			error = 0;
			sent += (size_t)len;
			continue;
		}
		if (error != 0)
			goto release;
		prflags = (flags & MSG_OOB) ? PRUS_OOB :
		    ((flags & MSG_EOF) && resid == 0) ? PRUS_EOF :
		    (resid > 0 && space > len) ? PRUS_MORETOCOME : 0;
		error = PRU(so)->pru_send(so, prflags, top, addr, control);
		top = NULL;
		control = NULL;
		clen = 0;
		if (error != 0)
			goto release;
		sent += (size_t)len;
	} while (resid > 0);
release:
	if (!nested)
		sbunlock(&so->so_snd);
out:
	socket_unlock(so, 1);
out_unlocked:
	if (top != NULL)
		m_freem(top);
	if (control != NULL)
		m_freem(control);
	if (sentp != NULL)
		*sentp = sent;
	return error;
}

/* ---- Receiving ---- */

/*
 * Move the first mbuf of so_rcv (m) to *where (freed if where is NULL);
 * returns the next mbuf of the record.  Socket locked.
 */
static struct mbuf *
so_take_first(struct sockbuf *sb, struct mbuf *m, struct mbuf **where)
{
	struct mbuf *next = m->m_next;

	sbfree(sb, m);
	m->m_next = NULL;
	if (where != NULL)
		*where = m;
	else
		m_free(m);
	sb->sb_mb = next;
	return next;
}

/* Append a copy of len bytes of m from off to the chain whose end *mpp
 * is; *mpp then points at the new end.  ENOBUFS if mbufs ran out. */
static errno_t
so_copy_out(struct mbuf ***mpp, struct mbuf *m, size_t off, size_t len)
{
	struct mbuf *copy;

	if (m_copym(m, off, len, MBUF_DONTWAIT, MBUF_OWNER_KERNEL, &copy) != 0)
		return ENOBUFS;
	**mpp = copy;
	while (copy->m_next != NULL)
		copy = copy->m_next;
	*mpp = &copy->m_next;
	return 0;
}

/* Does a reader have to wait: nothing queued, or (stream) less than it
 * wants and the buffer's low-water mark or MSG_WAITALL says wait? */
static bool
so_rcv_wait_needed(struct socket *so, struct uio *uio, int flags)
{
	struct sockbuf *sb = &so->so_rcv;
	struct mbuf *m = sb->sb_mb;
	size_t data = sb->sb_cc - sb->sb_ctl;

	if (m == NULL)
		return true;
	if ((flags & MSG_DONTWAIT) || (so->so_proto->pr_flags & PR_ATOMIC) ||
	    m->m_nextpkt != NULL || data >= uio->uio_resid)
		return false;
	return data < (size_t)sb->sb_lowat ||
	    ((flags & MSG_WAITALL) && uio->uio_resid <= sb->sb_hiwat);
}

errno_t
soreceive(struct socket *so, struct mbuf **paddr, struct uio *uio,
    struct mbuf **mp0, struct mbuf **controlp, int *flagsp)
{
	struct protosw *pr = so->so_proto;
	struct sockbuf *sb = &so->so_rcv;
	struct mbuf *m, *nextrecord, **mp = mp0, *copy;
	int flags = flagsp != NULL ? *flagsp & ~MSG_EOR : 0;
	size_t orig_resid = uio->uio_resid, len, moff;
	bool nonblocking;
	int type;
	errno_t error = 0;

	if (paddr != NULL)
		*paddr = NULL;
	if (mp != NULL)
		*mp = NULL;
	if (controlp != NULL)
		*controlp = NULL;
	if (flags & MSG_OOB)
		return EOPNOTSUPP;	/* urgent data: TCP's, to come */
	/*
	 * Nothing to read, nothing to report, and no waiting: say so without
	 * the lock (the in-kernel clients' upcalls end every round this way).
	 * A datagram racing in now is one that came just after.
	 */
	if (((flags & MSG_DONTWAIT) || (so->so_state & SS_NBIO)) &&
	    so->so_rcv.sb_cc == 0 && so->so_error == 0 &&
	    uio->uio_resid > 0 && !(so->so_state & SS_CANTRCVMORE) &&
	    (!(pr->pr_flags & PR_CONNREQUIRED) ||
	    (so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING))))
		return EWOULDBLOCK;
	socket_lock(so, 1);
	nonblocking = (flags & MSG_DONTWAIT) || (so->so_state & SS_NBIO);
restart:
	if ((error = sblock(sb, !(flags & MSG_DONTWAIT))) != 0)
		goto out;
	m = sb->sb_mb;
	if (so_rcv_wait_needed(so, uio, flags)) {
		if (so->so_error != 0) {
			if (m != NULL)
				goto dontblock;
			error = so->so_error;
			if (!(flags & MSG_PEEK))
				so->so_error = 0;
			goto release;
		}
		if (so->so_state & SS_CANTRCVMORE) {
			if (m != NULL)
				goto dontblock;
			goto release;		/* end of file: 0 bytes */
		}
		if (!(so->so_state & (SS_ISCONNECTED | SS_ISCONNECTING)) &&
		    (pr->pr_flags & PR_CONNREQUIRED)) {
			error = ENOTCONN;
			goto release;
		}
		if (uio->uio_resid == 0)
			goto release;
		if (nonblocking) {
			error = EWOULDBLOCK;
			goto release;
		}
		sbunlock(sb);
		if ((error = sbwait(sb)) != 0)
			goto out;
		goto restart;
	}
dontblock:
	nextrecord = m->m_nextpkt;
	if ((pr->pr_flags & PR_ADDR) && m->m_type == MBUF_TYPE_SONAME) {
		orig_resid = 0;
		if (flags & MSG_PEEK) {
			if (paddr != NULL &&
			    m_copym(m, 0, m->m_len, MBUF_DONTWAIT,
			    MBUF_OWNER_KERNEL, &copy) == 0)
				*paddr = copy;
			m = m->m_next;
		} else {
			m = so_take_first(sb, m, paddr);
		}
	}
	while (m != NULL && m->m_type == MBUF_TYPE_CONTROL) {
		if (flags & MSG_PEEK) {
			m = m->m_next;
			continue;
		}
		m = so_take_first(sb, m, controlp);
		if (controlp != NULL) {
			orig_resid = 0;
			controlp = &(*controlp)->m_next;
		}
	}
	if (m != NULL) {
		if (!(flags & MSG_PEEK))
			m->m_nextpkt = nextrecord;
		type = m->m_type;
	} else {
		type = MBUF_TYPE_DATA;
		if (!(flags & MSG_PEEK)) {
			sb->sb_mb = nextrecord;
			sbfixup(sb);
		}
	}
	moff = 0;
	while (m != NULL && uio->uio_resid > 0 && error == 0) {
		if ((m->m_type == MBUF_TYPE_OOBDATA) !=
		    (type == MBUF_TYPE_OOBDATA))
			break;
		so->so_state &= ~SS_RCVATMARK;
		len = uio->uio_resid;
		if (len > (size_t)m->m_len - moff)
			len = (size_t)m->m_len - moff;
		if (mp == NULL) {
			uiomove(m->m_data + moff, len, uio);
		} else {
			/* A peek hands out a copy; a read, the mbufs. */
			if ((flags & MSG_PEEK) &&
			    (error = so_copy_out(&mp, m, moff, len)) != 0)
				break;
			uio->uio_resid -= len;
		}
		if (len == (size_t)m->m_len - moff) {
			if (m->m_flags & M_EOR)
				flags |= MSG_EOR;
			if (flags & MSG_PEEK) {
				m = m->m_next;
				moff = 0;
			} else {
				nextrecord = m->m_nextpkt;
				m->m_nextpkt = NULL;
				m = so_take_first(sb, m, mp);
				if (mp != NULL)
					mp = &(*mp)->m_next;
				if (m != NULL)
					m->m_nextpkt = nextrecord;
			}
		} else if (flags & MSG_PEEK) {
			moff += len;
		} else {
			if (mp != NULL &&
			    (error = so_copy_out(&mp, m, 0, len)) != 0) {
				uio->uio_resid += len;
				break;
			}
			m->m_data += len;
			m->m_len -= (int32_t)len;
			sb->sb_cc -= (u_int32_t)len;
		}
		if (flags & MSG_EOR)
			break;
		/* MSG_WAITALL on a stream: wait for the rest. */
		while ((flags & MSG_WAITALL) && m == NULL &&
		    uio->uio_resid > 0 && !sosendallatonce(so) &&
		    nextrecord == NULL) {
			if (so->so_error != 0 ||
			    (so->so_state & SS_CANTRCVMORE))
				break;
			sb->sb_mb = NULL;
			sbfixup(sb);
			if (sbwait(sb) != 0)
				goto release;	/* timed out: a short count */
			if ((m = sb->sb_mb) != NULL)
				nextrecord = m->m_nextpkt;
		}
	}
	if (m != NULL && (pr->pr_flags & PR_ATOMIC)) {
		flags |= MSG_TRUNC;		/* the rest of the datagram */
		if (!(flags & MSG_PEEK))
			sbdroprecord(sb);
	}
	if (!(flags & MSG_PEEK)) {
		if (m == NULL)
			sb->sb_mb = nextrecord;
		sbfixup(sb);
		if ((pr->pr_flags & PR_WANTRCVD) && so->so_pcb != NULL &&
		    PRU(so)->pru_rcvd != NULL)
			PRU(so)->pru_rcvd(so, flags);
	}
	if (orig_resid == uio->uio_resid && orig_resid != 0 &&
	    !(flags & MSG_EOR) && !(so->so_state & SS_CANTRCVMORE)) {
		sbunlock(sb);			/* nothing came: wait again */
		goto restart;
	}
	/* SO_WANTMORE: say whether more waits (Apple's hint), so that an
	 * upcall can stop without one more receive to hear EWOULDBLOCK. */
	if ((so->so_options & SO_WANTMORE) && sb->sb_cc > 0)
		flags |= MSG_HAVEMORE;
	if (flagsp != NULL)
		*flagsp |= flags;
release:
	sbunlock(sb);
out:
	socket_unlock(so, 1);
	return error;
}

/* ---- Shutting down and closing ---- */

/* Stop reading: drop what is queued.  Socket locked. */
static void
sorflush(struct socket *so)
{
	/* sf_notify(sock_evt_flush_read) */
	sflt_notify(so, SFLT_EV_FLUSH_READ, NULL);
	socantrcvmore(so);
	sbflush(&so->so_rcv);
}

errno_t
soshutdown(struct socket *so, int how)
{
	errno_t error = 0;

	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return EINVAL;
	socket_lock(so, 1);
	/* sf_notify(sock_evt_shutdown) */
	sflt_notify(so, SFLT_EV_SHUTDOWN, &how);
	if (how != SHUT_WR)
		sorflush(so);
	if (how != SHUT_RD) {
		if (PRU(so)->pru_shutdown != NULL)
			error = PRU(so)->pru_shutdown(so);
		else
			socantsendmore(so);
	}
	socket_unlock(so, 1);
	return error;
}

/* Wait (lock released) until so is no longer connected, or for
 * so_linger ticks.  Socket locked. */
static void
so_linger_wait(struct socket *so)
{
	struct timespec now, end, left;
	u_int64_t ns = (u_int64_t)so->so_linger * (1000000000u / hz);

	nanouptime(&end);
	end.tv_sec += (time_t)(ns / 1000000000u);
	end.tv_nsec += (long)(ns % 1000000000u);
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	while (so->so_state & SS_ISCONNECTED) {
		nanouptime(&now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000;
		}
		if (left.tv_sec < 0 || (left.tv_sec == 0 && left.tv_nsec == 0))
			break;
		if (msleep(&so->so_timeo, so->so_mtx, 0, "soclose", &left) != 0)
			break;
	}
}

/* Close with the lock held (and the caller's reference). */
static errno_t
soclose_locked(struct socket *so)
{
	struct socket *sp;
	errno_t error = 0, error2;

	/* sf_notify(sock_evt_closing) */
	sflt_notify(so, SFLT_EV_CLOSING, NULL);
	/* No upcall after close returns: none new, and wait for one that
	 * runs in another thread (not for our own caller's). */
	so->so_upcall = NULL;
	so->so_upcallarg = NULL;
	so->so_rcv.sb_flags &= ~SB_UPCALL;
	so->so_snd.sb_flags &= ~SB_UPCALL;
	__atomic_and_fetch(&so->so_upcallstate, ~SOU_PENDING, __ATOMIC_RELAXED);
	while ((so->so_upcallstate & SOU_RUNNING) &&
	    so->so_upcallthread != current_thread()) {
		/* The runner clears SOU_RUNNING without our lock: it may
		 * miss SOU_WAIT, so look again every tick. */
		struct timespec tick = { 0, 1000000000 / hz };

		__atomic_or_fetch(&so->so_upcallstate, SOU_WAIT,
		    __ATOMIC_RELAXED);
		msleep(&so->so_upcallthread, so->so_mtx, 0, "soclose", &tick);
	}
	sflt_termsock(so);

	/* A listener drops the connections nobody accepted. */
	while ((sp = TAILQ_FIRST(&so->so_incomp)) != NULL ||
	    (sp = TAILQ_FIRST(&so->so_comp)) != NULL) {
		socket_lock(sp, 0);
		so_unqueue(so, sp);	/* the queue's reference is ours */
		soabort(sp);
		socket_unlock(sp, 1);	/* freed, once the protocol let go */
	}
	so->so_options &= ~SO_ACCEPTCONN;

	if (so->so_pcb == NULL)
		goto discard;
	if (so->so_state & SS_ISCONNECTED) {
		if (!(so->so_state & SS_ISDISCONNECTING)) {
			error = sodisconnect_locked(so);
			if (error != 0)
				goto drop;
		}
		if ((so->so_options & SO_LINGER) && so->so_linger > 0 &&
		    !((so->so_state & SS_ISDISCONNECTING) &&
		    (so->so_state & SS_NBIO)))
			so_linger_wait(so);
	}
drop:
	if (so->so_pcb != NULL && PRU(so)->pru_detach != NULL) {
		error2 = PRU(so)->pru_detach(so);
		if (error == 0)
			error = error2;
	}
discard:
	so->so_state |= SS_NOFDREF;
	sbflush(&so->so_rcv);
	return error;
}

errno_t
soclose(struct socket *so)
{
	errno_t error = 0;

	socket_lock(so, 0);
	if (so->so_retaincnt > 0)
		so->so_flags |= SOF_CLOSEWAIT;	/* the last sock_release */
	else
		error = soclose_locked(so);
	socket_unlock(so, 1);			/* the owner's reference */
	return error;
}

errno_t
soclose_deferred(struct socket *so)
{
	so->so_flags &= ~SOF_CLOSEWAIT;
	return soclose_locked(so);
}

/* ---- Options ---- */

errno_t
sooptcopyin(struct sockopt *sopt, void *buf, size_t len, size_t minlen)
{
	size_t valsize = sopt->sopt_valsize;

	if (valsize < minlen)
		return EINVAL;
	if (valsize > len)
		sopt->sopt_valsize = valsize = len;
	if (valsize > 0 && sopt->sopt_val == NULL)
		return EINVAL;
	memcpy(buf, sopt->sopt_val, valsize);
	return 0;
}

errno_t
sooptcopyout(struct sockopt *sopt, const void *buf, size_t len)
{
	size_t valsize = sopt->sopt_valsize < len ? sopt->sopt_valsize : len;

	sopt->sopt_valsize = valsize;
	if (sopt->sopt_val != NULL)
		memcpy(sopt->sopt_val, buf, valsize);
	return 0;
}

/* The on/off options, kept as bits in so_options. */
static bool
so_is_flag_option(int name)
{
	switch (name) {
	case SO_DEBUG:
	case SO_KEEPALIVE:
	case SO_DONTROUTE:
	case SO_USELOOPBACK:
	case SO_BROADCAST:
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_OOBINLINE:
	case SO_TIMESTAMP:
	case SO_DONTTRUNC:
	case SO_WANTMORE:
	case SO_WANTOOBFLAG:
		return true;
	default:
		return false;
	}
}

/* SOL_SOCKET options, socket locked. */
static errno_t
sosetopt_socket(struct socket *so, struct sockopt *sopt)
{
	struct sockbuf *sb;
	struct so_nke nke;
	struct linger l;
	struct timeval tv;
	int optval, ticks;
	errno_t error;

	if (so_is_flag_option(sopt->sopt_name)) {
		if ((error = sooptcopyin(sopt, &optval, sizeof(optval),
		    sizeof(optval))) != 0)
			return error;
		if (optval)
			so->so_options |= sopt->sopt_name;
		else
			so->so_options &= ~sopt->sopt_name;
		return 0;
	}
	switch (sopt->sopt_name) {
	case SO_LINGER:
	case SO_LINGER_SEC:
		if ((error = sooptcopyin(sopt, &l, sizeof(l), sizeof(l))) != 0)
			return error;
		ticks = sopt->sopt_name == SO_LINGER ? l.l_linger :
		    l.l_linger * hz;
		if (l.l_linger < 0 || ticks < 0 || ticks > 0x7fff)
			return EINVAL;
		so->so_linger = (short)ticks;
		if (l.l_onoff)
			so->so_options |= SO_LINGER;
		else
			so->so_options &= ~SO_LINGER;
		return 0;
	case SO_SNDBUF:
	case SO_RCVBUF:
	case SO_SNDLOWAT:
	case SO_RCVLOWAT:
		if ((error = sooptcopyin(sopt, &optval, sizeof(optval),
		    sizeof(optval))) != 0)
			return error;
		if (optval < 1)
			return EINVAL;
		sb = (sopt->sopt_name == SO_SNDBUF ||
		    sopt->sopt_name == SO_SNDLOWAT) ? &so->so_snd : &so->so_rcv;
		if (sopt->sopt_name == SO_SNDBUF || sopt->sopt_name == SO_RCVBUF)
			return sbreserve(sb, (u_int32_t)optval);
		sb->sb_lowat = (u_int32_t)optval > sb->sb_hiwat ?
		    (int32_t)sb->sb_hiwat : optval;
		return 0;
	case SO_SNDTIMEO:
	case SO_RCVTIMEO:
		if ((error = sooptcopyin(sopt, &tv, sizeof(tv),
		    sizeof(tv))) != 0)
			return error;
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return EDOM;
		if (sopt->sopt_name == SO_SNDTIMEO)
			so->so_snd.sb_timeo = tv;
		else
			so->so_rcv.sb_timeo = tv;
		return 0;
	case SO_NKE:
		if ((error = sooptcopyin(sopt, &nke, sizeof(nke),
		    sizeof(nke))) != 0)
			return error;
		return sflt_attach_handle(so, nke.nke_handle);
	case SO_NOSIGPIPE:
	case SO_NOADDRERR:
		if ((error = sooptcopyin(sopt, &optval, sizeof(optval),
		    sizeof(optval))) != 0)
			return error;
		ticks = sopt->sopt_name == SO_NOSIGPIPE ? SOF_NOSIGPIPE :
		    SOF_NOADDRAVAIL;
		if (optval)
			so->so_flags |= (u_int32_t)ticks;
		else
			so->so_flags &= ~(u_int32_t)ticks;
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

errno_t
sosetopt(struct socket *so, struct sockopt *sopt)
{
	errno_t error;

	socket_lock(so, 1);
	/* sf_setoption */
	if ((error = sflt_setoption(so, sopt)) != 0)
		goto out;
	if (sopt->sopt_level != SOL_SOCKET) {
		error = so->so_proto->pr_ctloutput != NULL ?
		    so->so_proto->pr_ctloutput(so, sopt) : ENOPROTOOPT;
		goto out;
	}
	error = sosetopt_socket(so, sopt);
	/* The protocol hears the socket's options too (TCP: SO_KEEPALIVE);
	 * what it answers does not matter. */
	if (error == 0 && so->so_proto->pr_ctloutput != NULL)
		(void)so->so_proto->pr_ctloutput(so, sopt);
out:
	socket_unlock(so, 1);
	return error == EJUSTRETURN ? 0 : error;
}

/* Bytes of data in the first datagram (SO_NREAD of an atomic protocol). */
static int
so_first_record_bytes(struct socket *so)
{
	struct mbuf *m;
	int n = 0;

	for (m = so->so_rcv.sb_mb; m != NULL; m = m->m_next)
		if (m->m_type == MBUF_TYPE_DATA || m->m_type == MBUF_TYPE_HEADER)
			n += m->m_len;
	return n;
}

static errno_t
sogetopt_socket(struct socket *so, struct sockopt *sopt)
{
	struct linger l;
	struct timeval tv;
	int optval;

	if (so_is_flag_option(sopt->sopt_name) ||
	    sopt->sopt_name == SO_ACCEPTCONN) {
		optval = so->so_options & sopt->sopt_name;
		return sooptcopyout(sopt, &optval, sizeof(optval));
	}
	switch (sopt->sopt_name) {
	case SO_LINGER:
	case SO_LINGER_SEC:
		l.l_onoff = so->so_options & SO_LINGER;
		l.l_linger = sopt->sopt_name == SO_LINGER ? so->so_linger :
		    so->so_linger / hz;
		return sooptcopyout(sopt, &l, sizeof(l));
	case SO_TYPE:
		optval = so->so_type;
		break;
	case SO_ERROR:
		optval = so->so_error;
		so->so_error = 0;
		break;
	case SO_SNDBUF:
		optval = (int)so->so_snd.sb_hiwat;
		break;
	case SO_RCVBUF:
		optval = (int)so->so_rcv.sb_hiwat;
		break;
	case SO_SNDLOWAT:
		optval = so->so_snd.sb_lowat;
		break;
	case SO_RCVLOWAT:
		optval = so->so_rcv.sb_lowat;
		break;
	case SO_SNDTIMEO:
	case SO_RCVTIMEO:
		tv = sopt->sopt_name == SO_SNDTIMEO ? so->so_snd.sb_timeo :
		    so->so_rcv.sb_timeo;
		return sooptcopyout(sopt, &tv, sizeof(tv));
	case SO_NREAD:
		optval = (so->so_proto->pr_flags & PR_ATOMIC) ?
		    so_first_record_bytes(so) :
		    (int)(so->so_rcv.sb_cc - so->so_rcv.sb_ctl);
		break;
	case SO_NWRITE:
		optval = (int)so->so_snd.sb_cc;
		break;
	case SO_NOSIGPIPE:
		optval = (so->so_flags & SOF_NOSIGPIPE) != 0;
		break;
	case SO_NOADDRERR:
		optval = (so->so_flags & SOF_NOADDRAVAIL) != 0;
		break;
	default:
		return ENOPROTOOPT;
	}
	return sooptcopyout(sopt, &optval, sizeof(optval));
}

errno_t
sogetopt(struct socket *so, struct sockopt *sopt)
{
	errno_t error;

	socket_lock(so, 1);
	/* sf_getoption */
	if ((error = sflt_getoption(so, sopt)) != 0)
		goto out;
	if (sopt->sopt_level != SOL_SOCKET)
		error = so->so_proto->pr_ctloutput != NULL ?
		    so->so_proto->pr_ctloutput(so, sopt) : ENOPROTOOPT;
	else
		error = sogetopt_socket(so, sopt);
out:
	socket_unlock(so, 1);
	return error == EJUSTRETURN ? 0 : error;
}

/* ---- Ioctls and addresses ---- */

errno_t
soioctl(struct socket *so, u_long cmd, caddr_t data)
{
	errno_t error = 0;

	if (data == NULL)
		return EINVAL;
	socket_lock(so, 1);
	/* sf_ioctl */
	if ((error = sflt_ioctl(so, cmd, data)) != 0)
		goto out;
	switch (cmd) {
	case FIONBIO:
		if (*(int *)data)
			so->so_state |= SS_NBIO;
		else
			so->so_state &= ~SS_NBIO;
		break;
	case FIOASYNC:
		if (*(int *)data)
			so->so_state |= SS_ASYNC;
		else
			so->so_state &= ~SS_ASYNC;
		break;
	case FIONREAD:
		*(int *)data = (int)(so->so_rcv.sb_cc - so->so_rcv.sb_ctl);
		break;
	case SIOCATMARK:
		*(int *)data = (so->so_state & SS_RCVATMARK) != 0;
		break;
	default:
		if (IOCGROUP(cmd) == 'i') {
			/* An interface's: configuring it takes its own
			 * locks and may sleep; this socket is only the way
			 * in. */
			socket_unlock(so, 0);
			error = ifioctl(so, cmd, data);
			socket_lock(so, 0);
		} else {
			error = PRU(so)->pru_control != NULL ?
			    PRU(so)->pru_control(so, cmd, data, NULL) :
			    EOPNOTSUPP;
		}
		break;
	}
out:
	socket_unlock(so, 1);
	return error == EJUSTRETURN ? 0 : error;
}

errno_t
sogetaddr(struct socket *so, struct sockaddr *nam, bool peer)
{
	errno_t (*get)(struct socket *, struct sockaddr *);
	errno_t error;

	socket_lock(so, 1);
	get = peer ? PRU(so)->pru_peeraddr : PRU(so)->pru_sockaddr;
	if (peer && !(so->so_state & (SS_ISCONNECTED | SS_ISCONFIRMING)))
		error = ENOTCONN;
	else if (get == NULL || so->so_pcb == NULL)
		error = get == NULL ? EOPNOTSUPP : EINVAL;
	else {
		bzero(nam, sizeof(struct sockaddr_storage));
		error = get(so, nam);
	}
	/* sf_getpeername, sf_getsockname */
	if (error == 0)
		error = peer ? sflt_getpeername(so, nam) :
		    sflt_getsockname(so, nam);
	socket_unlock(so, 1);
	return error == EJUSTRETURN ? 0 : error;
}
