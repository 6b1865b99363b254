/*
 * Kernel-private side of panic(): the report that CPU exceptions and
 * panic() share, and the hooks other subsystems add to it.
 */
#ifndef _KERN_PANIC_VAR_H_
#define _KERN_PANIC_VAR_H_

#include <sys/types.h>

struct trapframe;

/*
 * Print the full panic report and stop the machine.  `caller` is the
 * address that panicked, `tf` the trap frame for a CPU exception (or
 * NULL), `ebp` the frame pointer where the backtrace starts.
 */
void	panic_report(uint32_t caller, const char *msg,
	    const struct trapframe *tf, uint32_t ebp) __dead2;

/* Print the registers of a trap frame (machine-dependent). */
void	machine_print_trapframe(const struct trapframe *tf);

/* True once a panic has started (other CPUs/threads stop printing). */
extern volatile int panic_in_progress;

#define PANIC_END_MARKER	"==== end of panic report ===="

#endif /* _KERN_PANIC_VAR_H_ */
