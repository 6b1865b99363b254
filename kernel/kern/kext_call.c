/*
 * The panic of kern/kext_call.h: a callback returned holding a lock it
 * took, having released one the kernel held, or with interrupts turned
 * the other way.  The message names the callback (its address, function
 * and kext); for a lock, where it was taken, which also starts the
 * backtrace.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <kern/kext_call.h>
#include <kern/kmod_var.h>
#include <kern/ksyms.h>
#include <kern/locks_var.h>
#include <kern/panic_var.h>
#include <kern/thread_var.h>

static void __dead2 __printflike(2, 3)
kext_call_panic(uint32_t caller, const char *fmt, ...)
{
	static char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	panic_report(caller, msg, NULL, NULL, get_ebp());
}

/*
 * The panic's caller is our return address: the kernel code that made
 * the call, just after the callback returned to it.
 */
void
kext_call_violation(const struct kext_call *kc, const void *callback)
{
	uint32_t caller = (uint32_t)__builtin_return_address(0);
	uint32_t fn = (uint32_t)callback, now = sched_current->th_nlocks;
	char name[KSYM_TEXT_MAX], who[KSYM_TEXT_MAX + 32];
	bool intr;

	/* "kext callback 0x00401234 tick (com.example.ticker) returned" */
	snprintf(who, sizeof(who), "%s callback %s returned",
	    kmod_lookup_address(fn) != NULL ? "kext" : "kernel",
	    ksym_format(name, sizeof(name), fn, KSYM_KEXT));
	if (now > kc->kc_locks)
		lck_held_panic(caller, kc->kc_locks, who);
	if (now < kc->kc_locks)
		kext_call_panic(caller, "%s having released %u lock%s that "
		    "its caller held", who, kc->kc_locks - now,
		    kc->kc_locks - now > 1 ? "s" : "");
	intr = ml_get_interrupts_enabled();
	kext_call_panic(caller, "%s with interrupts %s; they were %s when it "
	    "was called", who, intr ? "enabled" : "disabled",
	    intr ? "disabled" : "enabled");
}
