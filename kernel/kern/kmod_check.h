/*
 * Unload checks.  Before the kernel frees a kext's image it asks every
 * subsystem that keeps callbacks or pointers a kext handed it (timeouts,
 * thread calls, threads, filters, interfaces, ...) whether any of them
 * still points into the image.  Each subsystem adds its own check beside
 * the code that keeps those pointers; kmod.c walks the set and knows none
 * of them by name.  A kext that is checked has stopped (or its start
 * failed): if a check fires, its image stays in memory, "pinned", so that
 * whatever still points into it calls code that is still there.
 *
 *	static enum kmod_hold
 *	timeout_points_into(uint32_t start, uint32_t end, uint64_t stopped,
 *	    char *why, size_t whylen)
 *	{
 *		... find a pending timeout whose function is in [start, end) ...
 *		snprintf(why, whylen, "timeout to 0x%08x is still pending: "
 *		    "stop must call untimeout", fn);
 *		return KMOD_HOLD_PINNED;
 *	}
 *	KMOD_UNLOAD_CHECK(timeout, timeout_points_into);
 */
#ifndef _KERN_KMOD_CHECK_H_
#define _KERN_KMOD_CHECK_H_

#include <sys/types.h>
#include <kern/linker_set.h>

/*
 * What a check found.  NONE is 0, so a check's answer reads as "does it
 * point in?" too.
 */
enum kmod_hold {
	KMOD_HOLD_NONE = 0,	/* nothing of this subsystem points in */
	KMOD_HOLD_PINNED,	/* something does; it may go away (a detach
				   in flight, a timer that fires once, the
				   interface it sits on going), and a later
				   unload re-checks */
	KMOD_HOLD_FOREVER	/* something does and nothing will ever
				   release it: the kext's own code keeps
				   re-arming it now that stop has run */
};

/* The longest sentence a check writes (kextstat shows it). */
#define KMOD_WHY_MAX		200

/*
 * Does anything of this subsystem point into [start, end)?  If so, write
 * one sentence into `why`: what is left, named as the student knows it
 * (a filter's name, an interface's), one address of the kext it calls
 * as 0x%08x (the host names the function), and the call the stop routine
 * was missing; return how long it may hold the image.  `stopped` is the
 * mach_absolute_time() at which the kext's stop routine returned (or
 * its start failed): what the kext's own code armed after that, it keeps
 * alive by itself.  Called in thread context with kmod.c's operation
 * mutex held: take your own locks (mutexes too), but do not wait for
 * anything else and never call into the kmod table.
 */
typedef enum kmod_hold kmod_check_func_t(uint32_t start, uint32_t end,
    uint64_t stopped, char *why, size_t whylen);

struct kmod_unload_check {
	const char		*kuc_name;	/* "timeout", "thread" */
	kmod_check_func_t	*kuc_func;
};

#define KMOD_UNLOAD_CHECK(name, func)					\
	static const struct kmod_unload_check __kmod_check_##name =	\
	    { #name, func };						\
	LINKER_SET_ENTRY(kmod_check, __kmod_check_##name)

/* Is addr inside [start, end)?  For the checks. */
static inline bool
kmod_in_range(const void *addr, uint32_t start, uint32_t end)
{
	return (uint32_t)addr >= start && (uint32_t)addr < end;
}

/*
 * One pointer a subsystem keeps for a registration, named as the KPI
 * names it ("iff_input", "softc"): a check lists a registration's
 * pointers and asks which one lies in the image, to name it.
 */
struct kmod_ptr {
	const char	*kp_name;
	uint32_t	kp_addr;	/* 0: not set */
};

#define KMOD_PTR(name, value)	{ name, (uint32_t)(value) }
#define KMOD_NPTRS(array)	((int)(sizeof(array) / sizeof((array)[0])))

/* Copy into *hit the first of the n pointers in [start, end); false if
 * none is. */
static inline bool
kmod_ptr_find(const struct kmod_ptr *p, int n, uint32_t start, uint32_t end,
    struct kmod_ptr *hit)
{
	int i;

	for (i = 0; i < n; i++)
		if (p[i].kp_addr >= start && p[i].kp_addr < end) {
			*hit = p[i];
			return true;
		}
	return false;
}

/*
 * Walk every check.  Returns the strongest hold found (FOREVER over
 * PINNED); `why` is the sentence of the first check that found it, and
 * *others how many other checks fired too.  kmod.c calls it after a
 * stop routine succeeded (and after a start routine failed) to decide
 * whether the image may be freed.
 */
enum kmod_hold kmod_points_into(uint32_t start, uint32_t end,
	    uint64_t stopped, char *why, size_t whylen, int *others);

#endif /* _KERN_KMOD_CHECK_H_ */
