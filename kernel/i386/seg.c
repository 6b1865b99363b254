/*
 * The global descriptor table (flat kernel code and data segments) and
 * the interrupt descriptor table, whose 256 gates point at the stubs in
 * locore.S.  Every gate is an interrupt gate: the CPU turns interrupts
 * off on entry, so handlers start with a consistent view.
 */
#include <sys/types.h>
#include <i386/seg.h>
#include <i386/trap.h>

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
#define GATE_INTR	0x8e	/* present, ring 0, 32-bit interrupt gate */

static struct segment_descriptor gdt[] = {
	{ 0, 0, 0, 0, 0, 0 },	/* the null descriptor */
	SEG(ACC_CODE),		/* KERNEL_CS */
	SEG(ACC_DATA),		/* KERNEL_DS */
};

static struct gate_descriptor idt[256];

/* One entry stub per vector, generated in locore.S. */
extern uint32_t trap_vectors[256];

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
	__asm__ volatile("lidt %0" : : "m"(dp));
}
