/*
 * Monitor internals shared with selftest.c: the longest command line and
 * the splitter that turns a line into argv, so that its quoting rules
 * have a unit test.
 */
#ifndef _KERN_MONITOR_VAR_H_
#define _KERN_MONITOR_VAR_H_

#include <sys/types.h>

#define MONITOR_LINE_MAX	255	/* characters in one command line */

/*
 * Split `line` in place into words separated by spaces and tabs; double
 * quotes group words ("a b" is one word) and are removed.  argv must
 * have room for maxargs + 1 pointers; argv[*argcp] is NULL.  Returns 0,
 * EINVAL when a quote is not closed, or E2BIG when there are more than
 * maxargs words (*argcp is then 0).
 */
errno_t	monitor_split(char *line, char **argv, int maxargs, int *argcp);

#endif /* _KERN_MONITOR_VAR_H_ */
