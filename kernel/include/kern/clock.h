/*
 * <kern/clock.h> -- uptime, deadlines and conversions between absolute
 * time (mach_absolute_time units) and nanoseconds.
 */
#ifndef _KERN_CLOCK_H_
#define _KERN_CLOCK_H_

#include <sys/cdefs.h>
#include <mach/mach_types.h>
#include <mach/mach_time.h>

__BEGIN_DECLS

/* Scale factors for clock_interval_to_deadline. */
#define NSEC_PER_USEC	1000ull
#define NSEC_PER_MSEC	1000000ull
#define NSEC_PER_SEC	1000000000ull
enum {
	kNanosecondScale	= 1,
	kMicrosecondScale	= 1000,
	kMillisecondScale	= 1000 * 1000,
	kSecondScale		= 1000 * 1000 * 1000,
};

/*
 * None of these sleeps or takes a lock a caller could hold: any context
 * may call them.  Results are written to *result (and friends), which
 * must not be NULL.
 */

/* Now, as an absolute time: mach_absolute_time(). */
void	clock_get_uptime(uint64_t *result);

/* Deadlines for thread_call_enter_delayed, lck_mtx_sleep_deadline, ...:
 * now + interval * scale_factor nanoseconds (kSecondScale, ...), or now
 * + abstime. */
void	clock_interval_to_deadline(uint32_t interval, uint32_t scale_factor,
	    uint64_t *result);
void	clock_absolutetime_interval_to_deadline(uint64_t abstime,
	    uint64_t *result);

/* interval * scale_factor nanoseconds as an absolute-time interval (no
 * "now" added). */
void	clock_interval_to_absolutetime_interval(uint32_t interval,
	    uint32_t scale_factor, uint64_t *result);

/* The next deadline of a periodic event: *deadline + interval, or, if
 * that has passed already (abstime is now), abstime + interval, so that
 * a late timer does not fire a burst to catch up. */
void	clock_deadline_for_periodic_event(uint64_t interval, uint64_t abstime,
	    uint64_t *deadline);

/* Conversions between absolute time and nanoseconds (the identity in
 * Finch, whose timebase is 1/1; not on every Mac). */
void	absolutetime_to_nanoseconds(uint64_t abstime, uint64_t *result);
void	nanoseconds_to_absolutetime(uint64_t nanoseconds, uint64_t *result);

/* The time since boot, split into seconds and micro- or nanoseconds. */
void	clock_get_system_microtime(uint32_t *secs, uint32_t *microsecs);
void	clock_get_system_nanotime(uint32_t *secs, uint32_t *nanosecs);

/* The time of day, split the same way.  Finch's wall clock starts at
 * boot: the same as the system time. */
void	clock_get_calendar_microtime(uint32_t *secs, uint32_t *microsecs);
void	clock_get_calendar_nanotime(uint32_t *secs, uint32_t *nanosecs);

/* Busy-wait `usec` microseconds by watching the timer: no sleeping, so
 * it works with interrupts off and in interrupt handlers (drivers, short
 * waits).  0 or less returns at once. */
void	delay(int usec);

/* The same for interval * scale_factor nanoseconds (kMicrosecondScale,
 * ...); a busy wait too. */
void	delay_for_interval(uint32_t interval, uint32_t scale_factor);

__END_DECLS

#endif /* _KERN_CLOCK_H_ */
