/*
 * The monitor's line editor (lineedit.c): one line read from the
 * console after the prompt, echoed as it is typed, with the arrow keys,
 * Backspace, Ctrl-C, -L, -U and -W, and a history that the up arrow
 * recalls; redrawn when kernel output comes.  Only the monitor thread
 * (monitor.c) uses it.
 */
#ifndef _KERN_LINEEDIT_H_
#define _KERN_LINEEDIT_H_

#include <sys/types.h>
#include <kern/monitor_var.h>	/* MONITOR_LINE_MAX */

/* The most one key echoes: an up arrow trading a full line for another. */
#define LINEEDIT_ECHO_MAX	(8 * (MONITOR_LINE_MAX + 1))

/* Where we are in an escape sequence such as ESC [ A (up arrow). */
enum esc_state {
	ESC_NONE,	/* not in one */
	ESC_START,	/* after ESC */
	ESC_CSI,	/* after ESC [ (or ESC O): parameters, then a letter */
};

/*
 * The line being typed.  le_buf always ends with a NUL at le_len.  Only
 * the monitor thread touches it, so it needs no lock.
 */
struct lineedit {
	char		le_buf[MONITOR_LINE_MAX + 1];
	int		le_len;		/* characters in le_buf */
	int		le_cur;		/* cursor position, 0..le_len */
	bool		le_toolong;	/* a character did not fit */
	int		le_dropped;	/* non-printable bytes not inserted */
	enum esc_state	le_esc;
	int		le_hist_pos;	/* 0: the typed line; n: n-th latest */
	char		le_draft[MONITOR_LINE_MAX + 1];	/* the typed line */
	char		le_echo[LINEEDIT_ECHO_MAX];	/* this key's echo */
	int		le_echo_len;
};

/*
 * Print the prompt and read one line into ed->le_buf, echoing and
 * editing as the user types; kernel output that comes meanwhile goes
 * below the line, which is then redrawn.  Returns true when the line
 * should be run; false when it was abandoned (Ctrl-C) or was too long.
 */
bool	read_line(struct lineedit *ed);
/* Remember a line that was run, unless it repeats the latest one. */
void	history_add(const char *line);

#endif /* _KERN_LINEEDIT_H_ */
