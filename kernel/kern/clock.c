/*
 * Time: mach_absolute_time (nanoseconds since boot, from the TSC or the
 * PIT: see i386/tsc.c), the
 * BSD views of it (microuptime, nanotime, ...), conversions, and the
 * clock tick that drives timers and time slices.  Finch has no
 * battery-backed clock reader yet, so the time of day starts at boot.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <kern/clock_var.h>
#include <kern/sched_prim.h>
#include <kern/timer_call.h>

uint64_t
mach_absolute_time(void)
{
	if (tsc_is_clock())
		return tsc_uptime_ns();
	return pit_uptime_ns();
}

kern_return_t
mach_timebase_info(mach_timebase_info_t info)
{
	info->numer = 1;
	info->denom = 1;
	return KERN_SUCCESS;
}

static uint64_t clock_last_tick;	/* when the last tick was taken */
static uint64_t clock_ticks;		/* how many were taken */

void
clock_tick(void)
{
	clock_last_tick = mach_absolute_time();
	clock_ticks++;
	timer_call_expire(clock_last_tick);
	sched_clock_tick();
}

/*
 * Timers are only looked at on ticks.  A deadline of "now + n ticks" made
 * just after a tick would wait for tick n+1; aiming half a tick before
 * tick n makes a timeout of n ticks fire on the n-th tick, as in BSD.
 */
uint64_t
clock_tick_deadline(int ticks)
{
	uint64_t tick_ns = NSEC_PER_SEC / hz;

	return mach_approximate_time() + ticks * tick_ns - tick_ns / 2;
}

uint64_t
clock_ticks_taken(void)
{
	boolean_t intr = ml_set_interrupts_enabled(FALSE);
	uint64_t n = clock_ticks;

	ml_set_interrupts_enabled(intr);
	return n;
}

uint64_t
mach_approximate_time(void)
{
	/* 64 bits are two loads: no tick in between. */
	boolean_t intr = ml_set_interrupts_enabled(FALSE);
	uint64_t last = clock_last_tick;

	ml_set_interrupts_enabled(intr);
	return last;
}

void
clock_get_uptime(uint64_t *result)
{
	*result = mach_absolute_time();
}

void
clock_interval_to_deadline(uint32_t interval, uint32_t scale_factor,
    uint64_t *result)
{
	*result = mach_absolute_time() + (uint64_t)interval * scale_factor;
}

void
clock_absolutetime_interval_to_deadline(uint64_t abstime, uint64_t *result)
{
	*result = mach_absolute_time() + abstime;
}

void
clock_interval_to_absolutetime_interval(uint32_t interval,
    uint32_t scale_factor, uint64_t *result)
{
	*result = (uint64_t)interval * scale_factor;
}

void
clock_deadline_for_periodic_event(uint64_t interval, uint64_t abstime,
    uint64_t *deadline)
{
	*deadline += interval;
	if (*deadline <= abstime)
		*deadline = abstime + interval;
}

void
absolutetime_to_nanoseconds(uint64_t abstime, uint64_t *result)
{
	*result = abstime;
}

void
nanoseconds_to_absolutetime(uint64_t nanoseconds, uint64_t *result)
{
	*result = nanoseconds;
}

void
clock_get_system_nanotime(uint32_t *secs, uint32_t *nanosecs)
{
	uint64_t now = mach_absolute_time();

	*secs = now / NSEC_PER_SEC;
	*nanosecs = now % NSEC_PER_SEC;
}

void
clock_get_system_microtime(uint32_t *secs, uint32_t *microsecs)
{
	uint32_t ns;

	clock_get_system_nanotime(secs, &ns);
	*microsecs = ns / NSEC_PER_USEC;
}

void
clock_get_calendar_nanotime(uint32_t *secs, uint32_t *nanosecs)
{
	clock_get_system_nanotime(secs, nanosecs);
}

void
clock_get_calendar_microtime(uint32_t *secs, uint32_t *microsecs)
{
	clock_get_system_microtime(secs, microsecs);
}

void
nanouptime(struct timespec *ts)
{
	uint32_t s, ns;

	clock_get_system_nanotime(&s, &ns);
	ts->tv_sec = s;
	ts->tv_nsec = ns;
}

void
microuptime(struct timeval *tv)
{
	uint32_t s, us;

	clock_get_system_microtime(&s, &us);
	tv->tv_sec = s;
	tv->tv_usec = us;
}

void
nanotime(struct timespec *ts)
{
	nanouptime(ts);
}

void
microtime(struct timeval *tv)
{
	microuptime(tv);
}

/*
 * Spin `ns` nanoseconds, interrupts on or off.  With the TSC as the clock
 * we watch uptime itself, so a delay agrees with mach_absolute_time();
 * the PIT's uptime stalls with interrupts off, so without a TSC we count
 * the PIT's counter instead.
 */
static void
clock_spin(uint64_t ns)
{
	uint64_t end;

	if (!tsc_is_clock()) {
		pit_delay(ns);
		return;
	}
	end = tsc_uptime_ns() + ns;
	while (tsc_uptime_ns() < end)
		cpu_pause();
}

void
delay(int usec)
{
	if (usec > 0)
		clock_spin((uint64_t)usec * NSEC_PER_USEC);
}

void
delay_for_interval(uint32_t interval, uint32_t scale_factor)
{
	uint64_t ns = (uint64_t)interval * scale_factor;

	if (ns > 0)
		clock_spin(ns);
}
