/*
 * The kernel's own unit tests, run by the monitor's `selftest` command.
 *
 *	static int
 *	test_bzero(void)
 *	{
 *		char b[4] = "abc";
 *		bzero(b, sizeof(b));
 *		ST_ASSERT(b[0] == 0 && b[2] == 0);
 *		return 0;
 *	}
 *	SELFTEST(bzero, test_bzero);
 *
 * A test returns 0 when it passes.  ST_ASSERT prints the failed condition
 * with its file and line and makes the test return 1.  Tests run in a
 * kernel thread and may sleep, start threads and take locks; each must
 * leave the kernel as it found it (free what it allocates).
 */
#ifndef _KERN_SELFTEST_H_
#define _KERN_SELFTEST_H_

#include <sys/systm.h>
#include <kern/linker_set.h>

struct selftest {
	const char	*st_name;
	int		(*st_func)(void);
};

#define SELFTEST(name, func)						\
	static const struct selftest __selftest_##name = { #name, func }; \
	LINKER_SET_ENTRY(selftest, __selftest_##name)

#define ST_ASSERT(cond) do {						\
	if (!(cond)) {							\
		printf("    assertion failed: %s (%s:%d)\n",		\
		    #cond, __FILE__, __LINE__);				\
		return 1;						\
	}								\
} while (0)

/* Run every test whose name starts with `prefix` (NULL: all); returns
 * the number that failed. */
int	selftest_run(const char *prefix);

#endif /* _KERN_SELFTEST_H_ */
