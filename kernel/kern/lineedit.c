/*
 * The monitor's line editor: what the terminal shows follows the line
 * being typed, byte by byte from the console (COM1), with the cursor,
 * the history and the escape sequences of the arrow keys.  When kernel
 * output lands below the line, the editor redraws it (console.h).
 * monitor.c calls read_line() and runs the line it returns.
 */
#include <sys/systm.h>
#include <kern/console.h>
#include <kern/lineedit.h>
#include <kern/monitor_var.h>

#define HISTORY_MAX	16		/* lines the up arrow can recall */
#define CTRL(c)		((c) & 0x1f)	/* CTRL('U') is 0x15 */
#define ESC		0x1b
#define DEL		0x7f

/* What the last byte did to the line being read. */
enum edit_result {
	EDIT_MORE,	/* keep reading */
	EDIT_ENTER,	/* the line is finished */
	EDIT_CANCEL,	/* Ctrl-C: forget it */
};

/* CR or LF if the previous byte ended a line, so CR LF counts once. */
static int		mon_last_eol;

/* The last HISTORY_MAX lines run, in a ring (monitor thread only). */
static char		mon_history[HISTORY_MAX][MONITOR_LINE_MAX + 1];
static int		mon_history_count;	/* lines stored */
static int		mon_history_next;	/* the slot the next one uses */

/* ---- echo: what the terminal shows follows le_buf and le_cur ---- */

static void	echo_flush(struct lineedit *ed);

/* Add to the echo of this key; it goes out in one piece (echo_flush). */
static void
echo(struct lineedit *ed, const char *s, int n)
{
	int room;

	while (n > 0) {
		room = sizeof(ed->le_echo) - ed->le_echo_len;
		if (room == 0) {
			echo_flush(ed);	/* no key we know echoes this much */
			continue;
		}
		room = imin(room, n);
		memcpy(ed->le_echo + ed->le_echo_len, s, room);
		ed->le_echo_len += room;
		s += room;
		n -= room;
	}
}

static void
echo_repeat(struct lineedit *ed, int c, int n)
{
	char ch = c;

	while (n-- > 0)
		echo(ed, &ch, 1);
}

/* The prompt and the whole line, the cursor put back where ours is. */
static void
echo_line(struct lineedit *ed)
{
	echo(ed, MONITOR_PROMPT, sizeof(MONITOR_PROMPT) - 1);
	echo(ed, ed->le_buf, ed->le_len);
	echo_repeat(ed, '\b', ed->le_len - ed->le_cur);
}

/*
 * Show the line whole, after `before` (Ctrl-L's clear-screen, or
 * nothing): the first prompt, and each redraw once kernel output has
 * hidden the line.  Pending echo is dropped: the line shows its result.
 */
static void
show_line(struct lineedit *ed, const char *before)
{
	ed->le_echo_len = 0;
	echo(ed, before, strlen(before));
	echo_line(ed);
	console_edit_show(ed->le_echo, ed->le_echo_len);
	ed->le_echo_len = 0;
}

/*
 * Send the echo of this key.  The console refuses it when kernel output
 * has come below the line since: the echo would land after that output,
 * so show the line again instead.
 */
static void
echo_flush(struct lineedit *ed)
{
	if (!console_edit_echo(ed->le_echo, ed->le_echo_len))
		show_line(ed, "");
	ed->le_echo_len = 0;
}

/*
 * Redraw from the cursor to the end of the line, blank out `erase`
 * characters left over from a longer line, and put the terminal's
 * cursor back where ours is.
 */
static void
redraw_tail(struct lineedit *ed, int erase)
{
	int n = ed->le_len - ed->le_cur;

	echo(ed, ed->le_buf + ed->le_cur, n);
	echo_repeat(ed, ' ', erase);
	echo_repeat(ed, '\b', n + erase);
}

/* Move the cursor to `pos`: backspace left, or retype the text right. */
static void
move_cursor(struct lineedit *ed, int pos)
{
	if (pos < ed->le_cur)
		echo_repeat(ed, '\b', ed->le_cur - pos);
	else
		echo(ed, ed->le_buf + ed->le_cur, pos - ed->le_cur);
	ed->le_cur = pos;
}

/* ---- editing ---- */

static void
insert_char(struct lineedit *ed, int c)
{
	char *at = ed->le_buf + ed->le_cur;

	if (ed->le_len == MONITOR_LINE_MAX) {
		if (!ed->le_toolong)
			echo(ed, "\a", 1);	/* the bell, once */
		ed->le_toolong = true;
		return;
	}
	memmove(at + 1, at, ed->le_len - ed->le_cur + 1);
	*at = c;
	ed->le_len++;
	ed->le_cur++;
	echo(ed, at, 1);
	redraw_tail(ed, 0);
}

/* Remove the n characters before the cursor (Backspace, Ctrl-W, Ctrl-U). */
static void
erase_before(struct lineedit *ed, int n)
{
	char *at = ed->le_buf + ed->le_cur;

	memmove(at - n, at, ed->le_len - ed->le_cur + 1);
	ed->le_cur -= n;
	ed->le_len -= n;
	echo_repeat(ed, '\b', n);
	redraw_tail(ed, n);
}

/* Ctrl-W: the spaces before the cursor, then the word before them. */
static void
erase_word(struct lineedit *ed)
{
	int i = ed->le_cur;

	while (i > 0 && ed->le_buf[i - 1] == ' ')
		i--;
	while (i > 0 && ed->le_buf[i - 1] != ' ')
		i--;
	erase_before(ed, ed->le_cur - i);
}

/* Ctrl-U: the whole line goes, and with it any "too long" state. */
static void
kill_line(struct lineedit *ed)
{
	move_cursor(ed, ed->le_len);
	erase_before(ed, ed->le_len);
	ed->le_toolong = false;
}

/* Show `s` instead of the current line, with the cursor at its end. */
static void
replace_line(struct lineedit *ed, const char *s)
{
	int old = ed->le_len;

	move_cursor(ed, 0);
	ed->le_len = strlcpy(ed->le_buf, s, sizeof(ed->le_buf));
	redraw_tail(ed, old > ed->le_len ? old - ed->le_len : 0);
	move_cursor(ed, ed->le_len);
}

/* Ctrl-L: clear the screen; the prompt and the line go at its top. */
static void
clear_screen(struct lineedit *ed)
{
	show_line(ed, CONSOLE_CLEAR_SCREEN);
}

/* ---- history ---- */

/* The n-th latest line (1 is the latest), 1 <= n <= mon_history_count. */
static const char *
history_get(int n)
{
	return mon_history[(mon_history_next - n + HISTORY_MAX) % HISTORY_MAX];
}

/* Remember a line that was run, unless it repeats the latest one. */
void
history_add(const char *line)
{
	if (mon_history_count > 0 && strcmp(history_get(1), line) == 0)
		return;
	strlcpy(mon_history[mon_history_next], line, MONITOR_LINE_MAX + 1);
	mon_history_next = (mon_history_next + 1) % HISTORY_MAX;
	if (mon_history_count < HISTORY_MAX)
		mon_history_count++;
}

/* Up arrow (older = 1) or down arrow (older = -1). */
static void
history_move(struct lineedit *ed, int older)
{
	int pos = ed->le_hist_pos + older;

	if (pos < 0 || pos > mon_history_count)
		return;
	if (ed->le_hist_pos == 0)
		strlcpy(ed->le_draft, ed->le_buf, sizeof(ed->le_draft));
	ed->le_hist_pos = pos;
	replace_line(ed, pos == 0 ? ed->le_draft : history_get(pos));
}

/* ---- reading a line, byte by byte ---- */

/* The final letter of ESC [ x: an arrow key. */
static void
escape_key(struct lineedit *ed, int c)
{
	switch (c) {
	case 'A':
		history_move(ed, 1);
		break;
	case 'B':
		history_move(ed, -1);
		break;
	case 'C':
		if (ed->le_cur < ed->le_len)
			move_cursor(ed, ed->le_cur + 1);
		break;
	case 'D':
		if (ed->le_cur > 0)
			move_cursor(ed, ed->le_cur - 1);
		break;
	default:
		ed->le_dropped++;	/* a key we do not know: count its ESC */
		break;
	}
}

/*
 * A byte inside an escape sequence.  Returns false when the byte does
 * not belong to it (the sequence is then dropped, counted as its ESC,
 * and the caller treats the byte on its own).
 */
static bool
escape_byte(struct lineedit *ed, int c)
{
	if (ed->le_esc == ESC_START) {
		if (c == '[' || c == 'O') {
			ed->le_esc = ESC_CSI;
			return true;
		}
	} else if (c >= 0x20 && c <= 0x3f) {
		return true;		/* a parameter, such as "1;5" */
	} else if (c >= 0x40 && c <= 0x7e) {
		ed->le_esc = ESC_NONE;
		escape_key(ed, c);
		return true;
	}
	ed->le_esc = ESC_NONE;
	ed->le_dropped++;		/* a broken sequence: count its ESC */
	return false;
}

/* Feed one byte typed by the user to the line editor. */
static enum edit_result
edit_byte(struct lineedit *ed, int c)
{
	int last_eol = mon_last_eol;

	mon_last_eol = 0;
	if (ed->le_esc != ESC_NONE && escape_byte(ed, c))
		return EDIT_MORE;
	if (c == '\r' || c == '\n') {
		if (last_eol != 0 && last_eol != c)
			return EDIT_MORE;	/* the LF of CR LF, or LF CR */
		mon_last_eol = c;
		return EDIT_ENTER;
	}
	if (c >= ' ' && c < DEL) {
		insert_char(ed, c);
		return EDIT_MORE;
	}
	switch (c) {
	case '\b':
	case DEL:
		if (ed->le_cur > 0)
			erase_before(ed, 1);
		break;
	case CTRL('C'):
		return EDIT_CANCEL;
	case CTRL('L'):
		clear_screen(ed);
		break;
	case CTRL('U'):
		kill_line(ed);
		break;
	case CTRL('W'):
		erase_word(ed);
		break;
	case ESC:
		ed->le_esc = ESC_START;
		break;
	default:
		ed->le_dropped++;	/* other control bytes, bytes >= 0x80 */
		break;
	}
	return EDIT_MORE;
}

static void
lineedit_reset(struct lineedit *ed)
{
	ed->le_echo_len = 0;
	ed->le_buf[0] = '\0';
	ed->le_len = 0;
	ed->le_cur = 0;
	ed->le_toolong = false;
	ed->le_dropped = 0;
	ed->le_esc = ESC_NONE;
	ed->le_hist_pos = 0;
}

/*
 * Print the prompt and read one line into ed->le_buf, echoing and
 * editing as the user types, and redrawing the line when kernel output
 * has come below it.  Returns true when the line should be run; false
 * when it was abandoned (Ctrl-C) or was too long.
 */
bool
read_line(struct lineedit *ed)
{
	enum edit_result r = EDIT_MORE;
	int c;

	lineedit_reset(ed);
	show_line(ed, "");
	while (r == EDIT_MORE) {
		c = console_edit_getc();
		if (c < 0) {
			show_line(ed, "");	/* the output has gone quiet */
			continue;
		}
		r = edit_byte(ed, c);
		echo_flush(ed);
	}
	if (r == EDIT_CANCEL) {
		console_edit_end("^C\n", 3);
		return false;
	}
	console_edit_end("\n", 1);
	if (ed->le_dropped > 0)
		printf("monitor: ignored %d non-printable byte(s)\n",
		    ed->le_dropped);
	if (ed->le_toolong) {
		printf("monitor: line too long (more than %d characters); "
		    "ignored\n", MONITOR_LINE_MAX);
		return false;
	}
	return true;
}
