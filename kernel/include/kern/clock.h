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

void	clock_get_uptime(uint64_t *result);
/* Now + interval * scale_factor nanoseconds, as an absolute time. */
void	clock_interval_to_deadline(uint32_t interval, uint32_t scale_factor,
	    uint64_t *result);
void	clock_absolutetime_interval_to_deadline(uint64_t abstime,
	    uint64_t *result);
void	absolutetime_to_nanoseconds(uint64_t abstime, uint64_t *result);
void	nanoseconds_to_absolutetime(uint64_t nanoseconds, uint64_t *result);
void	clock_get_system_microtime(uint32_t *secs, uint32_t *microsecs);
void	clock_get_system_nanotime(uint32_t *secs, uint32_t *nanosecs);

/* Busy-wait `usec` microseconds (no sleeping: drivers, short waits). */
void	delay(int usec);

__END_DECLS

#endif /* _KERN_CLOCK_H_ */
