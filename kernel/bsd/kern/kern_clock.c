/*
 * The BSD timeout interface: timeout(fn, arg, ticks) and untimeout(fn,
 * arg), and bsd_timeout with a timespec.  Each pending timeout is a
 * thread call on a list, so that untimeout can find it by (fn, arg).
 */
#include <sys/systm.h>
#include <sys/queue.h>
#include <kern/clock.h>
#include <kern/kalloc.h>
#include <kern/simple_lock.h>
#include <kern/thread_call_var.h>

struct bsd_timeout {
	LIST_ENTRY(bsd_timeout)	bt_link;	/* timeout_lock */
	timeout_fcn_t		*bt_fn;
	void			*bt_arg;
	struct call_entry	bt_call;
};

static LIST_HEAD(, bsd_timeout) timeout_list =
    LIST_HEAD_INITIALIZER(timeout_list);
static simple_lock_data_t timeout_lock = SIMPLE_LOCK_INITIALIZER("timeout");

/* In the thread_call thread: unlist, run, free. */
static void
timeout_run(thread_call_param_t p0, thread_call_param_t p1)
{
	struct bsd_timeout *bt = p0;

	simple_lock(&timeout_lock);
	LIST_REMOVE(bt, bt_link);
	simple_unlock(&timeout_lock);
	bt->bt_fn(bt->bt_arg);
	kfree(bt, sizeof(*bt));
}

static void
timeout_at(timeout_fcn_t *fn, void *arg, uint64_t deadline)
{
	struct bsd_timeout *bt = kalloc(sizeof(*bt));

	if (bt == NULL)
		panic("timeout: out of memory for %p(%p)", fn, arg);
	bt->bt_fn = fn;
	bt->bt_arg = arg;
	thread_call_setup(&bt->bt_call, timeout_run, bt);
	simple_lock(&timeout_lock);
	LIST_INSERT_HEAD(&timeout_list, bt, bt_link);
	simple_unlock(&timeout_lock);
	thread_call_enter_delayed(&bt->bt_call, deadline);
}

void
timeout(timeout_fcn_t *fn, void *arg, int ticks)
{
	uint64_t deadline;

	if (ticks <= 0)
		ticks = 1;
	clock_absolutetime_interval_to_deadline(
	    (uint64_t)ticks * (NSEC_PER_SEC / hz), &deadline);
	timeout_at(fn, arg, deadline);
}

void
bsd_timeout(timeout_fcn_t *fn, void *arg, struct timespec *ts)
{
	uint64_t deadline;

	clock_absolutetime_interval_to_deadline(
	    (uint64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec, &deadline);
	timeout_at(fn, arg, deadline);
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

bool
timeout_points_into(uint32_t start, uint32_t end, char *why, size_t whylen)
{
	struct bsd_timeout *bt;

	simple_lock(&timeout_lock);
	LIST_FOREACH(bt, &timeout_list, bt_link)
		if ((uint32_t)bt->bt_fn >= start && (uint32_t)bt->bt_fn < end)
			break;
	simple_unlock(&timeout_lock);
	if (bt == NULL)
		return false;
	snprintf(why, whylen, "timeout to %p(%p) is still pending; "
	    "untimeout it in your stop routine", bt->bt_fn, bt->bt_arg);
	return true;
}
