/*
 * The profiler (kern/prof.h).  The clock's interrupt hands it the
 * address it interrupted; while the profiler is on, the address goes
 * into a fixed array, no lock, no lookup (the interrupted code may hold
 * any lock).  `prof` names them afterwards, in the monitor's thread:
 * each sample counts for the function that holds its address, kext
 * functions included, and the idle thread's loop shows the time the
 * CPU had nothing to do.  Samples past PROF_SAMPLES are counted, not
 * kept.  The clock ticks `hz` (100) times a second: a second of work
 * gives a hundred samples, enough to see what dominates, not to time
 * a small function.
 *
 * The clock cannot interrupt code that runs with interrupts off: its
 * tick waits, and lands where they come back on -- in simple_unlock,
 * say, for time spent holding a spin lock.  So each sample also keeps
 * the caller of the interrupted function (from its frame: the kernel
 * keeps frame pointers), and the report names, beside each function,
 * the callers its samples came from most.
 */
#include <sys/systm.h>
#include <kern/ksyms.h>
#include <kern/monitor.h>
#include <kern/prof.h>
#include <kern/thread_var.h>

#define PROF_SAMPLES	8192	/* 80 s at 100 Hz */
#define PROF_TOP	15	/* functions `prof` lists by default */

/* Written by the clock's interrupt while prof_on; read by `prof` once
 * it has turned prof_on off (or while on: a sample may then be torn,
 * which only misnames it). */
#define PROF_DEPTH	3	/* callers kept per sample */
static uint32_t		prof_pcs[PROF_SAMPLES];
static uint32_t		prof_callers[PROF_SAMPLES][PROF_DEPTH];	/* 0: none */
static volatile uint32_t prof_count;	/* samples taken, kept or not */
static volatile bool	prof_on;

/* The callers of the interrupted function: the return addresses in the
 * chain of frames from fp, as long as each frame lies in the current
 * thread's stack, above the one before (anything else would be read
 * blind, in an interrupt). */
static void
prof_walk(uint32_t fp, uint32_t *callers)
{
	thread_t th = current_thread();
	uint32_t lo, hi;
	int depth;

	bzero(callers, PROF_DEPTH * sizeof(*callers));
	if (th == NULL || th->th_stack == NULL)
		return;
	lo = (uint32_t)th->th_stack;
	hi = lo + THREAD_STACK_SIZE;
	for (depth = 0; depth < PROF_DEPTH; depth++) {
		if (fp < lo || fp > hi - 8 || (fp & 3) != 0)
			return;
		callers[depth] = ((const uint32_t *)fp)[1];
		if (((const uint32_t *)fp)[0] <= fp)
			return;		/* frames go up the stack */
		fp = ((const uint32_t *)fp)[0];
	}
}

void
prof_sample(uint32_t pc, uint32_t fp)
{
	uint32_t n;

	if (!prof_on)
		return;
	n = prof_count++;
	if (n < PROF_SAMPLES) {
		prof_pcs[n] = pc;
		prof_walk(fp, prof_callers[n]);
	}
}

/* The start of the function holding pc, 0 if none is known. */
static uint32_t
prof_func_of(uint32_t pc)
{
	struct ksym ks;

	return ksym_lookup(pc, &ks) ? ks.ks_start : 0;
}

/* One function of the report: its first byte and its samples. */
struct prof_func {
	uint32_t	pf_start;	/* 0: the address had no name */
	uint32_t	pf_samples;
	uint32_t	pf_pc;		/* one sampled address, to name it */
};

/* Count the kept samples per function into funcs (at most max; the
 * rest go to the last slot's "others"); returns how many slots. */
static int
prof_group(struct prof_func *funcs, int max)
{
	uint32_t i, kept = prof_count < PROF_SAMPLES ? prof_count :
	    PROF_SAMPLES;
	uint32_t start;
	int f, n = 0;

	for (i = 0; i < kept; i++) {
		start = prof_func_of(prof_pcs[i]);
		for (f = 0; f < n && funcs[f].pf_start != start; f++)
			continue;
		if (f == n) {
			if (n == max)
				f = max - 1;	/* full: counted as others */
			else {
				funcs[n].pf_start = start;
				funcs[n].pf_samples = 0;
				funcs[n].pf_pc = prof_pcs[i];
				n++;
			}
		}
		funcs[f].pf_samples++;
	}
	return n;
}

#define PROF_FUNCS	256	/* functions (and chains of callers) told apart */
#define PROF_CALLERS	3	/* chains of callers named per function */

static struct prof_func prof_funcs[PROF_FUNCS];	/* the monitor's */


/* One chain of callers of a function, and its samples. */
struct prof_chain {
	uint32_t	pc_start[PROF_DEPTH];	/* the callers' functions */
	uint32_t	pc_addr[PROF_DEPTH];	/* an address in each */
	uint32_t	pc_samples;
};

static struct prof_chain prof_chains[PROF_FUNCS];	/* the monitor's */

/* ", from a < b < c (n), ..." for the samples in the function at
 * start: the chains of callers they came from, most first. */
static void
prof_print_callers(uint32_t start, uint32_t kept)
{
	struct prof_chain chain;
	struct ksym ks;
	uint32_t i;
	int d, f, n = 0, best, shown;

	if (start == 0)
		return;
	for (i = 0; i < kept; i++) {
		if (prof_callers[i][0] == 0 || prof_func_of(prof_pcs[i]) != start)
			continue;
		bzero(&chain, sizeof(chain));
		for (d = 0; d < PROF_DEPTH && prof_callers[i][d] != 0; d++) {
			/* A return address may end its function: name
			 * the call instruction's. */
			chain.pc_addr[d] = prof_callers[i][d] - 1;
			chain.pc_start[d] = prof_func_of(chain.pc_addr[d]);
		}
		for (f = 0; f < n && memcmp(prof_chains[f].pc_start,
		    chain.pc_start, sizeof(chain.pc_start)) != 0; f++)
			continue;
		if (f == n) {
			if (n == PROF_FUNCS)
				continue;
			prof_chains[n++] = chain;
		}
		prof_chains[f].pc_samples++;
	}
	for (shown = 0; shown < PROF_CALLERS; shown++) {
		best = -1;
		for (f = 0; f < n; f++)
			if (prof_chains[f].pc_samples > 0 && (best < 0 ||
			    prof_chains[f].pc_samples >
			    prof_chains[best].pc_samples))
				best = f;
		if (best < 0)
			return;
		printf("%s", shown == 0 ? ", from " : ", ");
		for (d = 0; d < PROF_DEPTH &&
		    prof_chains[best].pc_addr[d] != 0; d++)
			printf("%s%s", d > 0 ? " < " : "",
			    prof_chains[best].pc_start[d] != 0 &&
			    ksym_lookup(prof_chains[best].pc_addr[d], &ks) ?
			    ks.ks_name : "?");
		printf(" (%u)", prof_chains[best].pc_samples);
		prof_chains[best].pc_samples = 0;	/* shown */
	}
}

static void
prof_report(int top)
{
	uint32_t kept = prof_count < PROF_SAMPLES ? prof_count : PROF_SAMPLES;
	char name[KSYM_TEXT_MAX];
	struct prof_func tmp;
	struct ksym ks;
	int i, j, n;

	printf("prof: %s, %u samples at %d Hz", prof_on ? "on" : "off",
	    prof_count, hz);
	if (prof_count > PROF_SAMPLES)
		printf(" (%u kept)", PROF_SAMPLES);
	printf("\n");
	if (kept == 0)
		return;
	n = prof_group(prof_funcs, PROF_FUNCS);
	for (i = 1; i < n; i++)		/* most samples first */
		for (j = i; j > 0 && prof_funcs[j].pf_samples >
		    prof_funcs[j - 1].pf_samples; j--) {
			tmp = prof_funcs[j];
			prof_funcs[j] = prof_funcs[j - 1];
			prof_funcs[j - 1] = tmp;
		}
	printf("%7s %7s  %s\n", "samples", "share", "function");
	for (i = 0; i < n && i < top; i++) {
		if (prof_funcs[i].pf_start == 0)
			strlcpy(name, "(no name)", sizeof(name));
		else if (ksym_lookup(prof_funcs[i].pf_pc, &ks) &&
		    ks.ks_kext[0] != '\0')
			snprintf(name, sizeof(name), "%s (%s)", ks.ks_name,
			    ks.ks_kext);
		else
			strlcpy(name, ks.ks_name, sizeof(name));
		printf("%7u %6u%%  %s", prof_funcs[i].pf_samples,
		    (prof_funcs[i].pf_samples * 100 + kept / 2) / kept, name);
		prof_print_callers(prof_funcs[i].pf_start, kept);
		printf("\n");
	}
	if (n > top)
		printf("(%d more functions)\n", n - top);
}

static int
mon_prof(int argc, char **argv)
{
	long top = PROF_TOP;
	char *end;

	if (argc == 2 && strcmp(argv[1], "start") == 0) {
		prof_on = false;
		prof_count = 0;
		prof_on = true;
		printf("prof: on, sampling %d times a second\n", hz);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "stop") == 0) {
		prof_on = false;
		prof_report(PROF_TOP);
		return 0;
	}
	if (argc == 2) {
		top = strtol(argv[1], &end, 10);
		if (*end != '\0' || top < 1) {
			printf("prof: %s: give start, stop or how many "
			    "functions to list\n", argv[1]);
			return 1;
		}
	} else if (argc > 2) {
		printf("usage: prof [start | stop | N]\n");
		return 1;
	}
	prof_report((int)top);
	return 0;
}
MONITOR_COMMAND(prof, mon_prof, "prof [start | stop | N]",
    "sample the code the clock interrupts: start, stop, or list the N "
    "functions sampled most");
