/*
 * The console on COM1 (see console.h).  Writers are serialized by
 * cons_lock so that one printf's output stays together; "\n" goes out
 * as CR LF for terminals.  Output that arrives while the monitor's line
 * is on the screen goes below it, and the line editor redraws the line.
 * After a panic the lock is ignored: the report must get out even if
 * the panic happened inside printf.  A capture diverts one thread's
 * output into a buffer (the host link's MONITOR).
 */
#include <sys/systm.h>
#include <i386/intr.h>
#include <i386/serial.h>
#include <kern/clock.h>
#include <kern/console.h>
#include <kern/panic_var.h>
#include <kern/sched_prim.h>
#include <kern/selftest.h>
#include <kern/simple_lock.h>
#include <kern/thread.h>

#define CAPTURE_TRUNCATED	"\n[output truncated]\n"

/* Redraw a hidden line once no output has come for this long. */
#define CONS_QUIET_MS	50

/* Where the line editor's line is (see console.h). */
enum cons_line {
	CONS_LINE_NONE,		/* no line is being typed */
	CONS_LINE_SHOWN,	/* the prompt and line are the last output */
	CONS_LINE_HIDDEN,	/* other output came after them */
};

static struct uart cons_uart;
static simple_lock_data_t cons_lock = SIMPLE_LOCK_INITIALIZER("console");
static struct console_capture *cons_capture;	/* innermost; cons_lock */
static enum cons_line cons_line;		/* cons_lock */
static uint64_t cons_last_output;	/* hidden: when output last ended */

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

/*
 * Is this output the capturing thread's?  An interrupt handler runs on
 * whatever thread it interrupted: what it prints is not that thread's.
 * Call with cons_lock held.
 */
static bool
console_capturing(void)
{
	return cons_capture != NULL &&
	    cons_capture->cc_thread == current_thread() && !intr_context();
}

static void
console_capture_put(const char *s, size_t len)
{
	struct console_capture *cc = cons_capture;
	size_t room = cc->cc_size - cc->cc_len;

	if (len > room) {
		len = room;
		cc->cc_truncated = true;
	}
	memcpy(cc->cc_buf + cc->cc_len, s, len);
	cc->cc_len += len;
}

/*
 * Output that is not the line editor's.  If the editor's line is the
 * last thing on the screen, end that screen line first (the output must
 * not be glued after "finch> ab") and wake the editor, which sleeps on
 * the uart where the receive interrupt wakes it (serial.c), so that it
 * redraws its line below.  Captured output never reaches the screen and
 * hides nothing.
 */
void
console_write(const char *s, size_t len)
{
	bool hid = false;

	if (panic_in_progress) {
		console_put_raw(s, len);
		return;
	}
	simple_lock(&cons_lock);
	if (console_capturing()) {
		console_capture_put(s, len);
	} else {
		if (cons_line == CONS_LINE_SHOWN) {
			console_put_raw("\n", 1);
			cons_line = CONS_LINE_HIDDEN;
			hid = true;
		}
		console_put_raw(s, len);
		if (cons_line == CONS_LINE_HIDDEN)
			cons_last_output = mach_absolute_time();
	}
	simple_unlock(&cons_lock);
	if (hid)
		thread_wakeup(&cons_uart);
}

/* ---- the line editor's side (see console.h) ---- */

void
console_edit_show(const char *s, size_t len)
{
	if (panic_in_progress)
		return;			/* the report has the screen now */
	simple_lock(&cons_lock);
	console_put_raw(s, len);
	cons_line = CONS_LINE_SHOWN;
	simple_unlock(&cons_lock);
}

bool
console_edit_echo(const char *s, size_t len)
{
	bool shown;

	if (panic_in_progress)
		return true;
	simple_lock(&cons_lock);
	shown = cons_line == CONS_LINE_SHOWN;
	if (shown)
		console_put_raw(s, len);
	simple_unlock(&cons_lock);
	return shown;
}

/*
 * While the line is shown, sleep until a byte comes or output hides the
 * line: both locks are held from the checks to assert_wait, so that
 * neither the receive interrupt (u_lock) nor a writer (cons_lock) can
 * slip in between and leave us asleep.  Once the line is hidden only a
 * byte or the quiet time can end the wait: uart_getc_timeout() sleeps
 * with no console lock held, since a timed wait takes the timer lock,
 * under which some callers print (`callout`).
 */
int
console_edit_getc(void)
{
	uint64_t quiet, now;
	bool hidden;
	int c;

	for (;;) {
		simple_lock(&cons_lock);
		simple_lock(&cons_uart.u_lock);
		c = uart_rx_get_locked(&cons_uart);
		hidden = cons_line == CONS_LINE_HIDDEN;
		quiet = cons_last_output + CONS_QUIET_MS * NSEC_PER_MSEC;
		if (c < 0 && !hidden)
			assert_wait(&cons_uart, THREAD_UNINT);
		simple_unlock(&cons_uart.u_lock);
		simple_unlock(&cons_lock);
		if (c >= 0)
			return c;
		if (!hidden) {
			thread_block();
			continue;
		}
		now = mach_absolute_time();
		if (now >= quiet)
			return -1;		/* time to redraw */
		c = uart_getc_timeout(&cons_uart,
		    (quiet - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		if (c >= 0)
			return c;
	}
}

void
console_edit_end(const char *s, size_t len)
{
	if (panic_in_progress)
		return;
	simple_lock(&cons_lock);
	console_put_raw(s, len);
	cons_line = CONS_LINE_NONE;
	simple_unlock(&cons_lock);
}

errno_t
console_capture_begin(struct console_capture *cc, char *buf, size_t size)
{
	errno_t err = 0;

	if (size < sizeof(CAPTURE_TRUNCATED))
		return EINVAL;
	simple_lock(&cons_lock);
	if (cons_capture != NULL && cons_capture->cc_thread !=
	    current_thread()) {
		err = EBUSY;
		goto out;
	}
	cc->cc_thread = current_thread();
	cc->cc_buf = buf;
	cc->cc_size = size;
	cc->cc_len = 0;
	cc->cc_truncated = false;
	cc->cc_outer = cons_capture;
	cons_capture = cc;
out:
	simple_unlock(&cons_lock);
	return err;
}

size_t
console_capture_end(struct console_capture *cc)
{
	size_t mark = sizeof(CAPTURE_TRUNCATED) - 1;

	simple_lock(&cons_lock);
	if (cons_capture != cc)
		panic("console_capture_end: %p is not the innermost capture",
		    cc);
	cons_capture = cc->cc_outer;
	simple_unlock(&cons_lock);
	if (cc->cc_truncated)		/* then cc_len == cc_size */
		memcpy(cc->cc_buf + cc->cc_size - mark, CAPTURE_TRUNCATED,
		    mark);
	return cc->cc_len;
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

/* ---- unit test ---- */

/* A capture takes this thread's output, nests, and marks overflow. */
static int
test_console_capture(void)
{
	struct console_capture outer, inner;
	char obuf[32], ibuf[32];
	size_t olen, ilen;

	if (console_capture_begin(&outer, obuf, sizeof(obuf)) != 0)
		return 1;
	printf("abc %d\n", 42);
	if (console_capture_begin(&inner, ibuf, sizeof(ibuf)) != 0) {
		(void)console_capture_end(&outer);
		return 1;
	}
	printf("%s", "0123456789012345678901234567890123456789");
	ilen = console_capture_end(&inner);
	printf("!");
	olen = console_capture_end(&outer);

	ST_ASSERT(olen == 8 && memcmp(obuf, "abc 42\n!", 8) == 0);
	ST_ASSERT(ilen == sizeof(ibuf));
	ST_ASSERT(memcmp(ibuf, "012345678901", 12) == 0);
	ST_ASSERT(memcmp(ibuf + 12, CAPTURE_TRUNCATED, 20) == 0);
	return 0;
}
SELFTEST(console_capture, test_console_capture);
