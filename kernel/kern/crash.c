/*
 * The monitor's `crash` command: bring the kernel down on purpose, so
 * that a student sees what a panic report looks like and the tests can
 * check that the host names the right function and line.  Each crash is
 * its own small function, kept out of line so that it shows up by name.
 */
#include <sys/systm.h>
#include <kern/monitor.h>

/*
 * Volatile globals: the compiler must load them at run time, so it
 * cannot see that the pointer is NULL or the divisor zero, and cannot
 * remove the faulting instruction or replace the division by a trick.
 */
static volatile int *volatile crash_null_pointer = NULL;
static void (*volatile crash_null_function)(void) = NULL;
static volatile int crash_dividend = 1;
static volatile int crash_zero = 0;
static volatile int crash_sink;		/* where the results go */

/* Read page 0, which is never mapped: a page fault (trap 14). */
static __attribute__((noinline, noclone)) void
crash_null_deref(void)
{
	crash_sink = *crash_null_pointer;
}

/* Divide by zero: a divide error (trap 0). */
static __attribute__((noinline, noclone)) void
crash_divide_by_zero(void)
{
	crash_sink = crash_dividend / crash_zero;
}

/* Call through a NULL function pointer: a page fault at EIP 0. */
static __attribute__((noinline, noclone)) void
crash_null_call(void)
{
	crash_null_function();
	crash_sink = 0;		/* not a tail call: this frame stays */
}

/*
 * Recurse until the stack runs into its guard page: a double fault.  The
 * volatile flag keeps the compiler from seeing that it never ends (and
 * from refusing to build it).
 */
static volatile int crash_deeper = 1;

static __attribute__((noinline, noclone)) int
crash_stack_overflow(int depth)
{
	volatile char frame[64];

	frame[0] = (char)depth;
	if (crash_deeper)
		return crash_stack_overflow(depth + 1) + frame[0];
	return frame[0];
}

/* Call panic() directly, as kernel code does when it finds a bug. */
static __attribute__((noinline, noclone)) void
crash_panic(void)
{
	panic("crash: panic requested from the monitor");
}

static int
mon_crash(int argc, char **argv)
{
	if (argc != 2)
		return monitor_usage(argc, argv);
	if (strcmp(argv[1], "null") == 0)
		crash_null_deref();
	else if (strcmp(argv[1], "div0") == 0)
		crash_divide_by_zero();
	else if (strcmp(argv[1], "nullcall") == 0)
		crash_null_call();
	else if (strcmp(argv[1], "overflow") == 0)
		crash_sink = crash_stack_overflow(0);
	else if (strcmp(argv[1], "panic") == 0)
		crash_panic();
	else
		return monitor_usage(argc, argv);
	printf("crash: the kernel survived 'crash %s'\n", argv[1]);
	return 1;
}
MONITOR_COMMAND(crash, mon_crash, "crash null|nullcall|div0|overflow|panic",
    "crash the kernel on purpose: NULL read, call through NULL, divide by "
    "zero, kernel stack overflow, or panic");
