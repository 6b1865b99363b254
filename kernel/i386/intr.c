/*
 * IRQ dispatch: the table of handlers drivers establish, per-IRQ counts,
 * and the `intr` monitor command that shows them.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <i386/pic.h>
#include <i386/trap.h>
#include <kern/monitor.h>

struct intr_source {
	intr_handler_t	*handler;
	void		*arg;
	const char	*name;
	uint64_t	count;
};

static struct intr_source intr_sources[T_NIRQS];
static uint32_t intr_spurious_count;
static int intr_nesting;	/* > 0 while a handler runs */
static const struct trapframe *intr_frame;	/* of the one that runs */

void
intr_init(void)
{
	pic_init();
}

void
intr_establish(int irq, intr_handler_t *handler, void *arg, const char *name)
{
	struct intr_source *is;
	boolean_t intr;

	if (irq < 0 || irq >= T_NIRQS)
		panic("intr_establish: IRQ %d does not exist", irq);
	is = &intr_sources[irq];
	intr = ml_set_interrupts_enabled(FALSE);
	if (is->handler != NULL)
		panic("intr_establish: IRQ %d is taken by %s", irq, is->name);
	is->handler = handler;
	is->arg = arg;
	is->name = name;
	pic_enable_irq(irq);
	ml_set_interrupts_enabled(intr);
}

void
intr_dispatch(int irq, const struct trapframe *tf)
{
	struct intr_source *is = &intr_sources[irq];
	const struct trapframe *outer = intr_frame;

	if (pic_spurious(irq)) {
		intr_spurious_count++;
		return;
	}
	is->count++;
	intr_nesting++;
	intr_frame = tf;
	if (is->handler != NULL)
		is->handler(is->arg);
	intr_frame = outer;
	intr_nesting--;
	pic_eoi(irq);
}

uint32_t
intr_interrupted_pc(void)
{
	return intr_frame != NULL ? intr_frame->tf_eip : 0;
}

uint32_t
intr_interrupted_fp(void)
{
	return intr_frame != NULL ? intr_frame->tf_ebp : 0;
}

bool
intr_context(void)
{
	return intr_nesting > 0;
}

static int
mon_intr(int argc, char **argv)
{
	int irq;

	printf("IRQ  %-12s %12s\n", "handler", "count");
	for (irq = 0; irq < T_NIRQS; irq++) {
		struct intr_source *is = &intr_sources[irq];

		if (is->handler == NULL && is->count == 0)
			continue;
		printf("%3d  %-12s %12llu\n", irq,
		    is->name ? is->name : "-", (unsigned long long)is->count);
	}
	printf("spurious: %u\n", intr_spurious_count);
	return 0;
}
MONITOR_COMMAND(intr, mon_intr, "intr", "interrupt counts per IRQ line");
