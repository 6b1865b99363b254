/*
 * Kernel controls, the KPI (<sys/kern_control.h>): the registry of
 * controls kexts register, the queueing of data to their clients
 * (ctl_enqueuedata, ctl_enqueuembuf), the KEV_CTL_* events, the unload
 * check and the `kctl` command.  The clients are PF_SYSTEM sockets
 * (kern_control_socket.c), which find a control here by name or id.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <sys/sys_domain.h>
#include <mach/kmod.h>
#include <kern/kalloc.h>
#include <kern/kmod_check.h>
#include <kern/kmod_var.h>
#include <kern/monitor.h>
#include <bsd/net/netstat_var.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/kern_event_var.h>
#include <bsd/kern/kern_control_var.h>

/* The registry (kern_control_var.h says what kctl_mtx protects). */
lck_mtx_t *kctl_mtx;
static TAILQ_HEAD(, kctl) kctl_list = TAILQ_HEAD_INITIALIZER(kctl_list);

static struct {
	u_int32_t	enqueued;	/* records queued for clients */
	u_int32_t	full;		/* refused: client's buffer full */
	u_int32_t	nomem;		/* refused: no mbuf for the copy */
} kctlstat;

static const struct netstat_counter kctl_counters[] = {
	{ "enqueued", "records kexts queued for control clients",
	    &kctlstat.enqueued },
	{ "full", "refused: a client's receive buffer was full (ENOBUFS)",
	    &kctlstat.full },
	{ "nomem", "refused: no mbuf to copy the data into",
	    &kctlstat.nomem },
};
NETSTAT_GROUP(kctl, kctl_counters);

void
kern_control_init(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("kctl", LCK_GRP_ATTR_NULL);

	kctl_mtx = grp != NULL ? lck_mtx_alloc_init(grp, LCK_ATTR_NULL) : NULL;
	if (kctl_mtx == NULL)
		panic("kern_control_init: out of memory");
}

/* ---- Lookups (kctl_mtx held) ---- */

struct kctl *
kctl_find_by_id_unit(u_int32_t id, u_int32_t unit)
{
	struct kctl *k;

	TAILQ_FOREACH(k, &kctl_list, kctl_link) {
		if (k->kctl_reg.ctl_id != id)
			continue;
		if (!(k->kctl_reg.ctl_flags & CTL_FLAG_REG_ID_UNIT) ||
		    k->kctl_reg.ctl_unit == unit)
			return k;
	}
	return NULL;
}

struct kctl *
kctl_find_by_name(const char *name)
{
	struct kctl *k;

	TAILQ_FOREACH(k, &kctl_list, kctl_link)
		if (strncmp(k->kctl_reg.ctl_name, name, MAX_KCTL_NAME) == 0)
			return k;
	return NULL;
}

u_int32_t
kctl_count(void)
{
	struct kctl *k;
	u_int32_t n = 0;

	TAILQ_FOREACH(k, &kctl_list, kctl_link)
		n++;
	return n;
}

struct ctl_cb *
kcb_find(struct kctl *kctl, u_int32_t unit)
{
	struct ctl_cb *kcb;

	TAILQ_FOREACH(kcb, &kctl->kctl_clients, kcb_link)
		if (kcb->kcb_unit == unit)
			return kcb;
	return NULL;
}

/* Is ref a registered control?  A kext may hand us anything. */
static bool
kctl_valid(struct kctl *ref)
{
	struct kctl *k;

	TAILQ_FOREACH(k, &kctl_list, kctl_link)
		if (k == ref)
			return true;
	return false;
}

/* An id no control has: one more than the highest in use. */
static u_int32_t
kctl_next_id(void)
{
	struct kctl *k;
	u_int32_t id = CTL_FIRST_ID;

	TAILQ_FOREACH(k, &kctl_list, kctl_link)
		if (k->kctl_reg.ctl_id >= id)
			id = k->kctl_reg.ctl_id + 1;
	return id;
}

/* ---- Registering ---- */

static void
kctl_post(u_int32_t code, u_int32_t id, u_int32_t unit)
{
	struct ctl_event_data data = { id, unit };
	struct kev_msg msg;

	bzero(&msg, sizeof(msg));
	msg.vendor_code = KEV_VENDOR_APPLE;
	msg.kev_class = KEV_SYSTEM_CLASS;
	msg.kev_subclass = KEV_CTL_SUBCLASS;
	msg.event_code = code;
	msg.dv[0].data_length = sizeof(data);
	msg.dv[0].data_ptr = &data;
	(void)kev_post_kernel(&msg);	/* fits: cannot fail */
}

/* A buffer size a kext asked for: 0 is the default; at most sb_max. */
static u_int32_t
kctl_bufsize(u_int32_t asked, u_int32_t dflt)
{
	if (asked == 0)
		return dflt;
	return asked > sb_max ? sb_max : asked;
}

errno_t
ctl_register(struct kern_ctl_reg *reg, kern_ctl_ref *ref)
{
	const kmod_info_t *ki;
	struct kctl *k;
	size_t len;
	errno_t error = 0;

	if (reg == NULL || ref == NULL || reg->ctl_connect == NULL)
		return EINVAL;
	len = strnlen(reg->ctl_name, MAX_KCTL_NAME);
	if (len == 0 || len == MAX_KCTL_NAME)
		return EINVAL;
	if ((k = kalloc(sizeof(*k))) == NULL)
		return ENOMEM;
	bzero(k, sizeof(*k));
	k->kctl_reg = *reg;
	TAILQ_INIT(&k->kctl_clients);
	k->kctl_reg.ctl_sendsize = kctl_bufsize(reg->ctl_sendsize,
	    CTL_SENDSIZE);
	k->kctl_reg.ctl_recvsize = kctl_bufsize(reg->ctl_recvsize,
	    CTL_RECVSIZE);
	ki = kmod_lookup_address((u_int32_t)__builtin_return_address(0));
	strlcpy(k->kctl_owner, ki != NULL ? ki->name : "kernel",
	    sizeof(k->kctl_owner));

	lck_mtx_lock(kctl_mtx);
	if (kctl_find_by_name(k->kctl_reg.ctl_name) != NULL)
		error = EEXIST;
	else if (reg->ctl_flags & CTL_FLAG_REG_ID_UNIT) {
		if (reg->ctl_id == 0 ||
		    kctl_find_by_id_unit(reg->ctl_id, reg->ctl_unit) != NULL)
			error = reg->ctl_id == 0 ? EINVAL : EEXIST;
	} else {
		k->kctl_reg.ctl_id = kctl_next_id();
		k->kctl_reg.ctl_unit = 0;
	}
	if (error == 0)
		TAILQ_INSERT_TAIL(&kctl_list, k, kctl_link);
	lck_mtx_unlock(kctl_mtx);
	if (error != 0) {
		kfree(k, sizeof(*k));
		return error;
	}
	reg->ctl_id = k->kctl_reg.ctl_id;	/* the id assigned */
	*ref = k;
	kctl_post(KEV_CTL_REGISTERED, k->kctl_reg.ctl_id, k->kctl_reg.ctl_unit);
	return 0;
}

errno_t
ctl_deregister(kern_ctl_ref ref)
{
	struct kctl *k = ref;
	u_int32_t id, unit;

	lck_mtx_lock(kctl_mtx);
	if (k == NULL || !kctl_valid(k)) {
		lck_mtx_unlock(kctl_mtx);
		return EINVAL;
	}
	if (k->kctl_nclients != 0) {
		lck_mtx_unlock(kctl_mtx);
		return EBUSY;
	}
	TAILQ_REMOVE(&kctl_list, k, kctl_link);
	lck_mtx_unlock(kctl_mtx);
	id = k->kctl_reg.ctl_id;
	unit = k->kctl_reg.ctl_unit;
	kfree(k, sizeof(*k));
	kctl_post(KEV_CTL_DEREGISTERED, id, unit);
	return 0;
}

/* ---- Queueing data for a client ---- */

/*
 * The socket of ref's client on unit, referenced and locked, its pcb
 * checked; NULL (EINVAL) if there is none.  Release with
 * socket_unlock(so, 1).
 */
static struct socket *
kctl_client_lock(struct kctl *k, u_int32_t unit)
{
	struct ctl_cb *kcb;
	struct socket *so = NULL;

	lck_mtx_lock(kctl_mtx);
	if (k != NULL && kctl_valid(k) && (kcb = kcb_find(k, unit)) != NULL) {
		so = kcb->kcb_so;
		soreference(so);
	}
	lck_mtx_unlock(kctl_mtx);
	if (so == NULL)
		return NULL;
	socket_lock(so, 0);
	kcb = so->so_pcb;
	if (kcb == NULL || kcb->kcb_kctl != k || kcb->kcb_unit != unit) {
		socket_unlock(so, 1);	/* it disconnected meanwhile */
		return NULL;
	}
	return so;
}

/* Append m (len bytes) to so's receive buffer; so locked.  On error m
 * is still the caller's. */
static errno_t
kctl_append(struct socket *so, struct mbuf *m, size_t len, u_int32_t flags)
{
	struct sockbuf *sb = &so->so_rcv;

	if (len > sb->sb_hiwat)
		return EMSGSIZE;
	if (sbspace(sb) < (long)len) {
		NETSTAT_INC(kctlstat.full);
		return ENOBUFS;
	}
	/* The room was checked: neither append can fail now. */
	if (so->so_type == SOCK_STREAM)
		(void)sbappendstream_nofilter(sb, m);
	else
		(void)sbappendrecord_nofilter(sb, m);
	NETSTAT_INC(kctlstat.enqueued);
	if (!(flags & CTL_DATA_NOWAKEUP))
		sorwakeup(so);
	return 0;
}

errno_t
ctl_enqueuedata(kern_ctl_ref ref, u_int32_t unit, void *data, size_t len,
    u_int32_t flags)
{
	struct socket *so;
	struct mbuf *m;
	errno_t error;

	if (data == NULL && len != 0)
		return EINVAL;
	if ((so = kctl_client_lock(ref, unit)) == NULL)
		return EINVAL;
	if (len > so->so_rcv.sb_hiwat) {
		error = EMSGSIZE;
		goto out;
	}
	m = m_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA, MBUF_OWNER_KERNEL);
	if (m == NULL || (len > 0 && m_copyback(m, 0, len, data,
	    MBUF_DONTWAIT, MBUF_OWNER_KERNEL) != 0)) {
		if (m != NULL)
			m_freem(m);
		NETSTAT_INC(kctlstat.nomem);
		error = ENOBUFS;
		goto out;
	}
	m->m_pkthdr.len = (int32_t)len;
	if ((error = kctl_append(so, m, len, flags)) != 0)
		m_freem(m);
out:
	socket_unlock(so, 1);
	return error;
}

errno_t
ctl_enqueuembuf(kern_ctl_ref ref, u_int32_t unit, mbuf_t m, u_int32_t flags)
{
	struct socket *so;
	errno_t error;

	if (m == NULL)
		return EINVAL;
	if ((so = kctl_client_lock(ref, unit)) == NULL)
		return EINVAL;
	error = kctl_append(so, m, (size_t)m_length(m), flags);
	socket_unlock(so, 1);
	return error;
}

errno_t
ctl_getenqueuespace(kern_ctl_ref ref, u_int32_t unit, size_t *space)
{
	struct socket *so;
	long room;

	if (space == NULL)
		return EINVAL;
	if ((so = kctl_client_lock(ref, unit)) == NULL)
		return EINVAL;
	room = sbspace(&so->so_rcv);
	*space = room > 0 ? (size_t)room : 0;
	socket_unlock(so, 1);
	return 0;
}

/* ---- Unload check ---- */

static bool
kctl_ptr_find(const struct kctl *k, uint32_t start, uint32_t end,
    struct kmod_ptr *hit)
{
	const struct kern_ctl_reg *r = &k->kctl_reg;
	struct kmod_ptr ptrs[] = {
		KMOD_PTR("ctl_connect", r->ctl_connect),
		KMOD_PTR("ctl_disconnect", r->ctl_disconnect),
		KMOD_PTR("ctl_send", r->ctl_send),
		KMOD_PTR("ctl_setopt", r->ctl_setopt),
		KMOD_PTR("ctl_getopt", r->ctl_getopt),
	};

	return kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), start, end, hit);
}

/*
 * A control whose callbacks are in the image.  Only the kext could call
 * ctl_deregister, and its stop routine has run: nothing will release it
 * until the guest reboots.
 */
static enum kmod_hold
kctl_points_into(uint32_t start, uint32_t end, uint64_t stopped, char *why,
    size_t whylen)
{
	struct kmod_ptr hit;
	struct kctl *k;

	lck_mtx_lock(kctl_mtx);
	TAILQ_FOREACH(k, &kctl_list, kctl_link)
		if (kctl_ptr_find(k, start, end, &hit))
			break;
	if (k != NULL)
		snprintf(why, whylen, "kernel control '%s' (%s 0x%08x) still "
		    "registered: stop must call ctl_deregister",
		    k->kctl_reg.ctl_name, hit.kp_name, hit.kp_addr);
	lck_mtx_unlock(kctl_mtx);
	return k != NULL ? KMOD_HOLD_FOREVER : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(kern_control, kctl_points_into);

/* ---- The `kctl` command ---- */

static void
kctl_print_flags(u_int32_t flags)
{
	printf("%s%s%s", flags & CTL_FLAG_PRIVILEGED ? " privileged" : "",
	    flags & CTL_FLAG_REG_ID_UNIT ? " fixed-unit" : "",
	    flags & CTL_FLAG_REG_SOCK_STREAM ? " stream" : " dgram");
}

static int
mon_kctl(int argc, char **argv)
{
	struct ctl_cb *kcb;
	struct kctl *k;
	int n = 0;

	if (argc != 1)
		return monitor_usage(argc, argv);
	lck_mtx_lock(kctl_mtx);
	TAILQ_FOREACH(k, &kctl_list, kctl_link) {
		printf("id %u", k->kctl_reg.ctl_id);
		if (k->kctl_reg.ctl_flags & CTL_FLAG_REG_ID_UNIT)
			printf(" unit %u", k->kctl_reg.ctl_unit);
		printf(" '%s' (%s):", k->kctl_reg.ctl_name, k->kctl_owner);
		kctl_print_flags(k->kctl_reg.ctl_flags);
		printf("; send %u, recv %u bytes; %u clients, %u connects, "
		    "%u refused\n", k->kctl_reg.ctl_sendsize,
		    k->kctl_reg.ctl_recvsize, k->kctl_nclients,
		    k->kctl_connects, k->kctl_refused);
		/* The queued count is read without the socket's lock: a
		 * snapshot. */
		TAILQ_FOREACH(kcb, &k->kctl_clients, kcb_link)
			printf("  unit %u: socket %p, %u bytes queued%s\n",
			    kcb->kcb_unit, kcb->kcb_so,
			    kcb->kcb_so->so_rcv.sb_cc,
			    kcb->kcb_connecting ? ", connecting" : "");
		n++;
	}
	lck_mtx_unlock(kctl_mtx);
	printf("%d kernel control%s registered\n", n, n == 1 ? "" : "s");
	return 0;
}
MONITOR_COMMAND(kctl, mon_kctl, "kctl",
    "registered kernel controls and their connected clients");
