/*
 * Kernel-private view of threads.  A thread is a kernel stack plus the
 * state the scheduler keeps about it; kexts see only the opaque thread_t.
 * Fields marked (s) are guarded by sched_lock.
 */
#ifndef _KERN_THREAD_VAR_H_
#define _KERN_THREAD_VAR_H_

#include <sys/queue.h>
#include <kern/locks_var.h>
#include <kern/thread.h>
#include <kern/timer_call.h>

#define THREAD_NAME_MAX		48	/* "kmod start com.example.name" */
#define THREAD_STACK_SIZE	(16 * 1024)

enum thread_state {
	TH_RUN,		/* running or on the run queue */
	TH_WAIT,	/* asleep on th_wait_event */
	TH_DEAD,	/* finished; waiting to be reaped */
};

struct thread {
	uint32_t		th_esp;		/* saved by the context switch */
	TAILQ_ENTRY(thread)	th_link;	/* run/wait/dead queue (s) */
	TAILQ_ENTRY(thread)	th_all;		/* every thread (s) */
	enum thread_state	th_state;	/* (s) */
	bool			th_on_runq;	/* (s) */
	uint32_t		th_id;
	char			th_name[THREAD_NAME_MAX];
	uint32_t		th_refcnt;	/* atomic */

	/* Sleeping (s). */
	event_t			th_wait_event;
	const char		*th_wmesg;	/* set by the sleeper itself */
	wait_result_t		th_wait_result;
	struct timer_call	th_wait_timer;	/* msleep's timeout */

	/* What it runs. */
	thread_continue_t	th_continuation;
	void			*th_parameter;
	void			*th_stack;	/* THREAD_STACK_SIZE bytes, */
						/* an unmapped page below */

	/* The lck_* locks it holds, oldest first (locks_var.h); changed
	 * only by this thread (or an interrupt on it), interrupts off. */
	uint32_t		th_nlocks;
	struct lck_held		th_locks[LCK_HELD_MAX];

	/* How many IP filter callbacks this thread is inside (nested by
	 * ipf_inject_output); only this thread touches it (kpi_ipfilter.c). */
	uint32_t		th_ipf_depth;

	/* Accounting, for `ps`. */
	uint32_t		th_ticks;	/* clock ticks spent running */
	uint32_t		th_switches;	/* times switched in */
};

/* Name a thread for `ps` and panic reports (the name is copied). */
void		thread_set_name(thread_t thread, const char *name);
const char	*thread_name(thread_t thread);

/* Give up the CPU to another runnable thread, if there is one. */
void		thread_yield(void);

/* Boot: make the running code the first thread ("bootstrap") and set up
 * the idle thread; thread_bootstrap_done() ends the boot thread. */
void		thread_bootstrap(void);
void		thread_bootstrap_done(void) __dead2;

/* Free the stacks of threads that have ended (idle loop). */
void		thread_reap(void);

/* The running thread, and the idle (former boot) thread. */
extern thread_t	sched_current;
extern thread_t	sched_idle_thread;

/* End the calling thread. */
void		thread_terminate_self(void) __dead2;

#endif /* _KERN_THREAD_VAR_H_ */
