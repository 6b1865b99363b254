/*
 * 8259A programming: initialization words, masks, end-of-interrupt, and
 * the spurious-IRQ check (a glitch on IRQ 7 or 15 raises the vector with
 * no bit set in the in-service register; it must not be acknowledged).
 */
#include <i386/cpu.h>
#include <i386/pic.h>
#include <i386/pio.h>
#include <i386/trap.h>

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1

#define ICW1_INIT	0x11	/* edge triggered, cascade, ICW4 follows */
#define ICW4_8086	0x01
#define OCW2_EOI	0x20
#define OCW3_READ_IRR	0x0a
#define OCW3_READ_ISR	0x0b
#define CASCADE_IRQ	2

static uint16_t pic_mask = 0xffff & ~(1 << CASCADE_IRQ);

static void
pic_write_mask(void)
{
	outb(PIC1_DATA, pic_mask & 0xff);
	outb(PIC2_DATA, pic_mask >> 8);
}

void
pic_init(void)
{
	outb(PIC1_CMD, ICW1_INIT);
	outb(PIC2_CMD, ICW1_INIT);
	outb(PIC1_DATA, T_IRQ0);		/* ICW2: vector base */
	outb(PIC2_DATA, T_IRQ0 + 8);
	outb(PIC1_DATA, 1 << CASCADE_IRQ);	/* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, CASCADE_IRQ);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	pic_write_mask();
}

/* The mask is read, changed and written back: not with interrupts on,
 * or a handler changing it meanwhile would be undone. */
void
pic_enable_irq(int irq)
{
	boolean_t intr = ml_set_interrupts_enabled(FALSE);

	pic_mask &= ~(1 << irq);
	pic_write_mask();
	ml_set_interrupts_enabled(intr);
}

void
pic_disable_irq(int irq)
{
	boolean_t intr = ml_set_interrupts_enabled(FALSE);

	pic_mask |= 1 << irq;
	pic_write_mask();
	ml_set_interrupts_enabled(intr);
}

void
pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}

static uint16_t
pic_read_reg(uint8_t ocw3)
{
	outb(PIC1_CMD, ocw3);
	outb(PIC2_CMD, ocw3);
	return inb(PIC1_CMD) | (inb(PIC2_CMD) << 8);
}

/* A spurious IRQ 15 still needs an EOI on the master (for the cascade). */
bool
pic_spurious(int irq)
{
	if (irq != 7 && irq != 15)
		return false;
	if (pic_read_reg(OCW3_READ_ISR) & (1 << irq))
		return false;
	if (irq == 15)
		outb(PIC1_CMD, OCW2_EOI);
	return true;
}

/* Is the IRQ raised but not yet serviced?  (Used by the clock.) */
bool
pic_irq_pending(int irq)
{
	uint16_t port = irq < 8 ? PIC1_CMD : PIC2_CMD;

	/* Only the chip that has the line: each access is a trip to QEMU. */
	outb(port, OCW3_READ_IRR);
	return (inb(port) & (1 << (irq & 7))) != 0;
}
