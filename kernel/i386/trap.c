/*
 * trap(): where every exception and interrupt lands after locore.S has
 * saved the registers.  Interrupts go to their driver's handler and may
 * end with a switch to another thread (preemption); a CPU exception in
 * the kernel is a bug and panics with the faulting address.  A double
 * fault arrives in its own task instead, at double_fault().
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <i386/pmap.h>
#include <i386/trap.h>
#include <i386/tss.h>
#include <kern/kmod_var.h>
#include <kern/panic_var.h>
#include <kern/sched_prim.h>
#include <kern/thread_var.h>

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
	    tf->tf_oesp, tf->tf_ebp, tf->tf_esi, tf->tf_edi);
	printf("EFL: 0x%08x, EIP: 0x%08x, CS:  0x%08x, DS:  0x%08x\n",
	    tf->tf_eflags, tf->tf_eip, tf->tf_cs, tf->tf_ds);
}

/* Is `addr` in the kernel's code or in a loaded kext? */
static bool
trap_in_code(uint32_t addr)
{
	extern char _kernel_start[], _etext[];

	return (addr >= (uint32_t)_kernel_start && addr < (uint32_t)_etext) ||
	    kmod_lookup_address(addr) != NULL;
}

/*
 * How long is the indirect call (opcode FF, ModR/M reg field 2) whose
 * ModR/M byte is modrm[0]?  0 if it is not such a call.  The ModR/M
 * (and SIB) bytes say how the target is addressed: a register, or
 * memory with no, a one-byte or a four-byte displacement.
 */
static int
call_indirect_length(const uint8_t *modrm)
{
	uint8_t mod = modrm[0] >> 6, reg = (modrm[0] >> 3) & 7;
	uint8_t rm = modrm[0] & 7;
	int len = 2;			/* opcode and ModR/M */

	if (reg != 2)
		return 0;
	if (mod == 3)
		return len;		/* call *%reg */
	if (rm == 4) {
		len++;			/* a SIB byte follows */
		if (mod == 0 && (modrm[1] & 7) == 5)
			return len + 4;	/* SIB with no base: disp32 */
	}
	if (mod == 0 && rm == 5)
		return len + 4;		/* call *absolute */
	if (mod == 1)
		return len + 1;
	if (mod == 2)
		return len + 4;
	return len;
}

/*
 * Is `ra` a return address -- does a call instruction end just before
 * it?  The calls compilers emit are E8 (call rel32, 5 bytes, here to
 * `target` exactly) and FF /2 (call through a pointer, 2 to 7 bytes).
 */
static bool
trap_follows_call(uint32_t ra, uint32_t target)
{
	const uint8_t *p = (const uint8_t *)ra;
	int n;

	if (!trap_in_code(ra) || !pmap_is_mapped_range(ra - 7, 7))
		return false;
	if (p[-5] == 0xe8 && ra + *(const int32_t *)(p - 4) == target)
		return true;
	for (n = 2; n <= 7; n++)
		if (p[-n] == 0xff && call_indirect_length(p - n + 1) == n)
			return true;
	return false;
}

/*
 * A call to a NULL (or unmapped) function pointer faults on fetching
 * the first instruction: EIP is the bad address, and the caller's frame
 * pointer chain skips the caller itself, whose return address the call
 * pushed but whose callee never ran to push a frame.  That return
 * address is at the trap's ESP: report it as the caller and start the
 * backtrace with it, so that the code that made the call is named.
 */
static bool
trap_bad_call(const struct trapframe *tf, struct panic_frame *pf)
{
	uint32_t sp = tf->tf_oesp;

	if (tf->tf_trapno != T_PAGE_FAULT || get_cr2() != tf->tf_eip ||
	    trap_in_code(tf->tf_eip) || !pmap_is_mapped_range(sp, 4))
		return false;
	pf->pf_where = sp;
	pf->pf_return = *(const uint32_t *)sp;
	return trap_follows_call(pf->pf_return, tf->tf_eip);
}

static void __dead2
trap_panic(struct trapframe *tf)
{
	struct panic_frame pf;
	char msg[160];
	size_t len;

	/* A trap in ring 0 pushes no ESP: the stack went on above the frame. */
	tf->tf_oesp = (uint32_t)(&tf->tf_eflags + 1);
	len = snprintf(msg, sizeof(msg),
	    "Kernel trap at 0x%08x, type %u=%s, error code 0x%08x",
	    tf->tf_eip, tf->tf_trapno, trap_name(tf->tf_trapno), tf->tf_err);
	if (trap_bad_call(tf, &pf)) {
		snprintf(msg + len, sizeof(msg) - len, " (call through a %s "
		    "function pointer from 0x%08x)", tf->tf_eip <
		    PAGE_ZERO_END ? "NULL" : "bad", pf.pf_return);
		panic_report(pf.pf_return, msg, tf, &pf, tf->tf_ebp);
	}
	if (tf->tf_trapno == T_PAGE_FAULT && get_cr2() < PAGE_ZERO_END)
		strlcat(msg, " (NULL pointer dereference)", sizeof(msg));
	panic_report(tf->tf_eip, msg, tf, NULL, tf->tf_ebp);
}

void
trap(struct trapframe *tf)
{
	uint32_t trapno = tf->tf_trapno;

	if (trapno < T_NEXCEPTIONS)
		trap_panic(tf);

	if (trapno >= T_IRQ0 && trapno < T_IRQ0 + T_NIRQS) {
		intr_dispatch(trapno - T_IRQ0, tf);
		/* Back in thread context: a good moment to switch. */
		sched_preempt_check();
		return;
	}

	if (trap_unexpected_count++ < 8)
		printf("trap: unexpected vector %u ignored\n", trapno);
}

/* The faulting code's registers, as the task switch saved them. */
static void
trapframe_from_tss(struct trapframe *tf, const struct i386_tss *tss)
{
	bzero(tf, sizeof(*tf));
	tf->tf_eax = tss->tss_eax;
	tf->tf_ebx = tss->tss_ebx;
	tf->tf_ecx = tss->tss_ecx;
	tf->tf_edx = tss->tss_edx;
	tf->tf_esi = tss->tss_esi;
	tf->tf_edi = tss->tss_edi;
	tf->tf_ebp = tss->tss_ebp;
	tf->tf_oesp = tss->tss_esp;
	tf->tf_ds = tss->tss_ds;
	tf->tf_es = tss->tss_es;
	tf->tf_fs = tss->tss_fs;
	tf->tf_gs = tss->tss_gs;
	tf->tf_trapno = T_DOUBLE_FAULT;
	tf->tf_eip = tss->tss_eip;
	tf->tf_cs = tss->tss_cs;
	tf->tf_eflags = tss->tss_eflags;
}

/* Is `addr` in the guard page under the thread's stack? */
static bool
in_stack_guard(thread_t th, uint32_t addr)
{
	uint32_t guard = (uint32_t)th->th_stack - PAGE_SIZE;

	return th->th_stack != NULL && addr - guard < PAGE_SIZE;
}

/*
 * Called from double_fault_entry (locore.S) in the double fault task,
 * on its own stack (see seg.c).  The thread that faulted is still
 * current_thread(): no thread switch happened, only a task switch.  A
 * fault in the guard page (CR2) or a stack pointer in it means the
 * thread overflowed its stack.
 */
void __dead2
double_fault(void)
{
	struct trapframe tf;
	thread_t th = current_thread();
	uint32_t cr2 = get_cr2(), base;
	char msg[224];
	size_t len;

	trapframe_from_tss(&tf, &kernel_tss);
	len = snprintf(msg, sizeof(msg),
	    "Kernel trap at 0x%08x, type %u=%s, error code 0x%08x",
	    tf.tf_eip, T_DOUBLE_FAULT, trap_name(T_DOUBLE_FAULT), 0);
	if (th != THREAD_NULL && (in_stack_guard(th, cr2) ||
	    in_stack_guard(th, tf.tf_oesp))) {
		base = (uint32_t)th->th_stack;
		snprintf(msg + len, sizeof(msg) - len, " (kernel stack "
		    "overflow: thread %u '%s' ran past the end of its stack "
		    "0x%08x-0x%08x)", th->th_id, thread_name(th), base,
		    base + THREAD_STACK_SIZE - 1);
	}
	panic_report(tf.tf_eip, msg, &tf, NULL, tf.tf_ebp);
}
