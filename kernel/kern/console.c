/*
 * The console on COM1 (see console.h).  Writers are serialized by
 * cons_lock so that one printf's output stays together; "\n" goes out
 * as CR LF for terminals.  After a panic the lock is ignored: the report
 * must get out even if the panic happened inside printf.
 */
#include <sys/systm.h>
#include <i386/serial.h>
#include <kern/console.h>
#include <kern/panic_var.h>
#include <kern/simple_lock.h>

static struct uart cons_uart;
static simple_lock_data_t cons_lock = SIMPLE_LOCK_INITIALIZER("console");

void
console_init(void)
{
	uart_init(&cons_uart, COM1_BASE, COM1_IRQ, "com1");
}

/* Receive interrupts need the scheduler (readers sleep): later in boot. */
void
console_enable_input(void)
{
	uart_enable_rx_intr(&cons_uart);
}

static void
console_put_raw(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc(&cons_uart, '\r');
		uart_putc(&cons_uart, s[i]);
	}
}

void
console_write(const char *s, size_t len)
{
	if (panic_in_progress) {
		console_put_raw(s, len);
		return;
	}
	simple_lock(&cons_lock);
	console_put_raw(s, len);
	simple_unlock(&cons_lock);
}

void
console_putc(int c)
{
	char ch = c;

	console_write(&ch, 1);
}

void
console_panic_write(const char *s, size_t len)
{
	console_put_raw(s, len);
}

int
console_getc(void)
{
	return uart_getc(&cons_uart);
}

int
console_trygetc(void)
{
	int c;

	simple_lock(&cons_uart.u_lock);
	c = uart_rx_get_locked(&cons_uart);
	simple_unlock(&cons_uart.u_lock);
	return c;
}
