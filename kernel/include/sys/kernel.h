/*
 * <sys/kernel.h> -- the kernel's global clock rate, with <sys/param.h>,
 * as Darwin sources include it.
 */
#ifndef _SYS_KERNEL_H_
#define _SYS_KERNEL_H_

#include <sys/param.h>

__BEGIN_DECLS

/* Clock ticks per second: the resolution of timeout() and msleep(). */
extern int hz;

__END_DECLS

#endif /* _SYS_KERNEL_H_ */
