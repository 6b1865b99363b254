/*
 * Small inline wrappers for i386 privileged instructions: interrupt
 * enable/disable (with XNU's ml_* names), control registers, halting.
 */
#ifndef _I386_CPU_H_
#define _I386_CPU_H_

#include <stdint.h>
#include <mach/mach_types.h>

#define EFL_IF		0x00000200	/* interrupts enabled */

static inline uint32_t
read_eflags(void)
{
	uint32_t fl;

	__asm__ volatile("pushfl; popl %0" : "=r"(fl));
	return fl;
}

/* Are interrupts on? */
static inline boolean_t
ml_get_interrupts_enabled(void)
{
	return (read_eflags() & EFL_IF) != 0;
}

/* Turn interrupts on or off; returns whether they were on before. */
static inline boolean_t
ml_set_interrupts_enabled(boolean_t enable)
{
	boolean_t was = ml_get_interrupts_enabled();

	if (enable)
		__asm__ volatile("sti" ::: "memory");
	else
		__asm__ volatile("cli" ::: "memory");
	return was;
}

static inline uint32_t
get_cr0(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr0, %0" : "=r"(v));
	return v;
}

static inline void
set_cr0(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint32_t
get_cr2(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint32_t
get_cr3(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr3, %0" : "=r"(v));
	return v;
}

static inline void
set_cr3(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint32_t
get_cr4(void)
{
	uint32_t v;

	__asm__ volatile("movl %%cr4, %0" : "=r"(v));
	return v;
}

static inline uint32_t
get_ebp(void)
{
	uint32_t v;

	__asm__ volatile("movl %%ebp, %0" : "=r"(v));
	return v;
}

static inline uint32_t
get_esp(void)
{
	uint32_t v;

	__asm__ volatile("movl %%esp, %0" : "=r"(v));
	return v;
}

static inline void
cpu_pause(void)
{
	__asm__ volatile("pause");
}

/* Wait for the next interrupt (interrupts must be on to wake up). */
static inline void
cpu_idle_wait(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static inline void
invlpg(uint32_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#endif /* _I386_CPU_H_ */
