/*
 * Timer calls (see timer_call.h): one list sorted by deadline.  The clock
 * interrupt looks only at the head, so a tick with nothing due costs one
 * comparison.
 */
#include <sys/systm.h>
#include <kern/simple_lock.h>
#include <kern/timer_call.h>

static TAILQ_HEAD(, timer_call) timer_queue = TAILQ_HEAD_INITIALIZER(timer_queue);
static simple_lock_data_t timer_lock = SIMPLE_LOCK_INITIALIZER("timer_call");

void
timer_call_setup(struct timer_call *tc, timer_call_func_t *func, void *param0)
{
	bzero(tc, sizeof(*tc));
	tc->tc_func = func;
	tc->tc_param0 = param0;
}

static bool
timer_call_dequeue_locked(struct timer_call *tc)
{
	if (!tc->tc_pending)
		return false;
	TAILQ_REMOVE(&timer_queue, tc, tc_link);
	tc->tc_pending = false;
	return true;
}

bool
timer_call_enter(struct timer_call *tc, uint64_t deadline, void *param1)
{
	struct timer_call *it;
	bool was_pending;

	simple_lock(&timer_lock);
	was_pending = timer_call_dequeue_locked(tc);
	tc->tc_deadline = deadline;
	tc->tc_param1 = param1;
	TAILQ_FOREACH(it, &timer_queue, tc_link)
		if (it->tc_deadline > deadline)
			break;
	if (it != NULL)
		TAILQ_INSERT_BEFORE(it, tc, tc_link);
	else
		TAILQ_INSERT_TAIL(&timer_queue, tc, tc_link);
	tc->tc_pending = true;
	simple_unlock(&timer_lock);
	return was_pending;
}

bool
timer_call_cancel(struct timer_call *tc)
{
	bool was_pending;

	simple_lock(&timer_lock);
	was_pending = timer_call_dequeue_locked(tc);
	simple_unlock(&timer_lock);
	return was_pending;
}

void
timer_call_expire(uint64_t now)
{
	struct timer_call *tc;

	simple_lock(&timer_lock);
	while ((tc = TAILQ_FIRST(&timer_queue)) != NULL &&
	    tc->tc_deadline <= now) {
		timer_call_dequeue_locked(tc);
		/* Unlocked: the function may re-arm this or other timers. */
		simple_unlock(&timer_lock);
		tc->tc_func(tc->tc_param0, tc->tc_param1);
		simple_lock(&timer_lock);
	}
	simple_unlock(&timer_lock);
}

struct timer_call *
timer_call_find(timer_call_match_t *match, void *ctx)
{
	struct timer_call *tc;

	simple_lock(&timer_lock);
	TAILQ_FOREACH(tc, &timer_queue, tc_link)
		if (match(tc, ctx))
			break;
	simple_unlock(&timer_lock);
	return tc;
}

void
timer_call_foreach(timer_call_visit_t *visit, void *ctx)
{
	struct timer_call *tc;

	simple_lock(&timer_lock);
	TAILQ_FOREACH(tc, &timer_queue, tc_link)
		visit(tc, ctx);
	simple_unlock(&timer_lock);
}
