/*
 * Socket filters (<sys/kpi_socketfilter.h>): sflt_register and the
 * other eleven KPI functions, and the hooks the socket layer calls
 * (socket_filter_var.h) -- in uipc_socket.c for the owner's requests
 * and data out, in uipc_socket2.c for data in (sbappend*), the state
 * changes and new connections.  On the paths of docs/design.md a filter
 * sits between the socket and its protocol, in both directions.  The
 * unload check and the `sflt` command are at the end.
 *
 * LOCKING
 *
 *   sflt_lock, a mutex, guards the list of filters and, marked (f), a
 *   filter's state and its list of attachments.  It is taken to
 *   register, unregister, attach and detach -- never per packet.
 *
 *   A socket's attachments (so_filt, in the order the filters run) and,
 *   marked (s), each attachment's flags and busy count are guarded by
 *   the socket's lock.  The order: the socket's lock, then sflt_lock.
 *
 *   No callback runs with either lock held.  A hook marks the
 *   attachment busy, releases the socket's lock, calls the filter, takes
 *   the lock back and goes on from that attachment (sflt_enter,
 *   sflt_leave): a busy attachment stays on the list, and its detach
 *   (sf_detach) waits until no callback of it runs -- the thread that
 *   leaves last performs it (sflt_reap).  So per packet the cost of a
 *   filter is one unlock and lock of the socket and the call.
 *
 * LIFETIME
 *
 *   A filter holds one reference for being registered and one per
 *   attachment (attaching, attached or detaching).  sflt_unregister
 *   drops the first and detaches every attachment; when the last
 *   reference goes, sf_unregistered is called and only then is the
 *   filter taken off the list (the unload check sees it until then).
 *   An attachment on the filter's list keeps its socket's memory: a
 *   socket is freed only after sflt_sofree took its attachments off.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_socketfilter.h>
#include <sys/malloc.h>
#include <netinet/in.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/monitor.h>
#include <bsd/net/netstat_var.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/socket_filter_var.h>

#define SFLT_NAME_MAX	64	/* a filter's name, NUL included */

/* A registered filter. */
struct socket_filter {
	TAILQ_ENTRY(socket_filter) sf_link;	/* (f) sflt_all */
	struct sflt_filter	sf_kpi;		/* the kext's, copied */
	char			sf_name[SFLT_NAME_MAX];
	struct protosw		*sf_proto;	/* its sockets' protocol; NULL:
						   PF_INET6's, which Finch lacks */
	int			sf_domain;	/* as registered, for `sflt` */
	int			sf_type;
	int			sf_protocol;
	u_int32_t		sf_serial;	/* registration order */
	u_int32_t		sf_refcnt;	/* (f) see LIFETIME */
	bool			sf_unregistering; /* (f) sflt_unregister ran */
	TAILQ_HEAD(, socket_filter_entry) sf_entries; /* (f) attachments */
	u_int32_t		sf_nattached;	/* (f) attached now */
	u_int32_t		sf_attaches;	/* (f) attachments ever made */
	/* For `sflt`: the counts of the attachments gone (f); those of the
	 * live ones are in each (no shared counter per packet). */
	u_int32_t		sf_calls_in;	/* sf_data_in calls */
	u_int32_t		sf_calls_out;	/* sf_data_out calls */
	u_int32_t		sf_held;	/* data answered EJUSTRETURN */
};

/* A filter attached to one socket. */
struct socket_filter_entry {
	struct socket_filter_entry *sfe_next;	/* (s) so_filt: the next
						   filter to run */
	TAILQ_ENTRY(socket_filter_entry) sfe_link; /* (f) sf_entries */
	struct socket_filter	*sfe_filter;
	struct socket		*sfe_socket;
	void			*sfe_cookie;	/* sf_attach's */
	u_int16_t		sfe_flags;	/* (s) SFEF_* */
	u_int16_t		sfe_busy;	/* (s) callbacks running */
	bool			sfe_swept;	/* (f) sflt_unregister's sweep
						   has seen it */
	u_int32_t		sfe_calls_in;	/* (s) sf_data_in calls */
	u_int32_t		sfe_calls_out;	/* (s) sf_data_out calls */
	u_int32_t		sfe_held;	/* (s) data it kept */
};

#define SFEF_ATTACHING	0x1	/* sf_attach runs */
#define SFEF_ATTACHED	0x2	/* sf_attach said yes: callbacks may run */
#define SFEF_DETACHING	0x4	/* sf_detach is due once sfe_busy is 0 */

static lck_mtx_t *sflt_lock;
static TAILQ_HEAD(, socket_filter) sflt_all = TAILQ_HEAD_INITIALIZER(sflt_all);
static u_int32_t sflt_serial;		/* (f) the last one handed out */
static volatile u_int32_t sflt_nglobal;	/* (f) SFLT_GLOBAL ones registered;
					   read without the lock */
static OSMallocTag sflt_tag;		/* filters and attachments: `mem` */

static struct {
	u_int32_t	held_in;	/* data a filter kept on its way in */
	u_int32_t	held_out;	/* ... on its way out */
	u_int32_t	refused_out;	/* sends a filter refused */
	u_int32_t	injected_in;	/* sock_inject_data_in calls */
	u_int32_t	injected_out;	/* sock_inject_data_out calls */
	u_int32_t	inject_nomem;	/* injected datagrams lost: no mbuf
					   for the sender's address */
	u_int32_t	attach_nomem;	/* attachments not made: no memory */
	u_int32_t	accept_refused;	/* connections sf_accept closed */
	u_int32_t	accept_disconnected; /* ... it had handed over
					   disconnected (EJUSTRETURN) */
} sfltstat;

static const struct netstat_counter sflt_counters[] = {
	{ "held_in", "received data a socket filter kept (EJUSTRETURN)",
	    &sfltstat.held_in },
	{ "held_out", "sent data a socket filter kept (EJUSTRETURN)",
	    &sfltstat.held_out },
	{ "refused_out", "dropped: sends a socket filter refused",
	    &sfltstat.refused_out },
	{ "injected_in", "data put back with sock_inject_data_in",
	    &sfltstat.injected_in },
	{ "injected_out", "data put back with sock_inject_data_out",
	    &sfltstat.injected_out },
	{ "inject_nomem", "dropped: injected datagrams, no mbuf for the "
	    "address", &sfltstat.inject_nomem },
	{ "attach_nomem", "filters not attached to a new socket: out of "
	    "memory", &sfltstat.attach_nomem },
	{ "accept_refused", "dropped: accepted connections a socket filter "
	    "closed (sf_accept)", &sfltstat.accept_refused },
	{ "accept_disconnected", "accepted connections a socket filter "
	    "disconnected (sf_accept, EJUSTRETURN)",
	    &sfltstat.accept_disconnected },
};
NETSTAT_GROUP(sflt, sflt_counters);

void
sflt_init(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("sflt", LCK_GRP_ATTR_NULL);

	sflt_lock = grp != NULL ? lck_mtx_alloc_init(grp, LCK_ATTR_NULL) : NULL;
	sflt_tag = kalloc_tag_create("sflt", 0);
	if (sflt_lock == NULL || sflt_tag == NULL)
		panic("sflt_init: out of memory");
}

/* ---- Filters ---- */

/* The registered filter with that handle, not unregistering.  (f) */
static struct socket_filter *
sflt_find(sflt_handle handle)
{
	struct socket_filter *f;

	TAILQ_FOREACH(f, &sflt_all, sf_link)
		if (f->sf_kpi.sf_handle == handle && !f->sf_unregistering)
			return f;
	return NULL;
}

/*
 * Drop a reference on f; the last one calls sf_unregistered (the kext
 * may unload once it returned) and frees the filter.  sflt_lock held on
 * entry, released on return; no socket lock held.
 */
static void
sflt_rele_unlock(struct socket_filter *f)
{
	struct kext_call kc;

	if (--f->sf_refcnt > 0) {
		lck_mtx_unlock(sflt_lock);
		return;
	}
	lck_mtx_unlock(sflt_lock);
	if (f->sf_kpi.sf_unregistered != NULL) {
		kext_call_begin(&kc);
		f->sf_kpi.sf_unregistered(f->sf_kpi.sf_handle);
		kext_call_end(&kc, f->sf_kpi.sf_unregistered);
	}
	lck_mtx_lock(sflt_lock);
	TAILQ_REMOVE(&sflt_all, f, sf_link);
	lck_mtx_unlock(sflt_lock);
	kfree_tag(f, sizeof(*f), sflt_tag);
}

/*
 * The protocol whose sockets a filter joins: one of PF_INET's, as later
 * XNU has it (PF_SYSTEM's sockets take data with their own locks held,
 * where a filter must not run).  PF_INET6's TCP and UDP are accepted
 * with no protocol (*prp NULL): Finch has no IPv6, so no socket ever
 * matches, but a Mac registers the filter, and a Tiger NKE that registers
 * for both families (Apple's tcplognke) must load.
 */
static errno_t
sflt_protocol(int domain, int type, int protocol, struct protosw **prp)
{
	*prp = NULL;
	if (domain == PF_INET6)
		return (type == SOCK_STREAM && (protocol == 0 ||
		    protocol == IPPROTO_TCP)) || (type == SOCK_DGRAM &&
		    (protocol == 0 || protocol == IPPROTO_UDP)) ? 0 : ENOENT;
	if (domain != PF_INET)
		return ENOENT;
	*prp = protocol != 0 ? pffindproto(domain, protocol, type) :
	    pffindtype(domain, type);
	return *prp != NULL && (*prp)->pr_type == type ? 0 : ENOENT;
}

/*
 * sf_ext, of later Mac OS X: only under SFLT_EXTENDED, and only the
 * members its first sf_len bytes cover.  A 10.4 NKE has no sf_ext (its
 * positional initializer leaves it zero, but a filter built on the
 * stack may leave it garbage): without the flag it is ignored.
 */
static void
sflt_copy_ext(struct sflt_filter *to, const struct sflt_filter *from)
{
	size_t len = from->sf_len;

	bzero(&to->sf_ext, sizeof(to->sf_ext));
	if (!(from->sf_flags & SFLT_EXTENDED))
		return;
	if (len >= offsetof(struct sflt_filter_ext, sf_ext_accept) +
	    sizeof(sf_accept_func))
		to->sf_accept = from->sf_accept;
	to->sf_len = len < sizeof(to->sf_ext) ? len : sizeof(to->sf_ext);
}

errno_t
sflt_register(const struct sflt_filter *filter, int domain, int type,
    int protocol)
{
	struct socket_filter *f;
	struct protosw *pr;
	errno_t error;

	if (filter == NULL || filter->sf_handle == 0 ||
	    filter->sf_name == NULL || filter->sf_attach == NULL ||
	    filter->sf_detach == NULL)
		return EINVAL;
	if ((error = sflt_protocol(domain, type, protocol, &pr)) != 0)
		return error;
	if ((f = kalloc_tag(sizeof(*f), sflt_tag)) == NULL)
		return ENOMEM;
	bzero(f, sizeof(*f));
	f->sf_kpi = *filter;
	sflt_copy_ext(&f->sf_kpi, filter);
	/* The name is copied: the unload check names a filter whose kext
	 * may be gone. */
	strlcpy(f->sf_name, filter->sf_name, sizeof(f->sf_name));
	f->sf_kpi.sf_name = f->sf_name;
	f->sf_proto = pr;
	f->sf_domain = domain;
	f->sf_type = type;
	f->sf_protocol = protocol;
	f->sf_refcnt = 1;
	TAILQ_INIT(&f->sf_entries);

	lck_mtx_lock(sflt_lock);
	if (sflt_find(filter->sf_handle) != NULL) {
		lck_mtx_unlock(sflt_lock);
		kfree_tag(f, sizeof(*f), sflt_tag);
		return EEXIST;
	}
	f->sf_serial = ++sflt_serial;
	TAILQ_INSERT_TAIL(&sflt_all, f, sf_link);
	if (f->sf_kpi.sf_flags & SFLT_GLOBAL)
		sflt_nglobal++;
	lck_mtx_unlock(sflt_lock);
	return 0;
}

/* Take a reference on so unless its last one is gone (sofree runs). */
static bool
sflt_soreference_live(struct socket *so)
{
	int n = __atomic_load_n(&so->so_usecount, __ATOMIC_ACQUIRE);

	do {
		if (n <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&so->so_usecount, &n, n + 1,
	    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return true;
}

static struct socket_filter_entry *sflt_entry_find(struct socket *so,
	    struct socket_filter *f);
static void	sflt_detach_entry(struct socket *so,
	    struct socket_filter_entry *e);

errno_t
sflt_unregister(sflt_handle handle)
{
	struct socket_filter_entry *e;
	struct socket_filter *f;
	struct socket *so;

	lck_mtx_lock(sflt_lock);
	if ((f = sflt_find(handle)) == NULL) {
		lck_mtx_unlock(sflt_lock);
		return ENOENT;
	}
	f->sf_unregistering = true;	/* no new attachment */
	if (f->sf_kpi.sf_flags & SFLT_GLOBAL)
		sflt_nglobal--;
	/*
	 * Detach from each socket, one at a time: its lock comes before
	 * ours.  The registration's reference keeps f meanwhile.  A socket
	 * whose last reference went is left to sflt_sofree.
	 */
	for (;;) {
		TAILQ_FOREACH(e, &f->sf_entries, sfe_link)
			if (!e->sfe_swept)
				break;
		if (e == NULL)
			break;
		e->sfe_swept = true;
		so = e->sfe_socket;
		if (!sflt_soreference_live(so))
			continue;
		lck_mtx_unlock(sflt_lock);
		socket_lock(so, 0);
		if ((e = sflt_entry_find(so, f)) != NULL)
			sflt_detach_entry(so, e);
		socket_unlock(so, 1);
		lck_mtx_lock(sflt_lock);
	}
	sflt_rele_unlock(f);		/* the registration's */
	return 0;
}

/* ---- Attachments ---- */

/* so's attachment of f, if any (a detaching one too).  (s) */
static struct socket_filter_entry *
sflt_entry_find(struct socket *so, struct socket_filter *f)
{
	struct socket_filter_entry *e;

	for (e = so->so_filt; e != NULL; e = e->sfe_next)
		if (e->sfe_filter == f)
			return e;
	return NULL;
}

/*
 * A new attachment of f to so, in front of so's filters, busy while its
 * sf_attach runs.  Both locks held; NULL if out of memory.
 */
static struct socket_filter_entry *
sflt_entry_new(struct socket *so, struct socket_filter *f)
{
	struct socket_filter_entry *e = kalloc_tag(sizeof(*e), sflt_tag);

	if (e == NULL)
		return NULL;
	bzero(e, sizeof(*e));
	e->sfe_filter = f;
	e->sfe_socket = so;
	e->sfe_flags = SFEF_ATTACHING;
	e->sfe_busy = 1;
	e->sfe_next = so->so_filt;
	so->so_filt = e;
	TAILQ_INSERT_TAIL(&f->sf_entries, e, sfe_link);
	f->sf_refcnt++;
	return e;
}

/*
 * The end of an attachment: off so's list, sf_detach if sf_attach had
 * said yes, off the filter's list, which may be its last reference.  so
 * locked, e detaching and not busy; the lock is released meanwhile.
 */
static void
sflt_entry_free(struct socket *so, struct socket_filter_entry *e)
{
	struct socket_filter_entry **pp;
	struct socket_filter *f = e->sfe_filter;
	struct kext_call kc;

	for (pp = &so->so_filt; *pp != e; pp = &(*pp)->sfe_next)
		;
	*pp = e->sfe_next;
	lck_mtx_unlock(so->so_mtx);
	if (e->sfe_flags & SFEF_ATTACHED) {
		kext_call_begin(&kc);
		f->sf_kpi.sf_detach(e->sfe_cookie, so);
		kext_call_end(&kc, f->sf_kpi.sf_detach);
	}
	lck_mtx_lock(sflt_lock);
	TAILQ_REMOVE(&f->sf_entries, e, sfe_link);
	if (e->sfe_flags & SFEF_ATTACHED)
		f->sf_nattached--;
	f->sf_calls_in += e->sfe_calls_in;
	f->sf_calls_out += e->sfe_calls_out;
	f->sf_held += e->sfe_held;
	kfree_tag(e, sizeof(*e), sflt_tag);
	sflt_rele_unlock(f);
	lck_mtx_lock(so->so_mtx);
}

/* Free every attachment of so that is detaching and no longer busy.  so
 * locked (released meanwhile). */
static void
sflt_reap(struct socket *so)
{
	struct socket_filter_entry *e;

	for (;;) {
		for (e = so->so_filt; e != NULL; e = e->sfe_next)
			if ((e->sfe_flags & SFEF_DETACHING) && e->sfe_busy == 0)
				break;
		if (e == NULL)
			return;
		sflt_entry_free(so, e);
	}
}

/* Detach e from so: now, or when its last callback returns.  so locked
 * (released meanwhile). */
static void
sflt_detach_entry(struct socket *so, struct socket_filter_entry *e)
{
	e->sfe_flags |= SFEF_DETACHING;
	if (e->sfe_busy == 0)
		sflt_entry_free(so, e);
}

/* Call sf_attach for e, made by sflt_entry_new.  so locked (released
 * meanwhile).  Returns what sf_attach said. */
static errno_t
sflt_entry_attach(struct socket *so, struct socket_filter_entry *e)
{
	struct socket_filter *f = e->sfe_filter;
	struct kext_call kc;
	void *cookie = NULL;
	errno_t error;

	lck_mtx_unlock(so->so_mtx);
	kext_call_begin(&kc);
	error = f->sf_kpi.sf_attach(&cookie, so);
	kext_call_end(&kc, f->sf_kpi.sf_attach);
	if (error == 0) {
		lck_mtx_lock(sflt_lock);
		f->sf_nattached++;
		f->sf_attaches++;
		lck_mtx_unlock(sflt_lock);
	}
	lck_mtx_lock(so->so_mtx);
	e->sfe_cookie = cookie;
	e->sfe_flags &= ~SFEF_ATTACHING;
	e->sfe_busy--;
	if (error == 0)
		e->sfe_flags |= SFEF_ATTACHED;
	else
		e->sfe_flags |= SFEF_DETACHING;	/* no sf_detach for it */
	/* Refused, or sflt_detach or sflt_unregister came meanwhile. */
	if ((e->sfe_flags & SFEF_DETACHING) && e->sfe_busy == 0)
		sflt_entry_free(so, e);
	return error;
}

/*
 * The next SFLT_GLOBAL filter for so's protocol registered after serial
 * *after, attached to so (not yet called); NULL when none is left.
 */
static struct socket_filter_entry *
sflt_initsock_next(struct socket *so, u_int32_t *after)
{
	struct socket_filter_entry *e = NULL;
	struct socket_filter *f;

	lck_mtx_lock(sflt_lock);
	TAILQ_FOREACH(f, &sflt_all, sf_link) {
		if (f->sf_serial <= *after || f->sf_unregistering ||
		    !(f->sf_kpi.sf_flags & SFLT_GLOBAL) ||
		    f->sf_proto != so->so_proto)
			continue;
		*after = f->sf_serial;
		if ((e = sflt_entry_new(so, f)) != NULL)
			break;
		NETSTAT_INC(sfltstat.attach_nomem);
	}
	lck_mtx_unlock(sflt_lock);
	return e;
}

void
sflt_initsock(struct socket *so)
{
	struct socket_filter_entry *e;
	u_int32_t after = 0;

	/* Read without the lock: a filter registering at this very moment
	 * may miss this socket, as if it had come just after it. */
	if (sflt_nglobal == 0)
		return;
	while ((e = sflt_initsock_next(so, &after)) != NULL)
		(void)sflt_entry_attach(so, e);
}

void
sflt_termsock(struct socket *so)
{
	struct socket_filter_entry *e;

	so->so_flags |= SOF_NOFILTER;
	for (e = so->so_filt; e != NULL; e = e->sfe_next)
		e->sfe_flags |= SFEF_DETACHING;
	sflt_reap(so);
}

void
sflt_sofree(struct socket *so)
{
	if (so->so_filt == NULL)
		return;
	/* Nobody else can reach so now: sflt_unregister takes no reference
	 * on it (its count is 0), and nothing is busy. */
	lck_mtx_lock(so->so_mtx);
	sflt_termsock(so);
	lck_mtx_unlock(so->so_mtx);
}

/* Attach the filter with that handle to so, locked (released meanwhile). */
static errno_t
sflt_attach_locked(struct socket *so, sflt_handle handle)
{
	struct socket_filter_entry *e;
	struct socket_filter *f;

	if (so->so_flags & SOF_NOFILTER)
		return EINVAL;			/* closed */
	lck_mtx_lock(sflt_lock);
	if ((f = sflt_find(handle)) == NULL) {
		lck_mtx_unlock(sflt_lock);
		return ENOENT;
	}
	if ((e = sflt_entry_find(so, f)) != NULL &&
	    !(e->sfe_flags & SFEF_DETACHING)) {
		lck_mtx_unlock(sflt_lock);
		return EEXIST;
	}
	e = sflt_entry_new(so, f);
	lck_mtx_unlock(sflt_lock);
	if (e == NULL)
		return ENOMEM;
	return sflt_entry_attach(so, e);
}

errno_t
sflt_attach_handle(struct socket *so, u_int32_t handle)
{
	return sflt_attach_locked(so, handle);
}

errno_t
sflt_attach(socket_t so, sflt_handle handle)
{
	errno_t error;

	if (so == NULL || handle == 0)
		return EINVAL;
	socket_lock(so, 1);
	error = sflt_attach_locked(so, handle);
	socket_unlock(so, 1);
	return error == ENOENT ? EINVAL : error;
}

errno_t
sflt_detach(socket_t so, sflt_handle handle)
{
	struct socket_filter_entry *e;

	if (so == NULL || handle == 0)
		return EINVAL;
	socket_lock(so, 1);
	for (e = so->so_filt; e != NULL; e = e->sfe_next)
		if (e->sfe_filter->sf_kpi.sf_handle == handle &&
		    !(e->sfe_flags & SFEF_DETACHING))
			break;
	if (e != NULL)
		sflt_detach_entry(so, e);
	socket_unlock(so, 1);
	return 0;
}

/* ---- The hooks ----
 *
 * Each walks so_filt in order and calls the filters that have the
 * callback, each with the socket unlocked:
 *
 *	for (e = so->so_filt; e != NULL && error == 0; e = next) {
 *		if (!sflt_live(e) || e's callback is NULL) {
 *			next = e->sfe_next;
 *			continue;
 *		}
 *		sflt_enter(so, e, &kc);
 *		error = the callback(e->sfe_cookie, so, ...);
 *		next = sflt_leave(so, e, &kc, callback, &reap);
 *	}
 *	if (reap)
 *		sflt_reap(so);
 */

/* Does e take callbacks (attached, not detaching)?  (s) */
static inline bool
sflt_live(const struct socket_filter_entry *e)
{
	return (e->sfe_flags & (SFEF_ATTACHED | SFEF_DETACHING)) ==
	    SFEF_ATTACHED;
}

/* Before a callback of e: keep e on the list, release the socket. */
static inline void
sflt_enter(struct socket *so, struct socket_filter_entry *e,
    struct kext_call *kc)
{
	e->sfe_busy++;
	lck_mtx_unlock(so->so_mtx);
	kext_call_begin(kc);
}

/* After it: take the socket back; the attachment to look at next.
 * *reap: e was detached meanwhile and is ours to finish. */
static inline struct socket_filter_entry *
sflt_leave(struct socket *so, struct socket_filter_entry *e,
    const struct kext_call *kc, const void *callback, bool *reap)
{
	kext_call_end(kc, callback);
	lck_mtx_lock(so->so_mtx);
	if (--e->sfe_busy == 0 && (e->sfe_flags & SFEF_DETACHING))
		*reap = true;
	return e->sfe_next;
}

void
sflt_notify(struct socket *so, int event, void *param)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_notify_func fn;
	bool reap = false;

	for (e = so->so_filt; e != NULL; e = next) {
		fn = e->sfe_filter->sf_kpi.sf_notify;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(so, e, &kc);
		fn(e->sfe_cookie, so, (sflt_event_t)event, param);
		next = sflt_leave(so, e, &kc, fn, &reap);
	}
	if (reap)
		sflt_reap(so);
}

errno_t
sflt_data_in(struct socket *so, const struct sockaddr *from,
    struct mbuf **data, struct mbuf **control, int flags)
{
	struct socket_filter_entry *e, *next;
	struct socket_filter *f;
	struct kext_call kc;
	sf_data_in_func fn;
	bool reap = false;
	errno_t error = 0;

	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		f = e->sfe_filter;
		fn = f->sf_kpi.sf_data_in;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		e->sfe_calls_in++;
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, so, from, data, control,
		    (sflt_data_flag_t)flags);
		next = sflt_leave(so, e, &kc, fn, &reap);
		if (error == EJUSTRETURN) {
			e->sfe_held++;
			NETSTAT_INC(sfltstat.held_in);
		}
	}
	if (reap)
		sflt_reap(so);
	return error;
}

errno_t
sflt_data_out(struct socket *so, const struct sockaddr *to,
    struct mbuf **data, struct mbuf **control, int flags)
{
	struct socket_filter_entry *e, *next;
	struct socket_filter *f;
	struct kext_call kc;
	sf_data_out_func fn;
	bool reap = false;
	errno_t error = 0;

	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		f = e->sfe_filter;
		fn = f->sf_kpi.sf_data_out;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		e->sfe_calls_out++;
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, so, to, data, control,
		    (sflt_data_flag_t)flags);
		next = sflt_leave(so, e, &kc, fn, &reap);
		if (error == EJUSTRETURN) {
			e->sfe_held++;
			NETSTAT_INC(sfltstat.held_out);
		} else if (error != 0) {
			NETSTAT_INC(sfltstat.refused_out);
		}
	}
	if (reap)
		sflt_reap(so);
	return error;
}

/* sf_connect_out and sf_bind: the same callback type. */
static errno_t
sflt_addr_op(struct socket *so, const struct sockaddr *sa, bool connect)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_connect_out_func fn;		/* sf_bind_func is the same type */
	bool reap = false;
	errno_t error = 0;

	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		fn = connect ? e->sfe_filter->sf_kpi.sf_connect_out :
		    e->sfe_filter->sf_kpi.sf_bind;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, so, sa);
		next = sflt_leave(so, e, &kc, fn, &reap);
	}
	if (reap)
		sflt_reap(so);
	return error;
}

errno_t
sflt_connect_out(struct socket *so, const struct sockaddr *to)
{
	return sflt_addr_op(so, to, true);
}

errno_t
sflt_bind(struct socket *so, const struct sockaddr *to)
{
	return sflt_addr_op(so, to, false);
}

errno_t
sflt_connect_in(struct socket *head, const struct sockaddr *from)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_connect_in_func fn;
	bool reap = false;
	errno_t error = 0;

	for (e = head->so_filt; e != NULL && error == 0; e = next) {
		fn = e->sfe_filter->sf_kpi.sf_connect_in;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(head, e, &kc);
		error = fn(e->sfe_cookie, head, from);
		next = sflt_leave(head, e, &kc, fn, &reap);
	}
	if (reap)
		sflt_reap(head);
	return error;
}

errno_t
sflt_accept(struct socket *head, struct socket *so,
    const struct sockaddr *local, const struct sockaddr *remote)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_accept_func fn;
	bool reap = false;
	errno_t error = 0;

	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		fn = e->sfe_filter->sf_kpi.sf_accept;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, head, so, local, remote);
		next = sflt_leave(so, e, &kc, fn, &reap);
	}
	if (reap)
		sflt_reap(so);
	if (error == EJUSTRETURN)
		NETSTAT_INC(sfltstat.accept_disconnected);
	else if (error != 0)
		NETSTAT_INC(sfltstat.accept_refused);
	return error;
}

errno_t
sflt_listen(struct socket *so)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_listen_func fn;
	bool reap = false;
	errno_t error = 0;

	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		fn = e->sfe_filter->sf_kpi.sf_listen;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, so);
		next = sflt_leave(so, e, &kc, fn, &reap);
	}
	if (reap)
		sflt_reap(so);
	return error;
}

/* sf_setoption and sf_getoption: the same callback type. */
static errno_t
sflt_option(struct socket *so, struct sockopt *sopt, bool set)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_setoption_func fn;		/* sf_getoption_func is the same type */
	bool reap = false;
	errno_t error = 0;

	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		fn = set ? e->sfe_filter->sf_kpi.sf_setoption :
		    e->sfe_filter->sf_kpi.sf_getoption;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, so, sopt);
		next = sflt_leave(so, e, &kc, fn, &reap);
	}
	if (reap)
		sflt_reap(so);
	return error;
}

errno_t
sflt_setoption(struct socket *so, struct sockopt *sopt)
{
	return sflt_option(so, sopt, true);
}

errno_t
sflt_getoption(struct socket *so, struct sockopt *sopt)
{
	return sflt_option(so, sopt, false);
}

errno_t
sflt_ioctl(struct socket *so, u_long cmd, caddr_t data)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_ioctl_func fn;
	bool reap = false;
	errno_t error = 0;

	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		fn = e->sfe_filter->sf_kpi.sf_ioctl;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, so, (u_int32_t)cmd, data);
		next = sflt_leave(so, e, &kc, fn, &reap);
	}
	if (reap)
		sflt_reap(so);
	return error;
}

/*
 * sf_getpeername and sf_getsockname: the same callback type.  As on Mac
 * OS X, *sa is a block of the kernel's (MALLOC, M_SONAME): a filter
 * rewrites it in place, or frees it and points *sa at one it allocated
 * with MALLOC.  What *sa points at in the end is copied into nam and
 * freed.
 */
static errno_t
sflt_name(struct socket *so, struct sockaddr *nam, bool peer)
{
	struct socket_filter_entry *e, *next;
	struct kext_call kc;
	sf_getpeername_func fn;		/* sf_getsockname_func: the same */
	struct sockaddr *sa;
	bool reap = false;
	errno_t error = 0;

	if (so->so_filt == NULL)
		return 0;
	sa = _MALLOC(sizeof(struct sockaddr_storage), M_SONAME, M_NOWAIT);
	if (sa == NULL)
		return ENOMEM;
	memcpy(sa, nam, sizeof(struct sockaddr_storage));
	for (e = so->so_filt; e != NULL && error == 0; e = next) {
		fn = peer ? e->sfe_filter->sf_kpi.sf_getpeername :
		    e->sfe_filter->sf_kpi.sf_getsockname;
		if (fn == NULL || !sflt_live(e)) {
			next = e->sfe_next;
			continue;
		}
		sflt_enter(so, e, &kc);
		error = fn(e->sfe_cookie, so, &sa);
		next = sflt_leave(so, e, &kc, fn, &reap);
		if (sa == NULL && error == 0)
			error = EINVAL;		/* freed, and nothing instead */
	}
	if (sa != NULL) {
		if ((error == 0 || error == EJUSTRETURN) &&
		    sa->sa_len <= sizeof(struct sockaddr_storage))
			memcpy(nam, sa, sa->sa_len);
		_FREE(sa, M_SONAME);
	}
	if (reap)
		sflt_reap(so);
	return error;
}

errno_t
sflt_getpeername(struct socket *so, struct sockaddr *nam)
{
	return sflt_name(so, nam, true);
}

errno_t
sflt_getsockname(struct socket *so, struct sockaddr *nam)
{
	return sflt_name(so, nam, false);
}

/* ---- Injection ---- */

errno_t
sock_inject_data_in(socket_t so, const struct sockaddr *from, mbuf_t data,
    mbuf_t control, sflt_data_flag_t flags)
{
	struct sockbuf *sb;
	bool atomic;
	errno_t error = 0;

	if (so == NULL || data == NULL)
		return EINVAL;
	atomic = (so->so_proto->pr_flags & PR_ATOMIC) != 0;	/* (c) */
	if (atomic && (from == NULL || from->sa_len > MLEN ||
	    from->sa_len < offsetof(struct sockaddr, sa_data)))
		return EINVAL;
	socket_lock(so, 1);
	sb = &so->so_rcv;
	/*
	 * Even after the peer's FIN (SS_CANTRCVMORE): what the filter held
	 * came before it.  A reader who saw end of file already will not
	 * see it, though: see sock_inject_data_in in the header.
	 */
	/*
	 * Refuse before consuming anything, so that the caller still owns
	 * the data on error.  A stream is not limited here: its protocol's
	 * window already was.
	 */
	if (atomic && (long)(m_length(data) + (control != NULL ?
	    m_length(control) : 0) + from->sa_len) > sbspace(sb)) {
		error = ENOBUFS;
		goto out;
	}
	NETSTAT_INC(sfltstat.injected_in);
	if (atomic) {
		if (sbappendaddr_nofilter(sb, from, data, control) != 0)
			NETSTAT_INC(sfltstat.inject_nomem);	/* freed */
	} else {
		if (control != NULL)
			m_freem(control);	/* no ancillary data on streams */
		if (flags & sock_data_filt_flag_record)
			(void)sbappendrecord_nofilter(sb, data);
		else
			(void)sbappendstream_nofilter(sb, data);
	}
	sorwakeup(so);
out:
	socket_unlock(so, 1);
	return error;
}

errno_t
sock_inject_data_out(socket_t so, const struct sockaddr *to, mbuf_t data,
    mbuf_t control, sflt_data_flag_t flags)
{
	struct sockaddr_storage ss;

	if (so == NULL || data == NULL || !(data->m_flags & M_PKTHDR) ||
	    (to != NULL && (to->sa_len < offsetof(struct sockaddr, sa_data) ||
	    to->sa_len > sizeof(ss)))) {
		if (data != NULL)
			m_freem(data);
		if (control != NULL)
			m_freem(control);
		return EINVAL;
	}
	if (to != NULL)
		memcpy(&ss, to, to->sa_len);
	NETSTAT_INC(sfltstat.injected_out);
	return sosend(so, to != NULL ? (struct sockaddr *)&ss : NULL, NULL,
	    data, control, (flags & sock_data_filt_flag_oob) ? MSG_OOB : 0,
	    NULL);
}

/* ---- Option requests (sockopt_t) ---- */

sockopt_dir
sockopt_direction(sockopt_t sopt)
{
	return sopt->sopt_dir == SOPT_GET ? sockopt_get : sockopt_set;
}

int
sockopt_level(sockopt_t sopt)
{
	return sopt->sopt_level;
}

int
sockopt_name(sockopt_t sopt)
{
	return sopt->sopt_name;
}

size_t
sockopt_valsize(sockopt_t sopt)
{
	return sopt->sopt_valsize;
}

errno_t
sockopt_copyin(sockopt_t sopt, void *data, size_t len)
{
	if (sopt->sopt_dir != SOPT_SET || sopt->sopt_valsize < len ||
	    (len > 0 && (data == NULL || sopt->sopt_val == NULL)))
		return EINVAL;
	memcpy(data, sopt->sopt_val, len);
	return 0;
}

errno_t
sockopt_copyout(sockopt_t sopt, void *data, size_t len)
{
	if (sopt->sopt_dir != SOPT_GET || (len > 0 && data == NULL))
		return EINVAL;
	return sooptcopyout(sopt, data, len);
}

/* ---- kextunload's check ---- */

/* Which of the filter's pointers lies in [start, end), if one does. */
static bool
sflt_ptr_find(const struct sflt_filter *k, uint32_t start, uint32_t end,
    struct kmod_ptr *hit)
{
	const struct kmod_ptr ptrs[] = {
		KMOD_PTR("sf_unregistered", k->sf_unregistered),
		KMOD_PTR("sf_attach", k->sf_attach),
		KMOD_PTR("sf_detach", k->sf_detach),
		KMOD_PTR("sf_notify", k->sf_notify),
		KMOD_PTR("sf_getpeername", k->sf_getpeername),
		KMOD_PTR("sf_getsockname", k->sf_getsockname),
		KMOD_PTR("sf_data_in", k->sf_data_in),
		KMOD_PTR("sf_data_out", k->sf_data_out),
		KMOD_PTR("sf_connect_in", k->sf_connect_in),
		KMOD_PTR("sf_connect_out", k->sf_connect_out),
		KMOD_PTR("sf_bind", k->sf_bind),
		KMOD_PTR("sf_setoption", k->sf_setoption),
		KMOD_PTR("sf_getoption", k->sf_getoption),
		KMOD_PTR("sf_listen", k->sf_listen),
		KMOD_PTR("sf_ioctl", k->sf_ioctl),
		KMOD_PTR("sf_accept", k->sf_accept),
	};

	return kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), start, end, hit);
}

/*
 * Unload check: a filter whose callbacks are in the image, from
 * sflt_register until its sf_unregistered has returned.
 */
static enum kmod_hold
sflt_points_into(uint32_t start, uint32_t end, uint64_t stopped, char *why,
    size_t whylen)
{
	struct socket_filter *f;
	struct kmod_ptr hit;

	lck_mtx_lock(sflt_lock);
	TAILQ_FOREACH(f, &sflt_all, sf_link)
		if (sflt_ptr_find(&f->sf_kpi, start, end, &hit))
			break;
	if (f != NULL && !f->sf_unregistering)
		snprintf(why, whylen, "socket filter '%s' (handle 0x%08x) "
		    "still registered: stop must call sflt_unregister and "
		    "wait for sf_unregistered", f->sf_name, f->sf_kpi.sf_handle);
	else if (f != NULL && f->sf_refcnt > 0)
		snprintf(why, whylen, "socket filter '%s' (handle 0x%08x) is "
		    "still detaching from %u socket%s: stop must wait for "
		    "sf_unregistered", f->sf_name, f->sf_kpi.sf_handle,
		    f->sf_refcnt, f->sf_refcnt == 1 ? "" : "s");
	else if (f != NULL)
		snprintf(why, whylen, "socket filter '%s' (handle 0x%08x) is "
		    "in its sf_unregistered: stop must wait until it returned",
		    f->sf_name, f->sf_kpi.sf_handle);
	lck_mtx_unlock(sflt_lock);
	return f != NULL ? KMOD_HOLD_PINNED : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(socket_filter, sflt_points_into);

/* ---- The `sflt` command ---- */

#define SFLT_MON_SOCKETS	8	/* sockets listed per filter */

static const char *
sflt_flags_str(int flags)
{
	switch (flags & (SFLT_GLOBAL | SFLT_PROG)) {
	case SFLT_GLOBAL | SFLT_PROG:
		return "global,prog";
	case SFLT_GLOBAL:
		return "global";
	case SFLT_PROG:
		return "prog";
	default:
		return "-";
	}
}

/* "UDP 0.0.0.0:5000", if the socket's lock is free (we hold sflt_lock,
 * which comes after it). */
static void
sflt_mon_socket(struct socket *so, char *buf, size_t len)
{
	struct domain *dom = so->so_proto->pr_domain;

	snprintf(buf, len, "domain %d, type %d", dom->dom_family, so->so_type);
	if (dom->dom_describe != NULL && lck_mtx_try_lock(so->so_mtx)) {
		dom->dom_describe(so, buf, len);
		lck_mtx_unlock(so->so_mtx);
	}
}

static int
mon_sflt(int argc, char **argv)
{
	struct socket_filter_entry *e;
	struct socket_filter *f;
	u_int32_t in, out, held;
	char what[64];
	int n = 0, shown;

	if (argc != 1)
		return monitor_usage(argc, argv);
	lck_mtx_lock(sflt_lock);
	TAILQ_FOREACH(f, &sflt_all, sf_link) {
		printf("%-16s handle 0x%08x  %-11s domain %d type %d "
		    "protocol %d%s%s%s\n", f->sf_name, f->sf_kpi.sf_handle,
		    sflt_flags_str(f->sf_kpi.sf_flags), f->sf_domain,
		    f->sf_type, f->sf_protocol,
		    f->sf_kpi.sf_accept != NULL ? "  sf_accept" : "",
		    f->sf_proto == NULL ? "  (no such sockets in Finch)" : "",
		    f->sf_unregistering ? "  (unregistering)" : "");
		/* The live attachments' counts, read without their sockets'
		 * locks: a display may be a packet behind. */
		in = f->sf_calls_in;
		out = f->sf_calls_out;
		held = f->sf_held;
		TAILQ_FOREACH(e, &f->sf_entries, sfe_link) {
			in += e->sfe_calls_in;
			out += e->sfe_calls_out;
			held += e->sfe_held;
		}
		printf("    attached %u (ever %u)  data in %u  data out %u  "
		    "held %u\n", f->sf_nattached, f->sf_attaches, in, out,
		    held);
		shown = 0;
		TAILQ_FOREACH(e, &f->sf_entries, sfe_link) {
			if (shown++ == SFLT_MON_SOCKETS) {
				printf("    ...\n");
				break;
			}
			sflt_mon_socket(e->sfe_socket, what, sizeof(what));
			printf("    socket %p  %s\n", e->sfe_socket, what);
		}
		n++;
	}
	lck_mtx_unlock(sflt_lock);
	printf("%d socket filter%s registered\n", n, n == 1 ? "" : "s");
	return 0;
}
MONITOR_COMMAND(sflt, mon_sflt, "sflt",
    "registered socket filters, their counts and the sockets they are on");
