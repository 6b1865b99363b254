/*
 * Thread calls (see <kern/thread_call.h>).  A delayed call sits on the
 * timer queue; when it is due, the clock interrupt moves it to the
 * pending queue and wakes the "thread_call" thread, which runs pending
 * calls one at a time in thread context, each checked on its return
 * (kern/kext_call.h).  thread_call_cancel_wait sleeps until the call
 * it cancels is no longer running.  Calls a kext allocates are listed
 * and charged to it, for `callout` and `kextres`.
 */
#include <sys/systm.h>
#include <i386/intr.h>
#include <kern/clock.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/kmod_resources.h>
#include <kern/kmod_var.h>
#include <kern/ksyms.h>
#include <kern/monitor.h>
#include <kern/sched_prim.h>
#include <kern/simple_lock.h>
#include <kern/thread_call.h>
#include <kern/thread_call_var.h>
#include <mach/mach_time.h>

static STAILQ_HEAD(, call_entry) call_pending =
    STAILQ_HEAD_INITIALIZER(call_pending);
/* Every call from thread_call_allocate not yet freed (call_lock). */
static TAILQ_HEAD(, call_entry) call_allocated =
    TAILQ_HEAD_INITIALIZER(call_allocated);
static simple_lock_data_t call_lock = SIMPLE_LOCK_INITIALIZER("thread_call");
static uint32_t call_runs;		/* calls run since boot */
static thread_t call_thread;		/* the worker */
static thread_call_t call_running;	/* the call it runs now, if any */
static thread_call_func_t call_running_func;
/* Threads in thread_call_cancel_wait, asleep on &call_running until the
 * worker's call returns (call_lock). */
static uint32_t call_waiters;

#define CALL_WAIT_CHECK_MS	100	/* a waiter looks for a deadlock */

extern simple_lock_data_t sched_lock;	/* sched_prim.c */

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

/* The call is charged to the kext that allocated it. */
thread_call_t
thread_call_allocate(thread_call_func_t func, thread_call_param_t param0)
{
	thread_call_t call = kalloc(sizeof(*call));

	if (call == NULL)
		return NULL;
	thread_call_setup(call, func, param0);
	KMOD_OWNER_CALLER(&call->ce_label.cl_owner);
	call->ce_allocated = true;
	simple_lock(&call_lock);
	TAILQ_INSERT_TAIL(&call_allocated, call, ce_all);
	simple_unlock(&call_lock);
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
	call->ce_label.cl_kind = "thread call";
	call->ce_label.cl_func = func;
	call->ce_label.cl_owner = kmod_owner_kernel;
	timer_call_setup(&call->ce_timer, call_timer_fired, call);
}

void
thread_call_set_label(thread_call_t call, const char *kind, const void *func,
    const struct kmod_owner *owner)
{
	call->ce_label.cl_kind = kind;
	call->ce_label.cl_func = func;
	call->ce_label.cl_owner = *owner;
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

/*
 * Note when a call is entered, and whether its own function did it (the
 * unload check tells a call that keeps itself alive).  call_lock held.
 */
static void
call_note_armed_locked(thread_call_t call)
{
	call->ce_armed = mach_absolute_time();
	call->ce_rearmed = call == call_running &&
	    current_thread() == call_thread;
}

boolean_t
thread_call_enter1(thread_call_t call, thread_call_param_t param1)
{
	boolean_t was;

	simple_lock(&call_lock);
	call_note_armed_locked(call);
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
	call_note_armed_locked(call);
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
 * Is the worker asleep on a mutex that the running thread holds?  Then
 * the call's function waits for us while we wait for it: the record of
 * that mutex, else NULL.  call_lock held (before sched_lock, as in
 * call_queue_locked).
 */
static const struct lck_held *
call_waits_for_us_locked(void)
{
	thread_t self = current_thread();
	const struct lck_held *lh;
	event_t event = NULL;
	uint32_t i;

	simple_lock(&sched_lock);
	if (call_thread->th_state == TH_WAIT)
		event = call_thread->th_wait_event;
	simple_unlock(&sched_lock);
	for (i = 0; event != NULL && i < self->th_nlocks; i++) {
		lh = &self->th_locks[i];
		if (lh->lh_kind == LCK_KIND_MTX &&
		    event == &((const lck_mtx_t *)lh->lh_lock)->lm_waiters)
			return lh;
	}
	return NULL;
}

/* The name of the kext whose code is at `fn`, or "kernel". */
static const char *
call_kext_name(const void *fn)
{
	const kmod_info_t *ki = kmod_lookup_address((uint32_t)fn);

	return ki != NULL ? ki->name : "kernel";
}

/*
 * Cancel, then sleep until the worker is not running the call.  Three
 * waits that could never end panic instead, naming the mistake: from
 * the call's own function, where interrupts are off, and while the
 * function sleeps on a mutex this thread holds (looked for every
 * CALL_WAIT_CHECK_MS).
 */
boolean_t
thread_call_cancel_wait(thread_call_t call)
{
	const struct lck_held *lh;
	thread_call_func_t func;
	uint64_t deadline;
	boolean_t was;

	if (intr_context() || !ml_get_interrupts_enabled())
		panic("thread_call_cancel_wait: called %s: it sleeps until the "
		    "call returns; call it from a thread, holding no spin lock",
		    intr_context() ? "in an interrupt handler" :
		    "with interrupts off (a spin lock held?)");
	simple_lock(&call_lock);
	func = call->ce_func;
	if (call == call_running && current_thread() == call_thread) {
		simple_unlock(&call_lock);
		panic("thread_call_cancel_wait: called by the function of the "
		    "call it waits for (thread call 0x%08x to 0x%08x, %s): it "
		    "would wait for itself for ever.  Inside the call, use "
		    "thread_call_cancel", (uint32_t)call, (uint32_t)func,
		    call_kext_name(func));
	}
	was = call_dequeue_locked(call);
	while (call == call_running) {
		if ((lh = call_waits_for_us_locked()) != NULL) {
			simple_unlock(&call_lock);
			panic("thread_call_cancel_wait: deadlock: the function "
			    "of thread call 0x%08x (0x%08x, %s) waits for "
			    "mutex '%s', which thread '%s' took at 0x%08x and "
			    "holds while it waits for the call: release it "
			    "first", (uint32_t)call, (uint32_t)func,
			    call_kext_name(func), ((const lck_mtx_t *)
			    lh->lh_lock)->lm_interlock.sl_name,
			    thread_name(current_thread()), lh->lh_caller);
		}
		call_waiters++;
		clock_interval_to_deadline(CALL_WAIT_CHECK_MS,
		    kMillisecondScale, &deadline);
		assert_wait_deadline(&call_running, THREAD_UNINT, deadline);
		simple_unlock(&call_lock);
		thread_block();
		simple_lock(&call_lock);
		call_waiters--;
	}
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
	if (call->ce_allocated)
		TAILQ_REMOVE(&call_allocated, call, ce_all);
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
		if (call_waiters > 0)	/* not `call`: it may be freed */
			thread_wakeup(&call_running);
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

/*
 * Unload check: a pending, delayed or running call into the image.  A
 * call entered once runs once and is done; one that its own function
 * entered again after the kext stopped keeps itself alive.
 */
static enum kmod_hold
thread_call_points_into(uint32_t start, uint32_t end, uint64_t stopped,
    char *why, size_t whylen)
{
	struct call_range r = { start, end };
	struct timer_call *tc;
	thread_call_t call;
	uint32_t running, func = 0;
	bool rearmed = false, since = false;

	/* call_lock before the timer queue's lock, as in enter_delayed:
	 * nothing can cancel or free the call we find meanwhile. */
	simple_lock(&call_lock);
	running = (uint32_t)call_running_func;
	STAILQ_FOREACH(call, &call_pending, ce_link)
		if (call_in_range(call, &r))
			break;
	if (call == NULL && (tc = timer_call_find(call_timer_matches, &r)))
		call = tc->tc_param0;
	if (call != NULL) {
		func = (uint32_t)call->ce_func;
		rearmed = call->ce_rearmed;
		since = rearmed && call->ce_armed > stopped;
	}
	simple_unlock(&call_lock);
	if (since) {
		snprintf(why, whylen, "thread call 0x%08x to 0x%08x entered "
		    "itself again after stop, as it does each time it runs: "
		    "stop must end that and call thread_call_cancel",
		    (uint32_t)call, func);
		return KMOD_HOLD_FOREVER;
	}
	if (call != NULL) {
		snprintf(why, whylen, "thread call 0x%08x to 0x%08x is still "
		    "pending%s: stop must call thread_call_cancel (then "
		    "thread_call_free)", (uint32_t)call, func, rearmed ?
		    " (it enters itself again each time it runs)" : "");
		return KMOD_HOLD_PINNED;
	}
	if (running >= start && running < end) {
		snprintf(why, whylen, "a thread call to 0x%08x is running "
		    "right now: stop must wait for it to return", running);
		return KMOD_HOLD_PINNED;
	}
	return KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(thread_call, thread_call_points_into);

/* ---- what a kext holds, and the `callout` command ---- */

/* Milliseconds from now to `deadline` (0 if it has passed); mach time
 * counts nanoseconds in Finch. */
static uint32_t
call_ms_until(uint64_t deadline, uint64_t now)
{
	return deadline > now ? (uint32_t)((deadline - now) / 1000000) : 0;
}

/* Each call a kext allocated and has not freed, and what it is doing. */
static void
thread_call_report(const struct kmod_owner *query, kmod_resource_emit_t *emit,
    void *arg)
{
	struct kmod_resource kr = { "thread call", 1, sizeof(struct call_entry),
	    "" };
	uint64_t now = mach_absolute_time();
	thread_call_t call;
	char state[32], func[KSYM_TEXT_MAX];

	simple_lock(&call_lock);
	TAILQ_FOREACH(call, &call_allocated, ce_all) {
		if (!kmod_owner_match(&call->ce_label.cl_owner, query))
			continue;
		if (call == call_running)
			strlcpy(state, "running", sizeof(state));
		else if (call->ce_state == CALL_PENDING)
			strlcpy(state, "pending", sizeof(state));
		else if (call->ce_state == CALL_DELAYED)
			snprintf(state, sizeof(state), "delayed, due in %u ms",
			    call_ms_until(call->ce_deadline, now));
		else
			strlcpy(state, "idle", sizeof(state));
		snprintf(kr.kr_text, sizeof(kr.kr_text), "thread call to "
		    "%s: %s, %u bytes", kmod_resource_func(
		    &call->ce_label.cl_owner, (uint32_t)call->ce_func, func,
		    sizeof(func)), state, kr.kr_bytes);
		emit(&kr, arg);
	}
	simple_unlock(&call_lock);
}
KMOD_RESOURCES(thread_call, KMOD_RES_CALLBACKS, thread_call_report);

/*
 * One line of `callout`: a thread call or timeout waiting to run (now or
 * at a deadline), or another timer.  The function is printed as 0x%08x,
 * for the host to find its file and line, and then by name (ksyms.h).
 */
struct callout_row {
	const char		*cr_kind;
	uint64_t		cr_deadline;	/* 0: pending, runs now */
	uint32_t		cr_func;
	bool			cr_owned;	/* else found when printed */
	struct kmod_owner	cr_owner;
};

#define CALLOUT_ROWS	64

struct callout_list {
	struct callout_row	cl_rows[CALLOUT_ROWS];
	int			cl_n;		/* rows seen, even if not kept */
	int			cl_pending;
	int			cl_delayed;
	int			cl_timers;
};

static void
callout_add(struct callout_list *cl, const char *kind, uint64_t deadline,
    const void *func, const struct kmod_owner *owner)
{
	struct callout_row *cr;

	if (cl->cl_n++ >= CALLOUT_ROWS)
		return;
	cr = &cl->cl_rows[cl->cl_n - 1];
	cr->cr_kind = kind;
	cr->cr_deadline = deadline;
	cr->cr_func = (uint32_t)func;
	cr->cr_owned = owner != NULL;
	if (owner != NULL)
		cr->cr_owner = *owner;
}

/* A delayed thread call's timer stands for the call; others are timers.
 * The timer lock is held: a delayed call cannot be freed meanwhile. */
static void
callout_visit_timer(const struct timer_call *tc, void *ctx)
{
	struct callout_list *cl = ctx;
	thread_call_t call;

	if (tc->tc_func != call_timer_fired) {
		cl->cl_timers++;
		callout_add(cl, "timer", tc->tc_deadline, tc->tc_func, NULL);
		return;
	}
	call = tc->tc_param0;
	cl->cl_delayed++;
	callout_add(cl, call->ce_label.cl_kind, tc->tc_deadline,
	    call->ce_label.cl_func, &call->ce_label.cl_owner);
}

static int
mon_callout(int argc, char **argv)
{
	static struct callout_list cl;	/* commands run one at a time */
	char owner[KMOD_OWNER_NAME_MAX], due[16], func[KSYM_TEXT_MAX];
	uint64_t now;
	thread_call_t call;
	struct callout_row *cr;
	uint32_t runs;
	int i;

	bzero(&cl, sizeof(cl));
	simple_lock(&call_lock);
	runs = call_runs;
	STAILQ_FOREACH(call, &call_pending, ce_link) {
		cl.cl_pending++;
		callout_add(&cl, call->ce_label.cl_kind, 0,
		    call->ce_label.cl_func, &call->ce_label.cl_owner);
	}
	timer_call_foreach(callout_visit_timer, &cl);
	simple_unlock(&call_lock);

	now = mach_absolute_time();
	printf("%-12s %11s  %s\n", "callout", "due in", "function (owner)");
	for (i = 0; i < cl.cl_n && i < CALLOUT_ROWS; i++) {
		cr = &cl.cl_rows[i];
		if (!cr->cr_owned)
			kmod_owner_of(cr->cr_func, &cr->cr_owner);
		if (cr->cr_deadline == 0)
			strlcpy(due, "now", sizeof(due));
		else
			snprintf(due, sizeof(due), "%u ms",
			    call_ms_until(cr->cr_deadline, now));
		printf("%-12s %11s  %s (%s)\n", cr->cr_kind, due,
		    ksym_format(func, sizeof(func), cr->cr_func, 0),
		    kmod_owner_name(&cr->cr_owner, owner, sizeof(owner)));
	}
	if (cl.cl_n > CALLOUT_ROWS)
		printf("... and %d more\n", cl.cl_n - CALLOUT_ROWS);
	printf("thread calls: %d pending to run, %d delayed, %u run since "
	    "boot; other timers: %d\n", cl.cl_pending, cl.cl_delayed,
	    runs, cl.cl_timers);
	return 0;
}
MONITOR_COMMAND(callout, mon_callout, "callout",
    "pending thread calls, timeouts and timers, and their owners");
