/*
 * The kernel monitor: the command shell a student types into on COM1.
 * One thread prints the prompt, reads a line with simple editing and
 * history, splits it into argv and runs the command of that name from
 * the `moncmd` linker set (see monitor.h).  The host link's MONITOR
 * requests run lines through the same dispatcher.  Also `help`,
 * `version` and `uptime`.
 */
#include <sys/systm.h>
#include <kern/console.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/monitor_var.h>
#include <kern/thread.h>
#include <kern/thread_var.h>
#include <kern/version.h>

#define PROMPT		"finch> "
#define HISTORY_MAX	16		/* lines the up arrow can recall */
#define CTRL(c)		((c) & 0x1f)	/* CTRL('U') is 0x15 */
#define ESC		0x1b
#define DEL		0x7f

LINKER_SET_DECLARE(moncmd, struct moncmd);

/* Where we are in an escape sequence such as ESC [ A (up arrow). */
enum esc_state {
	ESC_NONE,	/* not in one */
	ESC_START,	/* after ESC */
	ESC_CSI,	/* after ESC [ (or ESC O): parameters, then a letter */
};

/* What the last byte did to the line being read. */
enum edit_result {
	EDIT_MORE,	/* keep reading */
	EDIT_ENTER,	/* the line is finished */
	EDIT_CANCEL,	/* Ctrl-C: forget it */
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
};

static struct lineedit	mon_line;

/*
 * Commands run one at a time, whoever asked (the monitor thread or the
 * host link thread): they were written for one shell and keep state in
 * static buffers.
 */
static lck_mtx_t	mon_cmd_lock;

/* CR or LF if the previous byte ended a line, so CR LF counts once. */
static int		mon_last_eol;

/* The last HISTORY_MAX lines run, in a ring (monitor thread only). */
static char		mon_history[HISTORY_MAX][MONITOR_LINE_MAX + 1];
static int		mon_history_count;	/* lines stored */
static int		mon_history_next;	/* the slot the next one uses */

/* ---- echo: what the terminal shows follows le_buf and le_cur ---- */

static void
echo(const char *s, int n)
{
	if (n > 0)
		console_write(s, n);
}

static void
echo_repeat(int c, int n)
{
	while (n-- > 0)
		console_putc(c);
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

	echo(ed->le_buf + ed->le_cur, n);
	echo_repeat(' ', erase);
	echo_repeat('\b', n + erase);
}

/* Move the cursor to `pos`: backspace left, or retype the text right. */
static void
move_cursor(struct lineedit *ed, int pos)
{
	if (pos < ed->le_cur)
		echo_repeat('\b', ed->le_cur - pos);
	else
		echo(ed->le_buf + ed->le_cur, pos - ed->le_cur);
	ed->le_cur = pos;
}

/* ---- editing ---- */

static void
insert_char(struct lineedit *ed, int c)
{
	char *at = ed->le_buf + ed->le_cur;

	if (ed->le_len == MONITOR_LINE_MAX) {
		if (!ed->le_toolong)
			console_putc('\a');	/* the bell, once */
		ed->le_toolong = true;
		return;
	}
	memmove(at + 1, at, ed->le_len - ed->le_cur + 1);
	*at = c;
	ed->le_len++;
	ed->le_cur++;
	console_putc(c);
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
	echo_repeat('\b', n);
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

/* Ctrl-L: print the prompt and the line again, on a fresh line. */
static void
reprint_line(struct lineedit *ed)
{
	printf("\n%s%s", PROMPT, ed->le_buf);
	echo_repeat('\b', ed->le_len - ed->le_cur);
}

/* ---- history ---- */

/* The n-th latest line (1 is the latest), 1 <= n <= mon_history_count. */
static const char *
history_get(int n)
{
	return mon_history[(mon_history_next - n + HISTORY_MAX) % HISTORY_MAX];
}

/* Remember a line that was run, unless it repeats the latest one. */
static void
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
		reprint_line(ed);
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
	ed->le_buf[0] = '\0';
	ed->le_len = 0;
	ed->le_cur = 0;
	ed->le_toolong = false;
	ed->le_dropped = 0;
	ed->le_esc = ESC_NONE;
	ed->le_hist_pos = 0;
}

/*
 * Read one line into ed->le_buf, echoing and editing as the user types.
 * Returns true when the line should be run; false when it was abandoned
 * (Ctrl-C) or was too long.
 */
static bool
read_line(struct lineedit *ed)
{
	enum edit_result r;

	lineedit_reset(ed);
	do {
		r = edit_byte(ed, console_getc());
	} while (r == EDIT_MORE);

	if (r == EDIT_CANCEL) {
		printf("^C\n");
		return false;
	}
	printf("\n");
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

/* ---- running a command ---- */

errno_t
monitor_split(char *line, char **argv, int maxargs, int *argcp)
{
	char *r = line, *w = line;	/* read and write: w never passes r */
	bool quoted = false;
	int argc = 0;

	*argcp = 0;
	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '\0')
			break;
		if (argc == maxargs)
			return E2BIG;
		argv[argc++] = w;
		for (; *r != '\0'; r++) {	/* one word, without its quotes */
			if (*r == '"')
				quoted = !quoted;
			else if (!quoted && (*r == ' ' || *r == '\t'))
				break;
			else
				*w++ = *r;
		}
		if (quoted)
			return EINVAL;
		if (*r != '\0')
			r++;			/* past the space ending the word */
		*w++ = '\0';
	}
	argv[argc] = NULL;
	*argcp = argc;
	return 0;
}

static const struct moncmd *
monitor_lookup(const char *name)
{
	struct moncmd **mcp;

	LINKER_SET_FOREACH(moncmd, mcp) {
		if (strcmp((*mcp)->mc_name, name) == 0)
			return *mcp;
	}
	return NULL;
}

/* Split and run one line; mon_cmd_lock is held. */
static errno_t
monitor_execute_locked(char *line)
{
	char *argv[MONITOR_MAXARGS + 1];
	const struct moncmd *mc;
	int argc;
	errno_t error;

	error = monitor_split(line, argv, MONITOR_MAXARGS, &argc);
	if (error == EINVAL) {
		printf("monitor: a double quote (\") is not closed; "
		    "line ignored\n");
		return EINVAL;
	}
	if (error == E2BIG) {
		printf("monitor: too many words (at most %d); line ignored\n",
		    MONITOR_MAXARGS);
		return EINVAL;
	}
	if (argc == 0)
		return 0;
	mc = monitor_lookup(argv[0]);
	if (mc == NULL) {
		printf("monitor: unknown command '%s'; type 'help' for the "
		    "list\n", argv[0]);
		return ENOENT;
	}
	/* A failing command has printed its own message. */
	return mc->mc_func(argc, argv) == 0 ? 0 : EINVAL;
}

errno_t
monitor_execute(char *line)
{
	errno_t error;

	lck_mtx_lock(&mon_cmd_lock);
	error = monitor_execute_locked(line);
	lck_mtx_unlock(&mon_cmd_lock);
	return error;
}

/*
 * The same, with what the command prints going into buf (up to len bytes;
 * *outlen says how many).  The capture starts only once the command lock
 * is ours, so that waiting for a long COM1 command holds no capture.
 */
errno_t
monitor_execute_captured(char *line, char *buf, size_t len, size_t *outlen)
{
	struct console_capture cc;
	errno_t error;

	*outlen = 0;
	lck_mtx_lock(&mon_cmd_lock);
	error = console_capture_begin(&cc, buf, len);
	if (error == 0) {
		error = monitor_execute_locked(line);
		*outlen = console_capture_end(&cc);
	}
	lck_mtx_unlock(&mon_cmd_lock);
	return error;
}

static bool
line_is_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

static void
monitor_thread(void *parameter, int wait_result)
{
	for (;;) {
		console_write(PROMPT, sizeof(PROMPT) - 1);
		if (!read_line(&mon_line) || line_is_blank(mon_line.le_buf))
			continue;
		history_add(mon_line.le_buf);
		(void)monitor_execute(mon_line.le_buf);	/* it said why */
	}
}

void
monitor_init(void)
{
	lck_mtx_init(&mon_cmd_lock, NULL, NULL);
}

void
monitor_start(void)
{
	thread_t t;

	if (kernel_thread_start(monitor_thread, NULL, &t) != KERN_SUCCESS)
		panic("monitor: cannot start the monitor thread");
	thread_set_name(t, "monitor");
	thread_deallocate(t);
}

int
monitor_usage(int argc, char **argv)
{
	const struct moncmd *mc = monitor_lookup(argv[0]);

	printf("usage: %s\n", mc != NULL ? mc->mc_usage : argv[0]);
	return 1;
}

/* ---- help, version, uptime ---- */

/* The command whose name sorts just after prev's (NULL: the first). */
static const struct moncmd *
next_by_name(const struct moncmd *prev)
{
	struct moncmd **mcp;
	const struct moncmd *best = NULL;

	LINKER_SET_FOREACH(moncmd, mcp) {
		if (prev != NULL && strcmp((*mcp)->mc_name, prev->mc_name) <= 0)
			continue;
		if (best == NULL || strcmp((*mcp)->mc_name, best->mc_name) < 0)
			best = *mcp;
	}
	return best;
}

/* Usages wider than this get their help on the next line (80 columns). */
#define HELP_USAGE_MAX	30

static int
mon_help(int argc, char **argv)
{
	const struct moncmd *mc;
	int width = 0, len;

	if (argc > 2)
		return monitor_usage(argc, argv);
	if (argc == 2) {
		mc = monitor_lookup(argv[1]);
		if (mc == NULL) {
			printf("help: no command '%s'; type 'help' for the "
			    "list\n", argv[1]);
			return 1;
		}
		printf("usage: %s\n    %s\n", mc->mc_usage, mc->mc_help);
		return 0;
	}
	for (mc = next_by_name(NULL); mc != NULL; mc = next_by_name(mc)) {
		len = strlen(mc->mc_usage);
		if (len <= HELP_USAGE_MAX)
			width = imax(width, len);
	}
	for (mc = next_by_name(NULL); mc != NULL; mc = next_by_name(mc)) {
		if ((int)strlen(mc->mc_usage) > width)
			printf("  %s\n  %-*s  %s\n", mc->mc_usage, width, "",
			    mc->mc_help);
		else
			printf("  %-*s  %s\n", width, mc->mc_usage,
			    mc->mc_help);
	}
	return 0;
}
MONITOR_COMMAND(help, mon_help, "help [command]",
    "list the commands, or show how to use one");

static int
mon_version(int argc, char **argv)
{
	if (argc != 1)
		return monitor_usage(argc, argv);
	printf("Finch %s (build %s, %s) i386\n", finch_version,
	    finch_build_id, finch_build_date);
	return 0;
}
MONITOR_COMMAND(version, mon_version, "version",
    "kernel version, build id and build date");

static int
mon_uptime(int argc, char **argv)
{
	struct timespec ts;
	long s, ms;

	if (argc != 1)
		return monitor_usage(argc, argv);
	nanouptime(&ts);
	s = ts.tv_sec;
	ms = ts.tv_nsec / 1000000;
	printf("up %ldd %02ld:%02ld:%02ld.%03ld (%ld.%03ld s)\n", s / 86400,
	    s / 3600 % 24, s / 60 % 60, s % 60, ms, s, ms);
	return 0;
}
MONITOR_COMMAND(uptime, mon_uptime, "uptime", "time since boot");
