/*
 * Ending the machine: halt with an exit status (QEMU's isa-debug-exit
 * device turns status s into the QEMU process's exit code 2*s+1, and
 * the host toolkit turns it back), or reboot.
 */
#ifndef _KERN_SHUTDOWN_H_
#define _KERN_SHUTDOWN_H_

#include <sys/cdefs.h>

#define HALT_STATUS_MAX	127	/* 2*127+1 is the largest exit code */

void	halt_system(int status) __dead2;
void	reboot_system(void) __dead2;

/* Stop the CPU for good (interrupts off, hlt forever): panic's end. */
void	cpu_halt_forever(void) __dead2;

#endif /* _KERN_SHUTDOWN_H_ */
