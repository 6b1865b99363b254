/*
 * The kernel monitor: the command shell on COM1.  Its thread reads a
 * line at the prompt (lineedit.c), splits it into argv and runs the
 * command of that name from the `moncmd` linker set (monitor.h); the host
 * link's MONITOR requests use the same dispatcher.  Also `help`,
 * `version`, `uptime` and `clear`.
 */
#include <sys/systm.h>
#include <kern/console.h>
#include <kern/lineedit.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/monitor_var.h>
#include <kern/thread.h>
#include <kern/thread_var.h>
#include <kern/version.h>

LINKER_SET_DECLARE(moncmd, struct moncmd);

/* The line being typed at the prompt (monitor thread only). */
static struct lineedit	mon_line;

/*
 * Commands run one at a time, whoever asked (the monitor thread or the
 * host link thread): they were written for one shell and keep state in
 * static buffers.
 */
static lck_mtx_t	mon_cmd_lock;

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

/* ---- help, version, uptime, clear ---- */

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

/* What students type first to tidy the screen; Ctrl-L does the same. */
static int
mon_clear(int argc, char **argv)
{
	if (argc != 1)
		return monitor_usage(argc, argv);
	printf("%s", CONSOLE_CLEAR_SCREEN);
	return 0;
}
MONITOR_COMMAND(clear, mon_clear, "clear",
    "clear the screen (as Ctrl-L does)");
