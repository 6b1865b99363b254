/*
 * The kernel console: COM1.  Output is polled and serialized so that two
 * threads' lines never interleave inside one call; input arrives by
 * interrupt into a ring buffer that the monitor thread drains.  The
 * monitor's line editor shares the screen with kernel output as a
 * terminal line discipline would.  One thread at a time may capture its
 * own output into a buffer instead (the host link runs monitor commands
 * that way).
 */
#ifndef _KERN_CONSOLE_H_
#define _KERN_CONSOLE_H_

#include <sys/types.h>
#include <mach/mach_types.h>

/* Clear the screen and home the cursor (ANSI: ESC [ H, ESC [ 2 J). */
#define CONSOLE_CLEAR_SCREEN	"\033[H\033[2J"

void	console_init(void);
/* Turn on receive interrupts (once the scheduler runs). */
void	console_enable_input(void);

/*
 * Write len bytes atomically with respect to other console writers.
 * While the line editor's line is on the screen, the bytes start on a
 * fresh line below it and the editor is told to redraw it.
 */
void	console_write(const char *s, size_t len);
void	console_putc(int c);

/*
 * The line editor's side (lineedit.c; the monitor thread only).  Like a
 * terminal's line discipline, the console keeps kernel output and the
 * line being typed apart: output that arrives while the line is shown
 * moves to a fresh line and leaves the line hidden, and the editor then
 * redraws the prompt and the line below it.
 *
 * console_edit_show()  writes the prompt and the whole line (s, len)
 *     and marks it shown: the first time, and for every redraw.
 * console_edit_echo()  writes the echo of one key; if kernel output has
 *     hidden the line, writes nothing and returns false: redraw it whole.
 * console_edit_getc()  sleeps until a byte is typed and returns it; or
 *     returns -1 once kernel output has hidden the line and the console
 *     has been quiet for a moment (a burst of lines gets one redraw).
 * console_edit_end()   writes s (the end of the line) and stops: output
 *     goes out as it comes until the next console_edit_show().
 */
void	console_edit_show(const char *s, size_t len);
bool	console_edit_echo(const char *s, size_t len);
int	console_edit_getc(void);
void	console_edit_end(const char *s, size_t len);

/* Next received byte (0..255); sleeps until one arrives.  Thread context. */
int	console_getc(void);

/* Next received byte, or -1 if none is waiting.  Never sleeps. */
int	console_trygetc(void);

/*
 * A capture: what one thread prints goes into a buffer instead of COM1.
 * The caller owns the record; the console links it in (cons_lock).
 */
struct console_capture {
	thread_t		cc_thread;
	char			*cc_buf;
	size_t			cc_size;
	size_t			cc_len;		/* bytes in cc_buf */
	bool			cc_truncated;	/* some output did not fit */
	struct console_capture	*cc_outer;	/* the one this one hides */
};

/*
 * Send what the calling thread prints from now on into buf (size bytes,
 * more than 20) instead of COM1; other threads still print to COM1.
 * Captures nest (the innermost gets the output); EBUSY while another
 * thread captures.  console_capture_end(cc) ends the innermost capture,
 * which must be cc, and returns the bytes captured; when some output did
 * not fit, the buffer ends with "[output truncated]".  Thread context.
 */
errno_t	console_capture_begin(struct console_capture *cc, char *buf,
	    size_t size);
size_t	console_capture_end(struct console_capture *cc);

/* Panic path: write with no locks, no interrupts, no sleeping. */
void	console_panic_write(const char *s, size_t len);

#endif /* _KERN_CONSOLE_H_ */
