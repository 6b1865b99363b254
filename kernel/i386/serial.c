/*
 * The 16550 UART (see serial.h).  The receive interrupt drains the FIFO
 * into a ring buffer and wakes whoever sleeps on the uart; transmission
 * polls the "transmitter holding register empty" bit, which QEMU sets at
 * once, so output never waits long.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <i386/pio.h>
#include <i386/serial.h>
#include <kern/sched_prim.h>

#define UART_DATA	0	/* receive / transmit (DLAB=0) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define UART_DLL	0	/* divisor low (DLAB=1) */
#define UART_DLM	1	/* divisor high (DLAB=1) */
#define UART_FCR	2	/* FIFO control */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */

#define IER_RDA		0x01	/* interrupt on received data */
#define FCR_ENABLE	0xc7	/* enable, clear both, 14-byte threshold */
#define LCR_DLAB	0x80
#define LCR_8N1		0x03
#define MCR_DTR_RTS_OUT2 0x0b	/* OUT2 gates the IRQ line on a PC */
#define LSR_DR		0x01	/* data ready */
#define LSR_ERRORS	0x1e	/* overrun, parity, framing, break */
#define LSR_THRE	0x20	/* transmitter holding register empty */

void
uart_init(struct uart *u, uint16_t base, int irq, const char *name)
{
	u->u_base = base;
	u->u_irq = irq;
	u->u_name = name;
	simple_lock_init(&u->u_lock, name);
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, 1);		/* 115200 baud */
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, FCR_ENABLE);
	outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
}

static void
uart_intr(void *arg)
{
	struct uart *u = arg;
	uint8_t lsr, c;
	bool got = false;

	simple_lock(&u->u_lock);
	while ((lsr = inb(u->u_base + UART_LSR)) & LSR_DR) {
		c = inb(u->u_base + UART_DATA);
		if (lsr & LSR_ERRORS)
			u->u_rx_errors++;
		if (u->u_rx_tail - u->u_rx_head == UART_RXBUF) {
			u->u_rx_overruns++;
			continue;
		}
		u->u_rx[u->u_rx_tail++ % UART_RXBUF] = c;
		u->u_rx_bytes++;
		got = true;
	}
	simple_unlock(&u->u_lock);
	if (got)
		thread_wakeup(u);
}

void
uart_enable_rx_intr(struct uart *u)
{
	intr_establish(u->u_irq, uart_intr, u, u->u_name);
	outb(u->u_base + UART_IER, IER_RDA);
	uart_intr(u);		/* anything that arrived before now */
}

void
uart_putc(struct uart *u, uint8_t c)
{
	while ((inb(u->u_base + UART_LSR) & LSR_THRE) == 0)
		cpu_pause();
	outb(u->u_base + UART_DATA, c);
}

int
uart_rx_get_locked(struct uart *u)
{
	if (u->u_rx_head == u->u_rx_tail)
		return -1;
	return u->u_rx[u->u_rx_head++ % UART_RXBUF];
}

int
uart_getc(struct uart *u)
{
	int c;

	simple_lock(&u->u_lock);
	while ((c = uart_rx_get_locked(u)) < 0) {
		assert_wait(u, THREAD_UNINT);
		simple_unlock(&u->u_lock);
		thread_block();
		simple_lock(&u->u_lock);
	}
	simple_unlock(&u->u_lock);
	return c;
}
