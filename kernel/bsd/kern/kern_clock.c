/*
 * The BSD timeout interface: timeout(fn, arg, ticks) and untimeout(fn,
 * arg), and bsd_timeout with a timespec.  Each pending timeout is a
 * thread call on a list, so that untimeout can find it by (fn, arg);
 * the function is checked on its return (kern/kext_call.h).  A timeout
 * is charged to the kext that asked for it, for `callout` and `kextres`.
 */
#include <sys/systm.h>
#include <sys/queue.h>
#include <kern/clock_var.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/kmod_resources.h>
#include <kern/ksyms.h>
#include <kern/monitor.h>
#include <kern/kalloc.h>
#include <kern/simple_lock.h>
#include <kern/thread_call_var.h>

struct bsd_timeout {
	LIST_ENTRY(bsd_timeout)	bt_link;	/* timeout_lock */
	timeout_fcn_t		*bt_fn;
	void			*bt_arg;
	bool			bt_rearmed;	/* by its own function, */
	uint64_t		bt_armed;	/* at this mach time */
	struct call_entry	bt_call;
};

static LIST_HEAD(, bsd_timeout) timeout_list =
    LIST_HEAD_INITIALIZER(timeout_list);
static simple_lock_data_t timeout_lock = SIMPLE_LOCK_INITIALIZER("timeout");
/* The function timeout_run runs now, and in which thread (timeout_lock):
 * a timeout armed from there re-arms itself. */
static timeout_fcn_t *timeout_running_fn;
static thread_t timeout_running_thread;

/* In the thread_call thread: unlist, run, free. */
static void
timeout_run(thread_call_param_t p0, thread_call_param_t p1)
{
	struct bsd_timeout *bt = p0;
	struct kext_call kc;

	simple_lock(&timeout_lock);
	LIST_REMOVE(bt, bt_link);
	timeout_running_fn = bt->bt_fn;
	timeout_running_thread = current_thread();
	simple_unlock(&timeout_lock);
	kext_call_begin(&kc);
	bt->bt_fn(bt->bt_arg);
	kext_call_end(&kc, bt->bt_fn);
	simple_lock(&timeout_lock);
	timeout_running_fn = NULL;
	timeout_running_thread = NULL;
	simple_unlock(&timeout_lock);
	kfree(bt, sizeof(*bt));
}

static void
timeout_at(timeout_fcn_t *fn, void *arg, uint64_t deadline,
    const struct kmod_owner *owner)
{
	struct bsd_timeout *bt = kalloc(sizeof(*bt));

	if (bt == NULL)
		panic("timeout: out of memory for %p(%p)", fn, arg);
	bt->bt_fn = fn;
	bt->bt_arg = arg;
	thread_call_setup(&bt->bt_call, timeout_run, bt);
	thread_call_set_label(&bt->bt_call, "timeout", fn, owner);
	simple_lock(&timeout_lock);
	bt->bt_rearmed = timeout_running_fn == fn &&
	    timeout_running_thread == current_thread();
	bt->bt_armed = mach_absolute_time();
	LIST_INSERT_HEAD(&timeout_list, bt, bt_link);
	simple_unlock(&timeout_lock);
	thread_call_enter_delayed(&bt->bt_call, deadline);
}

void
timeout(timeout_fcn_t *fn, void *arg, int ticks)
{
	struct kmod_owner owner;

	KMOD_OWNER_CALLER(&owner);
	if (ticks <= 0)
		ticks = 1;
	timeout_at(fn, arg, clock_tick_deadline(ticks), &owner);
}

/* A NULL or zero timespec means "as soon as possible", as in XNU. */
void
bsd_timeout(timeout_fcn_t *fn, void *arg, struct timespec *ts)
{
	struct kmod_owner owner;
	uint64_t deadline;

	KMOD_OWNER_CALLER(&owner);
	if (ts == NULL || (ts->tv_sec == 0 && ts->tv_nsec == 0)) {
		timeout_at(fn, arg, mach_absolute_time(), &owner);
		return;
	}
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= (long)NSEC_PER_SEC)
		panic("bsd_timeout: invalid timespec {%ld, %ld}",
		    (long)ts->tv_sec, ts->tv_nsec);
	clock_absolutetime_interval_to_deadline(
	    (uint64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec, &deadline);
	timeout_at(fn, arg, deadline, &owner);
}

/* Cancel the first pending timeout for (fn, arg); a running one ends. */
void
untimeout(timeout_fcn_t *fn, void *arg)
{
	struct bsd_timeout *bt;

	simple_lock(&timeout_lock);
	LIST_FOREACH(bt, &timeout_list, bt_link) {
		if (bt->bt_fn == fn && bt->bt_arg == arg &&
		    thread_call_cancel(&bt->bt_call)) {
			LIST_REMOVE(bt, bt_link);
			break;
		}
	}
	simple_unlock(&timeout_lock);
	if (bt != NULL)
		kfree(bt, sizeof(*bt));
}

void
bsd_untimeout(timeout_fcn_t *fn, void *arg)
{
	untimeout(fn, arg);
}

/*
 * Unload check: a pending timeout() whose function is in the image, or
 * one running now.  A one-shot timeout fires once and is gone.  One that
 * its function armed again, after the kext stopped, keeps itself alive:
 * nothing will cancel it any more.
 */
static enum kmod_hold
timeout_points_into(uint32_t start, uint32_t end, uint64_t stopped,
    char *why, size_t whylen)
{
	struct bsd_timeout *bt, *found = NULL;
	timeout_fcn_t *fn = NULL;
	bool rearmed = false, since = false;
	void *arg = NULL;

	simple_lock(&timeout_lock);
	LIST_FOREACH(bt, &timeout_list, bt_link) {
		if (!kmod_in_range(bt->bt_fn, start, end))
			continue;
		if (found == NULL || (bt->bt_rearmed && !found->bt_rearmed))
			found = bt;
	}
	if (found != NULL) {
		fn = found->bt_fn;
		arg = found->bt_arg;
		rearmed = found->bt_rearmed;
		since = rearmed && found->bt_armed > stopped;
	} else if (kmod_in_range(timeout_running_fn, start, end))
		fn = timeout_running_fn;
	simple_unlock(&timeout_lock);
	if (fn == NULL)
		return KMOD_HOLD_NONE;
	if (found == NULL) {
		snprintf(why, whylen, "timeout to 0x%08x is running right now",
		    (uint32_t)fn);
		return KMOD_HOLD_PINNED;
	}
	if (since) {
		snprintf(why, whylen, "timeout to 0x%08x with argument "
		    "0x%08x re-armed itself after stop, as it does each time it "
		    "runs: stop must end the re-arming and call untimeout",
		    (uint32_t)fn, (uint32_t)arg);
		return KMOD_HOLD_FOREVER;
	}
	snprintf(why, whylen, "timeout to 0x%08x with argument 0x%08x is still "
	    "pending%s: stop must call untimeout", (uint32_t)fn, (uint32_t)arg,
	    rearmed ? " (it re-arms itself each time it runs)" : "");
	return KMOD_HOLD_PINNED;
}
KMOD_UNLOAD_CHECK(timeout, timeout_points_into);

/* Each timeout a kext asked for that has not run or been cancelled. */
static void
timeout_report(const struct kmod_owner *query, kmod_resource_emit_t *emit,
    void *arg)
{
	struct kmod_resource kr = { "timeout", 1, sizeof(struct bsd_timeout),
	    "" };
	uint64_t now = mach_absolute_time(), due;
	struct bsd_timeout *bt;
	char func[KSYM_TEXT_MAX];

	simple_lock(&timeout_lock);
	LIST_FOREACH(bt, &timeout_list, bt_link) {
		if (!kmod_owner_match(&bt->bt_call.ce_label.cl_owner, query))
			continue;
		due = bt->bt_call.ce_deadline;
		snprintf(kr.kr_text, sizeof(kr.kr_text), "timeout to "
		    "%s(0x%08x): due in %u ms, %u bytes", kmod_resource_func(
		    &bt->bt_call.ce_label.cl_owner, (uint32_t)bt->bt_fn, func,
		    sizeof(func)), (uint32_t)bt->bt_arg,
		    due > now ? (uint32_t)((due - now) / NSEC_PER_MSEC) : 0,
		    kr.kr_bytes);
		emit(&kr, arg);
	}
	simple_unlock(&timeout_lock);
}
KMOD_RESOURCES(timeout, KMOD_RES_CALLBACKS, timeout_report);

/*
 * The `timer` command: a periodic timeout() that re-arms itself, to see
 * (and test) that timeouts fire at the rate they were asked for.
 */
struct timer_probe {
	int		tp_ticks;	/* period */
	int		tp_fired;
	uint64_t	tp_end;		/* stop re-arming after this */
	uint64_t	tp_last;	/* when it last fired */
	uint64_t	tp_last_tick;	/* clock_ticks_taken() then */
	bool		tp_done;
};

static void
timer_probe_fire(void *arg)
{
	struct timer_probe *tp = arg;

	tp->tp_fired++;
	tp->tp_last = mach_absolute_time();
	tp->tp_last_tick = clock_ticks_taken();
	if (tp->tp_last < tp->tp_end)
		timeout(timer_probe_fire, tp, tp->tp_ticks);
	else {
		tp->tp_done = true;
		wakeup(tp);
	}
}

static int
mon_timer(int argc, char **argv)
{
	struct timer_probe tp = { 0 };
	struct timespec poll = { 0, 50 * NSEC_PER_MSEC };
	uint64_t start, took, span, slack, tick0;
	long rate, ms;

	if (argc != 3)
		return monitor_usage(argc, argv);
	rate = strtol(argv[1], NULL, 10);
	ms = strtol(argv[2], NULL, 10);
	if (rate < 1 || rate > hz || hz % rate != 0 || ms < 1 || ms > 60000) {
		printf("timer: the rate must divide %d (per second) and the "
		    "time be 1 to 60000 ms\n", hz);
		return 1;
	}
	tp.tp_ticks = hz / rate;
	start = mach_absolute_time();
	/*
	 * Stop at the firing nearest `ms`: half a period of slack.  (With
	 * half a tick, a firing a tick early or late -- the first timeout's
	 * phase, an interrupt taken late -- could add or lose one.)  Less
	 * than half a period asked for: one firing.
	 */
	span = (uint64_t)ms * NSEC_PER_MSEC;
	slack = (uint64_t)NSEC_PER_SEC / rate / 2;
	tp.tp_end = start + (span > slack ? span - slack : 0);
	tick0 = clock_ticks_taken();
	timeout(timer_probe_fire, &tp, tp.tp_ticks);
	/* No lock orders the flag and the wakeup: poll as a backstop. */
	while (!tp.tp_done)
		msleep(&tp, NULL, 0, "timer", &poll);
	took = tp.tp_last - start;
	printf("timer: fired %d times in %u.%03u s, %u clock ticks taken "
	    "(asked for %ld per second for %ld ms: %ld)\n", tp.tp_fired,
	    (uint32_t)(took / NSEC_PER_SEC),
	    (uint32_t)(took % NSEC_PER_SEC / NSEC_PER_MSEC),
	    (uint32_t)(tp.tp_last_tick - tick0), rate, ms, rate * ms / 1000);
	return 0;
}
MONITOR_COMMAND(timer, mon_timer, "timer RATE MS",
    "fire a timeout RATE times a second for MS milliseconds; count them");
