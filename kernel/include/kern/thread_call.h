/*
 * <kern/thread_call.h> -- run a function later in a kernel thread (the
 * "thread_call" thread), now or at a deadline.  The function may take
 * mutexes and may block briefly; calls run one at a time.  Entering,
 * cancelling and freeing never sleep and may be done from an interrupt
 * handler.
 *
 * Allocate once, enter as often as you like, cancel and free before your
 * kext unloads: a pending call into unloaded code would crash the kernel,
 * so kextunload leaves a stopped kext in memory while one is pending.
 */
#ifndef _KERN_THREAD_CALL_H_
#define _KERN_THREAD_CALL_H_

#include <sys/cdefs.h>
#include <mach/mach_types.h>

__BEGIN_DECLS

typedef struct call_entry	*thread_call_t;
typedef void			*thread_call_param_t;
typedef void (*thread_call_func_t)(thread_call_param_t param0,
    thread_call_param_t param1);

/* A call of func(param0, param1), not yet entered (param1 is NULL until
 * an enter1 sets it); NULL if out of memory. */
thread_call_t	thread_call_allocate(thread_call_func_t func,
		    thread_call_param_t param0);
/* Free a call; TRUE when done.  FALSE (and nothing freed) if the call is
 * pending, or running and not freeing itself: cancel it, or let it
 * finish, first. */
boolean_t	thread_call_free(thread_call_t call);

/* Queue to run as soon as possible (enter1 also sets param1); TRUE if it
 * was already pending or delayed, and is now queued once. */
boolean_t	thread_call_enter(thread_call_t call);
boolean_t	thread_call_enter1(thread_call_t call, thread_call_param_t param1);
/* Queue to run at `deadline` (absolute time, see <kern/clock.h>); TRUE
 * if it was already pending or delayed, and now waits for the new
 * deadline. */
boolean_t	thread_call_enter_delayed(thread_call_t call, uint64_t deadline);
boolean_t	thread_call_enter1_delayed(thread_call_t call,
		    thread_call_param_t param1, uint64_t deadline);
/* Dequeue; TRUE if it was pending (and so will not run).  A call that
 * is running already is not waited for. */
boolean_t	thread_call_cancel(thread_call_t call);

__END_DECLS

#endif /* _KERN_THREAD_CALL_H_ */
