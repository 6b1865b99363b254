/*
 * Low-level entry and exit: the 256 interrupt vector stubs, the common
 * path that builds a struct trapframe and calls trap() in C, the entry
 * of the double fault task, and the context switch between kernel
 * threads.
 */
#include <i386/seg.h>

/*
 * Vectors where the CPU pushes an error code: 8, 10-14, 17, 21, 29, 30.
 * For all others the stub pushes a 0 so the frame has one shape.
 */
.macro	VECTOR num
	.text
	.align	4
vector\num:
	.if (\num == 8) || (\num >= 10 && \num <= 14) || (\num == 17) || \
	    (\num == 21) || (\num == 29) || (\num == 30)
	.else
	pushl	$0
	.endif
	pushl	$\num
	jmp	alltraps
	.section .rodata
	.long	vector\num
.endm

	.section .rodata
	.align	4
	.globl	trap_vectors
trap_vectors:
	.altmacro
	.set	i, 0
	.rept	256
	VECTOR	%i
	.set	i, i+1
	.endr

	.text
alltraps:
	pushl	%ds
	pushl	%es
	pushl	%fs
	pushl	%gs
	pushal
	movw	$KERNEL_DS, %ax
	movw	%ax, %ds
	movw	%ax, %es
	cld
	pushl	%esp			/* struct trapframe * */
	call	trap
	addl	$4, %esp
	popal
	popl	%gs
	popl	%fs
	popl	%es
	popl	%ds
	addl	$8, %esp		/* trap number and error code */
	iret

/*
 * The double fault task starts here (seg.c explains why it is a task),
 * on its own stack, with the error code (always 0) pushed.  The faulting
 * code's registers are in kernel_tss; double_fault() reports them.
 */
	.globl	double_fault_entry
double_fault_entry:
	xorl	%ebp, %ebp		/* this stack has no callers */
	call	double_fault
1:	cli
	hlt
	jmp	1b

/*
 * void machine_switch_context(uint32_t *old_esp, uint32_t new_esp)
 *
 * Save the callee-saved registers on the current stack, store the stack
 * pointer in *old_esp, load new_esp and pop the other thread's registers.
 * The "return" then lands wherever that thread last called this function
 * (or in thread_trampoline for a new thread).
 */
	.globl	machine_switch_context
machine_switch_context:
	movl	4(%esp), %eax		/* old_esp */
	movl	8(%esp), %edx		/* new_esp */
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	%esp, (%eax)
	movl	%edx, %esp
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret
