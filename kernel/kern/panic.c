/*
 * panic(): the kernel's last words.  It prints what went wrong, the
 * registers, a frame-pointer backtrace of return addresses (each raw,
 * then named as kern/ksyms.c can), the kexts it passes through and those
 * loaded, and the kernel version, ends with a marker line the host tools
 * recognise, and stops the CPU.  The host symbolizes the raw addresses
 * with file and line (finch symbolize, tools/finch/panic.py).
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/pmap.h>
#include <i386/trap.h>
#include <kern/console.h>
#include <kern/kmod_var.h>
#include <kern/ksyms.h>
#include <kern/panic_var.h>
#include <kern/shutdown.h>
#include <kern/thread_var.h>
#include <kern/version.h>

#define BACKTRACE_MAX	32	/* frames printed */
#define BACKTRACE_WALK	4096	/* frames followed: a recursion has many */

volatile int panic_in_progress;

/* A frame pointer we can follow: mapped, aligned, inside RAM. */
static bool
frame_is_valid(uint32_t fp)
{
	return fp >= PAGE_ZERO_END && (fp & 3) == 0 &&
	    pmap_is_mapped_range(fp, 8);
}

/* One line of the backtrace: "  0x0011fe8c : 0x00401234 tick+0x10
 * (com.example.ticker)". */
static void
panic_frame_print(uint32_t where, uint32_t ra)
{
	static char name[KSYM_TEXT_MAX];	/* one panic at a time */

	printf("  0x%08x : %s\n", where,
	    ksym_format(name, sizeof(name), ra, KSYM_RETURN | KSYM_KEXT));
}

static void
panic_backtrace_repeats(uint32_t repeats)
{
	if (repeats > 0)
		printf("  (and %u more frames with that return address)\n",
		    repeats);
}

/*
 * Print the frames from `fp` up and collect their return addresses in
 * `ras` (BACKTRACE_MAX + 1 of them, `first` included); returns how many.
 * A recursion that ran off its stack has hundreds of frames alike: a run
 * of them prints once, with a count, so that the frames that started it
 * still show.
 */
static int
panic_backtrace(const struct panic_frame *first, uint32_t fp, uint32_t *ras)
{
	uint32_t last = 0, repeats = 0;
	int n = 0, walked;

	printf("Backtrace (frame : return address):\n");
	if (first != NULL) {
		panic_frame_print(first->pf_where, first->pf_return);
		ras[n++] = first->pf_return;
	}
	for (walked = 0; walked < BACKTRACE_WALK && frame_is_valid(fp);
	    walked++) {
		uint32_t *frame = (uint32_t *)fp;

		if (frame[1] == 0)
			break;
		if (frame[1] == last) {
			repeats++;
		} else {
			panic_backtrace_repeats(repeats);
			repeats = 0;
			if (n == BACKTRACE_MAX + 1)
				break;
			panic_frame_print(fp, frame[1]);
			ras[n++] = last = frame[1];
		}
		if (frame[0] <= fp)	/* stacks grow down: callers are above */
			break;
		fp = frame[0];
	}
	panic_backtrace_repeats(repeats);
	return n;
}

/*
 * Name each kext that holds one of `addrs` -- the code that failed or
 * one of its callers -- once, in order, as XNU's reports do.  The host
 * can name functions only when it has the kext's symbols; this line
 * needs nothing but the report.
 */
static void
panic_kexts_in_backtrace(const uint32_t *addrs, int n)
{
	const kmod_info_t *ki, *shown[BACKTRACE_MAX + 3];
	int nshown = 0, i, j;

	for (i = 0; i < n; i++) {
		ki = kmod_lookup_address(addrs[i]);
		for (j = 0; j < nshown && ki != NULL; j++)
			if (shown[j] == ki)
				ki = NULL;
		if (ki == NULL)
			continue;
		if (nshown == 0)
			printf("Kernel extensions in backtrace:\n");
		shown[nshown++] = ki;
		printf("  %s (%s) @ 0x%08x-0x%08x\n", ki->name, ki->version,
		    ki->address, ki->address + ki->size - 1);
	}
}

void
panic_report(uint32_t caller, const char *msg, const struct trapframe *tf,
    const struct panic_frame *first, uint32_t ebp)
{
	uint32_t addrs[BACKTRACE_MAX + 3];	/* trap, caller, frames */
	thread_t self;
	int n;

	ml_set_interrupts_enabled(FALSE);
	if (panic_in_progress++) {
		console_panic_write("\npanic: recursive panic: ", 25);
		console_panic_write(msg, strlen(msg));
		console_panic_write("\n" PANIC_END_MARKER "\n",
		    sizeof(PANIC_END_MARKER) + 1);
		cpu_halt_forever();
	}

	printf("\npanic(cpu 0 caller 0x%08x): %s\n", caller, msg);
	if (tf != NULL)
		machine_print_trapframe(tf);
	self = current_thread();
	if (self != THREAD_NULL)
		printf("Thread: %s\n", thread_name(self));
	n = 0;
	if (tf != NULL)
		addrs[n++] = tf->tf_eip;
	addrs[n++] = caller;
	n += panic_backtrace(first, ebp, addrs + n);
	panic_kexts_in_backtrace(addrs, n);
	kmod_panic_dump();
	printf("Kernel version: Finch %s (build %s)\n",
	    finch_version, finch_build_id);
	printf("%s\n", PANIC_END_MARKER);
	cpu_halt_forever();
}

void
panic(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;

	ml_set_interrupts_enabled(FALSE);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	panic_report((uint32_t)__builtin_return_address(0), buf, NULL, NULL,
	    get_ebp());
}
