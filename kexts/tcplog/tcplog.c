/*
 * tcplog -- a TCP connection logger: a global socket filter on TCP that
 * follows every connection made or accepted while it is loaded and, when
 * the socket closes, writes one record (tcplog.h): the addresses and
 * ports, who opened it, the bytes and packets each way, when it began,
 * how long it lasted and how it ended.  The records go to a ring of the
 * last TCPLOG_RING, to the clients of its kernel control that follow the
 * log, and as a line to the console; a thread call prints a summary
 * every few seconds when something changed.
 *
 * What a filter sees of a connection, in order:
 *
 *   sf_attach            a new socket (accepted ones when the SYN comes,
 *                        before they have addresses): the cookie
 *   sf_connect_out       the owner connects: direction "out"
 *   sf_listen            a listener: never logged, only its connections
 *   sf_notify connected  established: the addresses, the start time
 *   sf_data_in/_out      the stream's bytes each way, counted atomically
 *                        (they run at once on two threads; no lock per
 *                        packet)
 *   sf_notify shutdown, cantrecvmore, disconnected, closing
 *                        which side finished first: how it ended
 *   sf_detach            the socket closes (or tcplog stops): the record
 *
 * Stop takes down, in order: the control (refused while a client is
 * connected, so that a refusal leaves the logger whole), the filter
 * (sflt_unregister, then a bounded sleep until sf_unregistered: the
 * connections open then are logged as such), the timer (cancel and
 * wait), and the memory, in the reverse order start made it.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/kpi_mbuf.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_socketfilter.h>
#include <sys/kern_control.h>
#include <kern/clock.h>
#include <kern/locks.h>
#include <kern/thread_call.h>
#include <libkern/OSAtomic.h>
#include <libkern/OSMalloc.h>
#include <netinet/in.h>
#include "tcplog.h"

#define TCPLOG_HANDLE		0x74636c67	/* 'tclg' */
#define TCPLOG_DEFAULT_PERIOD	10	/* seconds between summaries */
#define TCPLOG_STOP_WAIT	2	/* seconds stop waits for the filter */
#define TCPLOG_LINE_MAX		160
#define TCPLOG_TEXT_MAX		(TCPLOG_LINE_MAX * (TCPLOG_RING + 1))

/* tc_flags: what the filter saw of the socket. */
#define TC_LISTENER	0x01	/* sf_listen: not a connection */
#define TC_CONNECTING	0x02	/* sf_connect_out */
#define TC_CONNECTED	0x04	/* sock_evt_connected */
#define TC_CLOSING	0x08	/* sock_evt_closing: sf_detach is the close */
#define TC_OPEN		0x10	/* counted in ts_open */
#define TC_DISCONNECTED	0x20	/* sock_evt_disconnected */

kern_return_t	tcplog_start(kmod_info_t *ki, void *data);
kern_return_t	tcplog_stop(kmod_info_t *ki, void *data);

/* One socket the filter is on: the cookie. */
struct tcplog_conn {
	struct tcplog_record	tc_rec;	/* counters: atomic; the rest
					   under tl_lock */
	struct timeval		tc_up;	/* microuptime at tr_start */
	u_int32_t		tc_flags;	/* TC_*, tl_lock */
};

/* Made by start, in this order; taken down by stop in the reverse one. */
static OSMallocTag	tl_tag;
static lck_grp_t	*tl_grp;
static lck_mtx_t	*tl_lock;
static struct tcplog_record *tl_ring;	/* TCPLOG_RING records */
static thread_call_t	tl_timer;
static kern_ctl_ref	tl_ctlref;
static boolean_t	tl_registered;	/* the filter, until sf_unregistered */

/* Guarded by tl_lock. */
static u_int32_t	tl_head;	/* the oldest record in the ring */
static u_int32_t	tl_count;	/* records in the ring */
static u_int32_t	tl_next_id = 1;
static u_int32_t	tl_followers[TCPLOG_FOLLOWERS];	/* units; 0: free */
static struct tcplog_stats tl_stats;
static u_int64_t	tl_bytes_in, tl_bytes_out;	/* of closed ones */
static boolean_t	tl_changed;	/* since the last summary */
static boolean_t	tl_stopping;	/* the timer must not re-arm */

/* Only stop touches it: sflt_unregister was called. */
static boolean_t	tl_unregistering;

/* ---- Records as text ---- */

static const char *
tcplog_end_name(u_int8_t end)
{
	switch (end) {
	case TCPLOG_END_LOCAL:		return "closed here first";
	case TCPLOG_END_PEER:		return "closed by peer";
	case TCPLOG_END_RESET:		return "reset";
	case TCPLOG_END_FAILED:		return "never connected";
	case TCPLOG_END_UNLOADED:	return "open at unload";
	default:			return "?";
	}
}

/* "10.0.2.15.9": netstat's way, the port after the address. */
static void
tcplog_endpoint(u_int32_t addr, u_int16_t port, char *buf, size_t size)
{
	char a[16];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(buf, size, "%s.%u", a, ntohs(port));
}

/* One record, one line (no newline); its length.  The arrow points
 * from the side that opened the connection. */
static size_t
tcplog_line(const struct tcplog_record *tr, char *buf, size_t size)
{
	char local[24], foreign[24];
	int n;

	tcplog_endpoint(tr->tr_laddr, tr->tr_lport, local, sizeof(local));
	tcplog_endpoint(tr->tr_faddr, tr->tr_fport, foreign, sizeof(foreign));
	n = snprintf(buf, size, "tcplog: #%u %s %s > %s: %llu bytes in (%u), "
	    "%llu out (%u), %u.%03u s, %s", tr->tr_id,
	    tr->tr_dir == TCPLOG_IN ? "in " : "out",
	    tr->tr_dir == TCPLOG_IN ? foreign : local,
	    tr->tr_dir == TCPLOG_IN ? local : foreign,
	    tr->tr_bytes_in, tr->tr_packets_in, tr->tr_bytes_out,
	    tr->tr_packets_out, tr->tr_msecs / 1000, tr->tr_msecs % 1000,
	    tcplog_end_name(tr->tr_end));
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* The summary line; its length.  tl_lock held. */
static size_t
tcplog_summary(char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "tcplog: %u open, %u closed since start "
	    "(%llu bytes in, %llu out); %u in the ring\n", tl_stats.ts_open,
	    tl_stats.ts_logged, tl_bytes_in, tl_bytes_out, tl_count);
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* ---- The ring ---- */

/*
 * A connection is over: put its record in the ring (pushing out the
 * oldest if full) and send it to the followers.  tl_lock held, which
 * also keeps the control registered while we enqueue: stop cannot
 * deregister it before every follower's ctl_disconnect took the lock.
 */
static void
tcplog_log(struct tcplog_record *tr)
{
	int i;

	tr->tr_id = tl_next_id++;
	if (tl_count == TCPLOG_RING) {
		tl_head = (tl_head + 1) % TCPLOG_RING;
		tl_count--;
		tl_stats.ts_overwritten++;
	}
	tl_ring[(tl_head + tl_count++) % TCPLOG_RING] = *tr;
	tl_stats.ts_logged++;
	tl_bytes_in += tr->tr_bytes_in;
	tl_bytes_out += tr->tr_bytes_out;
	tl_changed = TRUE;
	for (i = 0; i < TCPLOG_FOLLOWERS; i++) {
		if (tl_followers[i] == 0)
			continue;
		/* Never sleeps; ENOBUFS: a follower that does not read. */
		if (ctl_enqueuedata(tl_ctlref, tl_followers[i], tr, sizeof(*tr),
		    CTL_DATA_EOR) != 0)
			tl_stats.ts_unsent++;
	}
}

/* ---- The filter ---- */

/* Bytes in a chain (stream data may come without a packet header). */
static u_int32_t
tcplog_chain_len(mbuf_t m)
{
	u_int32_t len = 0;

	for (; m != NULL; m = mbuf_next(m))
		len += (u_int32_t)mbuf_len(m);
	return len;
}

/* May run with a listener locked, in the input thread: no sleeping
 * allocation.  Refusing (ENOMEM) only leaves the socket unlogged. */
static errno_t
tcplog_attach(void **cookie, socket_t so)
{
	struct tcplog_conn *tc;

	tc = OSMalloc_noblock(sizeof(*tc), tl_tag);
	lck_mtx_lock(tl_lock);
	if (tc == NULL)
		tl_stats.ts_nomem++;
	else
		tl_stats.ts_sockets++;
	lck_mtx_unlock(tl_lock);
	if (tc == NULL)
		return ENOMEM;
	bzero(tc, sizeof(*tc));
	*cookie = tc;
	return 0;
}

static void
tcplog_started(struct tcplog_conn *tc)
{
	struct timeval now;

	microtime(&now);
	tc->tc_rec.tr_start_sec = (u_int32_t)now.tv_sec;
	tc->tc_rec.tr_start_usec = (u_int32_t)now.tv_usec;
	microuptime(&tc->tc_up);
}

/* The owner connects: remember where to, in case it never connects. */
static errno_t
tcplog_connect_out(void *cookie, socket_t so, const struct sockaddr *to)
{
	struct tcplog_conn *tc = cookie;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)to;

	lck_mtx_lock(tl_lock);
	if (!(tc->tc_flags & TC_CONNECTING) && to->sa_family == AF_INET) {
		tc->tc_flags |= TC_CONNECTING;
		tc->tc_rec.tr_dir = TCPLOG_OUT;
		tc->tc_rec.tr_faddr = sin->sin_addr.s_addr;
		tc->tc_rec.tr_fport = sin->sin_port;
		tcplog_started(tc);
	}
	lck_mtx_unlock(tl_lock);
	return 0;
}

static errno_t
tcplog_listen(void *cookie, socket_t so)
{
	struct tcplog_conn *tc = cookie;

	lck_mtx_lock(tl_lock);
	tc->tc_flags |= TC_LISTENER;
	lck_mtx_unlock(tl_lock);
	return 0;
}

/* Established: both addresses are known now.  The socket is unlocked
 * in a callback, so sock_getsockname may take its lock. */
static void
tcplog_connected(struct tcplog_conn *tc, socket_t so)
{
	struct sockaddr_in me, peer;

	bzero(&me, sizeof(me));
	bzero(&peer, sizeof(peer));
	sock_getsockname(so, (struct sockaddr *)&me, sizeof(me));
	sock_getpeername(so, (struct sockaddr *)&peer, sizeof(peer));

	lck_mtx_lock(tl_lock);
	tc->tc_flags |= TC_CONNECTED | TC_OPEN;
	if (tc->tc_rec.tr_dir == 0)
		tc->tc_rec.tr_dir = TCPLOG_IN;	/* no connect: accepted */
	tc->tc_rec.tr_laddr = me.sin_addr.s_addr;
	tc->tc_rec.tr_lport = me.sin_port;
	tc->tc_rec.tr_faddr = peer.sin_addr.s_addr;
	tc->tc_rec.tr_fport = peer.sin_port;
	tcplog_started(tc);
	tl_stats.ts_open++;
	tl_changed = TRUE;
	lck_mtx_unlock(tl_lock);
}

/* Which side finished first decides how the connection ended; the
 * first event that tells wins. */
static void
tcplog_notify(void *cookie, socket_t so, sflt_event_t event, void *param)
{
	struct tcplog_conn *tc = cookie;
	u_int8_t end = 0;

	switch (event) {
	case sock_evt_connected:
		tcplog_connected(tc, so);
		return;
	case sock_evt_shutdown:		/* param: shutdown's how */
		if (*(int *)param != SHUT_RD)
			end = TCPLOG_END_LOCAL;
		break;
	case sock_evt_cantsendmore:
		end = TCPLOG_END_LOCAL;
		break;
	case sock_evt_cantrecvmore:
		end = TCPLOG_END_PEER;
		break;
	case sock_evt_disconnected:
		end = TCPLOG_END_RESET;	/* if no FIN was seen before */
		break;
	case sock_evt_closing:
		end = TCPLOG_END_LOCAL;	/* the owner closes first */
		break;
	default:
		return;
	}
	lck_mtx_lock(tl_lock);
	if (event == sock_evt_closing)
		tc->tc_flags |= TC_CLOSING;
	if (event == sock_evt_disconnected)
		tc->tc_flags |= TC_DISCONNECTED;
	if (!(tc->tc_flags & TC_CONNECTED))
		end = TCPLOG_END_FAILED;
	if (tc->tc_rec.tr_end == 0 && (tc->tc_flags & (TC_CONNECTED |
	    TC_CONNECTING)))
		tc->tc_rec.tr_end = end;
	lck_mtx_unlock(tl_lock);
}

/* Count the stream's bytes.  Data in runs in the input thread and data
 * out in the sender's, at the same time: atomic adds, no lock. */
static errno_t
tcplog_data_in(void *cookie, socket_t so, const struct sockaddr *from,
    mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	struct tcplog_conn *tc = cookie;

	OSAddAtomic64(tcplog_chain_len(*data),
	    (volatile SInt64 *)&tc->tc_rec.tr_bytes_in);
	OSIncrementAtomic((volatile SInt32 *)&tc->tc_rec.tr_packets_in);
	return 0;
}

static errno_t
tcplog_data_out(void *cookie, socket_t so, const struct sockaddr *to,
    mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	struct tcplog_conn *tc = cookie;

	OSAddAtomic64(tcplog_chain_len(*data),
	    (volatile SInt64 *)&tc->tc_rec.tr_bytes_out);
	OSIncrementAtomic((volatile SInt32 *)&tc->tc_rec.tr_packets_out);
	return 0;
}

/*
 * The socket closes, or the filter leaves it: no callback of ours runs
 * on it any more, so the counters are final.  A connection gets its
 * record; a listener, or an accepted socket whose handshake never
 * finished, only goes.  Don't call into so here.
 */
static void
tcplog_detach(void *cookie, socket_t so)
{
	struct tcplog_conn *tc = cookie;
	struct tcplog_record *tr = &tc->tc_rec;
	struct timeval now;
	char line[TCPLOG_LINE_MAX];
	boolean_t logged = FALSE;

	lck_mtx_lock(tl_lock);
	tl_stats.ts_sockets--;
	if (tc->tc_flags & TC_OPEN)
		tl_stats.ts_open--;
	if (!(tc->tc_flags & TC_LISTENER) &&
	    (tc->tc_flags & (TC_CONNECTED | TC_CONNECTING))) {
		/* Neither closed by its owner nor disconnected: the filter
		 * leaves a connection that goes on (sflt_unregister). */
		if (!(tc->tc_flags & (TC_CLOSING | TC_DISCONNECTED)))
			tr->tr_end = TCPLOG_END_UNLOADED;
		else if (!(tc->tc_flags & TC_CONNECTED))
			tr->tr_end = TCPLOG_END_FAILED;
		microuptime(&now);
		timevalsub(&now, &tc->tc_up);
		tr->tr_msecs = (u_int32_t)(now.tv_sec * 1000 +
		    now.tv_usec / 1000);
		tcplog_log(tr);
		logged = TRUE;
	}
	lck_mtx_unlock(tl_lock);
	if (logged) {
		tcplog_line(tr, line, sizeof(line));
		printf("%s\n", line);
	}
	OSFree(tc, sizeof(*tc), tl_tag);
}

/* The filter's last call: sockets all detached, no callback running. */
static void
tcplog_unregistered(sflt_handle handle)
{
	lck_mtx_lock(tl_lock);
	tl_registered = FALSE;
	lck_mtx_unlock(tl_lock);
	wakeup(&tl_registered);
}

/* Tiger's field order, as NKE source fills it. */
static struct sflt_filter tcplog_filter = {
	TCPLOG_HANDLE,
	SFLT_GLOBAL,
	"tcplog",
	tcplog_unregistered,
	tcplog_attach,
	tcplog_detach,
	tcplog_notify,
	NULL,			/* sf_getpeername */
	NULL,			/* sf_getsockname */
	tcplog_data_in,
	tcplog_data_out,
	NULL,			/* sf_connect_in: accepted ones are new
				   sockets, and get their own attach */
	tcplog_connect_out,
	NULL,			/* sf_bind */
	NULL,			/* sf_setoption */
	NULL,			/* sf_getoption */
	tcplog_listen,
	NULL,			/* sf_ioctl */
};

/* ---- The summary: a thread call ---- */

/* Arm the timer for the next summary.  tl_lock held. */
static void
tcplog_arm(void)
{
	uint64_t deadline;

	clock_interval_to_deadline(tl_stats.ts_period, kSecondScale,
	    &deadline);
	thread_call_enter_delayed(tl_timer, deadline);
}

/*
 * Re-armed under tl_lock, so that stop, which sets tl_stopping under the
 * same lock, either finds it armed (and cancels it) or stops it
 * re-arming.  Quiet when nothing happened since the last summary.
 */
static void
tcplog_tick(thread_call_param_t p0, thread_call_param_t p1)
{
	char text[TCPLOG_LINE_MAX];
	boolean_t changed;

	lck_mtx_lock(tl_lock);
	changed = tl_changed;
	tl_changed = FALSE;
	if (changed)
		tcplog_summary(text, sizeof(text));
	if (!tl_stopping && tl_stats.ts_period != 0)
		tcplog_arm();
	lck_mtx_unlock(tl_lock);
	if (changed)
		printf("%s", text);
}

/* ---- The kernel control ---- */

static errno_t
tcplog_ctl_connect(kern_ctl_ref ref, struct sockaddr_ctl *sac,
    void **unitinfo)
{
	return 0;
}

/* A follower that goes stops following; tcplog_log can't see it after
 * this (and so stop can deregister the control). */
static errno_t
tcplog_ctl_disconnect(kern_ctl_ref ref, u_int32_t unit, void *unitinfo)
{
	int i;

	lck_mtx_lock(tl_lock);
	for (i = 0; i < TCPLOG_FOLLOWERS; i++)
		if (tl_followers[i] == unit)
			tl_followers[i] = 0;
	lck_mtx_unlock(tl_lock);
	return 0;
}

/* Whatever the client sends, it gets the log back as one text record:
 * the summary, then the ring, oldest first. */
static errno_t
tcplog_ctl_send(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, mbuf_t m,
    int flags)
{
	char *text;
	size_t n;
	u_int32_t i;
	errno_t error;

	mbuf_freem(m);			/* ours: ctl_send hands it over */
	if ((text = OSMalloc(TCPLOG_TEXT_MAX, tl_tag)) == NULL)
		return ENOMEM;
	lck_mtx_lock(tl_lock);
	n = tcplog_summary(text, TCPLOG_TEXT_MAX);
	for (i = 0; i < tl_count && TCPLOG_TEXT_MAX - n > TCPLOG_LINE_MAX;
	    i++) {
		n += tcplog_line(&tl_ring[(tl_head + i) % TCPLOG_RING],
		    text + n, TCPLOG_LINE_MAX);
		text[n++] = '\n';
	}
	lck_mtx_unlock(tl_lock);
	error = ctl_enqueuedata(ref, unit, text, n, CTL_DATA_EOR);
	OSFree(text, TCPLOG_TEXT_MAX, tl_tag);
	return error;
}

/* Start or stop sending records to unit.  tl_lock held. */
static errno_t
tcplog_follow(u_int32_t unit, int on)
{
	int i, slot = -1;

	for (i = 0; i < TCPLOG_FOLLOWERS; i++) {
		if (tl_followers[i] == unit) {
			if (!on)
				tl_followers[i] = 0;
			return 0;
		}
		if (tl_followers[i] == 0 && slot < 0)
			slot = i;
	}
	if (!on)
		return 0;
	if (slot < 0)
		return ENOBUFS;
	tl_followers[slot] = unit;
	return 0;
}

static errno_t
tcplog_ctl_setopt(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t len)
{
	errno_t error = 0;
	int value = 0;

	if (opt == TCPLOG_PERIOD || opt == TCPLOG_FOLLOW) {
		if (len != sizeof(int))
			return EINVAL;
		value = *(int *)data;
	}
	lck_mtx_lock(tl_lock);
	switch (opt) {
	case TCPLOG_CLEAR:
		tl_head = tl_count = 0;
		break;
	case TCPLOG_PERIOD:
		if (value < 0 || value > 3600) {
			error = EINVAL;
			break;
		}
		tl_stats.ts_period = (u_int32_t)value;
		if (value != 0)
			tcplog_arm();	/* the next summary in `value` s */
		else
			thread_call_cancel(tl_timer);	/* a running tick
							   will not re-arm */
		break;
	case TCPLOG_FOLLOW:
		error = tcplog_follow(unit, value != 0);
		break;
	default:
		error = ENOPROTOOPT;
	}
	lck_mtx_unlock(tl_lock);
	return error;
}

/* Copy n bytes of src out, or only say the size when data is NULL. */
static errno_t
tcplog_copyout(void *data, size_t *len, const void *src, size_t n)
{
	if (data != NULL) {
		if (*len < n)
			return EMSGSIZE;
		memcpy(data, src, n);
	}
	*len = n;
	return 0;
}

static errno_t
tcplog_ctl_getopt(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
	struct tcplog_stats stats;
	u_int32_t i, first;
	size_t n;
	errno_t error = 0;

	lck_mtx_lock(tl_lock);
	switch (opt) {
	case TCPLOG_TABLE:
		n = tl_count * sizeof(struct tcplog_record);
		if (data == NULL) {
			*len = n;
			break;
		}
		if (*len < n) {
			error = EMSGSIZE;
			break;
		}
		/* The ring may wrap: oldest first, in up to two pieces. */
		first = TCPLOG_RING - tl_head;
		if (first > tl_count)
			first = tl_count;
		i = tl_count - first;
		memcpy(data, &tl_ring[tl_head], first * sizeof(tl_ring[0]));
		memcpy((struct tcplog_record *)data + first, tl_ring,
		    i * sizeof(tl_ring[0]));
		*len = n;
		break;
	case TCPLOG_STATS:
		stats = tl_stats;
		stats.ts_in_ring = tl_count;
		error = tcplog_copyout(data, len, &stats, sizeof(stats));
		break;
	case TCPLOG_PERIOD:
		error = tcplog_copyout(data, len, &tl_stats.ts_period,
		    sizeof(int));
		break;
	default:
		error = ENOPROTOOPT;
	}
	lck_mtx_unlock(tl_lock);
	return error;
}

/* ---- Start and stop ---- */

static void
tcplog_free(void)
{
	if (tl_timer != NULL)
		thread_call_free(tl_timer);
	if (tl_ring != NULL)
		OSFree(tl_ring, TCPLOG_RING * sizeof(*tl_ring), tl_tag);
	if (tl_lock != NULL)
		lck_mtx_free(tl_lock, tl_grp);
	if (tl_grp != NULL)
		lck_grp_free(tl_grp);
	if (tl_tag != NULL)
		OSMalloc_Tagfree(tl_tag);
	tl_timer = NULL;
	tl_ring = NULL;
	tl_lock = NULL;
	tl_grp = NULL;
	tl_tag = NULL;
}

kern_return_t
tcplog_start(kmod_info_t *ki, void *data)
{
	struct kern_ctl_reg reg;
	errno_t error;

	tl_tag = OSMalloc_Tagalloc(TCPLOG_NAME, OSMT_DEFAULT);
	tl_grp = lck_grp_alloc_init(TCPLOG_NAME, LCK_GRP_ATTR_NULL);
	tl_lock = tl_grp != NULL ? lck_mtx_alloc_init(tl_grp, LCK_ATTR_NULL) :
	    NULL;
	tl_ring = tl_tag != NULL ?
	    OSMalloc(TCPLOG_RING * sizeof(*tl_ring), tl_tag) : NULL;
	tl_timer = thread_call_allocate(tcplog_tick, NULL);
	if (tl_tag == NULL || tl_lock == NULL || tl_ring == NULL ||
	    tl_timer == NULL) {
		printf("tcplog: out of memory\n");
		tcplog_free();
		return KERN_FAILURE;
	}
	tl_stats.ts_period = TCPLOG_DEFAULT_PERIOD;

	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, TCPLOG_NAME, sizeof(reg.ctl_name));
	reg.ctl_flags = CTL_FLAG_PRIVILEGED;
	reg.ctl_connect = tcplog_ctl_connect;
	reg.ctl_disconnect = tcplog_ctl_disconnect;
	reg.ctl_send = tcplog_ctl_send;
	reg.ctl_setopt = tcplog_ctl_setopt;
	reg.ctl_getopt = tcplog_ctl_getopt;
	if ((error = ctl_register(&reg, &tl_ctlref)) != 0) {
		printf("tcplog: ctl_register failed: %d\n", error);
		tcplog_free();
		return KERN_FAILURE;
	}

	/* Last: its callbacks may run before sflt_register returns. */
	tl_registered = TRUE;
	error = sflt_register(&tcplog_filter, PF_INET, SOCK_STREAM,
	    IPPROTO_TCP);
	if (error != 0) {
		tl_registered = FALSE;
		printf("tcplog: sflt_register failed: %s (error %d)\n",
		    error == ENOENT ? "this kernel has no TCP" : "", error);
		ctl_deregister(tl_ctlref);	/* no client yet */
		tl_ctlref = NULL;
		tcplog_free();
		return KERN_FAILURE;
	}
	lck_mtx_lock(tl_lock);
	tcplog_arm();
	lck_mtx_unlock(tl_lock);
	printf("tcplog: logging the TCP connections made from now on; a "
	    "summary every %u s\n", tl_stats.ts_period);
	return KERN_SUCCESS;
}

/*
 * Every wait is bounded (kextunload waits for stop), and stop may be
 * called again after it returned KERN_FAILURE: each step checks whether
 * it was done already.
 */
kern_return_t
tcplog_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { TCPLOG_STOP_WAIT, 0 };
	boolean_t registered;
	errno_t error;

	/* 1. The control: refused while a client is connected. */
	if (tl_ctlref != NULL) {
		if ((error = ctl_deregister(tl_ctlref)) != 0) {
			printf("tcplog: cannot stop: %s has a client (error "
			    "%d); close it, then unload again\n", TCPLOG_NAME,
			    error);
			return KERN_FAILURE;
		}
		lck_mtx_lock(tl_lock);
		tl_ctlref = NULL;
		lck_mtx_unlock(tl_lock);
	}

	/* 2. The filter: each socket's sf_detach (now, or when a callback
	 * running on it returns), then sf_unregistered.  Holding none of
	 * our locks: those may run inside sflt_unregister and take them. */
	if (!tl_unregistering) {
		tl_unregistering = TRUE;
		sflt_unregister(TCPLOG_HANDLE);
	}
	lck_mtx_lock(tl_lock);
	if (tl_registered)
		msleep(&tl_registered, tl_lock, 0, "tcplog", &wait);
	registered = tl_registered;
	lck_mtx_unlock(tl_lock);
	if (registered) {
		printf("tcplog: sf_unregistered has not come yet: a socket "
		    "is busy; try again (kextunload -w)\n");
		return KERN_FAILURE;
	}

	/* 3. The timer: no re-arming from now on, then cancel and wait
	 * for a tick running now (not holding tl_lock: it takes it). */
	lck_mtx_lock(tl_lock);
	tl_stopping = TRUE;
	lck_mtx_unlock(tl_lock);
	thread_call_cancel_wait(tl_timer);

	/* 4. Nothing can call us any more. */
	printf("tcplog: stopped; %u connections logged\n", tl_stats.ts_logged);
	tcplog_free();
	return KERN_SUCCESS;
}
