/*
 * Monitor internals shared with the line editor, selftest.c and the host
 * link: the longest command line and the prompt, the splitter that turns
 * a line into argv (so that its quoting rules have a unit test), and the
 * dispatcher that runs one line for the host link's MONITOR requests.
 */
#ifndef _KERN_MONITOR_VAR_H_
#define _KERN_MONITOR_VAR_H_

#include <sys/types.h>

#define MONITOR_LINE_MAX	255	/* characters in one command line */
#define MONITOR_PROMPT	"finch> "	/* before each line read on COM1 */

/*
 * Split `line` in place into words separated by spaces and tabs; double
 * quotes group words ("a b" is one word) and are removed.  argv must
 * have room for maxargs + 1 pointers; argv[*argcp] is NULL.  Returns 0,
 * EINVAL when a quote is not closed, or E2BIG when there are more than
 * maxargs words (*argcp is then 0).
 */
errno_t	monitor_split(char *line, char **argv, int maxargs, int *argcp);

/* Get the dispatcher ready; before any command runs (boot). */
void	monitor_init(void);

/*
 * Run one command line as if typed at the prompt; `line` is split in
 * place.  Returns 0 when the command succeeded (or the line is blank),
 * ENOENT when no command has that name, EINVAL when the line cannot be
 * split or the command returned non-zero.  Every message, including
 * why it failed, is printed as usual.  Commands run one at a time, so
 * this may sleep; thread context only.
 */
errno_t	monitor_execute(char *line);

/* monitor_execute(), printing into buf (len bytes) instead of COM1;
 * *outlen is how much was printed there. */
errno_t	monitor_execute_captured(char *line, char *buf, size_t len,
	    size_t *outlen);

#endif /* _KERN_MONITOR_VAR_H_ */
