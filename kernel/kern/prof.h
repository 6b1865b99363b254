/*
 * The profiler: which code the CPU was running, sampled at every clock
 * tick (`hz` a second) while it is on.  The `prof` monitor command
 * starts it, stops it, and names the functions that were sampled most
 * -- where the time goes, measured (`finch bench` asks it during TCP
 * transfers).
 */
#ifndef _KERN_PROF_H_
#define _KERN_PROF_H_

#include <sys/types.h>

/* One sample: the clock interrupted the code at `pc` (0: not known)
 * whose frame pointer was `fp`.  Interrupt context, with interrupts
 * off; never sleeps. */
void	prof_sample(uint32_t pc, uint32_t fp);

#endif /* _KERN_PROF_H_ */
