/*
 * The boot arguments: the Multiboot command line (QEMU's -append), kept
 * by i386_init before the loader's memory is handed to the page
 * allocator.  Options are words separated by spaces ("e1000echo").
 */
#ifndef _KERN_BOOTARGS_H_
#define _KERN_BOOTARGS_H_

#include <sys/types.h>

#define BOOT_ARGS_MAX	256	/* longer command lines are cut here */

/* Keep a copy of the command line (i386_init; NULL: there is none). */
void		boot_args_set(const char *cmdline);

/* The whole command line ("" when the loader gave none). */
const char	*boot_args(void);

/* True when `word` is one of the command line's space-separated words. */
bool		boot_arg_present(const char *word);

#endif /* _KERN_BOOTARGS_H_ */
