/*
 * The two cascaded Intel 8259A interrupt controllers of the PC: IRQs 0-7
 * on the master, 8-15 on the slave (through master IRQ 2), remapped to
 * vectors T_IRQ0..T_IRQ0+15 so they do not collide with CPU exceptions.
 */
#ifndef _I386_PIC_H_
#define _I386_PIC_H_

#include <sys/types.h>

void	pic_init(void);
void	pic_enable_irq(int irq);
void	pic_disable_irq(int irq);
void	pic_eoi(int irq);
bool	pic_spurious(int irq);
bool	pic_irq_pending(int irq);

#endif /* _I386_PIC_H_ */
