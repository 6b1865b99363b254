/*
 * Simple (spin) locks.  See simple_lock.h for the rules.  Taking a lock
 * this thread already holds is a deadlock: we panic at once, naming the
 * lock.  On one CPU, finding a lock held by another thread means that
 * thread slept while holding it (thread_block refuses that) or that an
 * interrupt handler interrupted a holder; after SPIN_LIMIT tries we panic
 * naming the lock and its holder instead of hanging silently.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <kern/simple_lock.h>
#include <kern/thread_var.h>

#define SPIN_LIMIT	100000000	/* then it is a deadlock, even on SMP */

void
simple_lock_init(simple_lock_data_t *sl, const char *name)
{
	sl->sl_locked = 0;
	sl->sl_saved_intr = FALSE;
	sl->sl_owner = THREAD_NULL;
	sl->sl_name = name;
}

static inline bool
simple_lock_grab(simple_lock_data_t *sl)
{
	return __atomic_exchange_n(&sl->sl_locked, 1, __ATOMIC_ACQUIRE) == 0;
}

void
simple_lock(simple_lock_data_t *sl)
{
	boolean_t intr = ml_set_interrupts_enabled(FALSE);
	uint32_t spins = 0;

	while (!simple_lock_grab(sl)) {
		if (sl->sl_owner == current_thread() && sl->sl_owner != NULL)
			panic("simple_lock: %s already held by this thread",
			    sl->sl_name);
		if (++spins == SPIN_LIMIT)
			panic("simple_lock: deadlock on %s, held by %s",
			    sl->sl_name, sl->sl_owner ?
			    thread_name(sl->sl_owner) : "an interrupt handler");
		cpu_pause();
	}
	sl->sl_saved_intr = intr;
	sl->sl_owner = current_thread();
}

boolean_t
simple_lock_try(simple_lock_data_t *sl)
{
	boolean_t intr = ml_set_interrupts_enabled(FALSE);

	if (!simple_lock_grab(sl)) {
		ml_set_interrupts_enabled(intr);
		return FALSE;
	}
	sl->sl_saved_intr = intr;
	sl->sl_owner = current_thread();
	return TRUE;
}

void
simple_unlock(simple_lock_data_t *sl)
{
	boolean_t intr = sl->sl_saved_intr;

	if (!sl->sl_locked)
		panic("simple_unlock: %s is not locked", sl->sl_name);
	sl->sl_owner = THREAD_NULL;
	__atomic_store_n(&sl->sl_locked, 0, __ATOMIC_RELEASE);
	ml_set_interrupts_enabled(intr);
}

boolean_t
simple_lock_held(simple_lock_data_t *sl)
{
	return sl->sl_locked != 0;
}
