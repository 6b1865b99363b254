/*
 * Inside a thread_call_t.  Kernel code may embed one and set it up with
 * thread_call_setup() instead of allocating.  Fields are guarded by the
 * thread_call lock.
 */
#ifndef _KERN_THREAD_CALL_VAR_H_
#define _KERN_THREAD_CALL_VAR_H_

#include <sys/queue.h>
#include <kern/thread_call.h>
#include <kern/timer_call.h>

enum call_state {
	CALL_IDLE,	/* not queued (possibly running) */
	CALL_PENDING,	/* waiting for the thread_call thread */
	CALL_DELAYED,	/* waiting for its deadline */
};

struct call_entry {
	STAILQ_ENTRY(call_entry) ce_link;	/* the pending queue */
	enum call_state		ce_state;
	thread_call_func_t	ce_func;
	thread_call_param_t	ce_param0;
	thread_call_param_t	ce_param1;
	uint64_t		ce_deadline;
	struct timer_call	ce_timer;	/* for CALL_DELAYED */
};

void	thread_call_init(void);
void	thread_call_setup(thread_call_t call, thread_call_func_t func,
	    thread_call_param_t param0);

/* The timer queue, for the `callout` command (timer_call.c). */
void	timer_call_print(void);

#endif /* _KERN_THREAD_CALL_VAR_H_ */
