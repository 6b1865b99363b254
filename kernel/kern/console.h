/*
 * The kernel console: COM1.  Output is polled and serialized so that two
 * threads' lines never interleave inside one call; input arrives by
 * interrupt into a ring buffer that the monitor thread drains.
 */
#ifndef _KERN_CONSOLE_H_
#define _KERN_CONSOLE_H_

#include <sys/types.h>

void	console_init(void);
/* Turn on receive interrupts (once the scheduler runs). */
void	console_enable_input(void);

/* Write len bytes atomically with respect to other console writers. */
void	console_write(const char *s, size_t len);
void	console_putc(int c);

/* Next received byte (0..255); sleeps until one arrives.  Thread context. */
int	console_getc(void);

/* Next received byte, or -1 if none is waiting.  Never sleeps. */
int	console_trygetc(void);

/* Panic path: write with no locks, no interrupts, no sleeping. */
void	console_panic_write(const char *s, size_t len);

#endif /* _KERN_CONSOLE_H_ */
