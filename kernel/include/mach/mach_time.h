/*
 * <mach/mach_time.h> -- the monotonic clock.  Finch's absolute time unit
 * is the nanosecond (timebase 1/1), but portable code converts with
 * mach_timebase_info or absolutetime_to_nanoseconds.
 */
#ifndef _MACH_MACH_TIME_H_
#define _MACH_MACH_TIME_H_

#include <sys/cdefs.h>
#include <mach/mach_types.h>

__BEGIN_DECLS

struct mach_timebase_info {
	uint32_t	numer;
	uint32_t	denom;
};
typedef struct mach_timebase_info *mach_timebase_info_t;
typedef struct mach_timebase_info mach_timebase_info_data_t;

/* Time since boot in absolute-time units; never goes backwards.  With
 * interrupts off it stops within a clock tick (use delay() to spin).
 * Any context may call it. */
uint64_t	mach_absolute_time(void);

/* The ratio numer/denom that turns absolute time into nanoseconds (1/1
 * in Finch); always KERN_SUCCESS. */
kern_return_t	mach_timebase_info(mach_timebase_info_t info);

__END_DECLS

#endif /* _MACH_MACH_TIME_H_ */
