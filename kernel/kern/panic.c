/*
 * panic(): the kernel's last words.  It prints what went wrong, the
 * registers, a frame-pointer backtrace of raw return addresses and the
 * kernel version, ends with a marker line the host tools recognise, and
 * stops the CPU.  The host symbolizes the addresses (finch symbolize);
 * the kernel stays small and the report stays machine-readable.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/pmap.h>
#include <kern/console.h>
#include <kern/kmod_var.h>
#include <kern/panic_var.h>
#include <kern/shutdown.h>
#include <kern/thread_var.h>
#include <kern/version.h>

#define BACKTRACE_MAX	32

volatile int panic_in_progress;

/* A frame pointer we can follow: mapped, aligned, inside RAM. */
static bool
frame_is_valid(uint32_t fp)
{
	return fp >= PAGE_ZERO_END && (fp & 3) == 0 &&
	    pmap_is_mapped_range(fp, 8);
}

static void
panic_backtrace(const struct panic_frame *first, uint32_t fp)
{
	int n;

	printf("Backtrace (frame : return address):\n");
	if (first != NULL)
		printf("  0x%08x : 0x%08x\n", first->pf_where, first->pf_return);
	for (n = 0; n < BACKTRACE_MAX && frame_is_valid(fp); n++) {
		uint32_t *frame = (uint32_t *)fp;

		if (frame[1] == 0)
			break;
		printf("  0x%08x : 0x%08x\n", fp, frame[1]);
		if (frame[0] <= fp)	/* stacks grow down: callers are above */
			break;
		fp = frame[0];
	}
}

void
panic_report(uint32_t caller, const char *msg, const struct trapframe *tf,
    const struct panic_frame *first, uint32_t ebp)
{
	thread_t self;

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
	panic_backtrace(first, ebp);
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
