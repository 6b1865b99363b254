/*
 * The time-stamp counter as Finch's uptime clock.  The PIT (pit.c) keeps
 * the ticks and is the reference: at boot we count how far the TSC runs
 * while the PIT says 25 ms pass, and from then on uptime is the TSC's
 * count, scaled.  Why: reading the PIT's counter takes five port
 * accesses, each of which leaves the guest for QEMU's device model, and
 * TCP reads the clock for every segment -- those reads were half of
 * Finch's CPU time while sending.  RDTSC is one instruction, and under
 * QEMU (TCG) it reads the host's TSC, which never goes back and runs at
 * a steady rate beside the PIT, which QEMU also times by the host's
 * clock.  A CPU without a TSC keeps the PIT as its clock.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <i386/cpu.h>
#include <kern/clock_var.h>
#include <kern/monitor.h>

#define TSC_CALIBRATE_NS	(25 * NSEC_PER_MSEC)
#define TSC_PAIR_TRIES		5
#define CPUID_1_EDX_TSC		(1u << 4)

/*
 * Uptime = tsc_base_ns + (TSC - tsc_base) * tsc_mult / 2^tsc_shift.
 * Set once at boot, before tsc_ready; read-only afterwards.
 */
static bool tsc_ready;
static uint64_t tsc_base;		/* TSC at the calibration's end */
static uint64_t tsc_base_ns;		/* the PIT's uptime then */
static uint32_t tsc_mult;
static unsigned tsc_shift;
static uint64_t tsc_hz;			/* for the `clock` command */
static uint64_t tsc_bracket;		/* calibration's widest pair read */

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static bool
cpu_has_tsc(void)
{
	uint32_t eax = 1, ebx, ecx, edx;

	__asm__ volatile("cpuid"
	    : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
	return (edx & CPUID_1_EDX_TSC) != 0;
}

/* counts * mult / 2^shift, exactly, for any 64-bit count. */
static uint64_t
tsc_scale(uint64_t counts)
{
	uint64_t hi = (counts >> 32) * tsc_mult;
	uint64_t lo = (counts & 0xffffffffu) * tsc_mult;

	return (hi << (32 - tsc_shift)) + (lo >> tsc_shift);
}

/*
 * One (TSC, PIT uptime) pair: the TSC read just before and just after
 * the PIT, keeping the tightest of a few tries (the host may stop us in
 * the middle of one).  The pair's TSC is the middle of its bracket,
 * whose width (in TSC counts) we return.
 */
static uint64_t
tsc_read_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t before, after, best = UINT64_MAX;
	boolean_t intr;
	int i;

	for (i = 0; i < TSC_PAIR_TRIES; i++) {
		intr = ml_set_interrupts_enabled(FALSE);
		before = rdtsc();
		*ns = pit_uptime_ns();
		after = rdtsc();
		ml_set_interrupts_enabled(intr);
		if (after - before < best) {
			best = after - before;
			*tsc = before + best / 2;
		}
	}
	return best;
}

/*
 * Calibrate (the PIT must be running, with interrupts on).  Returns
 * whether the TSC is now the uptime clock.
 */
bool
tsc_init(void)
{
	uint64_t tsc0, ns0, tsc1, ns1, mult;

	if (!cpu_has_tsc())
		return false;
	tsc_bracket = tsc_read_pair(&tsc0, &ns0);
	pit_delay(TSC_CALIBRATE_NS);
	tsc_bracket = MAX(tsc_bracket, tsc_read_pair(&tsc1, &ns1));
	if (tsc1 <= tsc0 || ns1 <= ns0)
		return false;
	tsc_hz = (tsc1 - tsc0) * NSEC_PER_SEC / (ns1 - ns0);

	/* The largest shift (precision) whose multiplier fits 32 bits. */
	for (tsc_shift = 32; tsc_shift > 0; tsc_shift--) {
		mult = ((ns1 - ns0) << tsc_shift) / (tsc1 - tsc0);
		if (mult <= UINT32_MAX)
			break;
	}
	tsc_mult = mult;
	/*
	 * Start from the later pair: the PIT said ns1 at TSC tsc1, no PIT
	 * reading before it said more, and the TSC never goes back, so
	 * uptime stays monotonic across the switch.
	 */
	tsc_base = tsc1;
	tsc_base_ns = ns1;
	tsc_ready = true;
	return true;
}

bool
tsc_is_clock(void)
{
	return tsc_ready;
}

/* Reads no port and takes no lock: callable anywhere, interrupts on or
 * off.  Only after tsc_init() said yes. */
uint64_t
tsc_uptime_ns(void)
{
	return tsc_base_ns + tsc_scale(rdtsc() - tsc_base);
}

/*
 * `clock`: which clock keeps uptime and how well the TSC agrees with the
 * PIT now.  The difference grows with a calibration error (parts per
 * million of uptime); each pair read adds up to half its bracket.
 */
static int
mon_clock(int argc, char **argv)
{
	uint64_t pit, tsc;
	int64_t diff;

	if (argc != 1)
		return monitor_usage(argc, argv);
	printf("ticks: PIT at %d Hz\n", hz);
	if (!tsc_ready) {
		printf("uptime: PIT (no TSC)\n");
		return 0;
	}
	printf("uptime: TSC at %llu.%06llu MHz, calibrated against the PIT "
	    "over %llu ms (pair reads within %llu counts)\n",
	    tsc_hz / 1000000, tsc_hz % 1000000,
	    TSC_CALIBRATE_NS / NSEC_PER_MSEC, tsc_bracket);
	tsc_read_pair(&tsc, &pit);
	tsc = tsc_base_ns + tsc_scale(tsc - tsc_base);
	diff = (int64_t)(tsc - pit);
	printf("now: TSC %llu ns, PIT %llu ns: TSC - PIT = %lld us "
	    "(%lld ppm of uptime)\n", tsc, pit, diff / 1000,
	    pit > 0 ? diff * 1000000 / (int64_t)pit : 0);
	return 0;
}
MONITOR_COMMAND(clock, mon_clock, "clock",
    "uptime's clock (TSC or PIT) and how it agrees with the PIT");
