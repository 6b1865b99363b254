/*
 * Hardware interrupt handlers.  A driver establishes a handler for its
 * IRQ line; trap() dispatches to it with interrupts off, then sends the
 * end-of-interrupt.  Handlers must be short and never sleep: they move
 * data and wake a thread.
 */
#ifndef _I386_INTR_H_
#define _I386_INTR_H_

#include <sys/types.h>

struct trapframe;

typedef void intr_handler_t(void *arg);

void	intr_init(void);
void	intr_establish(int irq, intr_handler_t *handler, void *arg,
	    const char *name);
void	intr_dispatch(int irq, const struct trapframe *tf);

/* The address the interrupt being handled interrupted, and that code's
 * frame pointer (0 outside a handler): what the clock's tick hands the
 * profiler (kern/prof.c). */
uint32_t intr_interrupted_pc(void);
uint32_t intr_interrupted_fp(void);

/* True while running an interrupt handler (thread code may not sleep). */
bool	intr_context(void);

#endif /* _I386_INTR_H_ */
