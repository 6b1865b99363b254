/*
 * <kern/thread.h> -- kernel threads for kexts.
 *
 * A thread runs `continuation(parameter, THREAD_AWAKENED)`; when the
 * continuation returns the thread ends.  kernel_thread_start() hands back
 * a reference to the new thread: drop it with thread_deallocate() once you
 * no longer need the handle (the thread keeps running).
 */
#ifndef _KERN_THREAD_H_
#define _KERN_THREAD_H_

#include <sys/cdefs.h>
#include <mach/mach_types.h>
#include <kern/locks.h>

__BEGIN_DECLS

/* Start a thread (16 KB of stack) that may run at once.  *new_thread
 * holds a reference.  KERN_INVALID_ARGUMENT for a NULL argument,
 * KERN_RESOURCE_SHORTAGE out of memory.  Never sleeps.  The continuation
 * runs in thread context with no lock held, may sleep, and must return
 * holding none (a thread that ends holding a lock panics).  Make every
 * thread of your kext end before its stop routine returns: set a flag
 * it checks, wakeup() it, and sleep, bounded, until it says it is done
 * (else return KERN_FAILURE from stop).  It runs your code until it has
 * returned: while it is alive, kextunload leaves the stopped kext in
 * memory (kextunload -w waits). */
kern_return_t	kernel_thread_start(thread_continue_t continuation,
		    void *parameter, thread_t *new_thread);

/* The calling thread (no reference taken); in an interrupt handler, the
 * thread it interrupted. */
thread_t	current_thread(void);

/* Drop a reference (NULL is allowed); the last one, once the thread has
 * ended, frees it.  Dropping more than were taken panics. */
void		thread_deallocate(thread_t thread);

/* End the calling thread: it does not return.  KERN_FAILURE for any
 * other thread (Finch ends only the caller). */
kern_return_t	thread_terminate(thread_t thread);

__END_DECLS

#endif /* _KERN_THREAD_H_ */
