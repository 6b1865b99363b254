/*
 * The selftest runner: walks the `selftest` linker set (selftest.h) in
 * link order, prints one result line per test and a total, and backs
 * the monitor's `selftest [prefix]` command.  A test's own messages
 * come just before its result line; a test that panics is named by the
 * panic's backtrace.  Also the monitor's argv splitter's test.
 */
#include <sys/systm.h>
#include <kern/monitor.h>
#include <kern/monitor_var.h>
#include <kern/selftest.h>

#define FAILED_SHOWN	32	/* failed tests named in the summary */

LINKER_SET_DECLARE(selftest, struct selftest);

static bool
selftest_matches(const struct selftest *st, const char *prefix)
{
	return prefix == NULL || strncmp(st->st_name, prefix,
	    strlen(prefix)) == 0;
}

static int
selftest_count(const char *prefix)
{
	struct selftest **stp;
	int n = 0;

	LINKER_SET_FOREACH(selftest, stp) {
		if (selftest_matches(*stp, prefix))
			n++;
	}
	return n;
}

/* "selftest: failed: a b c", before the total, when any failed. */
static void
selftest_print_failed(const struct selftest **failed, int nfailed)
{
	int i;

	if (nfailed == 0)
		return;
	printf("selftest: failed:");
	for (i = 0; i < nfailed && i < FAILED_SHOWN; i++)
		printf(" %s", failed[i]->st_name);
	if (nfailed > FAILED_SHOWN)
		printf(" (and %d more)", nfailed - FAILED_SHOWN);
	printf("\n");
}

int
selftest_run(const char *prefix)
{
	const struct selftest *failed[FAILED_SHOWN];
	struct selftest **stp;
	int passed = 0, nfailed = 0;

	LINKER_SET_FOREACH(selftest, stp) {
		if (!selftest_matches(*stp, prefix))
			continue;
		if ((*stp)->st_func() == 0) {
			printf("selftest: %s ... ok\n", (*stp)->st_name);
			passed++;
			continue;
		}
		printf("selftest: %s ... FAILED\n", (*stp)->st_name);
		if (nfailed < FAILED_SHOWN)
			failed[nfailed] = *stp;
		nfailed++;
	}
	selftest_print_failed(failed, nfailed);
	printf("selftest: %d passed, %d failed\n", passed, nfailed);
	return nfailed;
}

static int
mon_selftest(int argc, char **argv)
{
	const char *prefix = argc == 2 ? argv[1] : NULL;

	if (argc > 2)
		return monitor_usage(argc, argv);
	if (selftest_count(prefix) == 0) {
		printf("selftest: no test name starts with '%s'; "
		    "type 'selftest' to run them all\n", prefix);
		return 1;
	}
	return selftest_run(prefix) != 0;
}
MONITOR_COMMAND(selftest, mon_selftest, "selftest [prefix]",
    "run the kernel's unit tests (those whose names start with prefix)");

/* ---- the monitor's argv splitter ---- */

/* Split `line` (copied) and check argc and every word against want[]. */
static bool
split_is(const char *line, int want_argc, const char *const *want)
{
	char buf[64], *argv[5];
	int argc, i;

	strlcpy(buf, line, sizeof(buf));
	if (monitor_split(buf, argv, 4, &argc) != 0 || argc != want_argc ||
	    argv[argc] != NULL) {
		printf("    '%s': wrong argc %d, want %d\n", line, argc,
		    want_argc);
		return false;
	}
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], want[i]) != 0) {
			printf("    '%s': argv[%d] is '%s', want '%s'\n", line,
			    i, argv[i], want[i]);
			return false;
		}
	}
	return true;
}

static errno_t
split_error(const char *line)
{
	char buf[64], *argv[5];
	int argc;

	strlcpy(buf, line, sizeof(buf));
	return monitor_split(buf, argv, 4, &argc);
}

static int
test_monitor_split(void)
{
	static const char *const words[] = { "halt", "3" };
	static const char *const quoted[] = { "say", "hello  world", "x" };
	static const char *const glued[] = { "ab cd" };
	static const char *const empty[] = { "" };
	static const char *const four[] = { "a", "b", "c", "d" };

	ST_ASSERT(split_is("", 0, NULL));
	ST_ASSERT(split_is(" \t ", 0, NULL));
	ST_ASSERT(split_is("halt 3", 2, words));
	ST_ASSERT(split_is("  halt\t 3 ", 2, words));
	ST_ASSERT(split_is("say \"hello  world\" x", 3, quoted));
	ST_ASSERT(split_is("a\"b c\"d", 1, glued));
	ST_ASSERT(split_is("\"\"", 1, empty));
	ST_ASSERT(split_is("a b c d", 4, four));
	ST_ASSERT(split_error("say \"oops") == EINVAL);
	ST_ASSERT(split_error("a b c d e") == E2BIG);
	return 0;
}
SELFTEST(monitor_split, test_monitor_split);
