/*
 * Locks with XNU's names (see <kern/locks.h>): groups and attributes,
 * spin locks, sleeping mutexes and read-write locks.  Mutexes and rw
 * locks keep their state under a simple lock (the interlock) and sleep
 * on the lock's own address when they must wait.  Every thread keeps a
 * record of the locks it holds and who took them (locks_var.h); every
 * group remembers the kext that made it, for `locks` and `kextres`.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <kern/kalloc.h>
#include <kern/kmod_resources.h>
#include <kern/kmod_var.h>
#include <kern/ksyms.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/panic_var.h>
#include <kern/sched_prim.h>
#include <kern/thread_var.h>

/* The return address of the call to the function that uses it. */
#define CALLER()	((uint32_t)__builtin_return_address(0))

static TAILQ_HEAD(, __lck_grp__) lck_grp_list =
    TAILQ_HEAD_INITIALIZER(lck_grp_list);
static simple_lock_data_t lck_grp_lock = SIMPLE_LOCK_INITIALIZER("lck_grp");

/* ---- groups and attributes ---- */

lck_grp_attr_t *
lck_grp_attr_alloc_init(void)
{
	lck_grp_attr_t *attr = kalloc(sizeof(*attr));

	if (attr != NULL)
		attr->gattr_flags = 0;
	return attr;
}

void
lck_grp_attr_setdefault(lck_grp_attr_t *attr)
{
	attr->gattr_flags = 0;
}

void
lck_grp_attr_setstat(lck_grp_attr_t *attr)
{
	attr->gattr_flags |= 1;		/* statistics are always on */
}

void
lck_grp_attr_free(lck_grp_attr_t *attr)
{
	kfree(attr, sizeof(*attr));
}

/* A group is charged to the kext that called lck_grp_alloc_init. */
lck_grp_t *
lck_grp_alloc_init(const char *name, lck_grp_attr_t *attr)
{
	lck_grp_t *grp = kalloc(sizeof(*grp));

	if (grp == NULL)
		return NULL;
	bzero(grp, sizeof(*grp));
	strlcpy(grp->lg_name, name ? name : "(unnamed)", sizeof(grp->lg_name));
	KMOD_OWNER_CALLER(&grp->lg_owner);
	grp->lg_refcnt = 1;
	simple_lock(&lck_grp_lock);
	TAILQ_INSERT_TAIL(&lck_grp_list, grp, lg_link);
	simple_unlock(&lck_grp_lock);
	return grp;
}

static void
lck_grp_reference(lck_grp_t *grp, uint32_t *kind_count)
{
	if (grp == NULL)
		return;
	__atomic_add_fetch(&grp->lg_refcnt, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(kind_count, 1, __ATOMIC_RELAXED);
}

static void
lck_grp_deallocate(lck_grp_t *grp)
{
	if (__atomic_sub_fetch(&grp->lg_refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	simple_lock(&lck_grp_lock);
	TAILQ_REMOVE(&lck_grp_list, grp, lg_link);
	simple_unlock(&lck_grp_lock);
	kfree(grp, sizeof(*grp));
}

static void
lck_grp_release(lck_grp_t *grp, uint32_t *kind_count)
{
	if (grp == NULL)
		return;
	__atomic_sub_fetch(kind_count, 1, __ATOMIC_RELAXED);
	lck_grp_deallocate(grp);
}

/* The group goes when its last lock is destroyed. */
void
lck_grp_free(lck_grp_t *grp)
{
	lck_grp_deallocate(grp);
}

lck_attr_t *
lck_attr_alloc_init(void)
{
	lck_attr_t *attr = kalloc(sizeof(*attr));

	if (attr != NULL)
		attr->attr_flags = 0;
	return attr;
}

void
lck_attr_setdefault(lck_attr_t *attr)
{
	attr->attr_flags = 0;
}

void
lck_attr_setdebug(lck_attr_t *attr)
{
	attr->attr_flags |= 1;		/* Finch's locks always check */
}

void
lck_attr_free(lck_attr_t *attr)
{
	kfree(attr, sizeof(*attr));
}

/* ---- the locks a thread holds ---- */

/*
 * Note that the running thread took `lck`.  Interrupts are off (the
 * caller holds the spin lock or the interlock), so an interrupt handler
 * that takes a spin lock on this thread's stack finds the list whole.
 */
static void
lck_held_add(const void *lck, enum lck_kind kind, uint32_t caller)
{
	thread_t th = current_thread();
	struct lck_held *lh;

	if (th == THREAD_NULL || th->th_nlocks == LCK_HELD_MAX)
		return;		/* before threads exist, or too many */
	lh = &th->th_locks[th->th_nlocks++];
	lh->lh_lock = lck;
	lh->lh_kind = kind;
	lh->lh_caller = caller;
}

/* The running thread released `lck`: drop its newest record of it. */
static void
lck_held_remove(const void *lck)
{
	thread_t th = current_thread();
	uint32_t i;

	if (th == THREAD_NULL)
		return;
	for (i = th->th_nlocks; i > 0; i--)
		if (th->th_locks[i - 1].lh_lock == lck)
			break;
	if (i == 0)
		return;		/* one it did not record (LCK_HELD_MAX) */
	for (; i < th->th_nlocks; i++)
		th->th_locks[i - 1] = th->th_locks[i];
	th->th_nlocks--;
}

static const char *
lck_kind_name(enum lck_kind kind)
{
	switch (kind) {
	case LCK_KIND_SPIN:
		return "spin lock";
	case LCK_KIND_MTX:
		return "mutex";
	case LCK_KIND_RW_SHARED:
		return "read-write lock (shared)";
	case LCK_KIND_RW_EXCLUSIVE:
		return "read-write lock (exclusive)";
	}
	return "lock";
}

/* The lock's group name, which its simple lock carries. */
static const char *
lck_held_name(const struct lck_held *lh)
{
	switch (lh->lh_kind) {
	case LCK_KIND_SPIN:
		return ((const lck_spin_t *)lh->lh_lock)->ls_lock.sl_name;
	case LCK_KIND_MTX:
		return ((const lck_mtx_t *)lh->lh_lock)->lm_interlock.sl_name;
	case LCK_KIND_RW_SHARED:
	case LCK_KIND_RW_EXCLUSIVE:
		return ((const lck_rw_t *)lh->lh_lock)->lr_interlock.sl_name;
	}
	return "?";
}

void
lck_held_panic(uint32_t caller, uint32_t before, const char *who)
{
	static char msg[512], taker[KSYM_TEXT_MAX];
	thread_t th = current_thread();
	const struct lck_held *lh = &th->th_locks[th->th_nlocks - 1];
	struct panic_frame pf = { 0, lh->lh_caller };
	uint32_t more = th->th_nlocks - before - 1;
	size_t len;

	/* "... taken at 0x00401240 tick+0x1c (com.example.ticker)" */
	len = snprintf(msg, sizeof(msg), "%s holding %s '%s' taken at %s",
	    who, lck_kind_name(lh->lh_kind), lck_held_name(lh),
	    ksym_format(taker, sizeof(taker), lh->lh_caller,
	    KSYM_RETURN | KSYM_KEXT));
	if (more > 0 && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, ", and %u more lock%s",
		    more, more > 1 ? "s" : "");
	panic_report(caller, msg, NULL, &pf, get_ebp());
}

/* ---- spin locks ---- */

void
lck_spin_init(lck_spin_t *lck, lck_grp_t *grp, lck_attr_t *attr)
{
	simple_lock_init(&lck->ls_lock, grp ? grp->lg_name : "lck_spin");
	lck->ls_grp = grp;
	if (grp != NULL)
		lck_grp_reference(grp, &grp->lg_spin_cnt);
}

lck_spin_t *
lck_spin_alloc_init(lck_grp_t *grp, lck_attr_t *attr)
{
	lck_spin_t *lck = kalloc(sizeof(*lck));

	if (lck != NULL)
		lck_spin_init(lck, grp, attr);
	return lck;
}

void
lck_spin_lock(lck_spin_t *lck)
{
	simple_lock(&lck->ls_lock);
	lck_held_add(lck, LCK_KIND_SPIN, CALLER());
}

void
lck_spin_unlock(lck_spin_t *lck)
{
	lck_held_remove(lck);
	simple_unlock(&lck->ls_lock);
}

boolean_t
lck_spin_try_lock(lck_spin_t *lck)
{
	if (!simple_lock_try(&lck->ls_lock))
		return FALSE;
	lck_held_add(lck, LCK_KIND_SPIN, CALLER());
	return TRUE;
}

void
lck_spin_destroy(lck_spin_t *lck, lck_grp_t *grp)
{
	if (simple_lock_held(&lck->ls_lock))
		panic("lck_spin_destroy: %p is held", lck);
	lck_grp_release(lck->ls_grp, lck->ls_grp ? &lck->ls_grp->lg_spin_cnt : NULL);
	lck->ls_grp = NULL;
}

void
lck_spin_free(lck_spin_t *lck, lck_grp_t *grp)
{
	lck_spin_destroy(lck, grp);
	kfree(lck, sizeof(*lck));
}

/* ---- mutexes ---- */

void
lck_mtx_init(lck_mtx_t *lck, lck_grp_t *grp, lck_attr_t *attr)
{
	simple_lock_init(&lck->lm_interlock, grp ? grp->lg_name : "lck_mtx");
	lck->lm_owner = THREAD_NULL;
	lck->lm_waiters = 0;
	lck->lm_grp = grp;
	if (grp != NULL)
		lck_grp_reference(grp, &grp->lg_mtx_cnt);
}

lck_mtx_t *
lck_mtx_alloc_init(lck_grp_t *grp, lck_attr_t *attr)
{
	lck_mtx_t *lck = kalloc(sizeof(*lck));

	if (lck != NULL)
		lck_mtx_init(lck, grp, attr);
	return lck;
}

static void
lck_mtx_assert_sleepable(lck_mtx_t *lck, const char *fn)
{
	if (intr_context())
		panic("%s: mutex %p taken in an interrupt handler", fn, lck);
	if (lck->lm_owner == current_thread())
		panic("%s: mutex %p is already held by this thread (%s)",
		    fn, lck, thread_name(current_thread()));
}

/* Take the mutex for the code at `caller`. */
static void
lck_mtx_lock_for(lck_mtx_t *lck, uint32_t caller)
{
	lck_grp_t *grp = lck->lm_grp;

	lck_mtx_assert_sleepable(lck, "lck_mtx_lock");
	simple_lock(&lck->lm_interlock);
	if (grp != NULL)
		grp->lg_mtx_acquires++;
	while (lck->lm_owner != THREAD_NULL) {
		lck->lm_waiters++;
		if (grp != NULL)
			grp->lg_mtx_waits++;
		assert_wait(&lck->lm_waiters, THREAD_UNINT);
		simple_unlock(&lck->lm_interlock);
		thread_block();
		simple_lock(&lck->lm_interlock);
		lck->lm_waiters--;
	}
	lck->lm_owner = current_thread();
	lck_held_add(lck, LCK_KIND_MTX, caller);
	simple_unlock(&lck->lm_interlock);
}

void
lck_mtx_lock(lck_mtx_t *lck)
{
	lck_mtx_lock_for(lck, CALLER());
}

boolean_t
lck_mtx_try_lock(lck_mtx_t *lck)
{
	boolean_t got;

	simple_lock(&lck->lm_interlock);
	got = lck->lm_owner == THREAD_NULL;
	if (got) {
		lck->lm_owner = current_thread();
		lck_held_add(lck, LCK_KIND_MTX, CALLER());
	}
	simple_unlock(&lck->lm_interlock);
	return got;
}

void
lck_mtx_unlock(lck_mtx_t *lck)
{
	simple_lock(&lck->lm_interlock);
	if (lck->lm_owner != current_thread())
		panic("lck_mtx_unlock: mutex %p not held by this thread (%s)",
		    lck, thread_name(current_thread()));
	lck->lm_owner = THREAD_NULL;
	lck_held_remove(lck);
	if (lck->lm_waiters > 0)
		thread_wakeup_one(&lck->lm_waiters);
	simple_unlock(&lck->lm_interlock);
}

void
lck_mtx_destroy(lck_mtx_t *lck, lck_grp_t *grp)
{
	if (lck->lm_owner != THREAD_NULL)
		panic("lck_mtx_destroy: mutex %p is held", lck);
	if (lck->lm_grp != NULL)
		lck_grp_release(lck->lm_grp, &lck->lm_grp->lg_mtx_cnt);
	lck->lm_grp = NULL;
}

void
lck_mtx_free(lck_mtx_t *lck, lck_grp_t *grp)
{
	lck_mtx_destroy(lck, grp);
	kfree(lck, sizeof(*lck));
}

wait_result_t
lck_mtx_sleep(lck_mtx_t *lck, lck_sleep_action_t action, event_t event,
    wait_interrupt_t interruptible)
{
	wait_result_t res;

	assert_wait(event, interruptible);
	lck_mtx_unlock(lck);
	res = thread_block();
	if ((action & LCK_SLEEP_UNLOCK) == 0)
		lck_mtx_lock_for(lck, CALLER());
	return res;
}

wait_result_t
lck_mtx_sleep_deadline(lck_mtx_t *lck, lck_sleep_action_t action,
    event_t event, wait_interrupt_t interruptible, uint64_t deadline)
{
	wait_result_t res;

	assert_wait_deadline(event, interruptible, deadline);
	lck_mtx_unlock(lck);
	res = thread_block();
	if ((action & LCK_SLEEP_UNLOCK) == 0)
		lck_mtx_lock_for(lck, CALLER());
	return res;
}

/* ---- read-write locks ---- */

void
lck_rw_init(lck_rw_t *lck, lck_grp_t *grp, lck_attr_t *attr)
{
	simple_lock_init(&lck->lr_interlock, grp ? grp->lg_name : "lck_rw");
	lck->lr_readers = 0;
	lck->lr_writer = THREAD_NULL;
	lck->lr_want_write = 0;
	lck->lr_grp = grp;
	if (grp != NULL)
		lck_grp_reference(grp, &grp->lg_rw_cnt);
}

lck_rw_t *
lck_rw_alloc_init(lck_grp_t *grp, lck_attr_t *attr)
{
	lck_rw_t *lck = kalloc(sizeof(*lck));

	if (lck != NULL)
		lck_rw_init(lck, grp, attr);
	return lck;
}

/* Sleep until the lock changes; called and returns with the interlock. */
static void
lck_rw_wait(lck_rw_t *lck)
{
	if (lck->lr_grp != NULL)
		lck->lr_grp->lg_rw_waits++;
	assert_wait(&lck->lr_interlock, THREAD_UNINT);
	simple_unlock(&lck->lr_interlock);
	thread_block();
	simple_lock(&lck->lr_interlock);
}

static void
lck_rw_lock_shared_for(lck_rw_t *lck, uint32_t caller)
{
	if (intr_context())
		panic("lck_rw_lock_shared: %p in an interrupt handler", lck);
	simple_lock(&lck->lr_interlock);
	/* Waiting writers go first, so a stream of readers cannot starve them. */
	while (lck->lr_writer != THREAD_NULL || lck->lr_want_write > 0)
		lck_rw_wait(lck);
	lck->lr_readers++;
	lck_held_add(lck, LCK_KIND_RW_SHARED, caller);
	simple_unlock(&lck->lr_interlock);
}

void
lck_rw_lock_shared(lck_rw_t *lck)
{
	lck_rw_lock_shared_for(lck, CALLER());
}

static void
lck_rw_lock_exclusive_for(lck_rw_t *lck, uint32_t caller)
{
	if (intr_context())
		panic("lck_rw_lock_exclusive: %p in an interrupt handler", lck);
	simple_lock(&lck->lr_interlock);
	if (lck->lr_writer == current_thread())
		panic("lck_rw_lock_exclusive: %p already held by this thread",
		    lck);
	lck->lr_want_write++;
	while (lck->lr_writer != THREAD_NULL || lck->lr_readers > 0)
		lck_rw_wait(lck);
	lck->lr_want_write--;
	lck->lr_writer = current_thread();
	lck_held_add(lck, LCK_KIND_RW_EXCLUSIVE, caller);
	simple_unlock(&lck->lr_interlock);
}

void
lck_rw_lock_exclusive(lck_rw_t *lck)
{
	lck_rw_lock_exclusive_for(lck, CALLER());
}

void
lck_rw_unlock_shared(lck_rw_t *lck)
{
	simple_lock(&lck->lr_interlock);
	if (lck->lr_readers == 0)
		panic("lck_rw_unlock_shared: %p is not held shared", lck);
	lck_held_remove(lck);
	if (--lck->lr_readers == 0)
		thread_wakeup(&lck->lr_interlock);
	simple_unlock(&lck->lr_interlock);
}

void
lck_rw_unlock_exclusive(lck_rw_t *lck)
{
	simple_lock(&lck->lr_interlock);
	if (lck->lr_writer != current_thread())
		panic("lck_rw_unlock_exclusive: %p not held by this thread",
		    lck);
	lck->lr_writer = THREAD_NULL;
	lck_held_remove(lck);
	thread_wakeup(&lck->lr_interlock);
	simple_unlock(&lck->lr_interlock);
}

void
lck_rw_lock(lck_rw_t *lck, lck_rw_type_t type)
{
	if (type == LCK_RW_TYPE_SHARED)
		lck_rw_lock_shared_for(lck, CALLER());
	else if (type == LCK_RW_TYPE_EXCLUSIVE)
		lck_rw_lock_exclusive_for(lck, CALLER());
	else
		panic("lck_rw_lock: invalid type %u", type);
}

void
lck_rw_unlock(lck_rw_t *lck, lck_rw_type_t type)
{
	if (type == LCK_RW_TYPE_SHARED)
		lck_rw_unlock_shared(lck);
	else if (type == LCK_RW_TYPE_EXCLUSIVE)
		lck_rw_unlock_exclusive(lck);
	else
		panic("lck_rw_unlock: invalid type %u", type);
}

lck_rw_type_t
lck_rw_done(lck_rw_t *lck)
{
	if (lck->lr_writer == current_thread()) {
		lck_rw_unlock_exclusive(lck);
		return LCK_RW_TYPE_EXCLUSIVE;
	}
	lck_rw_unlock_shared(lck);
	return LCK_RW_TYPE_SHARED;
}

void
lck_rw_destroy(lck_rw_t *lck, lck_grp_t *grp)
{
	if (lck->lr_writer != THREAD_NULL || lck->lr_readers > 0)
		panic("lck_rw_destroy: %p is held", lck);
	if (lck->lr_grp != NULL)
		lck_grp_release(lck->lr_grp, &lck->lr_grp->lg_rw_cnt);
	lck->lr_grp = NULL;
}

void
lck_rw_free(lck_rw_t *lck, lck_grp_t *grp)
{
	lck_rw_destroy(lck, grp);
	kfree(lck, sizeof(*lck));
}

/* ---- what a kext holds, and the `locks` command ---- */

/* "1 mutex, 2 spin locks" or "no locks"; returns buf. */
static const char *
lck_grp_describe(const lck_grp_t *grp, char *buf, size_t len)
{
	static const char *const kinds[3][2] = {
		{ "spin lock", "spin locks" }, { "mutex", "mutexes" },
		{ "rw lock", "rw locks" },
	};
	uint32_t n[3] = { grp->lg_spin_cnt, grp->lg_mtx_cnt, grp->lg_rw_cnt };
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < 3; i++) {
		if (n[i] == 0 || used >= len)
			continue;
		used += snprintf(buf + used, len - used, "%s%u %s",
		    used > 0 ? ", " : "", n[i], kinds[i][n[i] != 1]);
	}
	if (used == 0)
		strlcpy(buf, "no locks", len);
	return buf;
}

/*
 * Each group a kext made, with the locks still in it.  Kexts see only
 * opaque lock types, so every lock of theirs came from lck_*_alloc_init:
 * the bytes are the group's and its locks' heap blocks.  A group freed
 * with lck_grp_free lingers while it holds locks (lg_refcnt is then the
 * lock count, without the +1 of the group's own reference).
 */
static void
lck_grp_report(const struct kmod_owner *query, kmod_resource_emit_t *emit,
    void *arg)
{
	struct kmod_resource kr = { "lock group", 0, 0, "" };
	char locks[64];
	lck_grp_t *grp;
	uint32_t nlocks;

	simple_lock(&lck_grp_lock);
	TAILQ_FOREACH(grp, &lck_grp_list, lg_link) {
		if (!kmod_owner_match(&grp->lg_owner, query))
			continue;
		nlocks = grp->lg_spin_cnt + grp->lg_mtx_cnt + grp->lg_rw_cnt;
		kr.kr_count = nlocks;
		kr.kr_bytes = sizeof(*grp) +
		    grp->lg_spin_cnt * sizeof(lck_spin_t) +
		    grp->lg_mtx_cnt * sizeof(lck_mtx_t) +
		    grp->lg_rw_cnt * sizeof(lck_rw_t);
		snprintf(kr.kr_text, sizeof(kr.kr_text), "lock group '%s'%s: "
		    "%s, %u bytes", grp->lg_name, grp->lg_refcnt == nlocks ?
		    " (freed, locks remain)" : "",
		    lck_grp_describe(grp, locks, sizeof(locks)), kr.kr_bytes);
		emit(&kr, arg);
	}
	simple_unlock(&lck_grp_lock);
}
KMOD_RESOURCES(lck_grp, KMOD_RES_LOCKS, lck_grp_report);

#define LOCKS_SHOWN	64

/*
 * Copy under the lock, print after: printf must not run with it held.
 * The copy is static: it is large, and commands run one at a time.
 */
static int
mon_locks(int argc, char **argv)
{
	static struct __lck_grp__ copy[LOCKS_SHOWN];
	char owner[KMOD_OWNER_NAME_MAX];
	lck_grp_t *grp;
	int n = 0, more = 0, i;

	simple_lock(&lck_grp_lock);
	TAILQ_FOREACH(grp, &lck_grp_list, lg_link) {
		if (n < LOCKS_SHOWN)
			copy[n++] = *grp;
		else
			more++;
	}
	simple_unlock(&lck_grp_lock);

	printf("%-32s %5s %5s %5s %10s %8s %8s  %s\n", "lock group", "spin",
	    "mtx", "rw", "mtx-locks", "mtx-wait", "rw-wait", "owner");
	for (i = 0; i < n; i++)
		printf("%-32s %5u %5u %5u %10u %8u %8u  %s\n", copy[i].lg_name,
		    copy[i].lg_spin_cnt, copy[i].lg_mtx_cnt, copy[i].lg_rw_cnt,
		    copy[i].lg_mtx_acquires, copy[i].lg_mtx_waits,
		    copy[i].lg_rw_waits,
		    kmod_owner_name(&copy[i].lg_owner, owner, sizeof(owner)));
	if (more > 0)
		printf("... and %d more lock groups\n", more);
	return 0;
}
MONITOR_COMMAND(locks, mon_locks, "locks",
    "lock groups: their locks, waits and owners");
