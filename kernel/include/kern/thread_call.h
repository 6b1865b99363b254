/*
 * <kern/thread_call.h> -- run a function later in a kernel thread (the
 * "thread_call" thread), now or at a deadline.  Entering, cancelling and
 * freeing never sleep and may be done from an interrupt handler;
 * thread_call_cancel_wait sleeps.
 *
 * Your function runs in thread context, never in an interrupt handler,
 * with no kernel lock held.  It may take mutexes and block briefly, but
 * calls run one at a time and timeout() and kernel-event delivery share
 * the thread: while it blocks, they all wait.
 *
 * Allocate once, enter as often as you like, cancel and free before your
 * kext unloads: a pending call into unloaded code would crash the kernel,
 * so kextunload leaves a stopped kext in memory while one is pending or
 * running.  A stop routine that is safe whatever the timer is doing:
 *
 *	lck_mtx_lock(lock); stopping = TRUE; lck_mtx_unlock(lock);
 *	thread_call_cancel_wait(call);	(holding no lock the function takes)
 *	thread_call_free(call);
 *
 * where the function re-enters itself only if !stopping (read under the
 * same lock): cancel_wait then returns with the call neither pending nor
 * running, and free succeeds.
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
 * pending or delayed, or running and not freeing itself: cancel it (and
 * wait for it) first. */
boolean_t	thread_call_free(thread_call_t call);

/* Queue to run as soon as possible (enter1 also sets param1); TRUE if it
 * was already pending or delayed, and is now queued once.  A call entered
 * while it runs (by its own function, say) runs again afterwards. */
boolean_t	thread_call_enter(thread_call_t call);
boolean_t	thread_call_enter1(thread_call_t call, thread_call_param_t param1);
/* Queue to run at `deadline` (absolute time, see <kern/clock.h>); TRUE
 * if it was already pending or delayed, and now waits for the new
 * deadline. */
boolean_t	thread_call_enter_delayed(thread_call_t call, uint64_t deadline);
boolean_t	thread_call_enter1_delayed(thread_call_t call,
		    thread_call_param_t param1, uint64_t deadline);
/* Dequeue; TRUE if it was pending or delayed (and so will not run).  It
 * does not wait: a call already running goes on after this returns, and
 * may enter itself again.  Never sleeps. */
boolean_t	thread_call_cancel(thread_call_t call);
/* Dequeue as thread_call_cancel does (same result), then, if the call's
 * function is running, sleep until it returns.  A call it enters again
 * meanwhile is pending when this returns: stop the re-arming first.
 * Sleeps: thread context only, holding no spin lock.  Panics, naming the
 * mistake, where the wait could never end: called from the call's own
 * function (use thread_call_cancel there), or holding a mutex that the
 * running function waits for.  Not in Tiger: later XNU added it (with the
 * same self-wait panic); Finch offers it in com.apple.kpi.mach. */
boolean_t	thread_call_cancel_wait(thread_call_t call);

__END_DECLS

#endif /* _KERN_THREAD_CALL_H_ */
