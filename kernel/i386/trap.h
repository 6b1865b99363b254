/*
 * The trap frame: what locore.S leaves on the stack for every exception
 * and interrupt, lowest address first.  The CPU pushes eip, cs, eflags
 * (and an error code for some exceptions; the stubs push 0 otherwise);
 * the stubs push the vector number, the data segments and pushal.
 */
#ifndef _I386_TRAP_H_
#define _I386_TRAP_H_

#include <stdint.h>

#define T_DIVIDE_ERROR		0
#define T_DEBUG			1
#define T_NMI			2
#define T_INT3			3
#define T_OVERFLOW		4
#define T_OUT_OF_BOUNDS		5
#define T_INVALID_OPCODE	6
#define T_NO_FPU		7
#define T_DOUBLE_FAULT		8
#define T_FPU_FAULT		9
#define T_INVALID_TSS		10
#define T_SEGMENT_NOT_PRESENT	11
#define T_STACK_FAULT		12
#define T_GENERAL_PROTECTION	13
#define T_PAGE_FAULT		14
#define T_FLOATING_POINT_ERROR	16
#define T_ALIGNMENT_CHECK	17
#define T_MACHINE_CHECK		18
#define T_SSE_FLOAT_ERROR	19
#define T_NEXCEPTIONS		32

#define T_IRQ0			32	/* the PIC's vectors start here */
#define T_NIRQS			16

#ifndef __ASSEMBLY__
struct trapframe {
	/* pushal */
	uint32_t	tf_edi;
	uint32_t	tf_esi;
	uint32_t	tf_ebp;
	uint32_t	tf_oesp;	/* popal ignores it; a panic puts the */
					/* trap's ESP here */
	uint32_t	tf_ebx;
	uint32_t	tf_edx;
	uint32_t	tf_ecx;
	uint32_t	tf_eax;
	/* segment registers */
	uint32_t	tf_gs;
	uint32_t	tf_fs;
	uint32_t	tf_es;
	uint32_t	tf_ds;
	/* pushed by the vector stub */
	uint32_t	tf_trapno;
	uint32_t	tf_err;
	/* pushed by the CPU */
	uint32_t	tf_eip;
	uint32_t	tf_cs;
	uint32_t	tf_eflags;
};

void		trap(struct trapframe *tf);
void		double_fault(void) __dead2;
const char	*trap_name(uint32_t trapno);
#endif

#endif /* _I386_TRAP_H_ */
