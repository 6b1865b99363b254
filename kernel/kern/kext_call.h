/*
 * The check at every call from the kernel into code it does not control
 * (a kext's start or stop routine, a thread call, a timeout, and later
 * every filter and protocol callback): the callback must return with the
 * locks and the interrupt state it was called with.
 */
#ifndef _KERN_KEXT_CALL_H_
#define _KERN_KEXT_CALL_H_

#include <sys/types.h>
#include <i386/cpu.h>
#include <kern/thread_var.h>

/*
 * A callback that breaks the rule panics at once, naming itself, the
 * lock and the code that took it -- instead of a deadlock, or a panic
 * much later in code that did nothing wrong:
 *
 *	struct kext_call kc;
 *
 *	kext_call_begin(&kc);
 *	error = filter->iff_input(cookie, ifp, protocol, &m, &frame);
 *	kext_call_end(&kc, filter->iff_input);
 *
 * Each half is two loads and a compare or two: cheap enough per packet.
 */
struct kext_call {
	uint32_t	kc_locks;	/* locks the thread held before */
	uint32_t	kc_intr;	/* EFL_IF before */
};

/* Panic, explaining how the callback broke the rule (kext_call.c). */
void	kext_call_violation(const struct kext_call *kc, const void *callback)
	    __dead2;

/* Just before calling the callback, in thread or interrupt context. */
static inline void
kext_call_begin(struct kext_call *kc)
{
	kc->kc_locks = sched_current->th_nlocks;
	kc->kc_intr = read_eflags() & EFL_IF;
}

/* Just after it returned; `callback` is the function that was called. */
static inline void
kext_call_end(const struct kext_call *kc, const void *callback)
{
	if (__builtin_expect(sched_current->th_nlocks != kc->kc_locks ||
	    (read_eflags() & EFL_IF) != kc->kc_intr, 0))
		kext_call_violation(kc, callback);
}

#endif /* _KERN_KEXT_CALL_H_ */
