/*
 * rot13 -- a socket filter that holds data back.  Every datagram (and,
 * on a kernel with TCP, the stream data) that arrives for a filtered
 * socket is swallowed in sf_data_in (EJUSTRETURN: the filter owns it
 * now), queued, turned by rot13 in a thread call and put back into the
 * socket with sock_inject_data_in -- in the order it came, from another
 * thread, as a filter that must look up something slow before it lets
 * data through would do it.
 *
 *   udp_input -> sbappendaddr -> sflt_data_in -> rot13_data_in: queued
 *   thread call: rot13_drain -> rot13 the bytes -> sock_inject_data_in
 *     -> the socket's receive buffer -> the reader sees "uryyb"
 *
 * The filter is global: it joins every UDP (and TCP) socket made after
 * kextload, not those open already.  A filter meant for chosen sockets
 * would leave SFLT_GLOBAL out and be attached with sflt_attach or
 * setsockopt(SO_NKE).
 *
 * Stop: sflt_unregister (asynchronous: each socket's sf_detach, then
 * sf_unregistered), a bounded sleep until sf_unregistered came for both
 * filters -- KERN_FAILURE if not, and kextunload -w tries again -- then
 * the thread call, then what the queue still holds is put back.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/socket.h>
#include <sys/kpi_mbuf.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_socketfilter.h>
#include <kern/locks.h>
#include <kern/thread_call.h>
#include <libkern/OSMalloc.h>
#include <netinet/in.h>

#define ROT13_NAME		"com.finch.sample.rot13"
#define ROT13_UDP_HANDLE	0x726f7431	/* 'rot1' */
#define ROT13_TCP_HANDLE	0x726f7432	/* 'rot2' */
#define ROT13_QLEN		512	/* data held at once; more is refused */
#define ROT13_STOP_WAIT		2	/* seconds stop waits for the filters */

/* rot13_registered's bits: the filters not yet unregistered. */
#define ROT13_UDP		0x1
#define ROT13_TCP		0x2

kern_return_t	rot13_start(kmod_info_t *ki, void *data);
kern_return_t	rot13_stop(kmod_info_t *ki, void *data);

/* Data held back: one receive's mbufs, for one socket. */
struct rot13_item {
	socket_t		ri_so;		/* sock_retain'ed until put back */
	mbuf_t			ri_data;
	mbuf_t			ri_control;
	sflt_data_flag_t	ri_flags;
	int			ri_hasfrom;
	struct sockaddr_storage	ri_from;	/* the sender (datagrams) */
};

/* Made by start, in this order; taken down by stop in the reverse one. */
static OSMallocTag	rot13_tag;
static lck_grp_t	*rot13_grp;
static lck_mtx_t	*rot13_lock;
static struct rot13_item *rot13_q;	/* a ring of ROT13_QLEN items */
static thread_call_t	rot13_call;

/* Guarded by rot13_lock. */
static u_int32_t	rot13_head;	/* the oldest item */
static u_int32_t	rot13_count;	/* items queued */
static int		rot13_draining;	/* a thread empties the queue */
static int		rot13_registered; /* ROT13_UDP | ROT13_TCP */
static int		rot13_stopping;	/* stop called sflt_unregister */
static u_int32_t	rot13_held, rot13_put_back, rot13_full, rot13_lost;
static u_int32_t	rot13_joined;	/* stream data added to a held item */
static u_int32_t	rot13_atonce;	/* stream data turned in sf_data_in:
					   the queue was full */
static u_int32_t	rot13_sockets;	/* sockets the filters are on */

/* ---- The filter ---- */

static errno_t
rot13_attach(void **cookie, socket_t so)
{
	*cookie = NULL;			/* no state per socket */
	lck_mtx_lock(rot13_lock);
	rot13_sockets++;
	lck_mtx_unlock(rot13_lock);
	return 0;
}

static void
rot13_detach(void *cookie, socket_t so)
{
	lck_mtx_lock(rot13_lock);
	rot13_sockets--;
	lck_mtx_unlock(rot13_lock);
}

static void
rot13_unregistered(sflt_handle handle)
{
	lck_mtx_lock(rot13_lock);
	rot13_registered &= ~(handle == ROT13_UDP_HANDLE ? ROT13_UDP :
	    ROT13_TCP);
	wakeup(&rot13_registered);
	lck_mtx_unlock(rot13_lock);
}

/*
 * Stream data (no sender, no control) for a socket that has an item
 * queued already joins the newest such item, at the end of its chain:
 * nothing of that socket is queued after it, so the order stays, and a
 * busy stream takes one item, not one per segment.  rot13_lock held.
 */
static int
rot13_coalesce(socket_t so, mbuf_t data)
{
	struct rot13_item *it;
	mbuf_t last;
	u_int32_t i;

	for (i = rot13_count; i > 0; i--) {
		it = &rot13_q[(rot13_head + i - 1) % ROT13_QLEN];
		if (it->ri_so != so)
			continue;
		if (it->ri_hasfrom || it->ri_control != NULL || it->ri_flags != 0)
			return 0;
		for (last = it->ri_data; mbuf_next(last) != NULL;
		    last = mbuf_next(last))
			;
		mbuf_pkthdr_adjustlen(it->ri_data, (int)mbuf_pkthdr_len(data));
		mbuf_setnext(last, data);
		return 1;
	}
	return 0;
}

static mbuf_t	rot13_chain(mbuf_t m, mbuf_how_t how);

/*
 * In the DLIL input thread, with no lock held: keep the data for the
 * thread call.  Everything is kept, so what comes later cannot pass what
 * waits: the order stays.  A full queue refuses a datagram (ENOBUFS: the
 * stack frees it and counts it as socket.filtered_in), but never stream
 * data, which TCP acknowledged already: a hole in the stream would be
 * worse than a slow byte.  Nothing of that socket waits (it would have
 * joined its item), so it is turned here, at once, and goes on.
 */
static errno_t
rot13_data_in(void *cookie, socket_t so, const struct sockaddr *from,
    mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	struct rot13_item *it;
	int wake, stream;

	stream = from == NULL && *control == NULL && flags == 0;
	lck_mtx_lock(rot13_lock);
	if (stream && rot13_coalesce(so, *data)) {
		rot13_joined++;
		lck_mtx_unlock(rot13_lock);
		return EJUSTRETURN;
	}
	lck_mtx_unlock(rot13_lock);

	sock_retain(so);		/* until the data is back in it */
	lck_mtx_lock(rot13_lock);
	if (rot13_count == ROT13_QLEN) {
		if (stream)
			rot13_atonce++;
		else
			rot13_full++;
		lck_mtx_unlock(rot13_lock);
		sock_release(so);
		if (!stream)
			return ENOBUFS;
		/* No sleeping here: a copy, if one is needed, or nothing. */
		if ((*data = rot13_chain(*data, MBUF_DONTWAIT)) == NULL) {
			lck_mtx_lock(rot13_lock);
			rot13_lost++;
			lck_mtx_unlock(rot13_lock);
			return EJUSTRETURN;	/* freed: out of mbufs */
		}
		return 0;
	}
	it = &rot13_q[(rot13_head + rot13_count) % ROT13_QLEN];
	it->ri_so = so;
	it->ri_data = *data;
	it->ri_control = *control;
	it->ri_flags = flags;
	it->ri_hasfrom = from != NULL && from->sa_len <= sizeof(it->ri_from);
	if (it->ri_hasfrom)
		memcpy(&it->ri_from, from, from->sa_len);
	wake = rot13_count++ == 0 && !rot13_draining;
	rot13_held++;
	lck_mtx_unlock(rot13_lock);
	if (wake)
		thread_call_enter(rot13_call);
	return EJUSTRETURN;
}

static struct sflt_filter rot13_udp_filter = {
	ROT13_UDP_HANDLE,
	SFLT_GLOBAL,
	"rot13 (UDP)",
	rot13_unregistered,
	rot13_attach,
	rot13_detach,
	NULL,			/* sf_notify */
	NULL,			/* sf_getpeername */
	NULL,			/* sf_getsockname */
	rot13_data_in,
	NULL,			/* sf_data_out: what a socket sends passes */
	NULL,			/* sf_connect_in */
	NULL,			/* sf_connect_out */
	NULL,			/* sf_bind */
	NULL,			/* sf_setoption */
	NULL,			/* sf_getoption */
	NULL,			/* sf_listen */
	NULL,			/* sf_ioctl */
};

static struct sflt_filter rot13_tcp_filter = {
	ROT13_TCP_HANDLE, SFLT_GLOBAL, "rot13 (TCP)", rot13_unregistered,
	rot13_attach, rot13_detach, NULL, NULL, NULL, rot13_data_in, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

/* ---- Putting it back ---- */

static void
rot13_bytes(char *p, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = p[i];
		if ((c >= 'a' && c <= 'm') || (c >= 'A' && c <= 'M'))
			p[i] = c + 13;
		else if ((c >= 'n' && c <= 'z') || (c >= 'N' && c <= 'Z'))
			p[i] = c - 13;
	}
}

/* rot13 the chain's bytes in place -- on a private copy if a cluster is
 * shared with someone else.  Returns the chain to put back (NULL: no
 * memory for the copy, and m is freed). */
static mbuf_t
rot13_chain(mbuf_t m, mbuf_how_t how)
{
	mbuf_t n, copy;

	for (n = m; n != NULL; n = mbuf_next(n))
		if ((mbuf_flags(n) & MBUF_EXT) && mbuf_mclhasreference(n))
			break;
	if (n != NULL) {
		if (mbuf_dup(m, how, &copy) != 0) {
			mbuf_freem(m);
			return NULL;
		}
		mbuf_freem(m);
		m = copy;
	}
	for (n = m; n != NULL; n = mbuf_next(n))
		rot13_bytes(mbuf_data(n), mbuf_len(n));
	mbuf_inbound_modified(m);	/* any checksum the card checked is stale */
	return m;
}

/*
 * The thread call: take the oldest item, rot13 it, put it back; until
 * the queue is empty.  One drainer at a time (rot13_draining), so the
 * items go back in the order they were queued.
 */
static void
rot13_drain(thread_call_param_t p0, thread_call_param_t p1)
{
	struct rot13_item it;
	mbuf_t m;

	lck_mtx_lock(rot13_lock);
	if (rot13_draining) {
		lck_mtx_unlock(rot13_lock);
		return;
	}
	rot13_draining = 1;
	while (rot13_count > 0) {
		it = rot13_q[rot13_head];
		rot13_head = (rot13_head + 1) % ROT13_QLEN;
		rot13_count--;
		lck_mtx_unlock(rot13_lock);

		/* No lock of ours held: the socket takes its own. */
		m = rot13_chain(it.ri_data, MBUF_WAITOK);
		if (m == NULL || sock_inject_data_in(it.ri_so, it.ri_hasfrom ?
		    (struct sockaddr *)&it.ri_from : NULL, m, it.ri_control,
		    it.ri_flags) != 0) {
			if (m != NULL)
				mbuf_freem(m);	/* on error we still own it */
			if (it.ri_control != NULL)
				mbuf_freem(it.ri_control);
			m = NULL;
		}
		sock_release(it.ri_so);	/* may close it, if its owner did */

		lck_mtx_lock(rot13_lock);
		if (m != NULL)
			rot13_put_back++;
		else
			rot13_lost++;
	}
	rot13_draining = 0;
	lck_mtx_unlock(rot13_lock);
}

/* ---- Start and stop ---- */

static void
rot13_free(void)
{
	if (rot13_call != NULL)
		thread_call_free(rot13_call);
	if (rot13_q != NULL)
		OSFree(rot13_q, ROT13_QLEN * sizeof(*rot13_q), rot13_tag);
	if (rot13_lock != NULL)
		lck_mtx_free(rot13_lock, rot13_grp);
	if (rot13_grp != NULL)
		lck_grp_free(rot13_grp);
	if (rot13_tag != NULL)
		OSMalloc_Tagfree(rot13_tag);
	rot13_call = NULL;
	rot13_q = NULL;
	rot13_lock = NULL;
	rot13_grp = NULL;
	rot13_tag = NULL;
}

kern_return_t
rot13_start(kmod_info_t *ki, void *data)
{
	errno_t error;

	rot13_tag = OSMalloc_Tagalloc(ROT13_NAME, OSMT_DEFAULT);
	rot13_grp = lck_grp_alloc_init(ROT13_NAME, LCK_GRP_ATTR_NULL);
	rot13_lock = rot13_grp != NULL ?
	    lck_mtx_alloc_init(rot13_grp, LCK_ATTR_NULL) : NULL;
	rot13_q = rot13_tag != NULL ?
	    OSMalloc(ROT13_QLEN * sizeof(*rot13_q), rot13_tag) : NULL;
	rot13_call = thread_call_allocate(rot13_drain, NULL);
	if (rot13_tag == NULL || rot13_lock == NULL || rot13_q == NULL ||
	    rot13_call == NULL) {
		printf("rot13: out of memory\n");
		rot13_free();
		return KERN_FAILURE;
	}
	error = sflt_register(&rot13_udp_filter, PF_INET, SOCK_DGRAM,
	    IPPROTO_UDP);
	if (error != 0) {
		printf("rot13: sflt_register for UDP: error %d\n", error);
		rot13_free();
		return KERN_FAILURE;
	}
	rot13_registered = ROT13_UDP;
	error = sflt_register(&rot13_tcp_filter, PF_INET, SOCK_STREAM,
	    IPPROTO_TCP);
	if (error == 0)
		rot13_registered |= ROT13_TCP;
	else
		printf("rot13: not on TCP: %s\n", error == ENOENT ?
		    "this kernel has no TCP" : "sflt_register failed");
	printf("rot13: filtering the %s sockets made from now on\n",
	    (rot13_registered & ROT13_TCP) ? "UDP and TCP" : "UDP");
	return KERN_SUCCESS;
}

kern_return_t
rot13_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { ROT13_STOP_WAIT, 0 };
	int registered;

	/* Once: a second stop (kextunload -w) only waits again. */
	lck_mtx_lock(rot13_lock);
	registered = rot13_stopping ? 0 : rot13_registered;
	rot13_stopping = 1;
	lck_mtx_unlock(rot13_lock);
	/* Holding none of our locks: sf_detach and sf_unregistered may run
	 * inside these calls and take rot13_lock. */
	if (registered & ROT13_UDP)
		sflt_unregister(ROT13_UDP_HANDLE);
	if (registered & ROT13_TCP)
		sflt_unregister(ROT13_TCP_HANDLE);

	lck_mtx_lock(rot13_lock);
	while (rot13_registered != 0 && msleep(&rot13_registered, rot13_lock,
	    0, "rot13 stop", &wait) == 0)
		;		/* one filter went: wait for the other */
	registered = rot13_registered;
	lck_mtx_unlock(rot13_lock);
	if (registered != 0) {
		printf("rot13: cannot stop yet: a filter is still detaching "
		    "from a busy socket; try again\n");
		return KERN_FAILURE;
	}

	/* No sf_data_in any more: put back what is queued, then go. */
	thread_call_cancel_wait(rot13_call);
	rot13_drain(NULL, NULL);
	printf("rot13: stopped; held %u, put back %u, lost %u, refused %u "
	    "(queue full), joined %u, turned at once %u\n", rot13_held,
	    rot13_put_back, rot13_lost, rot13_full, rot13_joined,
	    rot13_atonce);
	rot13_free();
	return KERN_SUCCESS;
}
