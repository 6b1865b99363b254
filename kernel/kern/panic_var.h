/*
 * Kernel-private side of panic(): the report that CPU exceptions and
 * panic() share, and the hooks other subsystems add to it.
 */
#ifndef _KERN_PANIC_VAR_H_
#define _KERN_PANIC_VAR_H_

#include <sys/types.h>

struct trapframe;

/*
 * A return address that no frame pointer leads to, shown first in the
 * backtrace: the caller of a NULL function pointer (the callee never ran
 * and pushed no frame), for instance.  pf_where is where it was found
 * (the stack slot), or 0 when it comes from elsewhere.
 */
struct panic_frame {
	uint32_t	pf_where;
	uint32_t	pf_return;
};

/*
 * Print the full panic report and stop the machine.  `caller` is the
 * address that panicked, `tf` the trap frame for a CPU exception (or
 * NULL), `first` a frame to show before the others (or NULL) and `ebp`
 * the frame pointer where the backtrace starts.
 */
void	panic_report(uint32_t caller, const char *msg,
	    const struct trapframe *tf, const struct panic_frame *first,
	    uint32_t ebp) __dead2;

/* Print the registers of a trap frame (machine-dependent). */
void	machine_print_trapframe(const struct trapframe *tf);

/* True once a panic has started (other CPUs/threads stop printing). */
extern volatile int panic_in_progress;

#define PANIC_END_MARKER	"==== end of panic report ===="

#endif /* _KERN_PANIC_VAR_H_ */
