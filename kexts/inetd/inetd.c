/*
 * inetd -- in-kernel internet services on the socket KPI: start and
 * stop, the worker thread, the upcall, and the life of every socket
 * (open, accept, close).  What each service does is inetd_services.c
 * and inetd_http.c; how the three fit is inetd.h.
 *
 * The lesson is the upcall.  The stack calls a socket's upcall on its
 * fast path -- often the DLIL input thread, in the middle of taking a
 * packet in -- so an upcall must never block.  inetd's does the least
 * it can: it puts the socket on a queue and wakes the worker.  The
 * worker, an ordinary kernel thread, makes every socket call, with
 * MSG_DONTWAIT so that none sleeps: it takes what came, sends what
 * fits, and goes back to the queue.  One thread serves every
 * connection; stop wakes it, it closes every socket (it is the only
 * one that touches them: the KPI has no file descriptors to keep two
 * threads from using a socket at once), and stop waits for it,
 * bounded.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <kern/locks.h>
#include <kern/thread.h>
#include <libkern/OSMalloc.h>
#include <netinet/in.h>

#include "inetd.h"

#define INETD_BACKLOG	64	/* completed connections waiting for us */
#define INETD_MAXCONN	1024	/* connections at once, all services */
#define INETD_STOP_WAIT	5	/* seconds stop waits for the worker */
#define INETD_UDP_RCVBUF (2 * 65536)	/* a burst of datagrams */

kern_return_t	inetd_start(kmod_info_t *ki, void *data);
kern_return_t	inetd_stop(kmod_info_t *ki, void *data);

OSMallocTag		inetd_tag;
char			inetd_scratch[INETD_SCRATCH];	/* the worker's */

/* Made by start, in this order; taken down in the reverse one. */
static lck_grp_attr_t	*inetd_grp_attr;
static lck_grp_t	*inetd_grp;
static lck_attr_t	*inetd_lck_attr;
static lck_mtx_t	*inetd_lock;

/* Shared by the upcall, the worker and stop (inetd_lock). */
static TAILQ_HEAD(, inetd_conn) inetd_ready =
    TAILQ_HEAD_INITIALIZER(inetd_ready);
static boolean_t	inetd_stopping;	/* the worker must close and end */
static boolean_t	inetd_running;	/* the worker has started ... */
static boolean_t	inetd_ended;	/* ... and has ended */

/* The worker's alone. */
static TAILQ_HEAD(, inetd_conn) inetd_all = TAILQ_HEAD_INITIALIZER(inetd_all);
static u_int32_t	inetd_nconn;	/* connections (not listeners) */
static u_int32_t	inetd_refused;	/* accepted and closed: too many */
static struct timeval	inetd_started;

/* ---- The upcall and the queue ---- */

/*
 * The upcall: news on a socket of ours (data, send space, a new
 * connection, the peer's FIN or RST).  It runs on the stack's fast
 * path and must not block: a mutex held for a few instructions by the
 * worker is the only wait it risks.  A socket already queued stays
 * where it is: the worker will read everything there is.
 */
static void
inetd_upcall(socket_t so, void *cookie, int waitf)
{
	struct inetd_conn *ic = cookie;

	lck_mtx_lock(inetd_lock);
	if (!(ic->ic_flags & INETD_QUEUED)) {
		ic->ic_flags |= INETD_QUEUED;
		TAILQ_INSERT_TAIL(&inetd_ready, ic, ic_queue);
		wakeup(&inetd_ready);
	}
	lck_mtx_unlock(inetd_lock);
}

void
inetd_requeue(struct inetd_conn *ic)
{
	inetd_upcall(ic->ic_so, ic, 0);
}

struct inetd_conn *
inetd_first(void)
{
	return TAILQ_FIRST(&inetd_all);
}

struct inetd_conn *
inetd_next(struct inetd_conn *ic)
{
	return TAILQ_NEXT(ic, ic_all);
}

u_int32_t
inetd_connections(void)
{
	return inetd_nconn;
}

u_int32_t
inetd_uptime(void)
{
	struct timeval now;

	microuptime(&now);
	return (u_int32_t)(now.tv_sec - inetd_started.tv_sec);
}

/* ---- Sockets: made, accepted, closed ---- */

static struct inetd_conn *
inetd_conn_alloc(struct inetd_service *is, enum inetd_role role)
{
	struct inetd_conn *ic;

	ic = OSMalloc(sizeof(*ic), inetd_tag);
	if (ic == NULL)
		return NULL;
	bzero(ic, sizeof(*ic));
	ic->ic_service = is;
	ic->ic_role = role;
	return ic;
}

/*
 * Close a socket of ours and forget it.  Once sock_close returns, its
 * upcall is never called again, so after taking it off the queue (an
 * upcall may have put it there just before) nobody can reach ic.
 */
static void
inetd_conn_close(struct inetd_conn *ic)
{
	if (ic->ic_so != NULL)
		sock_close(ic->ic_so);
	lck_mtx_lock(inetd_lock);
	if (ic->ic_flags & INETD_QUEUED)
		TAILQ_REMOVE(&inetd_ready, ic, ic_queue);
	lck_mtx_unlock(inetd_lock);
	if (ic->ic_service->is_done != NULL)
		ic->ic_service->is_done(ic);
	if (ic->ic_role == INETD_STREAM)
		inetd_nconn--;
	TAILQ_REMOVE(&inetd_all, ic, ic_all);
	OSFree(ic, sizeof(*ic), inetd_tag);
}

/* Say why a service is not offered.  The one case worth a hint: UDP
 * port 7 held by the kernel's own echo service. */
static void
inetd_not_offered(struct inetd_service *is, const char *step, errno_t error)
{
	const char *proto = is->is_type == SOCK_STREAM ? "TCP" : "UDP";

	is->is_error = error;
	if (error == EPROTONOSUPPORT)
		printf("inetd: %s %s (port %u) not offered: this kernel has no "
		    "%s (sock_socket: EPROTONOSUPPORT)\n", proto, is->is_name,
		    is->is_port, proto);
	else if (error == EADDRINUSE && is->is_type == SOCK_DGRAM &&
	    is->is_port == 7)
		printf("inetd: UDP echo (port 7) not offered: the port is in "
		    "use (EADDRINUSE) by the kernel's built-in echo service, "
		    "which answers the same way; boot with -append noudpecho "
		    "(finch run --services does) to leave the port to inetd\n");
	else
		printf("inetd: %s %s (port %u) not offered: %s failed with "
		    "error %d\n", proto, is->is_name, is->is_port, step, error);
}

/*
 * Open one service's socket: a TCP listener or a bound UDP socket, its
 * upcall inetd_upcall with the socket's inetd_conn as cookie.
 * SO_REUSEADDR lets a listener bind while connections of an earlier
 * inetd still sit in TIME_WAIT on its port.
 */
static void
inetd_open(struct inetd_service *is)
{
	struct sockaddr_in sin;
	struct inetd_conn *ic;
	int on = 1, rcvbuf = INETD_UDP_RCVBUF;
	const char *step;
	errno_t error;

	ic = inetd_conn_alloc(is, is->is_type == SOCK_STREAM ?
	    INETD_LISTENER : INETD_DGRAM);
	if (ic == NULL) {
		inetd_not_offered(is, "OSMalloc", ENOMEM);
		return;
	}
	step = "sock_socket";
	error = sock_socket(PF_INET, is->is_type, 0, inetd_upcall, ic,
	    &ic->ic_so);
	if (error != 0) {
		ic->ic_so = NULL;
		goto fail;
	}
	step = "setsockopt";
	if (is->is_type == SOCK_STREAM)
		error = sock_setsockopt(ic->ic_so, SOL_SOCKET, SO_REUSEADDR,
		    &on, sizeof(on));
	else
		error = sock_setsockopt(ic->ic_so, SOL_SOCKET, SO_RCVBUF,
		    &rcvbuf, sizeof(rcvbuf));
	if (error != 0)
		goto fail;
	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(is->is_port);
	step = "sock_bind";
	if ((error = sock_bind(ic->ic_so, (struct sockaddr *)&sin)) != 0)
		goto fail;
	step = "sock_listen";
	if (is->is_type == SOCK_STREAM &&
	    (error = sock_listen(ic->ic_so, INETD_BACKLOG)) != 0)
		goto fail;
	is->is_socket = ic;
	TAILQ_INSERT_TAIL(&inetd_all, ic, ic_all);
	return;

fail:
	if (ic->ic_so != NULL)
		sock_close(ic->ic_so);
	OSFree(ic, sizeof(*ic), inetd_tag);
	inetd_not_offered(is, step, error);
}

/*
 * The listener has news: take every completed connection.  The new
 * socket's upcall and cookie are given to sock_accept, so that no
 * event is missed between accepting and setting them.  Past
 * INETD_MAXCONN a connection is closed at once: a service must bound
 * what a client can make it hold.
 */
static void
inetd_accept(struct inetd_conn *listener)
{
	struct inetd_service *is = listener->ic_service;
	struct inetd_conn *ic;
	errno_t error;

	for (;;) {
		if ((ic = inetd_conn_alloc(is, INETD_STREAM)) == NULL) {
			inetd_requeue(listener);	/* try again later */
			return;
		}
		error = sock_accept(listener->ic_so, NULL, 0, MSG_DONTWAIT,
		    inetd_upcall, ic, &ic->ic_so);
		if (error != 0) {
			OSFree(ic, sizeof(*ic), inetd_tag);
			if (error == EWOULDBLOCK)
				return;			/* none left */
			if (error == ECONNABORTED)
				continue;	/* it died waiting: next one */
			printf("inetd: %s: sock_accept failed: %d\n",
			    is->is_name, error);
			return;
		}
		TAILQ_INSERT_TAIL(&inetd_all, ic, ic_all);
		inetd_nconn++;
		if (inetd_nconn > INETD_MAXCONN) {
			inetd_refused++;
			inetd_conn_close(ic);
			continue;
		}
		is->is_served++;
		/* Its first look: what came (a FIN, even) before the
		 * upcall was set brought no upcall. */
		inetd_requeue(ic);
	}
}

/* The socket ic has news: let its service look. */
static void
inetd_serve(struct inetd_conn *ic)
{
	struct inetd_service *is = ic->ic_service;
	int verdict;

	if (ic->ic_role == INETD_LISTENER) {
		inetd_accept(ic);
		return;
	}
	verdict = is->is_serve(ic);
	if (verdict == 0 || ic->ic_role != INETD_STREAM)
		return;
	if (verdict != INETD_DONE)
		is->is_errors++;
	inetd_conn_close(ic);
}

/* ---- The worker ---- */

/*
 * Stop is closing the connections: reset them (SO_LINGER with a time
 * of 0: an RST, and the send buffer dropped at once) rather than
 * close them gently.  A gentle close would leave TCP sending what is
 * still queued after the kext is gone -- chargen's shared clusters
 * among it, mbufs the kext made and is charged for -- and kextunload
 * would rightly report them as left behind.
 */
static void
inetd_conn_reset(struct inetd_conn *ic)
{
	struct linger now = { 1, 0 };

	sock_setsockopt(ic->ic_so, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
}

/*
 * The worker thread: serve the queue until stop asks it to end, then
 * close every socket (it alone uses them) and say so.  Its last act
 * wakes stop; it returns right after, without a lock.
 */
static void
inetd_worker(void *arg, wait_result_t wr)
{
	struct inetd_conn *ic;

	lck_mtx_lock(inetd_lock);
	for (;;) {
		while (TAILQ_EMPTY(&inetd_ready) && !inetd_stopping)
			msleep(&inetd_ready, inetd_lock, 0, "inetd", NULL);
		if (inetd_stopping)
			break;
		ic = TAILQ_FIRST(&inetd_ready);
		TAILQ_REMOVE(&inetd_ready, ic, ic_queue);
		ic->ic_flags &= ~INETD_QUEUED;
		lck_mtx_unlock(inetd_lock);
		inetd_serve(ic);
		lck_mtx_lock(inetd_lock);
	}
	lck_mtx_unlock(inetd_lock);

	while ((ic = TAILQ_FIRST(&inetd_all)) != NULL) {
		if (ic->ic_role == INETD_STREAM)
			inetd_conn_reset(ic);
		else
			ic->ic_service->is_socket = NULL;
		inetd_conn_close(ic);
	}
	inetd_services_fini();
	lck_mtx_lock(inetd_lock);
	inetd_ended = TRUE;
	wakeup(&inetd_ended);
	lck_mtx_unlock(inetd_lock);
}

/* ---- Start and stop ---- */

/* Free the lock and the tag (stop, or a start that failed): safe on a
 * half-made set, what was not made is NULL. */
static void
inetd_free(void)
{
	if (inetd_lock != NULL)
		lck_mtx_free(inetd_lock, inetd_grp);
	if (inetd_lck_attr != NULL)
		lck_attr_free(inetd_lck_attr);
	if (inetd_grp != NULL)
		lck_grp_free(inetd_grp);
	if (inetd_grp_attr != NULL)
		lck_grp_attr_free(inetd_grp_attr);
	if (inetd_tag != NULL)
		OSMalloc_Tagfree(inetd_tag);
	inetd_lock = NULL;
	inetd_lck_attr = NULL;
	inetd_grp = NULL;
	inetd_grp_attr = NULL;
	inetd_tag = NULL;
}

/* Close what inetd_open opened, before the worker ever ran. */
static void
inetd_close_unserved(void)
{
	struct inetd_conn *ic;

	while ((ic = TAILQ_FIRST(&inetd_all)) != NULL) {
		ic->ic_service->is_socket = NULL;
		inetd_conn_close(ic);
	}
}

kern_return_t
inetd_start(kmod_info_t *ki, void *data)
{
	struct inetd_service *is;
	thread_t thread;
	int i, offered = 0;

	inetd_tag = OSMalloc_Tagalloc(INETD_NAME, OSMT_DEFAULT);
	inetd_grp_attr = lck_grp_attr_alloc_init();
	if (inetd_tag == NULL || inetd_grp_attr == NULL)
		goto fail;
	lck_grp_attr_setdefault(inetd_grp_attr);
	inetd_grp = lck_grp_alloc_init("inetd", inetd_grp_attr);
	inetd_lck_attr = lck_attr_alloc_init();
	if (inetd_grp == NULL || inetd_lck_attr == NULL)
		goto fail;
	lck_attr_setdefault(inetd_lck_attr);
	if ((inetd_lock = lck_mtx_alloc_init(inetd_grp, inetd_lck_attr)) ==
	    NULL)
		goto fail;
	microuptime(&inetd_started);
	if (inetd_services_init() != 0) {
		printf("inetd: no memory for chargen's text\n");
		goto fail;
	}

	/* Upcalls may come as soon as a socket is bound: they queue it
	 * for the worker, which starts below. */
	for (i = 0; i < inetd_nservices; i++) {
		is = &inetd_services[i];
		inetd_open(is);
		if (is->is_socket != NULL)
			offered++;
	}
	if (offered == 0) {
		printf("inetd: no service could be offered\n");
		goto fail_services;
	}
	if (kernel_thread_start(inetd_worker, NULL, &thread) !=
	    KERN_SUCCESS) {
		printf("inetd: cannot start the worker thread\n");
		inetd_close_unserved();
		goto fail_services;
	}
	thread_deallocate(thread);	/* we never need its handle */
	inetd_running = TRUE;

	printf("inetd: serving");
	for (i = 0; i < inetd_nservices; i++) {
		is = &inetd_services[i];
		if (is->is_socket != NULL)
			printf(" %s/%s %u", is->is_name,
			    is->is_type == SOCK_STREAM ? "tcp" : "udp",
			    is->is_port);
	}
	printf("\n");
	return KERN_SUCCESS;

fail_services:
	inetd_services_fini();
fail:
	inetd_free();
	return KERN_FAILURE;
}

/* What each service did, for the console. */
static void
inetd_report(void)
{
	struct inetd_service *is;
	int i;

	for (i = 0; i < inetd_nservices; i++) {
		is = &inetd_services[i];
		if (is->is_error != 0)
			continue;
		printf("inetd: %s/%s %u: %u %s, %llu bytes in, %llu bytes "
		    "out, %u ended by an error\n", is->is_name,
		    is->is_type == SOCK_STREAM ? "tcp" : "udp", is->is_port,
		    is->is_served, is->is_type == SOCK_STREAM ?
		    "connections" : "datagrams", is->is_bytes_in,
		    is->is_bytes_out, is->is_errors);
	}
	if (inetd_refused != 0)
		printf("inetd: %u connections refused: more than %d at "
		    "once\n", inetd_refused, INETD_MAXCONN);
}

/*
 * Stop: tell the worker to end, and wait for it -- bounded, as every
 * wait in a stop routine must be (the host link waits with us).  The
 * worker closes every socket before it says it has ended; after that
 * no upcall can come, and the lock can go.  If it has not ended in
 * time, refuse: kextunload -w calls stop again, which waits again.
 */
kern_return_t
inetd_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { INETD_STOP_WAIT, 0 };
	struct timespec tick = { 0, 1000000000 / hz };
	boolean_t ended;

	if (inetd_running) {
		lck_mtx_lock(inetd_lock);
		inetd_stopping = TRUE;
		wakeup(&inetd_ready);
		if (!inetd_ended)
			msleep(&inetd_ended, inetd_lock, 0, "inetd stop",
			    &wait);
		ended = inetd_ended;
		lck_mtx_unlock(inetd_lock);
		if (!ended) {
			printf("inetd: the worker has not ended yet: try "
			    "again (kextunload -w)\n");
			return KERN_FAILURE;
		}
		/*
		 * The worker woke us as its last act, but it still has to
		 * return.  The KPI has no way to join a thread, so give it
		 * a tick of CPU: were it still alive when stop returns,
		 * kextunload would keep the kext pinned until it has gone.
		 */
		msleep(&ended, NULL, 0, "inetd join", &tick);
		inetd_running = FALSE;
	}
	inetd_report();
	inetd_free();
	printf("inetd: stopped\n");
	return KERN_SUCCESS;
}
