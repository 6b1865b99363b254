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

kern_return_t	kernel_thread_start(thread_continue_t continuation,
		    void *parameter, thread_t *new_thread);
thread_t	current_thread(void);
void		thread_deallocate(thread_t thread);

/* End the calling thread (only the current thread may be terminated). */
kern_return_t	thread_terminate(thread_t thread);

__END_DECLS

#endif /* _KERN_THREAD_H_ */
