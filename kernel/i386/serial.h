/*
 * 16550 UART driver: polled transmit, interrupt-driven receive into a
 * ring buffer, paused while the ring is full.  COM1 carries the
 * console; COM2 the host link.
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
	bool			u_rx_paused;	/* ring full: interrupt off */
	uint32_t		u_rx_bytes;	/* statistics */
	uint32_t		u_rx_pauses;	/* times the ring filled up */
	uint32_t		u_rx_errors;	/* framing/parity/overrun */
};

/* Is there a UART at `base`?  (Its scratch register keeps a value.) */
bool	uart_present(uint16_t base);

/* Program the UART (115200 8N1, FIFOs on); receive interrupts only
 * after uart_enable_rx_intr, once threads can be woken. */
void	uart_init(struct uart *u, uint16_t base, int irq, const char *name);
void	uart_enable_rx_intr(struct uart *u);
void	uart_putc(struct uart *u, uint8_t c);

/* Next received byte or -1.  Call with u_lock held. */
int	uart_rx_get_locked(struct uart *u);

/* Sleep until a byte arrives (thread context); returns it. */
int	uart_getc(struct uart *u);

/* As uart_getc, but give up after `ms` milliseconds and return -1. */
int	uart_getc_timeout(struct uart *u, uint32_t ms);

#endif /* _I386_SERIAL_H_ */
