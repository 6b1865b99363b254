/*
 * Simple locks: the kernel's primitive spin lock.  Taking one turns
 * interrupts off on this CPU (so an interrupt handler cannot deadlock
 * against the thread it interrupted) and spins on an atomic exchange
 * (so a second CPU would wait).  Everything else -- lck_spin_t, mutexes,
 * the scheduler's queues -- is built on them.
 *
 * Hold one for a few instructions only; never sleep with one held.
 */
#ifndef _KERN_SIMPLE_LOCK_H_
#define _KERN_SIMPLE_LOCK_H_

#include <sys/types.h>
#include <mach/mach_types.h>

typedef struct simple_lock {
	volatile uint32_t	sl_locked;
	boolean_t		sl_saved_intr;	/* interrupt state to restore */
	thread_t		sl_owner;
	const char		*sl_name;
} simple_lock_data_t;

#define SIMPLE_LOCK_INITIALIZER(name)	{ 0, 0, 0, name }

void		simple_lock_init(simple_lock_data_t *sl, const char *name);
void		simple_lock(simple_lock_data_t *sl);
void		simple_unlock(simple_lock_data_t *sl);
boolean_t	simple_lock_try(simple_lock_data_t *sl);
boolean_t	simple_lock_held(simple_lock_data_t *sl);

#endif /* _KERN_SIMPLE_LOCK_H_ */
