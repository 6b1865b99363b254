/*
 * Kernel-private clock plumbing: the hardware timer (i386/pit.c) calls
 * clock_tick() every 1/hz s and provides uptime in nanoseconds.
 */
#ifndef _KERN_CLOCK_VAR_H_
#define _KERN_CLOCK_VAR_H_

#include <sys/types.h>
#include <kern/clock.h>

void		pit_init(void);
uint64_t	pit_uptime_ns(void);
/* Spin for `ns` nanoseconds; works with interrupts off. */
void		pit_delay(uint64_t ns);

/* Clock interrupt: expire timers, charge the running thread. */
void		clock_tick(void);

/* The absolute time `ticks` clock ticks after the last one: where a
 * BSD timeout of `ticks` ticks falls due. */
uint64_t	clock_tick_deadline(int ticks);

#endif /* _KERN_CLOCK_VAR_H_ */
