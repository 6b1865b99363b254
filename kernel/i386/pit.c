/*
 * The Intel 8254 programmable interval timer, channel 0: it interrupts
 * `hz` times a second (IRQ 0) and is Finch's only clock.  Between ticks,
 * the counter's current value gives sub-tick resolution (838 ns) -- but
 * only while interrupts are on: with them off, ticks are not counted and
 * uptime stalls after at most one more tick.  pit_delay() therefore
 * counts the counter itself, and works either way.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <i386/pic.h>
#include <i386/pio.h>
#include <kern/clock_var.h>
#include <kern/prof.h>

#define PIT_HZ		1193182u	/* input clock of the 8254 */
#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIT_MODE2	0x34	/* channel 0, lo/hi byte, rate generator */
#define PIT_LATCH0	0x00	/* latch channel 0's count */

int hz = 100;

static uint32_t pit_reload;		/* counts per tick */
static volatile uint64_t pit_ticks;	/* ticks since boot */
static uint64_t pit_last_ns;		/* uptime never goes back */

static void
pit_intr(void *arg)
{
	pit_ticks++;
	prof_sample(intr_interrupted_pc(), intr_interrupted_fp());
	clock_tick();
}

void
pit_init(void)
{
	pit_reload = (PIT_HZ + hz / 2) / hz;
	outb(PIT_CMD, PIT_MODE2);
	outb(PIT_CH0, pit_reload & 0xff);
	outb(PIT_CH0, pit_reload >> 8);
	intr_establish(0, pit_intr, NULL, "clock");
}

static uint32_t
pit_read_count(void)
{
	uint32_t count;

	outb(PIT_CMD, PIT_LATCH0);
	count = inb(PIT_CH0);
	count |= inb(PIT_CH0) << 8;
	return count;
}

/* PIT counts (1/PIT_HZ s) to nanoseconds, without overflowing. */
static uint64_t
pit_counts_to_ns(uint64_t counts)
{
	return (counts / PIT_HZ) * NSEC_PER_SEC +
	    (counts % PIT_HZ) * NSEC_PER_SEC / PIT_HZ;
}

uint64_t
pit_uptime_ns(void)
{
	boolean_t intr = ml_set_interrupts_enabled(FALSE);
	uint64_t ticks, ns;
	uint32_t count;

	count = pit_read_count();
	ticks = pit_ticks;
	/*
	 * The counter may have wrapped after we turned interrupts off:
	 * then IRQ 0 is pending and the count has restarted from the top.
	 */
	if (pic_irq_pending(0) && count > pit_reload / 2)
		ticks++;
	ns = pit_counts_to_ns(ticks * pit_reload + (pit_reload - count));
	if (ns < pit_last_ns)
		ns = pit_last_ns;
	pit_last_ns = ns;
	ml_set_interrupts_enabled(intr);
	return ns;
}

/*
 * Busy-wait `ns` nanoseconds by watching the counter run down: each
 * sample adds the counts since the previous one (the counter wraps from
 * 1 to pit_reload).  We sample far more often than once per tick, so no
 * wrap is missed, with interrupts on or off.
 */
void
pit_delay(uint64_t ns)
{
	uint64_t want = ns * PIT_HZ / NSEC_PER_SEC, done = 0;
	uint32_t prev, now;

	prev = pit_read_count();
	while (done < want) {
		cpu_pause();
		now = pit_read_count();
		done += (prev - now + pit_reload) % pit_reload;
		prev = now;
	}
}
