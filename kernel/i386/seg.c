/*
 * The global descriptor table (flat kernel code and data segments, two
 * task-state segments) and the interrupt descriptor table, whose gates
 * point at the stubs in locore.S.  Every gate but one is an interrupt
 * gate: the CPU turns interrupts off on entry, so handlers start with a
 * consistent view.  The double fault's gate is a task gate (see below).
 */
#include <sys/types.h>
#include <i386/cpu.h>
#include <i386/seg.h>
#include <i386/trap.h>
#include <i386/tss.h>

struct segment_descriptor {
	uint16_t	limit_lo;
	uint16_t	base_lo;
	uint8_t		base_mid;
	uint8_t		access;
	uint8_t		limit_hi_flags;
	uint8_t		base_hi;
} __packed;

struct gate_descriptor {
	uint16_t	offset_lo;
	uint16_t	selector;
	uint8_t		zero;
	uint8_t		type_attr;
	uint16_t	offset_hi;
} __packed;

struct descriptor_pointer {
	uint16_t	limit;
	uint32_t	base;
} __packed;

#define SEG(access)	{ 0xffff, 0, 0, (access), 0xcf, 0 }
#define ACC_CODE	0x9a	/* present, ring 0, code, readable */
#define ACC_DATA	0x92	/* present, ring 0, data, writable */
#define ACC_TSS		0x89	/* present, ring 0, 32-bit TSS, not busy */
#define GATE_INTR	0x8e	/* present, ring 0, 32-bit interrupt gate */
#define GATE_TASK	0x85	/* present, ring 0, task gate */
#define EFL_RESERVED	0x00000002	/* bit 1 of EFLAGS is always set */

static struct segment_descriptor gdt[] = {
	{ 0, 0, 0, 0, 0, 0 },	/* the null descriptor */
	SEG(ACC_CODE),		/* KERNEL_CS */
	SEG(ACC_DATA),		/* KERNEL_DS */
	{ 0, 0, 0, 0, 0, 0 },	/* KERNEL_TSS, filled in by tss_init() */
	{ 0, 0, 0, 0, 0, 0 },	/* DFAULT_TSS, likewise */
};

static struct gate_descriptor idt[256];

/* One entry stub per vector, generated in locore.S. */
extern uint32_t trap_vectors[256];

/*
 * Why a double fault needs a task of its own.
 *
 * An exception in ring 0 is delivered on the stack that faulted: the CPU
 * pushes EFLAGS, CS, EIP (and an error code) at ESP and jumps to the
 * gate.  When a thread overflows its stack into the guard page below it,
 * the page fault cannot be delivered that way -- pushing its frame
 * faults again -- and the CPU raises a double fault instead.  Delivered
 * through an interrupt gate, the double fault would push on the same
 * stack, fault a third time, and the CPU would shut down (a triple
 * fault: QEMU resets or exits, and nothing is printed).
 *
 * A task gate does not push on the old stack.  The CPU saves every
 * register of the interrupted code into the current TSS (kernel_tss,
 * which the task register points at), then loads every register from
 * the TSS the gate names (dfault_tss): a fresh stack, the handler's
 * EIP, interrupts off.  The handler reads the faulting code's registers
 * from kernel_tss and prints a panic report; it never returns (the CPU
 * marks dfault_tss busy while it runs and would not enter it twice).
 */
struct i386_tss kernel_tss;
static struct i386_tss dfault_tss;
static char dfault_stack[8192] __aligned(16);

void	double_fault_entry(void);	/* locore.S */

void
gdt_init(void)
{
	struct descriptor_pointer dp = { sizeof(gdt) - 1, (uint32_t)gdt };

	__asm__ volatile(
	    "lgdt %0\n\t"
	    "movw %w1, %%ax\n\t"
	    "movw %%ax, %%ds\n\t"
	    "movw %%ax, %%es\n\t"
	    "movw %%ax, %%fs\n\t"
	    "movw %%ax, %%gs\n\t"
	    "movw %%ax, %%ss\n\t"
	    "ljmp %2, $1f\n"
	    "1:"
	    : : "m"(dp), "r"(KERNEL_DS), "i"(KERNEL_CS) : "eax", "memory");
}

void
idt_init(void)
{
	struct descriptor_pointer dp = { sizeof(idt) - 1, (uint32_t)idt };
	int i;

	for (i = 0; i < 256; i++) {
		idt[i].offset_lo = trap_vectors[i] & 0xffff;
		idt[i].offset_hi = trap_vectors[i] >> 16;
		idt[i].selector = KERNEL_CS;
		idt[i].zero = 0;
		idt[i].type_attr = GATE_INTR;
	}
	/* A task gate's offset is unused: the TSS holds the EIP. */
	idt[T_DOUBLE_FAULT].offset_lo = 0;
	idt[T_DOUBLE_FAULT].offset_hi = 0;
	idt[T_DOUBLE_FAULT].selector = DFAULT_TSS;
	idt[T_DOUBLE_FAULT].type_attr = GATE_TASK;
	__asm__ volatile("lidt %0" : : "m"(dp));
}

static void
gdt_set_tss(uint16_t sel, struct i386_tss *tss)
{
	struct segment_descriptor *d = &gdt[sel >> 3];
	uint32_t base = (uint32_t)tss;

	d->limit_lo = sizeof(*tss) - 1;
	d->base_lo = base & 0xffff;
	d->base_mid = (base >> 16) & 0xff;
	d->access = ACC_TSS;
	d->limit_hi_flags = 0;		/* byte granular, limit < 64 KiB */
	d->base_hi = base >> 24;
}

/*
 * Describe both tasks and make kernel_tss the current one.  After
 * pmap_bootstrap(): a task switch loads CR3 from the TSS, so the double
 * fault task must name the page directory that is in use.
 */
void
tss_init(void)
{
	struct i386_tss *t = &dfault_tss;

	kernel_tss.tss_ss0 = KERNEL_DS;	/* for ring 3, one day */
	kernel_tss.tss_iomap = sizeof(kernel_tss);

	t->tss_cr3 = get_cr3();
	t->tss_eip = (uint32_t)double_fault_entry;
	t->tss_eflags = EFL_RESERVED;		/* interrupts off */
	t->tss_esp = (uint32_t)dfault_stack + sizeof(dfault_stack);
	t->tss_ebp = 0;				/* ends backtraces */
	t->tss_cs = KERNEL_CS;
	t->tss_ss = t->tss_ds = t->tss_es = KERNEL_DS;
	t->tss_fs = t->tss_gs = KERNEL_DS;
	t->tss_iomap = sizeof(*t);

	gdt_set_tss(KERNEL_TSS, &kernel_tss);
	gdt_set_tss(DFAULT_TSS, &dfault_tss);
	__asm__ volatile("ltr %w0" : : "r"(KERNEL_TSS));
}
