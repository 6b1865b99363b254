/*
 * The socket layer's helpers for protocols (XNU and FreeBSD keep them in
 * uipc_socket2.c too): the socket lock and its deferred upcall, socket
 * buffers (append, drop, reserve, wait), the wakeups, the state
 * transitions of a connection, and the listen queues (sonewconn).  On
 * the inbound path of docs/design.md this is the last step: the socket's
 * receive buffer, then its in-kernel upcall or a reader (docs/packet.md,
 * steps 15 and 16).  Rules: socketvar.h.
 */
#include <sys/systm.h>
#include <kern/kext_call.h>
#include <kern/thread_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/socket_filter_var.h>

u_int32_t sb_max = SB_MAX;

/* ---- The socket lock, references, the upcall ---- */

void
soreference(struct socket *so)
{
	__atomic_add_fetch(&so->so_usecount, 1, __ATOMIC_RELAXED);
}

void
sorelease_notlast(struct socket *so)
{
	if (__atomic_sub_fetch(&so->so_usecount, 1, __ATOMIC_RELAXED) <= 0)
		panic("socket %p: a reference dropped that was the last", so);
}

void
socket_lock(struct socket *so, int refcount)
{
	lck_mtx_lock(so->so_mtx);
	if (refcount)
		soreference(so);
}

/*
 * Call the upcall, the socket unlocked (it may call any sock_* function
 * on it), until no event came while it ran.  One thread at a time: an
 * event meanwhile sets SOU_PENDING, which brings another round here.
 * The caller's reference keeps the socket alive.
 */
static void
so_upcall_run(struct socket *so, sock_upcall fn, void *arg)
{
	struct kext_call kc;
	u_int32_t state, next;

	do {
		NETSTAT_INC(sockstat.sos_upcalls);
		kext_call_begin(&kc);
		fn(so, arg, MBUF_DONTWAIT);
		kext_call_end(&kc, (const void *)fn);
		state = __atomic_load_n(&so->so_upcallstate, __ATOMIC_ACQUIRE);
		do {
			/* Another round if an event came and close did not
			 * clear the upcall meanwhile; else we are done. */
			next = (state & SOU_PENDING) && so->so_upcall != NULL ?
			    state & ~SOU_PENDING : state & ~SOU_RUNNING;
		} while (!__atomic_compare_exchange_n(&so->so_upcallstate,
		    &state, next, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	} while (next & SOU_RUNNING);
	if (next & SOU_WAIT)
		wakeup(&so->so_upcallthread);
}

void
socket_unlock(struct socket *so, int refcount)
{
	sock_upcall fn = NULL;
	void *arg = NULL;

	/* An upcall is due and none runs: this thread will run it. */
	if ((so->so_upcallstate & (SOU_PENDING | SOU_RUNNING)) == SOU_PENDING &&
	    so->so_upcall != NULL) {
		fn = so->so_upcall;
		arg = so->so_upcallarg;
		so->so_upcallthread = current_thread();
		__atomic_store_n(&so->so_upcallstate, SOU_RUNNING,
		    __ATOMIC_RELEASE);
	}
	lck_mtx_unlock(so->so_mtx);
	if (fn != NULL)
		so_upcall_run(so, fn, arg);
	if (refcount && __atomic_sub_fetch(&so->so_usecount, 1,
	    __ATOMIC_RELAXED) == 0)
		sofree(so);
}

/* ---- Socket buffers ---- */

/* Is m an address or control mbuf, which sb_ctl counts? */
static bool
sb_isctl(const struct mbuf *m)
{
	return m->m_type == MBUF_TYPE_SONAME || m->m_type == MBUF_TYPE_CONTROL;
}

void
sballoc(struct sockbuf *sb, struct mbuf *m)
{
	sb->sb_cc += m->m_len;
	if (sb_isctl(m))
		sb->sb_ctl += m->m_len;
	sb->sb_mbcnt += MSIZE;
	if (m->m_flags & M_EXT)
		sb->sb_mbcnt += m->m_ext.ext_size;
}

void
sbfree(struct sockbuf *sb, struct mbuf *m)
{
	sb->sb_cc -= m->m_len;
	if (sb_isctl(m))
		sb->sb_ctl -= m->m_len;
	sb->sb_mbcnt -= MSIZE;
	if (m->m_flags & M_EXT)
		sb->sb_mbcnt -= m->m_ext.ext_size;
}

errno_t
sbreserve(struct sockbuf *sb, u_int32_t cc)
{
	/* sb_max counts storage: that many bytes of data in clusters. */
	if ((u_int64_t)cc > (u_int64_t)sb_max * MCLBYTES / (MSIZE + MCLBYTES))
		return ENOBUFS;
	sb->sb_hiwat = cc;
	sb->sb_mbmax = cc * SB_EFFICIENCY < sb_max ? cc * SB_EFFICIENCY : sb_max;
	if ((u_int32_t)sb->sb_lowat > sb->sb_hiwat)
		sb->sb_lowat = (int32_t)sb->sb_hiwat;
	return 0;
}

errno_t
soreserve(struct socket *so, u_int32_t sndcc, u_int32_t rcvcc)
{
	if (sbreserve(&so->so_snd, sndcc) != 0 ||
	    sbreserve(&so->so_rcv, rcvcc) != 0)
		return ENOBUFS;
	if (so->so_rcv.sb_lowat == 0)
		so->so_rcv.sb_lowat = 1;
	if (so->so_snd.sb_lowat == 0)
		so->so_snd.sb_lowat = MCLBYTES;
	if ((u_int32_t)so->so_snd.sb_lowat > so->so_snd.sb_hiwat)
		so->so_snd.sb_lowat = (int32_t)so->so_snd.sb_hiwat;
	return 0;
}

long
sbspace(struct sockbuf *sb)
{
	long bytes = (long)sb->sb_hiwat - (long)sb->sb_cc;
	long storage = (long)sb->sb_mbmax - (long)sb->sb_mbcnt;

	return bytes < storage ? bytes : storage;
}

/* Add the chain m (counted already) as a new record ending at last. */
static void
sb_link_record(struct sockbuf *sb, struct mbuf *m, struct mbuf *last)
{
	if (sb->sb_lastrecord != NULL)
		sb->sb_lastrecord->m_nextpkt = m;
	else
		sb->sb_mb = m;
	sb->sb_lastrecord = m;
	sb->sb_mbtail = last;
}

/* Free what a failed append was given. */
static void
sb_drop_chains(struct mbuf *m, struct mbuf *control)
{
	if (m != NULL)
		m_freem(m);
	if (control != NULL)
		m_freem(control);
}

errno_t
sbappendaddr_nofilter(struct sockbuf *sb, const struct sockaddr *asa,
    struct mbuf *m0, struct mbuf *control)
{
	struct mbuf *m, *n, *ctail = NULL;
	long space = asa->sa_len;

	if (m0 != NULL)
		space += m_length(m0);
	for (n = control; n != NULL; n = n->m_next) {
		space += n->m_len;
		ctail = n;
	}
	if (asa->sa_len > MLEN) {
		sb_drop_chains(m0, control);
		return EINVAL;
	}
	if (space > sbspace(sb)) {
		sb_drop_chains(m0, control);
		return ENOBUFS;
	}
	m = m_get(MBUF_DONTWAIT, MBUF_TYPE_SONAME, MBUF_OWNER_KERNEL);
	if (m == NULL) {
		sb_drop_chains(m0, control);
		return ENOMEM;
	}
	m->m_len = asa->sa_len;
	memcpy(m->m_data, asa, asa->sa_len);
	if (ctail != NULL)
		ctail->m_next = m0;
	else
		control = m0;
	m->m_next = control;
	for (n = m; ; n = n->m_next) {
		sballoc(sb, n);
		if (n->m_next == NULL)
			break;
	}
	sb_link_record(sb, m, n);
	return 0;
}

errno_t
sbappendrecord_nofilter(struct sockbuf *sb, struct mbuf *m0)
{
	struct mbuf *n;

	if (m0 == NULL)
		return 0;
	if (m_length(m0) > sbspace(sb)) {
		m_freem(m0);
		return ENOBUFS;
	}
	for (n = m0; ; n = n->m_next) {
		sballoc(sb, n);
		if (n->m_next == NULL)
			break;
	}
	n->m_flags |= M_EOR;
	sb_link_record(sb, m0, n);
	return 0;
}

/*
 * Append m to the stream, copying small mbufs into the room the last one
 * has rather than keeping a mostly empty mbuf per segment (BSD's
 * sbcompress).
 */
errno_t
sbappendstream_nofilter(struct sockbuf *sb, struct mbuf *m)
{
	struct mbuf *tail = sb->sb_mbtail, *next;

	if (sb->sb_mb == NULL) {
		tail = NULL;
		sb->sb_lastrecord = NULL;
	}
	for (; m != NULL; m = next) {
		next = m->m_next;
		m->m_next = NULL;
		if (m->m_len == 0) {
			m_free(m);
			continue;
		}
		if (tail != NULL && M_WRITABLE(tail) && !(tail->m_flags & M_EOR) &&
		    tail->m_type == m->m_type && m->m_len <= MCLBYTES / 4 &&
		    m_trailingspace(tail) >= m->m_len) {
			memcpy(tail->m_data + tail->m_len, m->m_data, m->m_len);
			tail->m_len += m->m_len;
			sb->sb_cc += m->m_len;
			m_free(m);
			continue;
		}
		sballoc(sb, m);
		if (tail != NULL)
			tail->m_next = m;
		else
			sb_link_record(sb, m, m);
		tail = m;
	}
	sb->sb_mbtail = tail;
	return 0;
}

/* sf_data_in, for a receive buffer: 0 to append, else what it said (and
 * the data is gone: freed, or kept by the filter). */
static errno_t
sb_filter_in(struct sockbuf *sb, const struct sockaddr *from,
    struct mbuf **m, struct mbuf **control, int flags)
{
	errno_t error;

	if (!(sb->sb_flags & SB_RECV))
		return 0;
	/* sf_data_in */
	error = sflt_data_in(sb->sb_so, from, m, control, flags);
	if (error != 0 && error != EJUSTRETURN) {
		NETSTAT_INC(sockstat.sos_filtered_in);
		sb_drop_chains(*m, *control);
	}
	return error;
}

errno_t
sbappendaddr(struct sockbuf *sb, const struct sockaddr *asa, struct mbuf *m,
    struct mbuf *control)
{
	errno_t error = sb_filter_in(sb, asa, &m, &control, 0);

	if (error != 0)
		return error;
	return sbappendaddr_nofilter(sb, asa, m, control);
}

errno_t
sbappendrecord(struct sockbuf *sb, struct mbuf *m)
{
	struct mbuf *control = NULL;
	errno_t error = sb_filter_in(sb, NULL, &m, &control,
	    SFLT_DATA_RECORD);

	if (error != 0)
		return error;
	return sbappendrecord_nofilter(sb, m);
}

errno_t
sbappendstream(struct sockbuf *sb, struct mbuf *m)
{
	struct mbuf *control = NULL;
	errno_t error = sb_filter_in(sb, NULL, &m, &control, 0);

	if (error != 0)
		return error;
	return sbappendstream_nofilter(sb, m);
}

errno_t
sbappend(struct sockbuf *sb, struct mbuf *m)
{
	if (sb->sb_so->so_proto->pr_flags & PR_ATOMIC)
		return sbappendrecord(sb, m);
	return sbappendstream(sb, m);
}

void
sbfixup(struct sockbuf *sb)
{
	struct mbuf *m = sb->sb_mb;

	if (m == NULL) {
		sb->sb_lastrecord = NULL;
		sb->sb_mbtail = NULL;
	} else if (m->m_nextpkt == NULL) {
		sb->sb_lastrecord = m;
	}
}

void
sbdrop(struct sockbuf *sb, int len)
{
	struct mbuf *m = sb->sb_mb, *next;

	next = m != NULL ? m->m_nextpkt : NULL;
	while (len > 0) {
		if (m == NULL) {
			if (next == NULL)
				panic("sbdrop: %d bytes more than the buffer "
				    "holds", len);
			m = next;
			next = m->m_nextpkt;
			continue;
		}
		if (m->m_len > len) {
			m->m_len -= len;
			m->m_data += len;
			sb->sb_cc -= len;
			if (sb_isctl(m))
				sb->sb_ctl -= len;
			break;
		}
		len -= m->m_len;
		sbfree(sb, m);
		if (sb->sb_mbtail == m)
			sb->sb_mbtail = NULL;
		m = m_free(m);
	}
	while (m != NULL && m->m_len == 0) {
		sbfree(sb, m);
		if (sb->sb_mbtail == m)
			sb->sb_mbtail = NULL;
		m = m_free(m);
	}
	if (m != NULL) {
		sb->sb_mb = m;
		m->m_nextpkt = next;
	} else {
		sb->sb_mb = next;
	}
	sbfixup(sb);
	if (sb->sb_mb != NULL && sb->sb_mbtail == NULL) {
		for (m = sb->sb_lastrecord; m->m_next != NULL; m = m->m_next)
			;
		sb->sb_mbtail = m;
	}
}

void
sbdroprecord(struct sockbuf *sb)
{
	struct mbuf *m = sb->sb_mb;

	if (m == NULL)
		return;
	sb->sb_mb = m->m_nextpkt;
	m->m_nextpkt = NULL;
	while (m != NULL) {
		sbfree(sb, m);
		m = m_free(m);
	}
	sbfixup(sb);
}

void
sbflush(struct sockbuf *sb)
{
	while (sb->sb_mb != NULL)
		sbdroprecord(sb);
	if (sb->sb_cc != 0 || sb->sb_mbcnt != 0 || sb->sb_ctl != 0)
		panic("sbflush: %u bytes, %u storage left", sb->sb_cc,
		    sb->sb_mbcnt);
}

void
sbrelease(struct sockbuf *sb)
{
	sbflush(sb);
	sb->sb_hiwat = 0;
	sb->sb_mbmax = 0;
}

errno_t
sbwait(struct sockbuf *sb)
{
	struct timespec ts, *tsp = NULL;

	if (sb->sb_timeo.tv_sec != 0 || sb->sb_timeo.tv_usec != 0) {
		ts.tv_sec = sb->sb_timeo.tv_sec;
		ts.tv_nsec = sb->sb_timeo.tv_usec * 1000;
		tsp = &ts;
	}
	sb->sb_flags |= SB_WAIT;
	return msleep(&sb->sb_cc, sb->sb_so->so_mtx, 0,
	    (sb->sb_flags & SB_RECV) ? "sbwait rcv" : "sbwait snd", tsp);
}

errno_t
sblock(struct sockbuf *sb, bool wait)
{
	while (sb->sb_flags & SB_LOCK) {
		if (!wait)
			return EWOULDBLOCK;
		sb->sb_flags |= SB_WANT;
		msleep(&sb->sb_flags, sb->sb_so->so_mtx, 0, "sblock", NULL);
	}
	sb->sb_flags |= SB_LOCK;
	return 0;
}

void
sbunlock(struct sockbuf *sb)
{
	sb->sb_flags &= ~SB_LOCK;
	if (sb->sb_flags & SB_WANT) {
		sb->sb_flags &= ~SB_WANT;
		wakeup(&sb->sb_flags);
	}
}

/* ---- Wakeups ---- */

void
sowakeup(struct socket *so, struct sockbuf *sb)
{
	if (sb->sb_flags & SB_WAIT) {
		sb->sb_flags &= ~SB_WAIT;
		NETSTAT_INC(sockstat.sos_wakeups);
		wakeup(&sb->sb_cc);
	}
	if ((sb->sb_flags & SB_UPCALL) && so->so_upcall != NULL)
		__atomic_or_fetch(&so->so_upcallstate, SOU_PENDING,
		    __ATOMIC_RELEASE);		/* socket_unlock runs it */
}

void
sorwakeup(struct socket *so)
{
	sowakeup(so, &so->so_rcv);
}

void
sowwakeup(struct socket *so)
{
	sowakeup(so, &so->so_snd);
}

/* Wake whoever waits on the connection: connect, accept, linger. */
static void
so_wakeup_all(struct socket *so)
{
	wakeup(&so->so_timeo);
	sorwakeup(so);
	sowwakeup(so);
}

/* ---- Connection states ---- */

void
soisconnecting(struct socket *so)
{
	so->so_state &= ~(SS_ISCONNECTED | SS_ISDISCONNECTING);
	so->so_state |= SS_ISCONNECTING;
	/* sf_notify(sock_evt_connecting) */
	sflt_notify(so, SFLT_EV_CONNECTING, NULL);
}

/*
 * Lock head, then so again (the order of socketvar.h), with so unlocked
 * in between.  The caller holds references on both.
 */
static void
so_lock_with_head(struct socket *so, struct socket *head)
{
	lck_mtx_unlock(so->so_mtx);
	socket_lock(head, 0);
	lck_mtx_lock(so->so_mtx);
}

/* Release head (running its upcall with no other lock held) and the
 * reference the caller took on it; so stays locked. */
static void
so_unlock_head(struct socket *so, struct socket *head)
{
	lck_mtx_unlock(so->so_mtx);
	socket_unlock(head, 1);
	lck_mtx_lock(so->so_mtx);
}

void
soisconnected(struct socket *so)
{
	struct socket *head;

	so->so_state &= ~(SS_ISCONNECTING | SS_ISDISCONNECTING |
	    SS_ISCONFIRMING);
	so->so_state |= SS_ISCONNECTED;
	/* sf_notify(sock_evt_connected) */
	sflt_notify(so, SFLT_EV_CONNECTED, NULL);

	head = so->so_head;
	if (head == NULL || !(so->so_state & SS_INCOMP)) {
		so_wakeup_all(so);
		return;
	}
	/* Made by sonewconn, now complete: to the listener's so_comp. */
	soreference(head);
	so_lock_with_head(so, head);
	if (so->so_head == head && (so->so_state & SS_INCOMP)) {
		TAILQ_REMOVE(&head->so_incomp, so, so_list);
		head->so_incqlen--;
		TAILQ_INSERT_TAIL(&head->so_comp, so, so_list);
		so->so_state &= ~SS_INCOMP;
		so->so_state |= SS_COMP;
		sorwakeup(head);
		wakeup(&head->so_timeo);
	}
	so_unlock_head(so, head);
}

void
soisdisconnecting(struct socket *so)
{
	so->so_state &= ~SS_ISCONNECTING;
	so->so_state |= SS_ISDISCONNECTING | SS_CANTRCVMORE | SS_CANTSENDMORE;
	/* sf_notify(sock_evt_disconnecting) */
	sflt_notify(so, SFLT_EV_DISCONNECTING, NULL);
	so_wakeup_all(so);
}

void
soisdisconnected(struct socket *so)
{
	so->so_state &= ~(SS_ISCONNECTING | SS_ISCONNECTED |
	    SS_ISDISCONNECTING);
	so->so_state |= SS_CANTRCVMORE | SS_CANTSENDMORE | SS_ISDISCONNECTED;
	/* sf_notify(sock_evt_disconnected) */
	sflt_notify(so, SFLT_EV_DISCONNECTED, NULL);
	so_wakeup_all(so);
}

void
socantrcvmore(struct socket *so)
{
	so->so_state |= SS_CANTRCVMORE;
	/* sf_notify(sock_evt_cantrecvmore) */
	sflt_notify(so, SFLT_EV_CANTRECVMORE, NULL);
	sorwakeup(so);
}

void
socantsendmore(struct socket *so)
{
	so->so_state |= SS_CANTSENDMORE;
	/* sf_notify(sock_evt_cantsendmore) */
	sflt_notify(so, SFLT_EV_CANTSENDMORE, NULL);
	sowwakeup(so);
}

void
sohasoutofband(struct socket *so)
{
	sorwakeup(so);
}

/* ---- Listen queues ---- */

void
so_unqueue(struct socket *head, struct socket *so)
{
	if (so->so_state & SS_INCOMP) {
		TAILQ_REMOVE(&head->so_incomp, so, so_list);
		head->so_incqlen--;
	} else {
		TAILQ_REMOVE(&head->so_comp, so, so_list);
	}
	head->so_qlen--;
	so->so_state &= ~(SS_INCOMP | SS_COMP);
	so->so_head = NULL;
	sorelease_notlast(head);	/* so's reference on its listener */
}

void
sodetached(struct socket *so)
{
	struct socket *head = so->so_head;

	sorelease_notlast(so);		/* the protocol's reference */
	if (head == NULL || !(so->so_state & SS_INCOMP))
		return;			/* completed ones wait for accept */
	soreference(head);
	so_lock_with_head(so, head);
	if (so->so_head == head && (so->so_state & SS_INCOMP)) {
		so_unqueue(head, so);
		sorelease_notlast(so);	/* the queue held the owner's */
	}
	so_unlock_head(so, head);
}

void
soabort(struct socket *so)
{
	if (so->so_pcb != NULL && so->so_proto->pr_usrreqs->pru_abort != NULL)
		so->so_proto->pr_usrreqs->pru_abort(so);
}

struct socket *
sonewconn(struct socket *head, int connected, const struct sockaddr *from)
{
	struct socket *so;

	/* sf_connect_in (head's lock released meanwhile: it may have
	 * stopped listening) */
	if (sflt_connect_in(head, from) != 0 ||
	    !(head->so_options & SO_ACCEPTCONN))
		return NULL;
	if (head->so_qlen > 3 * head->so_qlimit / 2) {	/* BSD's slack */
		NETSTAT_INC(sockstat.sos_listenfull);
		return NULL;
	}
	if ((so = soalloc(head->so_proto, head->so_type)) == NULL)
		return NULL;
	so->so_options = head->so_options & ~SO_ACCEPTCONN;
	so->so_linger = head->so_linger;
	so->so_state = (head->so_state & (SS_NBIO | SS_PRIV)) | SS_NOFDREF;
	so->so_rcv.sb_timeo = head->so_rcv.sb_timeo;
	so->so_snd.sb_timeo = head->so_snd.sb_timeo;
	socket_lock(so, 0);
	if (soreserve(so, head->so_snd.sb_hiwat, head->so_rcv.sb_hiwat) != 0 ||
	    so->so_proto->pr_usrreqs->pru_attach(so, 0) != 0) {
		so->so_state |= SS_NOFDREF;
		socket_unlock(so, 1);		/* the only reference: freed */
		return NULL;
	}
	sflt_initsock(so);
	so->so_head = head;
	soreference(head);
	if (connected) {
		so->so_state |= SS_COMP | SS_ISCONNECTED;
		TAILQ_INSERT_TAIL(&head->so_comp, so, so_list);
		sorwakeup(head);
		wakeup(&head->so_timeo);
	} else {
		so->so_state |= SS_INCOMP;
		TAILQ_INSERT_TAIL(&head->so_incomp, so, so_list);
		head->so_incqlen++;
	}
	head->so_qlen++;
	soreference(so);			/* the caller's */
	socket_unlock(so, 0);
	return so;
}
