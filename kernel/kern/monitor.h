/*
 * The kernel monitor: a small command shell on COM1.  Each subsystem adds
 * its own commands next to its code:
 *
 *	static int
 *	mon_uptime(int argc, char **argv)
 *	{
 *		...
 *		return 0;
 *	}
 *	MONITOR_COMMAND(uptime, mon_uptime, "uptime",
 *	    "time since boot");
 *
 * A command returns 0 on success; on failure it prints its own message
 * (saying what was wrong and what to type instead) and returns non-zero.
 * argv[0] is the command name.  Commands run in the monitor thread (typed
 * on COM1) or in the host link's thread (a MONITOR request, whose output
 * is captured for the host); one at a time either way.  They may sleep.
 */
#ifndef _KERN_MONITOR_H_
#define _KERN_MONITOR_H_

#include <kern/linker_set.h>

#define MONITOR_MAXARGS	16

struct moncmd {
	const char	*mc_name;
	int		(*mc_func)(int argc, char **argv);
	const char	*mc_usage;	/* "halt [status]" */
	const char	*mc_help;	/* one line */
};

#define MONITOR_COMMAND(name, func, usage, help)			\
	static const struct moncmd __moncmd_##name =			\
	    { #name, func, usage, help };				\
	LINKER_SET_ENTRY(moncmd, __moncmd_##name)

/* Start the monitor thread: prompt, read, run, repeat. */
void	monitor_start(void);

/* Print a command's usage line ("usage: halt [status]"); returns 1. */
int	monitor_usage(int argc, char **argv);

#endif /* _KERN_MONITOR_H_ */
