/*
 * trap(): where every exception and interrupt lands after locore.S has
 * saved the registers.  Interrupts go to their driver's handler and may
 * end with a switch to another thread (preemption); a CPU exception in
 * the kernel is a bug and panics with the faulting address.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <i386/pmap.h>
#include <i386/trap.h>
#include <kern/panic_var.h>
#include <kern/sched_prim.h>

static const char *const trap_names[T_NEXCEPTIONS] = {
	[T_DIVIDE_ERROR] = "divide error",
	[T_DEBUG] = "debug exception",
	[T_NMI] = "non-maskable interrupt",
	[T_INT3] = "breakpoint",
	[T_OVERFLOW] = "overflow",
	[T_OUT_OF_BOUNDS] = "bound range exceeded",
	[T_INVALID_OPCODE] = "invalid opcode",
	[T_NO_FPU] = "FPU not available",
	[T_DOUBLE_FAULT] = "double fault",
	[T_FPU_FAULT] = "coprocessor segment overrun",
	[T_INVALID_TSS] = "invalid TSS",
	[T_SEGMENT_NOT_PRESENT] = "segment not present",
	[T_STACK_FAULT] = "stack fault",
	[T_GENERAL_PROTECTION] = "general protection fault",
	[T_PAGE_FAULT] = "page fault",
	[T_FLOATING_POINT_ERROR] = "floating point error",
	[T_ALIGNMENT_CHECK] = "alignment check",
	[T_MACHINE_CHECK] = "machine check",
	[T_SSE_FLOAT_ERROR] = "SIMD floating point error",
};

static uint32_t trap_unexpected_count;

const char *
trap_name(uint32_t trapno)
{
	if (trapno < T_NEXCEPTIONS && trap_names[trapno] != NULL)
		return trap_names[trapno];
	return "reserved";
}

/* Print the saved registers of a trap frame (panic report). */
void
machine_print_trapframe(const struct trapframe *tf)
{
	printf("CR0: 0x%08x, CR2: 0x%08x, CR3: 0x%08x, CR4: 0x%08x\n",
	    get_cr0(), get_cr2(), get_cr3(), get_cr4());
	printf("EAX: 0x%08x, EBX: 0x%08x, ECX: 0x%08x, EDX: 0x%08x\n",
	    tf->tf_eax, tf->tf_ebx, tf->tf_ecx, tf->tf_edx);
	printf("ESP: 0x%08x, EBP: 0x%08x, ESI: 0x%08x, EDI: 0x%08x\n",
	    (uint32_t)&tf->tf_eflags + 4, tf->tf_ebp, tf->tf_esi, tf->tf_edi);
	printf("EFL: 0x%08x, EIP: 0x%08x, CS:  0x%08x, DS:  0x%08x\n",
	    tf->tf_eflags, tf->tf_eip, tf->tf_cs, tf->tf_ds);
}

static void __dead2
trap_panic(struct trapframe *tf)
{
	char msg[128];

	snprintf(msg, sizeof(msg),
	    "Kernel trap at 0x%08x, type %u=%s, error code 0x%08x",
	    tf->tf_eip, tf->tf_trapno, trap_name(tf->tf_trapno), tf->tf_err);
	if (tf->tf_trapno == T_PAGE_FAULT && get_cr2() < PAGE_ZERO_END)
		strlcat(msg, " (NULL pointer dereference)", sizeof(msg));
	panic_report(tf->tf_eip, msg, tf, tf->tf_ebp);
}

void
trap(struct trapframe *tf)
{
	uint32_t trapno = tf->tf_trapno;

	if (trapno < T_NEXCEPTIONS)
		trap_panic(tf);

	if (trapno >= T_IRQ0 && trapno < T_IRQ0 + T_NIRQS) {
		intr_dispatch(trapno - T_IRQ0);
		/* Back in thread context: a good moment to switch. */
		sched_preempt_check();
		return;
	}

	if (trap_unexpected_count++ < 8)
		printf("trap: unexpected vector %u ignored\n", trapno);
}
