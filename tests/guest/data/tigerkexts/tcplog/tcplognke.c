/*
 * tcplognke.c -- a TCP connection logger, in the manner of Apple's Tiger
 * NKE sample: a global socket filter on TCP keeps, per connection, the
 * addresses, packets and bytes each way and the times it was made,
 * connected and closed, and hands each finished connection to the
 * clients of a kernel control.
 */
#include <mach/vm_types.h>
#include <mach/kmod.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_mbuf.h>
#include <sys/kpi_socketfilter.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/mbuf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <kern/locks.h>
#include <kern/assert.h>
#include <kern/debug.h>

#include "tcplogger.h"
#include <libkern/OSMalloc.h>
#include <libkern/OSAtomic.h>
#include <sys/kern_control.h>
#include <sys/kauth.h>
#include <sys/time.h>
#include <stdarg.h>

#if !defined(TCPLOG_DEBUG)
#define TCPLOG_DEBUG	0
#endif

#define TLE_MAGIC	0x544c4520	/* 'TLE ' */
#define kMY_TAG_TYPE	1

struct TCPLogEntry {
	TAILQ_ENTRY(TCPLogEntry) tle_link;
	socket_t		tle_so;
	boolean_t		tle_active;
	u_int32_t		magic;
	struct TCPLogInfo	tle_info;
};
TAILQ_HEAD(tl_list, TCPLogEntry);

#define tle_genid	tle_info.tli_genid
#define tle_bytes_in	tle_info.tli_bytes_in
#define tle_pkts_in	tle_info.tli_pkts_in
#define tle_bytes_out	tle_info.tli_bytes_out
#define tle_pkts_out	tle_info.tli_pkts_out

struct tl_cb {
	TAILQ_ENTRY(tl_cb)	t_link;
	kern_ctl_ref		t_ref;
	u_int32_t		t_unit;
};
TAILQ_HEAD(tl_cb_list, tl_cb);

static OSMallocTag	gOSMallocTag;
static lck_grp_attr_t	*gmutex_grp_attr = NULL;
static lck_grp_t	*gmutex_grp = NULL;
static lck_mtx_t	*gmutex = NULL;
static mbuf_tag_id_t	gidtag;
static struct tl_list	tl_active;	/* gmutex */
static struct tl_list	tl_done;	/* gmutex */
static struct tl_cb_list tl_cb_list;	/* gmutex */
static struct tl_stats	tl_stats;
static kern_ctl_ref	gctl_ref;
static boolean_t	gFilterRegistered_ip4 = FALSE;
static boolean_t	gFilterRegistered_ip6 = FALSE;
static boolean_t	gUnregisterStarted = FALSE;
static volatile SInt32	gUnregistered = 0;	/* one per filter registered */

#pragma mark Utility Functions

static void
tl_printf(const char *fmt, ...)
{
	va_list ap;
	char buf[160];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("tcplog: %s", buf);
}

static struct TCPLogEntry *
TCPLogEntryFromCookie(void *cookie)
{
	struct TCPLogEntry *tlp = (struct TCPLogEntry *)cookie;

	assert(tlp != NULL && tlp->magic == TLE_MAGIC);
	return tlp;
}

/* Has this packet been counted already (re-injected by another filter)? */
static int
CheckTag(mbuf_t m)
{
	size_t len;
	int *value;

	return mbuf_tag_find(m, gidtag, kMY_TAG_TYPE, &len, (void **)&value) == 0;
}

static void
tl_send_done_to_clients_locked(void)
{
	struct TCPLogEntry *tlp;
	struct tl_cb *cb;

	while (tl_stats.tls_ctl_connected > 0 && (tlp = TAILQ_FIRST(&tl_done)) != NULL) {
		TAILQ_FOREACH(cb, &tl_cb_list, t_link) {
			if (ctl_enqueuedata(cb->t_ref, cb->t_unit, &tlp->tle_info,
			    sizeof(tlp->tle_info), CTL_DATA_EOR) != 0)
				tl_stats.tls_overflow++;
		}
		TAILQ_REMOVE(&tl_done, tlp, tle_link);
		tl_stats.tls_done--;
		OSFree(tlp, sizeof(*tlp), gOSMallocTag);
	}
}

#pragma mark Socket Filter Functions

static void
tl_unregistered_fn(sflt_handle handle)
{
#pragma unused(handle)
	OSIncrementAtomic(&gUnregistered);
	wakeup((caddr_t)&gUnregistered);
}

static errno_t
tl_attach_fn(void **cookie, socket_t so)
{
	struct TCPLogEntry *tlp;

	tlp = (struct TCPLogEntry *)OSMalloc(sizeof(struct TCPLogEntry), gOSMallocTag);
	if (tlp == NULL)
		return ENOBUFS;
	bzero(tlp, sizeof(*tlp));
	tlp->magic = TLE_MAGIC;
	tlp->tle_so = so;
	tlp->tle_active = TRUE;
	tlp->tle_info.tli_len = sizeof(struct TCPLogInfo);
	tlp->tle_info.tli_pid = proc_selfpid();
	tlp->tle_info.tli_uid = kauth_getuid();
	microtime(&tlp->tle_info.tli_create);
	*cookie = (void *)tlp;

	lck_mtx_lock(gmutex);
	tlp->tle_genid = ++tl_stats.tls_attached;
	tl_stats.tls_active++;
	TAILQ_INSERT_TAIL(&tl_active, tlp, tle_link);
	lck_mtx_unlock(gmutex);
	return 0;
}

static void
tl_detach_fn(void *cookie, socket_t so)
{
#pragma unused(so)
	struct TCPLogEntry *tlp = TCPLogEntryFromCookie(cookie);
	struct timeval now, duration;
	char remote[INET_ADDRSTRLEN];

	microtime(&now);
	tlp->tle_info.tli_stop = now;
	timersub(&now, &tlp->tle_info.tli_start, &duration);
	if (tl_stats.tls_log && tlp->tle_info.tli_remote.sin_len != 0) {
		inet_ntop(AF_INET, &tlp->tle_info.tli_remote.sin_addr, remote, sizeof(remote));
		tl_printf("closed %s:%d after %ld.%06d s: in %u bytes (%u pkts), out %u bytes (%u pkts)\n",
		    remote, ntohs(tlp->tle_info.tli_remote.sin_port), (long)duration.tv_sec,
		    (int)duration.tv_usec, tlp->tle_bytes_in, tlp->tle_pkts_in,
		    tlp->tle_bytes_out, tlp->tle_pkts_out);
	}

	lck_mtx_lock(gmutex);
	TAILQ_REMOVE(&tl_active, tlp, tle_link);
	tlp->tle_active = FALSE;
	tl_stats.tls_active--;
	TAILQ_INSERT_TAIL(&tl_done, tlp, tle_link);
	tl_stats.tls_done++;
	tl_send_done_to_clients_locked();
	lck_mtx_unlock(gmutex);
}

static void
tl_notify_fn(void *cookie, socket_t so, sflt_event_t event, void *param)
{
#pragma unused(param)
	struct TCPLogEntry *tlp = TCPLogEntryFromCookie(cookie);
	char addr[INET_ADDRSTRLEN];

	switch (event) {
	case sock_evt_connected:
		microtime(&tlp->tle_info.tli_start);
		sock_getsockname(so, (struct sockaddr *)&tlp->tle_info.tli_local,
		    sizeof(tlp->tle_info.tli_local));
		sock_getpeername(so, (struct sockaddr *)&tlp->tle_info.tli_remote,
		    sizeof(tlp->tle_info.tli_remote));
		if (tl_stats.tls_log) {
			inet_ntop(AF_INET, &tlp->tle_info.tli_remote.sin_addr, addr, sizeof(addr));
			tl_printf("connection %u with %s:%d (pid %d, uid %d)\n", tlp->tle_genid,
			    addr, ntohs(tlp->tle_info.tli_remote.sin_port),
			    tlp->tle_info.tli_pid, tlp->tle_info.tli_uid);
		}
		break;
	case sock_evt_disconnecting:
	case sock_evt_disconnected:
	case sock_evt_connecting:
	case sock_evt_flush_read:
	case sock_evt_shutdown:
	case sock_evt_cantrecvmore:
	case sock_evt_cantsendmore:
	case sock_evt_closing:
	default:
		break;
	}
}

static errno_t
tl_data_in_fn(void *cookie, socket_t so, const struct sockaddr *from,
    mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
#pragma unused(so, from, control, flags)
	struct TCPLogEntry *tlp = TCPLogEntryFromCookie(cookie);

	if (CheckTag(*data))
		return 0;
	OSIncrementAtomic((SInt32 *)&tlp->tle_pkts_in);
	OSAddAtomic(mbuf_pkthdr_len(*data), (SInt32 *)&tlp->tle_bytes_in);
	return 0;
}

static errno_t
tl_data_out_fn(void *cookie, socket_t so, const struct sockaddr *to,
    mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
#pragma unused(so, to, control, flags)
	struct TCPLogEntry *tlp = TCPLogEntryFromCookie(cookie);
	mbuf_t m;
	size_t len = 0;

	if (CheckTag(*data))
		return 0;
	for (m = *data; m != NULL; m = mbuf_next(m))
		len += mbuf_len(m);
	OSIncrementAtomic((SInt32 *)&tlp->tle_pkts_out);
	OSAddAtomic(len, (SInt32 *)&tlp->tle_bytes_out);
	return 0;
}

static errno_t
tl_connect_in_fn(void *cookie, socket_t so, const struct sockaddr *from)
{
#pragma unused(so)
	struct TCPLogEntry *tlp = TCPLogEntryFromCookie(cookie);

	if (from->sa_family == AF_INET && from->sa_len <= sizeof(tlp->tle_info.tli_remote))
		bcopy(from, &tlp->tle_info.tli_remote, from->sa_len);
	return 0;
}

static errno_t
tl_connect_out_fn(void *cookie, socket_t so, const struct sockaddr *to)
{
#pragma unused(cookie, so, to)
	return 0;
}

static errno_t
tl_bind_fn(void *cookie, socket_t so, const struct sockaddr *to)
{
#pragma unused(cookie, so, to)
	return 0;
}

static errno_t
tl_setoption_fn(void *cookie, socket_t so, sockopt_t opt)
{
#pragma unused(cookie, so, opt)
	return 0;
}

static errno_t
tl_getoption_fn(void *cookie, socket_t so, sockopt_t opt)
{
#pragma unused(cookie, so, opt)
	return 0;
}

static errno_t
tl_listen_fn(void *cookie, socket_t so)
{
#pragma unused(cookie, so)
	return 0;
}

#pragma mark tcplog Filter Definition

static struct sflt_filter TLsflt_filter_ip4 = {
	TCPLOGGER_HANDLE_IP4,	/* sf_handle */
	SFLT_GLOBAL,		/* sf_flags */
	MYBUNDLEID,		/* sf_name */
	tl_unregistered_fn,	/* sf_unregistered */
	tl_attach_fn,		/* sf_attach */
	tl_detach_fn,		/* sf_detach */
	tl_notify_fn,		/* sf_notify */
	NULL,			/* sf_getpeername */
	NULL,			/* sf_getsockname */
	tl_data_in_fn,		/* sf_data_in */
	tl_data_out_fn,		/* sf_data_out */
	tl_connect_in_fn,	/* sf_connect_in */
	tl_connect_out_fn,	/* sf_connect_out */
	tl_bind_fn,		/* sf_bind */
	tl_setoption_fn,	/* sf_setoption */
	tl_getoption_fn,	/* sf_getoption */
	tl_listen_fn,		/* sf_listen */
	NULL			/* sf_ioctl */
};

static struct sflt_filter TLsflt_filter_ip6 = {
	TCPLOGGER_HANDLE_IP6, SFLT_GLOBAL, MYBUNDLEID, tl_unregistered_fn,
	tl_attach_fn, tl_detach_fn, tl_notify_fn, NULL, NULL, tl_data_in_fn,
	tl_data_out_fn, tl_connect_in_fn, tl_connect_out_fn, tl_bind_fn,
	tl_setoption_fn, tl_getoption_fn, tl_listen_fn, NULL
};

#pragma mark Control Functions

static int
ctl_connect(kern_ctl_ref ctl_ref, struct sockaddr_ctl *sac, void **unitinfo)
{
	struct tl_cb *cb;

	cb = (struct tl_cb *)OSMalloc(sizeof(struct tl_cb), gOSMallocTag);
	if (cb == NULL)
		return ENOMEM;
	cb->t_ref = ctl_ref;
	cb->t_unit = sac->sc_unit;
	*unitinfo = cb;
	lck_mtx_lock(gmutex);
	TAILQ_INSERT_TAIL(&tl_cb_list, cb, t_link);
	tl_stats.tls_ctl_connected++;
	tl_send_done_to_clients_locked();
	lck_mtx_unlock(gmutex);
	return 0;
}

static errno_t
ctl_disconnect(kern_ctl_ref ctl_ref, u_int32_t unit, void *unitinfo)
{
#pragma unused(ctl_ref, unit)
	struct tl_cb *cb = (struct tl_cb *)unitinfo;

	lck_mtx_lock(gmutex);
	TAILQ_REMOVE(&tl_cb_list, cb, t_link);
	tl_stats.tls_ctl_connected--;
	lck_mtx_unlock(gmutex);
	OSFree(cb, sizeof(struct tl_cb), gOSMallocTag);
	return 0;
}

static int
ctl_get(kern_ctl_ref ctl_ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
#pragma unused(ctl_ref, unit, unitinfo)
	size_t valsize;
	void *buf;

	switch (opt) {
	case TCPLOGGER_STATS:
		valsize = min(sizeof(tl_stats), *len);
		buf = &tl_stats;
		break;
	case TCPLOGGER_LOG:
		valsize = min(sizeof(tl_stats.tls_log), *len);
		buf = &tl_stats.tls_log;
		break;
	default:
		return ENOTSUP;
	}
	*len = valsize;
	if (data != NULL)
		bcopy(buf, data, valsize);
	return 0;
}

static int
ctl_set(kern_ctl_ref ctl_ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t len)
{
#pragma unused(ctl_ref, unit, unitinfo)
	if (opt != TCPLOGGER_LOG)
		return ENOTSUP;
	if (len < sizeof(int))
		return EINVAL;
	lck_mtx_lock(gmutex);
	tl_stats.tls_log = *(int *)data ? 1 : 0;
	lck_mtx_unlock(gmutex);
	return 0;
}

static struct kern_ctl_reg gctl_reg = {
	MYBUNDLEID,		/* ctl_name */
	0,			/* ctl_id: dynamic */
	0,			/* ctl_unit */
	CTL_FLAG_PRIVILEGED,	/* ctl_flags */
	0,			/* ctl_sendsize: default */
	(8 * 1024),		/* ctl_recvsize */
	ctl_connect,
	ctl_disconnect,
	NULL,			/* ctl_send */
	ctl_set,
	ctl_get
};

#pragma mark kext entry functions

static void
free_locks(void)
{
	if (gmutex)
		lck_mtx_free(gmutex, gmutex_grp);
	gmutex = NULL;
	if (gmutex_grp)
		lck_grp_free(gmutex_grp);
	gmutex_grp = NULL;
	if (gmutex_grp_attr)
		lck_grp_attr_free(gmutex_grp_attr);
	gmutex_grp_attr = NULL;
}

extern int
com_example_tiger_tcplog_start(kmod_info_t *ki, void *data)
{
	int retval;

	gmutex_grp_attr = lck_grp_attr_alloc_init();
	gmutex_grp = lck_grp_alloc_init(MYBUNDLEID, gmutex_grp_attr);
	gmutex = lck_mtx_alloc_init(gmutex_grp, LCK_ATTR_NULL);
	if (gmutex == NULL)
		goto bail;
	TAILQ_INIT(&tl_active);
	TAILQ_INIT(&tl_done);
	TAILQ_INIT(&tl_cb_list);
	bzero(&tl_stats, sizeof(tl_stats));
	tl_stats.tls_log = TCPLOG_DEBUG;

	gOSMallocTag = OSMalloc_Tagalloc(MYBUNDLEID, OSMT_DEFAULT);
	if (gOSMallocTag == NULL)
		goto bail;
	retval = mbuf_tag_id_find(MYBUNDLEID, &gidtag);
	if (retval != 0)
		goto bail;

	retval = sflt_register(&TLsflt_filter_ip4, PF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (retval != 0)
		goto bail;
	gFilterRegistered_ip4 = TRUE;
	/* no IPv6 everywhere: log it and go on with IPv4 */
	retval = sflt_register(&TLsflt_filter_ip6, PF_INET6, SOCK_STREAM, IPPROTO_TCP);
	if (retval == 0)
		gFilterRegistered_ip6 = TRUE;
	else
		tl_printf("no IPv6 filter (%d)\n", retval);

	retval = ctl_register(&gctl_reg, &gctl_ref);
	if (retval != 0)
		goto bail;
	tl_printf("logging TCP connections, control %s id %u\n", MYBUNDLEID, gctl_reg.ctl_id);
	return KERN_SUCCESS;

bail:
	if (gFilterRegistered_ip4)
		sflt_unregister(TCPLOGGER_HANDLE_IP4);
	if (gFilterRegistered_ip6)
		sflt_unregister(TCPLOGGER_HANDLE_IP6);
	/* the filters are gone when tl_unregistered_fn has run: wait for it */
	while (gUnregistered < gFilterRegistered_ip4 + gFilterRegistered_ip6) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		msleep((caddr_t)&gUnregistered, NULL, PZERO, "tcplog", &ts);
	}
	if (gOSMallocTag)
		OSMalloc_Tagfree(gOSMallocTag);
	free_locks();
	return KERN_FAILURE;
}

extern int
com_example_tiger_tcplog_stop(kmod_info_t *ki, void *data)
{
	struct TCPLogEntry *tlp;
	struct timespec ts = { 1, 0 };
	int registered = gFilterRegistered_ip4 + gFilterRegistered_ip6;

	if (gctl_ref != NULL) {
		if (ctl_deregister(gctl_ref) != 0) {
			tl_printf("still connected to a control socket - quit the client\n");
			return EBUSY;
		}
		gctl_ref = NULL;
	}
	if (!gUnregisterStarted) {
		if (gFilterRegistered_ip4)
			sflt_unregister(TCPLOGGER_HANDLE_IP4);
		if (gFilterRegistered_ip6)
			sflt_unregister(TCPLOGGER_HANDLE_IP6);
		gUnregisterStarted = TRUE;
	}
	if (gUnregistered < registered)
		msleep((caddr_t)&gUnregistered, NULL, PZERO, "tcplog", &ts);
	if (gUnregistered < registered)
		return KERN_FAILURE;	/* unload again later */

	while ((tlp = TAILQ_FIRST(&tl_done)) != NULL) {
		TAILQ_REMOVE(&tl_done, tlp, tle_link);
		OSFree(tlp, sizeof(*tlp), gOSMallocTag);
	}
	tl_printf("stopped after %d connections\n", tl_stats.tls_attached);
	OSMalloc_Tagfree(gOSMallocTag);
	gOSMallocTag = NULL;
	free_locks();
	return KERN_SUCCESS;
}
