/*
 * What is inside the opaque lock types of <kern/locks.h>.  Kernel code
 * may embed these (lck_mtx_init on its own storage); kexts allocate them
 * with lck_*_alloc_init.
 */
#ifndef _KERN_LOCKS_VAR_H_
#define _KERN_LOCKS_VAR_H_

#include <sys/queue.h>
#include <kern/locks.h>
#include <kern/simple_lock.h>

#define LCK_GRP_NAME_MAX	64

struct __lck_grp_attr__ {
	uint32_t	gattr_flags;
};

struct __lck_attr__ {
	uint32_t	attr_flags;
};

/* A lock group: a name and counters, shown by the `locks` command. */
struct __lck_grp__ {
	TAILQ_ENTRY(__lck_grp__) lg_link;	/* lck_grp_lock */
	char		lg_name[LCK_GRP_NAME_MAX];
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

#endif /* _KERN_LOCKS_VAR_H_ */
