/*
 * The scheduler's primitives: one run queue served round robin, with a
 * time slice of one clock tick, and wait queues keyed by an event
 * address.  Sleeping is two steps, as in Mach:
 *
 *	assert_wait(event, THREAD_UNINT);	declare the wait
 *	... release whatever lock guards the condition ...
 *	result = thread_block();		actually give up the CPU
 *
 * A thread_wakeup() between the two is not lost: it makes the thread
 * runnable again and thread_block() returns at once.  Between the two the
 * thread is not preempted.  The idle thread never sleeps.
 */
#ifndef _KERN_SCHED_PRIM_H_
#define _KERN_SCHED_PRIM_H_

#include <kern/locks.h>
#include <kern/thread_var.h>

void		sched_init(void);

wait_result_t	assert_wait(event_t event, wait_interrupt_t interruptible);
/* As assert_wait, and wake with THREAD_TIMED_OUT at `deadline`. */
wait_result_t	assert_wait_deadline(event_t event,
		    wait_interrupt_t interruptible, uint64_t deadline);
wait_result_t	thread_block(void);

/* Wake all / one thread(s) waiting on event; returns how many. */
int		thread_wakeup_prim(event_t event, bool one_thread,
		    wait_result_t result);
#define thread_wakeup(e)	thread_wakeup_prim((e), false, THREAD_AWAKENED)
#define thread_wakeup_one(e)	thread_wakeup_prim((e), true, THREAD_AWAKENED)

/* Make a new thread runnable (thread.c). */
void		sched_make_runnable(thread_t thread);

/* Clock interrupt: charge the tick, maybe ask for a switch. */
void		sched_clock_tick(void);

/* Back from an interrupt: switch if the scheduler asked to. */
void		sched_preempt_check(void);

/* Switch away for good (thread_terminate_self). */
void		sched_exit(void) __dead2;

/* The idle loop (the boot thread ends up here). */
void		sched_idle_loop(void) __dead2;

#endif /* _KERN_SCHED_PRIM_H_ */
