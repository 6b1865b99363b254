/*
 * Kernel-private clock plumbing: the hardware timer (i386/pit.c) calls
 * clock_tick() every 1/hz s; uptime in nanoseconds comes from the TSC
 * (i386/tsc.c), calibrated against the PIT, or from the PIT without one.
 */
#ifndef _KERN_CLOCK_VAR_H_
#define _KERN_CLOCK_VAR_H_

#include <sys/types.h>
#include <kern/clock.h>

void		pit_init(void);
uint64_t	pit_uptime_ns(void);
/* Spin for `ns` nanoseconds; works with interrupts off. */
void		pit_delay(uint64_t ns);

/* Calibrate the TSC against the PIT (running, interrupts on; spins
 * 25 ms).  True: tsc_uptime_ns() is the uptime clock from now on. */
bool		tsc_init(void);
bool		tsc_is_clock(void);
uint64_t	tsc_uptime_ns(void);

/* Clock interrupt: expire timers, charge the running thread. */
void		clock_tick(void);

/*
 * Clock ticks taken since boot.  Fewer than uptime * hz when the guest
 * missed some: under TCG a busy host may not run the guest for a while,
 * and QEMU then delivers one clock interrupt for several periods.
 * Timeouts count in ticks taken; `timer` shows both.
 */
uint64_t	clock_ticks_taken(void);

/*
 * The time of the last clock tick: up to 1/hz s behind
 * mach_absolute_time(), but read from memory.  Cheaper still than the
 * TSC, and on a machine without one, mach_absolute_time() reads the PIT's
 * counter and the PIC's request register, five port accesses, each of
 * which leaves the guest for QEMU's device model: too dear for a clock
 * that only times timeouts.
 */
uint64_t	mach_approximate_time(void);

/* The absolute time `ticks` clock ticks after the last one: where a
 * BSD timeout of `ticks` ticks falls due. */
uint64_t	clock_tick_deadline(int ticks);

#endif /* _KERN_CLOCK_VAR_H_ */
