/*
 * The i386 task-state segment (Intel SDM vol. 3, "32-bit Task-State
 * Segment"): where the CPU saves one task's registers and loads another's
 * on a task switch.  Finch runs as one task and switches only to handle a
 * double fault (see seg.c); the layout below is the hardware's.
 */
#ifndef _I386_TSS_H_
#define _I386_TSS_H_

#include <stdint.h>

struct i386_tss {
	uint32_t	tss_link;	/* selector of the task we came from */
	uint32_t	tss_esp0;	/* stacks for entering rings 0-2 */
	uint32_t	tss_ss0;
	uint32_t	tss_esp1;
	uint32_t	tss_ss1;
	uint32_t	tss_esp2;
	uint32_t	tss_ss2;
	uint32_t	tss_cr3;	/* page directory, loaded on entry */
	uint32_t	tss_eip;
	uint32_t	tss_eflags;
	uint32_t	tss_eax;
	uint32_t	tss_ecx;
	uint32_t	tss_edx;
	uint32_t	tss_ebx;
	uint32_t	tss_esp;
	uint32_t	tss_ebp;
	uint32_t	tss_esi;
	uint32_t	tss_edi;
	uint32_t	tss_es;		/* selectors: low 16 bits */
	uint32_t	tss_cs;
	uint32_t	tss_ss;
	uint32_t	tss_ds;
	uint32_t	tss_fs;
	uint32_t	tss_gs;
	uint32_t	tss_ldt;
	uint16_t	tss_trace;	/* bit 0: debug trap on entry */
	uint16_t	tss_iomap;	/* I/O bitmap offset; past the end: none */
};

/*
 * The kernel's own task.  After a double fault it holds the registers of
 * the code that faulted: the CPU saved them here when it switched away.
 */
extern struct i386_tss kernel_tss;

#endif /* _I386_TSS_H_ */
