/*
 * Hardware interrupt handlers.  A driver establishes a handler for its
 * IRQ line; trap() dispatches to it with interrupts off, then sends the
 * end-of-interrupt.  Handlers must be short and never sleep: they move
 * data and wake a thread.
 */
#ifndef _I386_INTR_H_
#define _I386_INTR_H_

#include <sys/types.h>

typedef void intr_handler_t(void *arg);

void	intr_init(void);
void	intr_establish(int irq, intr_handler_t *handler, void *arg,
	    const char *name);
void	intr_dispatch(int irq);

/* True while running an interrupt handler (thread code may not sleep). */
bool	intr_context(void);

#endif /* _I386_INTR_H_ */
