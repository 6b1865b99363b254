/*
 * The 16550 UART (see serial.h).  The receive interrupt drains the FIFO
 * into a ring buffer and wakes whoever sleeps on the uart; transmission
 * polls the "transmitter holding register empty" bit, which QEMU sets at
 * once, so output never waits long.
 *
 * When the ring is full the interrupt handler leaves the bytes in the
 * UART and turns the receive interrupt off until the reader has emptied
 * half the ring.  QEMU then holds back what else arrives (its FIFO is
 * full), so a fast sender such as the host link loses nothing.  Without
 * this, QEMU refills the FIFO as fast as the handler drains it, the
 * handler never returns to let the reader run, and the ring overflows.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <i386/pio.h>
#include <i386/serial.h>
#include <kern/clock.h>
#include <kern/sched_prim.h>

#define UART_DATA	0	/* receive / transmit (DLAB=0) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define UART_DLL	0	/* divisor low (DLAB=1) */
#define UART_DLM	1	/* divisor high (DLAB=1) */
#define UART_FCR	2	/* FIFO control */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */
#define UART_SCR	7	/* scratch: a byte for software */

#define IER_RDA		0x01	/* interrupt on received data */
#define FCR_ENABLE	0xc7	/* enable, clear both, 14-byte threshold */
#define LCR_DLAB	0x80
#define LCR_8N1		0x03
#define MCR_DTR_RTS_OUT2 0x0b	/* OUT2 gates the IRQ line on a PC */
#define LSR_DR		0x01	/* data ready */
#define LSR_ERRORS	0x1e	/* overrun, parity, framing, break */
#define LSR_THRE	0x20	/* transmitter holding register empty */

/*
 * With no UART at `base`, reads return 0xff: the line status would say
 * "data ready" for ever and the interrupt handler would never stop.
 */
bool
uart_present(uint16_t base)
{
	outb(base + UART_SCR, 0x5a);
	if (inb(base + UART_SCR) != 0x5a)
		return false;
	outb(base + UART_SCR, 0xa5);
	return inb(base + UART_SCR) == 0xa5;
}

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
		if (u->u_rx_tail - u->u_rx_head == UART_RXBUF) {
			outb(u->u_base + UART_IER, 0);	/* see above */
			u->u_rx_paused = true;
			u->u_rx_pauses++;
			break;
		}
		c = inb(u->u_base + UART_DATA);
		if (lsr & LSR_ERRORS)
			u->u_rx_errors++;
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
	int c;

	if (u->u_rx_head == u->u_rx_tail)
		return -1;
	c = u->u_rx[u->u_rx_head++ % UART_RXBUF];
	/* Room again: the UART interrupts at once if bytes are waiting. */
	if (u->u_rx_paused && u->u_rx_tail - u->u_rx_head <= UART_RXBUF / 2) {
		u->u_rx_paused = false;
		outb(u->u_base + UART_IER, IER_RDA);
	}
	return c;
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

int
uart_getc_timeout(struct uart *u, uint32_t ms)
{
	uint64_t deadline;
	wait_result_t wr;
	int c;

	clock_interval_to_deadline(ms, kMillisecondScale, &deadline);
	simple_lock(&u->u_lock);
	while ((c = uart_rx_get_locked(u)) < 0) {
		assert_wait_deadline(u, THREAD_UNINT, deadline);
		simple_unlock(&u->u_lock);
		wr = thread_block();
		simple_lock(&u->u_lock);
		if (wr == THREAD_TIMED_OUT) {
			c = uart_rx_get_locked(u);	/* a last look */
			break;
		}
	}
	simple_unlock(&u->u_lock);
	return c;
}
