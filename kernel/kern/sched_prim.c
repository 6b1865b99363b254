/*
 * The scheduler: who runs next, sleeping and waking.
 *
 * sched_lock guards the run queue, the wait queues and every thread's
 * scheduling fields.  It is a simple lock, so interrupts are off while
 * it is held, and it is held *across* the context switch: the thread that
 * switches in releases the lock the thread that switched out took (as in
 * xv6).  Each thread restores its own interrupt state when it unlocks.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <kern/sched_prim.h>
#include <kern/simple_lock.h>
#include <kern/thread_var.h>

#define WAITQ_BUCKETS	64
#define WAITQ_HASH(e)	((((uint32_t)(e)) >> 4) % WAITQ_BUCKETS)

TAILQ_HEAD(thread_queue, thread);

simple_lock_data_t sched_lock = SIMPLE_LOCK_INITIALIZER("sched");
static struct thread_queue run_queue = TAILQ_HEAD_INITIALIZER(run_queue);
static struct thread_queue wait_queues[WAITQ_BUCKETS];
static bool sched_need_switch;		/* (s) preempt at the next chance */

thread_t	sched_current;		/* the running thread */
thread_t	sched_idle_thread;

void	machine_switch_context(uint32_t *old_esp, uint32_t new_esp);
void	thread_check_stack(thread_t thread);	/* thread.c */

void
sched_init(void)
{
	int i;

	for (i = 0; i < WAITQ_BUCKETS; i++)
		TAILQ_INIT(&wait_queues[i]);
}

static void
runq_enqueue(thread_t th)
{
	if (th->th_on_runq || th == sched_idle_thread)
		return;
	TAILQ_INSERT_TAIL(&run_queue, th, th_link);
	th->th_on_runq = true;
}

static thread_t
runq_dequeue(void)
{
	thread_t th = TAILQ_FIRST(&run_queue);

	if (th == NULL)
		return sched_idle_thread;
	TAILQ_REMOVE(&run_queue, th, th_link);
	th->th_on_runq = false;
	return th;
}

/*
 * Switch to the next runnable thread.  Called with sched_lock held and
 * the current thread already queued wherever it belongs (run queue, a
 * wait queue, or the dead list).  Returns when someone switches back.
 */
static void
sched_switch_locked(void)
{
	thread_t old = sched_current, new = runq_dequeue();
	boolean_t saved_intr;

	sched_need_switch = false;
	if (new == old)
		return;
	thread_check_stack(old);
	saved_intr = sched_lock.sl_saved_intr;
	new->th_switches++;
	sched_current = new;
	machine_switch_context(&old->th_esp, new->th_esp);
	/* Running again: the lock is ours now, with our interrupt state. */
	sched_lock.sl_saved_intr = saved_intr;
	sched_lock.sl_owner = old;
}

void
sched_make_runnable(thread_t th)
{
	simple_lock(&sched_lock);
	th->th_state = TH_RUN;
	runq_enqueue(th);
	simple_unlock(&sched_lock);
}

wait_result_t
assert_wait(event_t event, wait_interrupt_t interruptible)
{
	thread_t self = sched_current;

	if (event == NULL)
		panic("assert_wait: NULL event");
	if (self == sched_idle_thread)
		panic("assert_wait: the idle thread must never sleep");
	simple_lock(&sched_lock);
	if (self->th_state != TH_RUN)
		panic("assert_wait: thread %s is already waiting on %p",
		    self->th_name, self->th_wait_event);
	self->th_state = TH_WAIT;
	self->th_wait_event = event;
	self->th_wait_result = THREAD_WAITING;
	TAILQ_INSERT_TAIL(&wait_queues[WAITQ_HASH(event)], self, th_link);
	simple_unlock(&sched_lock);
	return THREAD_WAITING;
}

/* Take th off its wait queue and make it runnable.  sched_lock held. */
static void
thread_unwait_locked(thread_t th, wait_result_t result)
{
	TAILQ_REMOVE(&wait_queues[WAITQ_HASH(th->th_wait_event)], th, th_link);
	th->th_wait_event = NULL;
	th->th_wait_result = result;
	th->th_state = TH_RUN;
	if (th != sched_current) {
		runq_enqueue(th);
		if (sched_current == sched_idle_thread)
			sched_need_switch = true;
	}
}

/* Timer call: a timed wait ran out. */
static void
thread_wait_timeout(void *param0, void *param1)
{
	thread_t th = param0;
	event_t event = param1;

	simple_lock(&sched_lock);
	if (th->th_state == TH_WAIT && th->th_wait_event == event)
		thread_unwait_locked(th, THREAD_TIMED_OUT);
	simple_unlock(&sched_lock);
}

wait_result_t
assert_wait_deadline(event_t event, wait_interrupt_t interruptible,
    uint64_t deadline)
{
	thread_t self = sched_current;

	assert_wait(event, interruptible);
	timer_call_setup(&self->th_wait_timer, thread_wait_timeout, self);
	timer_call_enter(&self->th_wait_timer, deadline, event);
	return THREAD_WAITING;
}

wait_result_t
thread_block(void)
{
	thread_t self = sched_current;
	wait_result_t result;

	if (intr_context())
		panic("thread_block: cannot sleep in an interrupt handler");
	if (!ml_get_interrupts_enabled())
		panic("thread_block: thread %s would sleep with interrupts off "
		    "(is a spin lock held?)", self->th_name);
	simple_lock(&sched_lock);
	if (self->th_state == TH_WAIT)
		sched_switch_locked();
	result = self->th_wait_result;
	simple_unlock(&sched_lock);
	timer_call_cancel(&self->th_wait_timer);
	return result;
}

int
thread_wakeup_prim(event_t event, bool one_thread, wait_result_t result)
{
	struct thread_queue *q = &wait_queues[WAITQ_HASH(event)];
	thread_t th, next;
	int n = 0;

	simple_lock(&sched_lock);
	TAILQ_FOREACH_SAFE(th, q, th_link, next) {
		if (th->th_wait_event != event)
			continue;
		thread_unwait_locked(th, result);
		n++;
		if (one_thread)
			break;
	}
	simple_unlock(&sched_lock);
	return n;
}

void
thread_yield(void)
{
	simple_lock(&sched_lock);
	runq_enqueue(sched_current);
	sched_switch_locked();
	simple_unlock(&sched_lock);
}

void
sched_clock_tick(void)
{
	if (sched_current == NULL)
		return;
	sched_current->th_ticks++;
	if (!TAILQ_EMPTY(&run_queue))
		sched_need_switch = true;
}

/*
 * Interrupts are off here (we are at the end of trap()).  A thread caught
 * between assert_wait() and thread_block() is left alone: it is about to
 * give up the CPU anyway, and switching it out now would put it to sleep
 * before it released its mutex or armed its timeout.
 */
void
sched_preempt_check(void)
{
	if (!sched_need_switch || sched_current == NULL ||
	    sched_current->th_state != TH_RUN)
		return;
	thread_yield();
}

void
sched_exit(void)
{
	simple_lock(&sched_lock);
	sched_current->th_state = TH_DEAD;
	sched_switch_locked();
	panic("sched_exit: a dead thread was switched back in");
}

void
sched_idle_loop(void)
{
	for (;;) {
		thread_reap();
		cpu_idle_wait();	/* sti; hlt: wakes on any interrupt */
		if (!TAILQ_EMPTY(&run_queue))
			thread_yield();
	}
}
