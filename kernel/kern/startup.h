/*
 * Machine-independent start-up, called once the machine layer has
 * memory and paging running.
 */
#ifndef _KERN_STARTUP_H_
#define _KERN_STARTUP_H_

#include <sys/types.h>

void	kernel_bootstrap(uint32_t phys_top) __dead2;

#endif /* _KERN_STARTUP_H_ */
