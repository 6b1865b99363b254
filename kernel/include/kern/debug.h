/*
 * <kern/debug.h> -- stopping the machine when the kernel or a kext finds
 * itself in a state it cannot go on from.
 */
#ifndef _KERN_DEBUG_H_
#define _KERN_DEBUG_H_

#include <sys/cdefs.h>

__BEGIN_DECLS

/* Stop the machine: prints the message, registers, a backtrace and the
 * loaded kexts, then halts.  Never returns; any context may call it. */
void	panic(const char *fmt, ...) __printflike(1, 2) __dead2;

__END_DECLS

#endif /* _KERN_DEBUG_H_ */
