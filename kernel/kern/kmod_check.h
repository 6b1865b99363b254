/*
 * Unload checks.  Before the kernel frees a kext's image it asks every
 * subsystem that keeps callbacks or pointers a kext handed it (timeouts,
 * thread calls, threads, filters, interfaces, ...) whether any of them
 * still points into the image.  Each subsystem adds its own check beside
 * the code that keeps those pointers; kmod.c walks the set and knows none
 * of them by name.
 *
 *	static bool
 *	timeout_points_into(uint32_t start, uint32_t end, char *why,
 *	    size_t whylen)
 *	{
 *		... find a pending timeout whose function is in [start, end) ...
 *		snprintf(why, whylen, "timeout to %p is still pending: stop "
 *		    "must call untimeout", fn);
 *		return true;
 *	}
 *	KMOD_UNLOAD_CHECK(timeout, timeout_points_into);
 */
#ifndef _KERN_KMOD_CHECK_H_
#define _KERN_KMOD_CHECK_H_

#include <sys/types.h>
#include <kern/linker_set.h>

/*
 * Does anything of this subsystem point into [start, end)?  If so, write
 * one sentence into `why`: what is left (name it as the student knows it)
 * and which call the stop routine was missing; return true.  Called from
 * the host link's thread with the kmod table's lock held: take your own
 * locks, but do not sleep and do not call back into the kmod table.
 */
typedef bool kmod_check_func_t(uint32_t start, uint32_t end, char *why,
    size_t whylen);

struct kmod_unload_check {
	const char		*kuc_name;	/* "timeout", "thread" */
	kmod_check_func_t	*kuc_func;
};

#define KMOD_UNLOAD_CHECK(name, func)					\
	static const struct kmod_unload_check __kmod_check_##name =	\
	    { #name, func };						\
	LINKER_SET_ENTRY(kmod_check, __kmod_check_##name)

/*
 * Walk every check; the first that fires fills `why` and makes this
 * return true.  kmod.c calls it after a stop routine succeeded (and after
 * a start routine failed) to decide whether the image may be freed.
 */
bool	kmod_points_into(uint32_t start, uint32_t end, char *why,
	    size_t whylen);

#endif /* _KERN_KMOD_CHECK_H_ */
