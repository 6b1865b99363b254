/*
 * Thread calls (see <kern/thread_call.h>).  A delayed call sits on the
 * timer queue; when it is due, the clock interrupt moves it to the
 * pending queue and wakes the "thread_call" thread, which runs pending
 * calls one at a time in thread context, each checked on its return
 * (kern/kext_call.h).
 */
#include <sys/systm.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/monitor.h>
#include <kern/sched_prim.h>
#include <kern/simple_lock.h>
#include <kern/thread_call.h>
#include <kern/thread_call_var.h>

static STAILQ_HEAD(, call_entry) call_pending =
    STAILQ_HEAD_INITIALIZER(call_pending);
static simple_lock_data_t call_lock = SIMPLE_LOCK_INITIALIZER("thread_call");
static uint32_t call_runs;		/* calls run since boot */
static thread_t call_thread;		/* the worker */
static thread_call_t call_running;	/* the call it runs now, if any */
static thread_call_func_t call_running_func;

/* Put a call on the pending queue and wake the worker.  call_lock held. */
static void
call_queue_locked(thread_call_t call)
{
	if (call->ce_state == CALL_PENDING)
		return;
	call->ce_state = CALL_PENDING;
	STAILQ_INSERT_TAIL(&call_pending, call, ce_link);
	thread_wakeup_one(&call_pending);
}

/* Timer call, in interrupt context: a delayed call is due. */
static void
call_timer_fired(void *param0, void *param1)
{
	thread_call_t call = param0;

	simple_lock(&call_lock);
	if (call->ce_state == CALL_DELAYED)
		call_queue_locked(call);
	simple_unlock(&call_lock);
}

thread_call_t
thread_call_allocate(thread_call_func_t func, thread_call_param_t param0)
{
	thread_call_t call = kalloc(sizeof(*call));

	if (call == NULL)
		return NULL;
	thread_call_setup(call, func, param0);
	return call;
}

void
thread_call_setup(thread_call_t call, thread_call_func_t func,
    thread_call_param_t param0)
{
	bzero(call, sizeof(*call));
	call->ce_func = func;
	call->ce_param0 = param0;
	call->ce_state = CALL_IDLE;
	timer_call_setup(&call->ce_timer, call_timer_fired, call);
}

/* Take a call off whichever queue holds it.  call_lock held. */
static boolean_t
call_dequeue_locked(thread_call_t call)
{
	switch (call->ce_state) {
	case CALL_PENDING:
		STAILQ_REMOVE(&call_pending, call, call_entry, ce_link);
		break;
	case CALL_DELAYED:
		timer_call_cancel(&call->ce_timer);
		break;
	default:
		return FALSE;
	}
	call->ce_state = CALL_IDLE;
	return TRUE;
}

boolean_t
thread_call_enter1(thread_call_t call, thread_call_param_t param1)
{
	boolean_t was;

	simple_lock(&call_lock);
	was = call_dequeue_locked(call);
	call->ce_param1 = param1;
	call_queue_locked(call);
	simple_unlock(&call_lock);
	return was;
}

boolean_t
thread_call_enter(thread_call_t call)
{
	return thread_call_enter1(call, call->ce_param1);
}

boolean_t
thread_call_enter1_delayed(thread_call_t call, thread_call_param_t param1,
    uint64_t deadline)
{
	boolean_t was;

	simple_lock(&call_lock);
	was = call_dequeue_locked(call);
	call->ce_param1 = param1;
	call->ce_state = CALL_DELAYED;
	call->ce_deadline = deadline;
	timer_call_enter(&call->ce_timer, deadline, NULL);
	simple_unlock(&call_lock);
	return was;
}

boolean_t
thread_call_enter_delayed(thread_call_t call, uint64_t deadline)
{
	return thread_call_enter1_delayed(call, call->ce_param1, deadline);
}

boolean_t
thread_call_cancel(thread_call_t call)
{
	boolean_t was;

	simple_lock(&call_lock);
	was = call_dequeue_locked(call);
	simple_unlock(&call_lock);
	return was;
}

/*
 * Refused while pending, and while the call runs in the worker (unless
 * the call frees itself): freeing it then would pull it from under the
 * worker.
 */
boolean_t
thread_call_free(thread_call_t call)
{
	simple_lock(&call_lock);
	if (call->ce_state != CALL_IDLE ||
	    (call == call_running && current_thread() != call_thread)) {
		simple_unlock(&call_lock);
		return FALSE;
	}
	simple_unlock(&call_lock);
	kfree(call, sizeof(*call));
	return TRUE;
}

/*
 * The worker.  A call is marked idle before it runs, so that it may
 * re-enter itself or be freed by its own function.
 */
static void
thread_call_thread(void *arg, wait_result_t wr)
{
	thread_call_t call;
	thread_call_func_t func;
	thread_call_param_t p0, p1;
	struct kext_call kc;

	for (;;) {
		simple_lock(&call_lock);
		while ((call = STAILQ_FIRST(&call_pending)) == NULL) {
			assert_wait(&call_pending, THREAD_UNINT);
			simple_unlock(&call_lock);
			thread_block();
			simple_lock(&call_lock);
		}
		STAILQ_REMOVE_HEAD(&call_pending, ce_link);
		call->ce_state = CALL_IDLE;
		func = call->ce_func;
		p0 = call->ce_param0;
		p1 = call->ce_param1;
		call_runs++;
		call_running = call;
		call_running_func = func;
		simple_unlock(&call_lock);
		kext_call_begin(&kc);
		func(p0, p1);
		kext_call_end(&kc, func);
		simple_lock(&call_lock);
		call_running = NULL;
		call_running_func = NULL;
		simple_unlock(&call_lock);
	}
}

void
thread_call_init(void)
{
	thread_t th;

	if (kernel_thread_start(thread_call_thread, NULL, &th) != KERN_SUCCESS)
		panic("thread_call_init: cannot start the thread_call thread");
	thread_set_name(th, "thread_call");
	call_thread = th;
	thread_deallocate(th);
}

struct call_range {
	uint32_t	start;
	uint32_t	end;
};

static bool
call_in_range(thread_call_t call, const struct call_range *r)
{
	return (uint32_t)call->ce_func >= r->start &&
	    (uint32_t)call->ce_func < r->end;
}

static bool
call_timer_matches(const struct timer_call *tc, void *ctx)
{
	return tc->tc_func == call_timer_fired &&
	    call_in_range(tc->tc_param0, ctx);
}

/* Unload check: a pending, delayed or running call into the image. */
static bool
thread_call_points_into(uint32_t start, uint32_t end, char *why,
    size_t whylen)
{
	struct call_range r = { start, end };
	struct timer_call *tc;
	thread_call_t call;
	uint32_t running;

	simple_lock(&call_lock);
	running = (uint32_t)call_running_func;
	STAILQ_FOREACH(call, &call_pending, ce_link)
		if (call_in_range(call, &r))
			break;
	simple_unlock(&call_lock);
	if (running >= start && running < end) {
		snprintf(why, whylen, "a thread call to %p is running right "
		    "now; wait for it to return before stopping",
		    (void *)running);
		return true;
	}
	if (call == NULL && (tc = timer_call_find(call_timer_matches, &r)))
		call = tc->tc_param0;
	if (call == NULL)
		return false;
	snprintf(why, whylen, "thread call %p to %p is still pending; "
	    "thread_call_cancel it in your stop routine", call, call->ce_func);
	return true;
}
KMOD_UNLOAD_CHECK(thread_call, thread_call_points_into);

static int
mon_callout(int argc, char **argv)
{
	thread_call_t call;
	int n = 0;

	simple_lock(&call_lock);
	STAILQ_FOREACH(call, &call_pending, ce_link)
		n++;
	simple_unlock(&call_lock);
	printf("thread calls: %d pending to run, %u run since boot\n",
	    n, call_runs);
	timer_call_print();
	return 0;
}
MONITOR_COMMAND(callout, mon_callout, "callout",
    "pending thread calls and timers (timeout, msleep, thread_call)");
