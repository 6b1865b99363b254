/*
 * Inside a thread_call_t.  Kernel code may embed one and set it up with
 * thread_call_setup() instead of allocating.  Fields are guarded by the
 * thread_call lock; the label is set before the call is first entered
 * and never changes after.
 */
#ifndef _KERN_THREAD_CALL_VAR_H_
#define _KERN_THREAD_CALL_VAR_H_

#include <sys/queue.h>
#include <kern/kmod_resources.h>
#include <kern/thread_call.h>
#include <kern/timer_call.h>

enum call_state {
	CALL_IDLE,	/* not queued (possibly running) */
	CALL_PENDING,	/* waiting for the thread_call thread */
	CALL_DELAYED,	/* waiting for its deadline */
};

/*
 * What `callout` and `kextres` say about a call: its kind, the function
 * a student would recognise (a timeout's own, not timeout_run) and who
 * made it.
 */
struct call_label {
	const char		*cl_kind;	/* "thread call", "timeout" */
	const void		*cl_func;
	struct kmod_owner	cl_owner;
};

struct call_entry {
	STAILQ_ENTRY(call_entry) ce_link;	/* the pending queue */
	enum call_state		ce_state;
	thread_call_func_t	ce_func;
	thread_call_param_t	ce_param0;
	thread_call_param_t	ce_param1;
	uint64_t		ce_deadline;
	struct timer_call	ce_timer;	/* for CALL_DELAYED */
	struct call_label	ce_label;
	bool			ce_allocated;	/* by thread_call_allocate, */
	TAILQ_ENTRY(call_entry)	ce_all;		/* so on call_allocated */
	uint64_t		ce_armed;	/* mach time of the last enter */
	bool			ce_rearmed;	/* ... made by its own func */
};

void	thread_call_init(void);
/* Set up an embedded call: a "thread call" of ce_func, the kernel's. */
void	thread_call_setup(thread_call_t call, thread_call_func_t func,
	    thread_call_param_t param0);
/* Relabel a call set up for someone else's work (a timeout) before it
 * is first entered; `owner` is who asked for that work. */
void	thread_call_set_label(thread_call_t call, const char *kind,
	    const void *func, const struct kmod_owner *owner);

#endif /* _KERN_THREAD_CALL_VAR_H_ */
