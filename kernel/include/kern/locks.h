/*
 * <kern/locks.h> -- lock groups, attributes, mutexes, spin locks and
 * read-write locks, with XNU's names.
 *
 * Every lock belongs to a group (lck_grp_t), which names it and counts
 * its use for the monitor's `locks` command.  Locks are opaque: allocate
 * them with the *_alloc_init functions and free them with *_free.
 *
 * Mutexes and read-write locks may sleep: take them only in thread
 * context.  Spin locks disable interrupts while held: keep the critical
 * section short and never sleep inside it.
 */
#ifndef _KERN_LOCKS_H_
#define _KERN_LOCKS_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <mach/mach_types.h>

__BEGIN_DECLS

typedef struct __lck_grp_attr__	lck_grp_attr_t;
typedef struct __lck_grp__	lck_grp_t;
typedef struct __lck_attr__	lck_attr_t;
typedef struct __lck_mtx_t__	lck_mtx_t;
typedef struct __lck_spin_t__	lck_spin_t;
typedef struct __lck_rw_t__	lck_rw_t;

#define LCK_GRP_ATTR_NULL	((lck_grp_attr_t *)0)
#define LCK_GRP_NULL		((lck_grp_t *)0)
#define LCK_ATTR_NULL		((lck_attr_t *)0)

/* lck_rw_lock(): how to take a read-write lock. */
typedef unsigned int lck_rw_type_t;
#define LCK_RW_TYPE_SHARED	0x01
#define LCK_RW_TYPE_EXCLUSIVE	0x02

/* lck_mtx_sleep() and friends: what to do with the lock on wakeup. */
typedef unsigned int lck_sleep_action_t;
#define LCK_SLEEP_DEFAULT	0x00	/* release, then re-take */
#define LCK_SLEEP_UNLOCK	0x01	/* release, do not re-take */

/* Group attributes and groups.  A group's name is copied.  The
 * allocators return NULL out of memory and never sleep.  lck_grp_free
 * drops your reference: the group goes with its last lock. */
lck_grp_attr_t	*lck_grp_attr_alloc_init(void);
void		lck_grp_attr_setdefault(lck_grp_attr_t *attr);
void		lck_grp_attr_setstat(lck_grp_attr_t *attr);
void		lck_grp_attr_free(lck_grp_attr_t *attr);
lck_grp_t	*lck_grp_alloc_init(const char *name, lck_grp_attr_t *attr);
void		lck_grp_free(lck_grp_t *grp);

/* Lock attributes (debug and default): accepted, and change nothing:
 * Finch's locks always check their use.  NULL out of memory. */
lck_attr_t	*lck_attr_alloc_init(void);
void		lck_attr_setdefault(lck_attr_t *attr);
void		lck_attr_setdebug(lck_attr_t *attr);
void		lck_attr_free(lck_attr_t *attr);

/* Spin locks: interrupts stay off between lock and unlock, so anything
 * may take one, interrupt handlers included; never sleep holding one.
 * alloc_init: NULL out of memory.  Destroying a held lock panics. */
lck_spin_t	*lck_spin_alloc_init(lck_grp_t *grp, lck_attr_t *attr);
void		lck_spin_init(lck_spin_t *lck, lck_grp_t *grp, lck_attr_t *attr);
void		lck_spin_lock(lck_spin_t *lck);
void		lck_spin_unlock(lck_spin_t *lck);
boolean_t	lck_spin_try_lock(lck_spin_t *lck);
void		lck_spin_destroy(lck_spin_t *lck, lck_grp_t *grp);
void		lck_spin_free(lck_spin_t *lck, lck_grp_t *grp);

/* Mutexes: sleep while contended.  Not recursive; unlock by the owner.
 * Locking in an interrupt handler or twice in one thread, unlocking a
 * mutex you do not hold, or destroying a held one panics.  try_lock
 * never sleeps.  alloc_init: NULL out of memory. */
lck_mtx_t	*lck_mtx_alloc_init(lck_grp_t *grp, lck_attr_t *attr);
void		lck_mtx_init(lck_mtx_t *lck, lck_grp_t *grp, lck_attr_t *attr);
void		lck_mtx_lock(lck_mtx_t *lck);
void		lck_mtx_unlock(lck_mtx_t *lck);
boolean_t	lck_mtx_try_lock(lck_mtx_t *lck);
void		lck_mtx_destroy(lck_mtx_t *lck, lck_grp_t *grp);
void		lck_mtx_free(lck_mtx_t *lck, lck_grp_t *grp);

/*
 * Sleep on `event` with the mutex held; it is released while asleep and
 * taken again before return (unless action is LCK_SLEEP_UNLOCK).  Woken
 * by wakeup(event).  Returns THREAD_AWAKENED or THREAD_TIMED_OUT
 * (deadline in mach_absolute_time units).  Thread context only.
 */
typedef int wait_result_t;
typedef int wait_interrupt_t;
typedef void *event_t;
#define THREAD_UNINT		0
#define THREAD_INTERRUPTIBLE	1
#define THREAD_AWAKENED		0
#define THREAD_TIMED_OUT	1
#define THREAD_INTERRUPTED	2
#define THREAD_RESTART		3
#define THREAD_WAITING		(-1)
wait_result_t	lck_mtx_sleep(lck_mtx_t *lck, lck_sleep_action_t action,
		    event_t event, wait_interrupt_t interruptible);
wait_result_t	lck_mtx_sleep_deadline(lck_mtx_t *lck,
		    lck_sleep_action_t action, event_t event,
		    wait_interrupt_t interruptible, uint64_t deadline);

/* Read-write locks: many readers or one writer; sleep while contended,
 * and a waiting writer goes before new readers.  Taking one in an
 * interrupt handler, exclusively twice in one thread, or with an unknown
 * type panics, as does releasing one not held.  NULL out of memory. */
lck_rw_t	*lck_rw_alloc_init(lck_grp_t *grp, lck_attr_t *attr);
void		lck_rw_init(lck_rw_t *lck, lck_grp_t *grp, lck_attr_t *attr);
void		lck_rw_lock(lck_rw_t *lck, lck_rw_type_t type);
void		lck_rw_unlock(lck_rw_t *lck, lck_rw_type_t type);
void		lck_rw_lock_shared(lck_rw_t *lck);
void		lck_rw_unlock_shared(lck_rw_t *lck);
void		lck_rw_lock_exclusive(lck_rw_t *lck);
void		lck_rw_unlock_exclusive(lck_rw_t *lck);
/* Release the lock however it is held; returns the type that was held. */
lck_rw_type_t	lck_rw_done(lck_rw_t *lck);

/* Destroying or freeing a held lock panics. */
void		lck_rw_destroy(lck_rw_t *lck, lck_grp_t *grp);
void		lck_rw_free(lck_rw_t *lck, lck_grp_t *grp);

__END_DECLS

#endif /* _KERN_LOCKS_H_ */
