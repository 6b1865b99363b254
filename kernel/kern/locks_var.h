/*
 * What is inside the opaque lock types of <kern/locks.h>.  Kernel code
 * may embed these (lck_mtx_init on its own storage); kexts allocate them
 * with lck_*_alloc_init.
 */
#ifndef _KERN_LOCKS_VAR_H_
#define _KERN_LOCKS_VAR_H_

#include <sys/queue.h>
#include <kern/kmod_resources.h>
#include <kern/locks.h>
#include <kern/simple_lock.h>

#define LCK_GRP_NAME_MAX	64

struct __lck_grp_attr__ {
	uint32_t	gattr_flags;
};

struct __lck_attr__ {
	uint32_t	attr_flags;
};

/*
 * A lock group: a name, counters and who made it, shown by the `locks`
 * command.  The counts of locks change atomically; the statistics are
 * bumped under each lock's own interlock, so two locks of one group may
 * race on them (they are only statistics).  The name and the owner are
 * set at creation.
 */
struct __lck_grp__ {
	TAILQ_ENTRY(__lck_grp__) lg_link;	/* lck_grp_lock */
	char		lg_name[LCK_GRP_NAME_MAX];
	struct kmod_owner lg_owner;	/* the kext that made it, or kernel */
	uint32_t	lg_refcnt;	/* locks in the group + 1 */
	uint32_t	lg_spin_cnt;	/* locks of each kind */
	uint32_t	lg_mtx_cnt;
	uint32_t	lg_rw_cnt;
	uint32_t	lg_mtx_acquires;	/* statistics */
	uint32_t	lg_mtx_waits;	/* acquisitions that had to sleep */
	uint32_t	lg_rw_waits;
};

struct __lck_spin_t__ {
	simple_lock_data_t	ls_lock;
	lck_grp_t		*ls_grp;
};

struct __lck_mtx_t__ {
	simple_lock_data_t	lm_interlock;	/* guards the fields below */
	thread_t		lm_owner;
	uint32_t		lm_waiters;
	lck_grp_t		*lm_grp;
};

struct __lck_rw_t__ {
	simple_lock_data_t	lr_interlock;	/* guards the fields below */
	uint32_t		lr_readers;	/* shared holders */
	thread_t		lr_writer;	/* exclusive holder */
	uint32_t		lr_want_write;	/* writers waiting: readers yield */
	lck_grp_t		*lr_grp;
};

/*
 * Each thread records the locks it holds (th_locks in thread_var.h):
 * which lock, what kind, and the return address of the call that took
 * it -- the code to blame when the lock is still held where it must not
 * be (kern/kext_call.h).  Records change with interrupts off.  A thread
 * records LCK_HELD_MAX locks at most; those it takes beyond go unseen.
 */
enum lck_kind {
	LCK_KIND_SPIN,
	LCK_KIND_MTX,
	LCK_KIND_RW_SHARED,
	LCK_KIND_RW_EXCLUSIVE,
};

struct lck_held {
	const void	*lh_lock;
	enum lck_kind	lh_kind;
	uint32_t	lh_caller;
};

#define LCK_HELD_MAX	8

/*
 * Panic: the running thread holds more locks than the `before` it held
 * at some earlier point.  The message is `who` followed by " holding",
 * the newest lock's kind and group name, and where it was taken; that
 * address also starts the backtrace, so the host names its function.
 * `caller` is the panic's caller.
 */
void	lck_held_panic(uint32_t caller, uint32_t before, const char *who)
	    __dead2;

#endif /* _KERN_LOCKS_VAR_H_ */
