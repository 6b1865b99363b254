/*
 * 16550 UART driver: polled transmit, interrupt-driven receive into a
 * ring buffer.  COM1 carries the console; COM2 the host link.
 */
#ifndef _I386_SERIAL_H_
#define _I386_SERIAL_H_

#include <sys/types.h>
#include <kern/simple_lock.h>

#define COM1_BASE	0x3f8
#define COM1_IRQ	4
#define COM2_BASE	0x2f8
#define COM2_IRQ	3

#define UART_RXBUF	4096	/* a power of two */

struct uart {
	uint16_t		u_base;
	int			u_irq;
	const char		*u_name;
	simple_lock_data_t	u_lock;		/* guards the ring */
	uint8_t			u_rx[UART_RXBUF];
	uint32_t		u_rx_head;	/* next byte to read */
	uint32_t		u_rx_tail;	/* next free slot */
	uint32_t		u_rx_bytes;	/* statistics */
	uint32_t		u_rx_overruns;	/* dropped: ring full */
	uint32_t		u_rx_errors;	/* framing/parity/overrun */
};

/* Program the UART (115200 8N1, FIFOs on); receive interrupts only
 * after uart_enable_rx_intr, once threads can be woken. */
void	uart_init(struct uart *u, uint16_t base, int irq, const char *name);
void	uart_enable_rx_intr(struct uart *u);
void	uart_putc(struct uart *u, uint8_t c);

/* Next received byte or -1.  Call with u_lock held. */
int	uart_rx_get_locked(struct uart *u);

/* Sleep until a byte arrives (thread context); returns it. */
int	uart_getc(struct uart *u);

#endif /* _I386_SERIAL_H_ */
