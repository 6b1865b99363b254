/*
 * Kernel event sockets: PF_SYSTEM, SOCK_RAW, SYSPROTO_EVENT.  Each is a
 * listener of kern_event.c: every event posted whose vendor, class and
 * subclass pass the socket's filter (SIOCSKEVFILT) is appended to its
 * receive buffer as one record, a struct kern_event_msg, for the owner
 * to read.  A new socket hears nothing until it sets a filter.
 *
 * LOCKING: kevsock_mtx protects the list of event sockets.  A socket's
 * lock comes before it (detach holds the first and takes the second);
 * delivery takes references under kevsock_mtx, drops it, then locks
 * each socket -- never both at once.  The filter is the socket's lock's.
 * Delivery runs in the kernel-event thread with the listeners' mutex
 * held (kern_event.c), so an in-kernel client's upcall, which runs as
 * the socket is unlocked, must not add or remove a kernel event
 * listener.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <sys/sys_domain.h>
#include <kern/kalloc.h>
#include <bsd/net/netstat_var.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/kern_event_var.h>

extern struct domain systemdomain;

/* An event socket's pcb. */
struct kev_pcb {
	TAILQ_ENTRY(kev_pcb) evp_link;		/* kevsock_list */
	struct socket	*evp_socket;		/* (c) */
	struct kev_request evp_filter;		/* socket's lock */
};

static lck_mtx_t *kevsock_mtx;
static TAILQ_HEAD(, kev_pcb) kevsock_list =
    TAILQ_HEAD_INITIALIZER(kevsock_list);
static u_int32_t kevsock_count;			/* kevsock_mtx */

static struct {
	u_int32_t	delivered;	/* events put in a socket's buffer */
	u_int32_t	full;		/* dropped: the socket's buffer full */
	u_int32_t	nomem;		/* dropped: no mbuf */
} kevsockstat;

static const struct netstat_counter kevsock_counters[] = {
	{ "delivered", "kernel events queued on event sockets",
	    &kevsockstat.delivered },
	{ "full", "dropped: an event socket's receive buffer was full",
	    &kevsockstat.full },
	{ "nomem", "dropped: no mbuf to copy an event into",
	    &kevsockstat.nomem },
};
NETSTAT_GROUP(kevsock, kevsock_counters);

/* Does the event pass the filter?  "Any" in a field means any below it
 * too.  Socket locked. */
static bool
kev_filter_match(const struct kev_request *f, const struct kern_event_msg *msg)
{
	if (f->vendor_code == KEV_ANY_VENDOR)
		return true;
	if (f->vendor_code != msg->vendor_code)
		return false;
	if (f->kev_class == KEV_ANY_CLASS)
		return true;
	if (f->kev_class != msg->kev_class)
		return false;
	return f->kev_subclass == KEV_ANY_SUBCLASS ||
	    f->kev_subclass == msg->kev_subclass;
}

/* Queue msg on so if its filter wants it.  so locked. */
static void
kev_deliver_one(struct socket *so, const struct kern_event_msg *msg)
{
	struct kev_pcb *evp = so->so_pcb;
	struct mbuf *m;

	if (evp == NULL || !kev_filter_match(&evp->evp_filter, msg))
		return;
	if (sbspace(&so->so_rcv) < (long)msg->total_size) {
		NETSTAT_INC(kevsockstat.full);
		return;
	}
	m = m_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA, MBUF_OWNER_KERNEL);
	if (m == NULL || m_copyback(m, 0, msg->total_size, msg,
	    MBUF_DONTWAIT, MBUF_OWNER_KERNEL) != 0) {
		if (m != NULL)
			m_freem(m);
		NETSTAT_INC(kevsockstat.nomem);
		return;
	}
	m->m_pkthdr.len = (int32_t)msg->total_size;
	if (sbappendrecord(&so->so_rcv, m) == 0) {
		NETSTAT_INC(kevsockstat.delivered);
		sorwakeup(so);
	}
}

/* The listener: every event, in the kernel-event thread. */
static void
kev_socket_listener(const struct kern_event_msg *msg, void *arg)
{
	struct socket **sos;
	struct kev_pcb *evp;
	u_int32_t n, i = 0;

	lck_mtx_lock(kevsock_mtx);
	n = kevsock_count;
	if (n == 0 || (sos = kalloc(n * sizeof(*sos))) == NULL) {
		lck_mtx_unlock(kevsock_mtx);
		return;
	}
	TAILQ_FOREACH(evp, &kevsock_list, evp_link) {
		sos[i++] = evp->evp_socket;
		soreference(evp->evp_socket);
	}
	lck_mtx_unlock(kevsock_mtx);
	for (i = 0; i < n; i++) {
		socket_lock(sos[i], 0);
		kev_deliver_one(sos[i], msg);
		socket_unlock(sos[i], 1);
	}
	kfree(sos, n * sizeof(*sos));
}

static struct kev_listener kev_socket_kl = { .kl_func = kev_socket_listener };

void
kev_socket_init(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("kevsock", LCK_GRP_ATTR_NULL);

	kevsock_mtx = grp != NULL ? lck_mtx_alloc_init(grp, LCK_ATTR_NULL) :
	    NULL;
	if (kevsock_mtx == NULL)
		panic("kev_socket_init: out of memory");
	kev_listener_add(&kev_socket_kl);
}

static errno_t
kev_attach(struct socket *so, int proto)
{
	struct kev_pcb *evp;
	errno_t error;

	if ((error = soreserve(so, KEV_SNDSPACE, KEV_RECVSPACE)) != 0)
		return error;
	if ((evp = kalloc(sizeof(*evp))) == NULL)
		return ENOBUFS;
	bzero(evp, sizeof(*evp));
	evp->evp_socket = so;
	evp->evp_filter.vendor_code = 0xffffffff;	/* no vendor: nothing */
	so->so_pcb = evp;
	lck_mtx_lock(kevsock_mtx);
	TAILQ_INSERT_TAIL(&kevsock_list, evp, evp_link);
	kevsock_count++;
	lck_mtx_unlock(kevsock_mtx);
	return 0;
}

static errno_t
kev_detach(struct socket *so)
{
	struct kev_pcb *evp = so->so_pcb;

	if (evp == NULL)
		return 0;
	lck_mtx_lock(kevsock_mtx);
	TAILQ_REMOVE(&kevsock_list, evp, evp_link);
	kevsock_count--;
	lck_mtx_unlock(kevsock_mtx);
	so->so_pcb = NULL;
	kfree(evp, sizeof(*evp));
	return 0;
}

/* Event sockets only listen. */
static errno_t
kev_send(struct socket *so, int flags, mbuf_t m, struct sockaddr *addr,
    mbuf_t control)
{
	m_freem(m);
	if (control != NULL)
		m_freem(control);
	return EOPNOTSUPP;
}

static errno_t
kev_ioctl(struct socket *so, u_long cmd, caddr_t data, ifnet_t ifp)
{
	struct kev_pcb *evp = so->so_pcb;
	struct kev_vendor_code *kvc;

	switch (cmd) {
	case SIOCGKEVID:
		*(u_int32_t *)(void *)data = kev_last_id();
		return 0;
	case SIOCSKEVFILT:
		evp->evp_filter = *(struct kev_request *)(void *)data;
		return 0;
	case SIOCGKEVFILT:
		*(struct kev_request *)(void *)data = evp->evp_filter;
		return 0;
	case SIOCGKEVVENDOR:
		kvc = (struct kev_vendor_code *)(void *)data;
		kvc->vendor_string[sizeof(kvc->vendor_string) - 1] = '\0';
		return kev_vendor_code_find(kvc->vendor_string,
		    &kvc->vendor_code);
	default:
		return EOPNOTSUPP;
	}
}

static struct pr_usrreqs kev_usrreqs = {
	.pru_attach = kev_attach,
	.pru_control = kev_ioctl,
	.pru_detach = kev_detach,
	.pru_send = kev_send,
};

static struct protosw kev_protosw = {
	.pr_type = SOCK_RAW, .pr_domain = &systemdomain,
	.pr_protocol = SYSPROTO_EVENT, .pr_flags = PR_ATOMIC,
	.pr_usrreqs = &kev_usrreqs,
};
PROTOSW_SET(kev_protosw);
