/*
 * The kmod table: which kexts are loaded, where, and who depends on whom
 * (see kmod_var.h).  Every change to it is serialized by kmod_op_lock;
 * kmod_lock guards the list itself and what kextstat and panic reports
 * read of each kmod.  A kext's start and stop routines run in a thread
 * of their own (kmod_call_thread), with neither lock held: the caller
 * waits for the routine a while, and answers "still starting" if it has
 * not returned.  A kext whose stop succeeded but left something behind
 * that still points into it (see kmod_check.h) is "pinned": stopped, its
 * memory kept, and freed by a later unload once nothing points in.
 * Every refusal is explained in words, for the host to print.
 *
 * A kmod's life, with the thread that moves it on:
 *
 *	RESERVED --kmod_load--> STARTING --its start returns--> RUNNING
 *	                           |   (or it fails: freed, or STOPPED)
 *	RUNNING --kmod_unload--> STOPPING --its stop returns--> freed
 *	                     (or it refuses: RUNNING; or pinned: STOPPED)
 *	STOPPED --kmod_unload, once nothing points in--> freed
 */
#include <sys/systm.h>
#include <i386/pmap.h>
#include <kern/clock.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <kern/kmod_resources.h>
#include <kern/kmod_var.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/panic_var.h>
#include <kern/sched_prim.h>
#include <kern/simple_lock.h>
#include <kern/thread.h>
#include <kern/thread_var.h>
#include <kern/vm_page.h>
#include <libkern/crc32.h>
#include <mach/mach_time.h>

enum kmod_state {
	KM_RESERVED,		/* a block from kmod_alloc(), not loaded */
	KM_STARTING,		/* loaded; its start routine runs */
	KM_RUNNING,		/* start returned success; stop has not */
	KM_STOPPING,		/* its stop routine runs */
	KM_STOPPED		/* stopped (or start failed) but kept in
				   memory: pinned */
};

/*
 * One kmod.  Fields marked (b) are written holding both kmod_op_lock and
 * kmod_lock, and read holding either; (o) only under kmod_op_lock.  The
 * reservation (km_addr, km_npages) never changes.
 */
struct kmod {
	TAILQ_ENTRY(kmod)	km_link;	/* kmod_lock */
	kmod_info_t		*km_info;	/* inside the image (b) */
	uint32_t		km_addr;	/* the reservation */
	uint32_t		km_npages;
	enum kmod_state		km_state;	/* (b) */
	/* STARTING, STOPPING: the routine's thread, for kextstat (b). */
	uint64_t		km_since;	/* when it was called */
	uint32_t		km_thread;	/* its thread id in `ps` */
	/* STOPPED: pinned (b). */
	uint64_t		km_stopped;	/* when stop returned */
	enum kmod_hold		km_hold;	/* the last checks' verdict */
	char			*km_why;	/* and what they found:
						   KMOD_WHY_MAX bytes, made
						   when first checked */
	uint32_t		km_crc;		/* CRC-32 of the image (o) */
	uint32_t		km_ndeps;	/* ids linked against, */
	uint32_t		km_deps[KMOD_MAX_DEPS];	/* components too (o) */
	char			km_compat[KMOD_MAX_NAME];	/* (o) */
};

/*
 * One call of a kext's start or stop routine, which kmod_call_thread
 * makes in a thread of its own.  The request that asked for it waits
 * for it at most KMOD_CALL_WAIT_MS; whichever of the two is done with
 * it last frees it: the request if the routine returned in time, the
 * thread if the request gave up.  kmod_op_lock.
 */
struct kmod_call {
	struct kmod	*kc_km;		/* gone once kc_done, if freed */
	bool		kc_stop;	/* the stop routine, else start */
	bool		kc_done;	/* it returned; the outcome is below */
	bool		kc_abandoned;	/* the request stopped waiting */
	uint64_t	kc_began;
	uint64_t	kc_ran;		/* ns, once done */
	kern_return_t	kc_result;	/* what the routine returned */
	errno_t		kc_err;		/* kmod_load's or kmod_unload's */
	char		kc_thread[THREAD_NAME_MAX];	/* "kmod start <id>" */
	char		kc_why[KMOD_REFUSAL_MAX];
};

static TAILQ_HEAD(, kmod) kmod_head = TAILQ_HEAD_INITIALIZER(kmod_head);
static simple_lock_data_t kmod_lock = SIMPLE_LOCK_INITIALIZER("kmod");
/*
 * Serializes every change to the table: loads and unloads, their checks
 * and records, dependencies' reference counts, state changes, a
 * routine's outcome (struct kmod_call) and the unload checks.  It is
 * held only for work that ends by itself -- never across a kext's
 * routine -- so the host link's thread, which takes it for every KMOD_*
 * request, never waits for a kext.
 */
static lck_mtx_t kmod_op_lock;
static uint32_t kmod_next_id;		/* kmod_op_lock */

void
kmod_init(void)
{
	lck_mtx_init(&kmod_op_lock, NULL, NULL);
	kmod_next_id = kmod_ncomponents;
}

static uint32_t
kmod_end(const struct kmod *km)
{
	return km->km_addr + km->km_npages * PAGE_SIZE;
}

/* Recorded by kmod_load(), in whatever state. */
static bool
kmod_loaded(const struct kmod *km)
{
	return km->km_state != KM_RESERVED;
}

/* Stopped (or its start failed) but kept in memory. */
static bool
kmod_pinned(const struct kmod *km)
{
	return km->km_state == KM_STOPPED;
}

/* Its start or stop routine has not returned yet. */
static bool
kmod_busy(const struct kmod *km)
{
	return km->km_state == KM_STARTING || km->km_state == KM_STOPPING;
}

static void
kmod_set_state(struct kmod *km, enum kmod_state state)
{
	simple_lock(&kmod_lock);
	km->km_state = state;
	simple_unlock(&kmod_lock);
}

/* A duration as the messages give it: "12.3 s". */
static void
kmod_seconds(uint64_t ns, char *buf, size_t len)
{
	uint32_t tenths = (uint32_t)(ns / (NSEC_PER_SEC / 10));

	snprintf(buf, len, "%u.%u s", tenths / 10, tenths % 10);
}

/*
 * How long a busy kmod's routine has run, and where to look at it:
 * "its start routine has run for 8.2 s (thread 14 in `ps`)".  Once it
 * has run KMOD_CALL_STUCK_S, also what the student can do if it never
 * returns: a kernel thread cannot be ended from outside -- it may hold
 * locks, or be half-way through registering something -- so only a
 * reboot ends it.  kmod_lock or kmod_op_lock held.
 */
static void
kmod_busy_words(const struct kmod *km, char *buf, size_t len)
{
	uint64_t ran = mach_absolute_time() - km->km_since;
	char secs[16];

	kmod_seconds(ran, secs, sizeof(secs));
	snprintf(buf, len, "its %s routine has run for %s (thread %u in "
	    "`ps`)%s", km->km_state == KM_STARTING ? "start" : "stop", secs,
	    km->km_thread, ran >= KMOD_CALL_STUCK_S * NSEC_PER_SEC ?
	    "; if it never returns, only a reboot ends it: a kernel thread "
	    "cannot be killed safely" : "");
}

static const char *
kmod_busy_state(const struct kmod *km)
{
	return km->km_state == KM_STARTING ? "starting" : "stopping";
}

/* What holds a pinned kmod, in the checks' words. */
static const char *
kmod_why(const struct kmod *km)
{
	return km->km_why != NULL ? km->km_why :
	    "something still points into it (no memory left to say what)";
}

/* The name a refusal gives a start or stop routine's result. */
static const char *
kern_return_name(kern_return_t kr)
{
	switch (kr) {
	case KERN_SUCCESS:		return "KERN_SUCCESS";
	case KERN_INVALID_ADDRESS:	return "KERN_INVALID_ADDRESS";
	case KERN_PROTECTION_FAILURE:	return "KERN_PROTECTION_FAILURE";
	case KERN_NO_SPACE:		return "KERN_NO_SPACE";
	case KERN_INVALID_ARGUMENT:	return "KERN_INVALID_ARGUMENT";
	case KERN_FAILURE:		return "KERN_FAILURE";
	case KERN_RESOURCE_SHORTAGE:	return "KERN_RESOURCE_SHORTAGE";
	case KERN_NO_ACCESS:		return "KERN_NO_ACCESS";
	case KERN_ABORTED:		return "KERN_ABORTED";
	default:			return "not a kern_return_t we know";
	}
}

static struct kmod *
kmod_find_id_locked(uint32_t id)
{
	struct kmod *km;

	TAILQ_FOREACH(km, &kmod_head, km_link)
		if (kmod_loaded(km) && km->km_info->id == id)
			return km;
	return NULL;
}

static struct kmod *
kmod_find_addr_locked(uint32_t addr, bool loaded)
{
	struct kmod *km;

	TAILQ_FOREACH(km, &kmod_head, km_link)
		if (km->km_addr == addr && kmod_loaded(km) == loaded)
			return km;
	return NULL;
}

/* The reserved (not loaded) block holding [addr, addr + len), or NULL. */
static struct kmod *
kmod_find_range_locked(uint32_t addr, size_t len)
{
	struct kmod *km;

	TAILQ_FOREACH(km, &kmod_head, km_link)
		if (!kmod_loaded(km) && addr >= km->km_addr &&
		    (uint64_t)(addr - km->km_addr) + len <=
		    km->km_npages * PAGE_SIZE)
			return km;
	return NULL;
}

/* A loaded kmod that links against kmod `id`, or NULL. */
static struct kmod *
kmod_find_dependent_locked(uint32_t id)
{
	struct kmod *km;
	uint32_t i;

	TAILQ_FOREACH(km, &kmod_head, km_link) {
		if (!kmod_loaded(km))
			continue;
		for (i = 0; i < km->km_ndeps; i++)
			if (km->km_deps[i] == id)
				return km;
	}
	return NULL;
}

errno_t
kmod_alloc(uint32_t size, uint32_t *addr)
{
	struct kmod *km;
	uint32_t npages = round_page(size) / PAGE_SIZE;
	void *image;

	if (size == 0)
		return EINVAL;
	if (size > KMOD_MAX_IMAGE)
		return ENOMEM;
	km = kalloc(sizeof(*km));
	if (km == NULL)
		return ENOMEM;
	image = vm_page_alloc_contig(npages);
	if (image == NULL) {
		kfree(km, sizeof(*km));
		return ENOMEM;
	}
	bzero(image, npages * PAGE_SIZE);
	bzero(km, sizeof(*km));
	km->km_addr = (uint32_t)image;
	km->km_npages = npages;
	simple_lock(&kmod_lock);
	TAILQ_INSERT_TAIL(&kmod_head, km, km_link);
	simple_unlock(&kmod_lock);
	*addr = km->km_addr;
	return 0;
}

errno_t
kmod_write(uint32_t addr, const void *data, size_t len)
{
	struct kmod *km;

	lck_mtx_lock(&kmod_op_lock);	/* the block stays while we copy */
	simple_lock(&kmod_lock);
	km = kmod_find_range_locked(addr, len);
	simple_unlock(&kmod_lock);
	if (km != NULL)
		memcpy((void *)addr, data, len);
	lck_mtx_unlock(&kmod_op_lock);
	return km != NULL ? 0 : EINVAL;
}

/* Unlist and free a kmod's memory and record; kmod_op_lock is held. */
static void
kmod_destroy(struct kmod *km)
{
	simple_lock(&kmod_lock);
	TAILQ_REMOVE(&kmod_head, km, km_link);
	simple_unlock(&kmod_lock);
	vm_page_free_contig((void *)km->km_addr, km->km_npages);
	if (km->km_why != NULL)
		kfree(km->km_why, KMOD_WHY_MAX);
	kfree(km, sizeof(*km));
}

errno_t
kmod_free(uint32_t addr)
{
	struct kmod *km;

	lck_mtx_lock(&kmod_op_lock);
	simple_lock(&kmod_lock);
	km = kmod_find_addr_locked(addr, false);
	simple_unlock(&kmod_lock);
	if (km != NULL)
		kmod_destroy(km);
	lck_mtx_unlock(&kmod_op_lock);
	return km != NULL ? 0 : EINVAL;
}

void
kmod_free_orphans(void)
{
	struct kmod *km;

	lck_mtx_lock(&kmod_op_lock);
	for (;;) {
		simple_lock(&kmod_lock);
		TAILQ_FOREACH(km, &kmod_head, km_link)
			if (!kmod_loaded(km))
				break;
		simple_unlock(&kmod_lock);
		if (km == NULL)
			break;
		kmod_destroy(km);
	}
	lck_mtx_unlock(&kmod_op_lock);
}

/*
 * Is there a block at req->kl_addr that holds the image, and did the
 * image arrive as the host linked it?  Nothing in it runs before this.
 */
static errno_t
kmod_check_image(const struct kmod_load_req *req, struct kmod **kmp,
    char *why, size_t whylen)
{
	struct kmod *km;
	uint32_t crc;

	simple_lock(&kmod_lock);
	km = kmod_find_addr_locked(req->kl_addr, false);
	simple_unlock(&kmod_lock);
	if (km == NULL) {
		snprintf(why, whylen, "no block from KMOD_ALLOC is waiting "
		    "at 0x%08x: allocate one and link the kext there",
		    req->kl_addr);
		return EINVAL;
	}
	if (req->kl_size == 0 || req->kl_size > km->km_npages * PAGE_SIZE) {
		snprintf(why, whylen, "an image of %u bytes does not fit the "
		    "%u-byte block at 0x%08x", req->kl_size,
		    km->km_npages * PAGE_SIZE, km->km_addr);
		return EINVAL;
	}
	if (req->kl_ndeps > KMOD_MAX_DEPS) {
		snprintf(why, whylen, "%u dependencies: a kext may link "
		    "against at most %d", req->kl_ndeps, KMOD_MAX_DEPS);
		return EINVAL;
	}
	crc = crc32(0, (const void *)km->km_addr, req->kl_size);
	if (crc != req->kl_crc) {
		snprintf(why, whylen, "the image's CRC-32 is 0x%08x, but the "
		    "host linked one with 0x%08x: it was damaged on its way "
		    "in; write it again", crc, req->kl_crc);
		return EIO;
	}
	*kmp = km;
	return 0;
}

/* Is a routine's address inside the image (or NULL: none)? */
static bool
kmod_routine_ok(const void *fn, uint32_t start, uint32_t size)
{
	return fn == NULL || ((uint32_t)fn >= start &&
	    (uint32_t)fn - start < size);
}

/* Is the kmod_info at `info_addr` inside the image and well formed? */
static errno_t
kmod_check_info(struct kmod *km, uint32_t info_addr, uint32_t size,
    char *why, size_t whylen)
{
	kmod_info_t *ki = (kmod_info_t *)info_addr;

	if (info_addr < km->km_addr ||
	    (uint64_t)(info_addr - km->km_addr) + sizeof(*ki) > size) {
		snprintf(why, whylen, "kmod_info at 0x%08x is not inside the "
		    "image (0x%08x-0x%08x)", info_addr, km->km_addr,
		    km->km_addr + size - 1);
		return EINVAL;
	}
	if (ki->info_version != KMOD_INFO_VERSION) {
		snprintf(why, whylen, "kmod_info has info_version %d, not %d: "
		    "rebuild the kext with Finch's headers", ki->info_version,
		    KMOD_INFO_VERSION);
		return EINVAL;
	}
	if (strnlen(ki->name, KMOD_MAX_NAME) == KMOD_MAX_NAME ||
	    strnlen(ki->version, KMOD_MAX_NAME) == KMOD_MAX_NAME ||
	    ki->name[0] == '\0') {
		snprintf(why, whylen, "kmod_info's name or version is empty "
		    "or longer than %d bytes", KMOD_MAX_NAME - 1);
		return EINVAL;
	}
	if (!kmod_routine_ok(ki->start, km->km_addr, size) ||
	    !kmod_routine_ok(ki->stop, km->km_addr, size)) {
		snprintf(why, whylen, "%s: its start or stop routine is not "
		    "inside the image", ki->name);
		return EINVAL;
	}
	return 0;
}

/*
 * Is a kext of that name loaded already?  A pinned copy counts too: a
 * second copy is not loaded beside it, because the bundle id is what
 * names a kext's memory, its symbols on the host and its panic reports,
 * and the pinned copy's code may still run.
 */
static errno_t
kmod_check_name(const char *name, char *why, size_t whylen)
{
	char busy[KMOD_WHY_MAX];
	struct kmod *other;
	errno_t err = 0;

	simple_lock(&kmod_lock);
	TAILQ_FOREACH(other, &kmod_head, km_link) {
		if (!kmod_loaded(other) || strcmp(other->km_info->name, name))
			continue;
		if (other->km_state == KM_RUNNING)
			snprintf(why, whylen, "a kext named %s is already "
			    "loaded (id %u): unload it first", name,
			    other->km_info->id);
		else if (kmod_busy(other)) {
			kmod_busy_words(other, busy, sizeof(busy));
			snprintf(why, whylen, "a kext named %s is already "
			    "loaded (id %u) and still %s: %s", name,
			    other->km_info->id, kmod_busy_state(other), busy);
		} else
			snprintf(why, whylen, "a kext named %s is already "
			    "loaded (id %u), stopped and pinned in memory: "
			    "%s.  A second copy is not loaded beside it (the "
			    "bundle id names its memory, its symbols and its "
			    "panics): restart the guest to load the fixed "
			    "kext, or give it another CFBundleIdentifier",
			    name, other->km_info->id, kmod_why(other));
		err = EEXIST;
		break;
	}
	simple_unlock(&kmod_lock);
	return err;
}

static void
kmod_release_deps(kmod_info_t *ki)
{
	kmod_reference_t *ref;

	while ((ref = ki->reference_list) != NULL) {
		ki->reference_list = ref->next;
		ref->info->reference_count--;
		kfree(ref, sizeof(*ref));
	}
}

/*
 * The loaded, running kmod `id` that a new kext wants to link against.
 * Not one whose start routine is still running: what it exports may not
 * be set up yet, and start may still fail.
 */
static errno_t
kmod_find_dep(uint32_t id, struct kmod **depp, char *why, size_t whylen)
{
	char busy[KMOD_WHY_MAX];
	struct kmod *dep;

	simple_lock(&kmod_lock);
	dep = kmod_find_id_locked(id);
	simple_unlock(&kmod_lock);
	if (dep == NULL) {
		snprintf(why, whylen, "dependency id %u is not loaded", id);
		return ENOENT;
	}
	if (kmod_busy(dep)) {
		kmod_busy_words(dep, busy, sizeof(busy));
		snprintf(why, whylen, "dependency %s (id %u) is still %s: %s.  "
		    "Nothing may link against it until it is running: load "
		    "this kext again once kextstat shows it running",
		    dep->km_info->name, id, kmod_busy_state(dep), busy);
		return EAGAIN;
	}
	if (kmod_pinned(dep)) {
		snprintf(why, whylen, "dependency %s (id %u) is stopped and "
		    "pinned in memory (%s): nothing may link against it; "
		    "restart the guest to load it again", dep->km_info->name,
		    id, kmod_why(dep));
		return ENOENT;
	}
	*depp = dep;
	return 0;
}

/* Link ki to each dependency and count the references. */
static errno_t
kmod_retain_deps(kmod_info_t *ki, const uint32_t *deps, uint32_t ndeps,
    char *why, size_t whylen)
{
	kmod_reference_t *ref;
	struct kmod *dep;
	errno_t err = 0;
	uint32_t i;

	ki->reference_list = NULL;	/* the image's values mean nothing */
	ki->reference_count = 0;
	for (i = 0; i < ndeps && err == 0; i++) {
		if (deps[i] < (uint32_t)kmod_ncomponents)
			continue;	/* the kernel is never unloaded */
		err = kmod_find_dep(deps[i], &dep, why, whylen);
		if (err != 0)
			break;
		ref = kalloc(sizeof(*ref));
		if (ref == NULL) {
			snprintf(why, whylen, "out of kernel memory");
			err = ENOMEM;
			break;
		}
		ref->info = dep->km_info;
		ref->next = ki->reference_list;
		ki->reference_list = ref;
		dep->km_info->reference_count++;
	}
	if (err != 0)
		kmod_release_deps(ki);
	return err;
}

/* Make the checked image a loaded kmod with a new id, starting. */
static void
kmod_record(struct kmod *km, kmod_info_t *ki, const struct kmod_load_req *req)
{
	memcpy(km->km_deps, req->kl_deps, req->kl_ndeps * sizeof(uint32_t));
	km->km_ndeps = req->kl_ndeps;
	km->km_crc = req->kl_crc;
	strlcpy(km->km_compat, req->kl_compat, sizeof(km->km_compat));
	ki->id = kmod_next_id++;
	ki->address = km->km_addr;
	ki->size = km->km_npages * PAGE_SIZE;
	ki->hdr_size = 0;
	simple_lock(&kmod_lock);
	km->km_info = ki;
	km->km_since = mach_absolute_time();
	km->km_state = KM_STARTING;	/* listed now: a panic in start
					   names it */
	simple_unlock(&kmod_lock);
}

/* A load that cannot go on after all: the block is only reserved again. */
static void
kmod_unrecord(struct kmod *km)
{
	kmod_release_deps(km->km_info);
	kmod_set_state(km, KM_RESERVED);
}

static enum kmod_hold kmod_check(struct kmod *km, int *others);
static const char *kmod_advice(enum kmod_hold hold);

/*
 * Just before a kext's image is freed: what it still owns (OSMalloc
 * blocks, mbufs, lock groups, thread calls...) stays allocated -- the
 * kernel does not clean up after a kext -- but is reported, on the
 * console by kmod_leak_report() and to the host at the end of `why`.
 */
static void
kmod_append_leaks(struct kmod *km, char *why, size_t whylen)
{
	char leaks[KMOD_REFUSAL_MAX];

	if (kmod_leak_report(km->km_info, leaks, sizeof(leaks)) == 0)
		return;
	if (why[0] != '\0')
		strlcat(why, "; ", whylen);
	strlcat(why, leaks, whylen);
}

LINKER_SET_DECLARE(kmod_check, const struct kmod_unload_check);

enum kmod_hold
kmod_points_into(uint32_t start, uint32_t end, uint64_t stopped, char *why,
    size_t whylen, int *others)
{
	const struct kmod_unload_check **kcp;
	enum kmod_hold hold, worst = KMOD_HOLD_NONE;
	char what[KMOD_WHY_MAX];

	*others = 0;
	why[0] = '\0';
	LINKER_SET_FOREACH(kmod_check, kcp) {
		what[0] = '\0';
		hold = (*kcp)->kuc_func(start, end, stopped, what,
		    sizeof(what));
		if (hold == KMOD_HOLD_NONE)
			continue;
		if (hold > worst) {
			if (worst != KMOD_HOLD_NONE)
				(*others)++;
			worst = hold;
			strlcpy(why, what, whylen);
		} else
			(*others)++;
	}
	return worst;
}

/*
 * Does anything the kernel will call later still point into the
 * stopped kmod's image?  The verdict and its sentence are kept for
 * kextstat.  kmod_op_lock held.
 */
static enum kmod_hold
kmod_check(struct kmod *km, int *others)
{
	char what[KMOD_WHY_MAX], *why;
	enum kmod_hold hold;

	hold = kmod_points_into(km->km_addr, kmod_end(km), km->km_stopped,
	    what, sizeof(what), others);
	if (hold == KMOD_HOLD_NONE)
		strlcpy(what, "nothing points into it any more: kextunload "
		    "frees it", sizeof(what));
	/* Most kmods are never pinned: their record has no room for words. */
	why = km->km_why != NULL ? NULL : kalloc(KMOD_WHY_MAX);
	simple_lock(&kmod_lock);
	km->km_hold = hold;
	if (km->km_why == NULL)
		km->km_why = why;
	if (km->km_why != NULL)
		strlcpy(km->km_why, what, KMOD_WHY_MAX);
	simple_unlock(&kmod_lock);
	return hold;
}

/* What the student can do about a pinned kext, after what holds it. */
static const char *
kmod_advice(enum kmod_hold hold)
{
	if (hold == KMOD_HOLD_FOREVER)
		return "Nothing else can release it (only its own code could "
		    "stop the re-arming): its memory stays until the guest "
		    "reboots.  Fix the kext; restart the guest to load the "
		    "fixed one";
	return "Its code stays so that nothing calls freed memory; once "
	    "that is gone, kextunload frees it (kextunload -w waits for it)";
}

/* Refuse while other kexts link against km. */
static errno_t
kmod_check_unreferenced(struct kmod *km, char *why, size_t whylen)
{
	kmod_info_t *ki = km->km_info;
	struct kmod *user;

	if (ki->reference_count == 0)
		return 0;
	simple_lock(&kmod_lock);
	user = kmod_find_dependent_locked(ki->id);
	if (user != NULL)
		snprintf(why, whylen, "%s (id %u) is linked against by %d "
		    "loaded kext(s), %s (id %u) among them: unload those "
		    "first", ki->name, ki->id, ki->reference_count,
		    user->km_info->name, user->km_info->id);
	else
		snprintf(why, whylen, "%s (id %u) is linked against by %d "
		    "loaded kext(s): unload those first", ki->name, ki->id,
		    ki->reference_count);
	simple_unlock(&kmod_lock);
	return EBUSY;
}

/*
 * After stop: refuse to free memory that the kernel may still call.
 * `stopped_now`: how it stopped just now ("its stop routine returned
 * KERN_SUCCESS"), or NULL if stop ran before and the kmod was pinned
 * already.
 */
static errno_t
kmod_check_unused(struct kmod *km, const char *stopped_now, char *why,
    size_t whylen)
{
	enum kmod_hold hold;
	char more[48] = "", stopped[96];
	int others;

	hold = kmod_check(km, &others);
	if (hold == KMOD_HOLD_NONE)
		return 0;
	if (others > 0)
		snprintf(more, sizeof(more), " (and %d more thing%s: this "
		    "one first)", others, others > 1 ? "s" : "");
	if (stopped_now != NULL)
		snprintf(stopped, sizeof(stopped), "was stopped (%s) but stays "
		    "in memory, pinned", stopped_now);
	else
		strlcpy(stopped, "is stopped (stop is never called twice) and "
		    "still pinned in memory", sizeof(stopped));
	snprintf(why, whylen, "%s (id %u) %s: %s%s.  %s", km->km_info->name,
	    km->km_info->id, stopped, kmod_why(km), more, kmod_advice(hold));
	return EBUSY;
}

/* Unlist the stopped kmod, give back its dependencies and free it. */
static void
kmod_remove(struct kmod *km, char *why, size_t whylen)
{
	kmod_append_leaks(km, why, whylen);
	kmod_release_deps(km->km_info);
	kmod_destroy(km);
}

/*
 * How a routine returned, as the messages say it: "returned 5
 * (KERN_FAILURE)" -- or, for a routine the request stopped waiting for,
 * "returned after 12.3 s: 5 (KERN_FAILURE)".
 */
static void
kmod_returned(const struct kmod_call *kc, char *buf, size_t len)
{
	char secs[16] = "";

	if (kc->kc_abandoned) {
		kmod_seconds(kc->kc_ran, secs, sizeof(secs));
		snprintf(buf, len, "returned after %s: %d (%s)", secs,
		    kc->kc_result, kern_return_name(kc->kc_result));
	} else
		snprintf(buf, len, "returned %d (%s)", kc->kc_result,
		    kern_return_name(kc->kc_result));
}

/*
 * Start returned: the kmod runs.  If start refused, forget the kmod and
 * free its block -- unless start left something behind (a timeout, a
 * thread) that still points into the image: then the kmod stays,
 * pinned, until that is gone.  kmod_op_lock held.
 */
static errno_t
kmod_start_done(struct kmod_call *kc)
{
	struct kmod *km = kc->kc_km;
	kmod_info_t *ki = km->km_info;
	char *why = kc->kc_why, ret[64];
	size_t whylen = sizeof(kc->kc_why);
	enum kmod_hold hold;
	int others;

	kmod_returned(kc, ret, sizeof(ret));
	if (kc->kc_result == KERN_SUCCESS) {
		kmod_set_state(km, KM_RUNNING);
		if (kc->kc_abandoned)
			printf("kmod: %s: its start routine %s; the kext is "
			    "running\n", ki->name, ret);
		return 0;
	}
	simple_lock(&kmod_lock);
	km->km_state = KM_STOPPED;
	km->km_stopped = mach_absolute_time();
	simple_unlock(&kmod_lock);
	hold = kmod_check(km, &others);
	if (hold != KMOD_HOLD_NONE) {
		snprintf(why, whylen, "%s: its start routine %s but left this "
		    "behind: %s.  The kext stays in memory, stopped and "
		    "pinned.  %s", ki->name, ret, kmod_why(km),
		    kmod_advice(hold));
		printf("kmod: %s\n", why);
		return EIO;
	}
	snprintf(why, whylen, "%s: its start routine %s; the kext was "
	    "unloaded", ki->name, ret);
	printf("kmod: %s\n", why);
	kmod_remove(km, why, whylen);
	return EIO;
}

/*
 * The kmod has stopped -- its stop routine returned KERN_SUCCESS (`how`
 * says so: "its stop routine returned KERN_SUCCESS") or it has none:
 * free it, or pin it if something it registered still points into it.
 * `late`: the request stopped waiting for stop, so say the outcome on
 * the console.  kmod_op_lock held.
 */
static errno_t
kmod_stopped(struct kmod *km, const char *how, bool late, char *why,
    size_t whylen)
{
	errno_t err;

	simple_lock(&kmod_lock);
	km->km_state = KM_STOPPED;
	km->km_stopped = mach_absolute_time();
	simple_unlock(&kmod_lock);
	err = kmod_check_unused(km, how, why, whylen);
	if (err != 0) {
		if (late)
			printf("kmod: %s\n", why);
		return err;
	}
	if (late) {
		/* Said before the leak report kmod_remove() prints. */
		printf("kmod: %s: %s; the kext was unloaded\n",
		    km->km_info->name, how);
	}
	kmod_remove(km, why, whylen);
	return 0;
}

/*
 * Stop returned.  If it refused, the kmod runs on; else it is freed, or
 * pinned.  kmod_op_lock held.
 */
static errno_t
kmod_stop_done(struct kmod_call *kc)
{
	struct kmod *km = kc->kc_km;
	char *why = kc->kc_why, ret[64], how[96];
	size_t whylen = sizeof(kc->kc_why);

	kmod_returned(kc, ret, sizeof(ret));
	if (kc->kc_result != KERN_SUCCESS) {
		kmod_set_state(km, KM_RUNNING);
		snprintf(why, whylen, "%s: its stop routine %s; the kext stays "
		    "loaded and running.  If stop is waiting for an "
		    "asynchronous detach (iff_detached, a detach callback) "
		    "that is normal: unload it again, or use kextunload -w",
		    km->km_info->name, ret);
		if (kc->kc_abandoned)
			printf("kmod: %s\n", why);
		return EIO;
	}
	if (kc->kc_abandoned)
		snprintf(how, sizeof(how), "its stop routine %s", ret);
	else
		strlcpy(how, "its stop routine returned KERN_SUCCESS",
		    sizeof(how));
	return kmod_stopped(km, how, kc->kc_abandoned, why, whylen);
}

/*
 * The routine returned: act on what it returned (the done functions say
 * it on the console when the request stopped waiting: nobody else
 * will), then hand the outcome to the request -- or free the call, if
 * the request is gone.  kmod_op_lock held.
 */
static void
kmod_call_done(struct kmod_call *kc, kern_return_t result)
{
	kc->kc_result = result;
	kc->kc_ran = mach_absolute_time() - kc->kc_began;
	kc->kc_err = kc->kc_stop ? kmod_stop_done(kc) : kmod_start_done(kc);
	kc->kc_km = NULL;		/* it may be gone */
	kc->kc_done = true;
	if (kc->kc_abandoned)
		kfree(kc, sizeof(*kc));
	else
		thread_wakeup(kc);
}

/*
 * The thread of one call of a start or stop routine: named after it, so
 * that `ps` (and a panic report) shows which kext's routine it runs.  It
 * holds no lock while the routine runs, so kext_call_end() finds any
 * lock the routine kept, and nothing else waits for the routine.
 */
static void
kmod_call_thread(void *arg, wait_result_t wr)
{
	struct kmod_call *kc = arg;
	kmod_info_t *ki = kc->kc_km->km_info;	/* busy: stays while we run */
	kmod_start_func_t *routine = kc->kc_stop ? ki->stop : ki->start;
	struct kext_call call;
	kern_return_t result;

	thread_set_name(current_thread(), kc->kc_thread);
	kext_call_begin(&call);
	result = routine(ki, NULL);
	kext_call_end(&call, routine);
	lck_mtx_lock(&kmod_op_lock);
	kmod_call_done(kc, result);
	lck_mtx_unlock(&kmod_op_lock);
}

/*
 * Have km's start (or stop) routine called, in a thread of its own, and
 * wait for it at most KMOD_CALL_WAIT_MS; km is STARTING (STOPPING)
 * meanwhile.  Returns what kmod_start_done() (kmod_stop_done()) made of
 * the routine's result, with *result, *ran_ms and `why` filled in; or
 * EINPROGRESS if the routine has not returned (the thread carries on
 * without us); or ENOMEM if no thread could be made (km is left as it
 * was: a start's record is the caller's to undo).  kmod_op_lock held;
 * dropped while we wait.
 */
static errno_t
kmod_call(struct kmod *km, bool stop, kern_return_t *result,
    uint32_t *ran_ms, char *why, size_t whylen)
{
	kmod_info_t *ki = km->km_info;
	struct kmod_call *kc;
	uint64_t deadline, ran;
	char secs[16];
	errno_t err;
	thread_t th;

	kc = kalloc(sizeof(*kc));
	if (kc == NULL)
		goto nomem;
	bzero(kc, sizeof(*kc));
	kc->kc_km = km;
	kc->kc_stop = stop;
	kc->kc_began = mach_absolute_time();
	snprintf(kc->kc_thread, sizeof(kc->kc_thread), "kmod %s %s",
	    stop ? "stop" : "start", ki->name);
	if (kernel_thread_start(kmod_call_thread, kc, &th) != KERN_SUCCESS) {
		kfree(kc, sizeof(*kc));
		goto nomem;
	}
	/* The thread waits for kmod_op_lock before it looks at km again. */
	simple_lock(&kmod_lock);
	km->km_state = stop ? KM_STOPPING : KM_STARTING;
	km->km_since = kc->kc_began;
	km->km_thread = th->th_id;
	simple_unlock(&kmod_lock);
	thread_deallocate(th);

	deadline = kc->kc_began + KMOD_CALL_WAIT_MS * NSEC_PER_MSEC;
	while (!kc->kc_done && mach_absolute_time() < deadline)
		(void)lck_mtx_sleep_deadline(&kmod_op_lock, LCK_SLEEP_DEFAULT,
		    kc, THREAD_UNINT, deadline);
	if (!kc->kc_done) {
		kc->kc_abandoned = true;	/* the thread frees it */
		ran = mach_absolute_time() - kc->kc_began;
		*ran_ms = ran / NSEC_PER_MSEC;
		kmod_seconds(ran, secs, sizeof(secs));
		snprintf(why, whylen, "%s: its %s routine has run for %s and "
		    "has not returned yet (thread %u, '%s' in `ps`): the kext "
		    "stays loaded, %s, until it does", ki->name,
		    stop ? "stop" : "start", secs, km->km_thread,
		    kc->kc_thread, kmod_busy_state(km));
		return EINPROGRESS;
	}
	*result = kc->kc_result;
	*ran_ms = kc->kc_ran / NSEC_PER_MSEC;
	strlcpy(why, kc->kc_why, whylen);
	err = kc->kc_err;
	kfree(kc, sizeof(*kc));
	return err;

nomem:
	snprintf(why, whylen, "%s: no memory for a thread to run its %s "
	    "routine in: free memory by unloading kexts, or restart the "
	    "guest", ki->name, stop ? "stop" : "start");
	return ENOMEM;
}

errno_t
kmod_load(const struct kmod_load_req *req, uint32_t *id,
    kern_return_t *start_result, uint32_t *ran_ms, char *why, size_t whylen)
{
	struct kmod *km = NULL;
	kmod_info_t *ki;
	errno_t err;

	*id = 0;
	*start_result = KERN_SUCCESS;
	*ran_ms = 0;
	why[0] = '\0';
	lck_mtx_lock(&kmod_op_lock);
	/* In the order of docs/hostlink.md: block and CRC, kmod_info,
	 * name, dependencies. */
	err = kmod_check_image(req, &km, why, whylen);
	if (err != 0)
		goto out;
	err = kmod_check_info(km, req->kl_info, req->kl_size, why, whylen);
	if (err != 0)
		goto out;
	ki = (kmod_info_t *)req->kl_info;
	err = kmod_check_name(ki->name, why, whylen);
	if (err != 0)
		goto out;
	err = kmod_retain_deps(ki, req->kl_deps, req->kl_ndeps, why, whylen);
	if (err != 0)
		goto out;
	kmod_record(km, ki, req);
	if (ki->start == NULL) {	/* nothing to wait for */
		kmod_set_state(km, KM_RUNNING);
		*id = ki->id;
		goto out;
	}
	err = kmod_call(km, false, start_result, ran_ms, why, whylen);
	if (err == ENOMEM)
		kmod_unrecord(km);
	if (err == 0 || err == EINPROGRESS)
		*id = ki->id;
out:
	lck_mtx_unlock(&kmod_op_lock);
	return err;
}

/* Refuse while its start or stop routine runs: nothing can hurry it. */
static errno_t
kmod_check_idle(struct kmod *km, char *why, size_t whylen)
{
	char busy[KMOD_WHY_MAX];

	if (!kmod_busy(km))
		return 0;
	kmod_busy_words(km, busy, sizeof(busy));
	snprintf(why, whylen, "%s (id %u) is still %s: %s.  %s: wait "
	    "(kextunload -w waits for it), or look at its thread with `ps`",
	    km->km_info->name, km->km_info->id, kmod_busy_state(km), busy,
	    km->km_state == KM_STARTING ? "It cannot be unloaded before its "
	    "start routine returns" : "The kernel finishes unloading it "
	    "when its stop routine returns");
	return EAGAIN;
}

errno_t
kmod_unload(uint32_t id, kern_return_t *stop_result, uint32_t *ran_ms,
    char *why, size_t whylen)
{
	struct kmod *km;
	errno_t err;

	*stop_result = KERN_SUCCESS;
	*ran_ms = 0;
	why[0] = '\0';
	if (id < (uint32_t)kmod_ncomponents) {
		snprintf(why, whylen, "id %u is %s, a part of the kernel: it "
		    "is never unloaded", id, kmod_components[id].kc_name);
		return ENOENT;
	}
	lck_mtx_lock(&kmod_op_lock);
	simple_lock(&kmod_lock);
	km = kmod_find_id_locked(id);
	simple_unlock(&kmod_lock);
	if (km == NULL) {
		snprintf(why, whylen, "no kext with id %u is loaded", id);
		err = ENOENT;
		goto out;
	}
	err = kmod_check_idle(km, why, whylen);
	if (err == 0)
		err = kmod_check_unreferenced(km, why, whylen);
	if (err != 0)
		goto out;
	if (kmod_pinned(km)) {		/* stop ran before: never twice */
		err = kmod_check_unused(km, NULL, why, whylen);
		if (err == 0)
			kmod_remove(km, why, whylen);	/* why was empty */
		goto out;
	}
	if (km->km_info->stop == NULL) {	/* nothing to wait for */
		err = kmod_stopped(km, "it has no stop routine", false, why,
		    whylen);
		goto out;
	}
	err = kmod_call(km, true, stop_result, ran_ms, why, whylen);
out:
	lck_mtx_unlock(&kmod_op_lock);
	return err;
}

/* For `mem`: the pages of every kext image, loaded or reserved. */
static void
kmod_count_pages(uint32_t *held, uint32_t *free_inside)
{
	struct kmod *km;

	*held = 0;
	*free_inside = 0;
	simple_lock(&kmod_lock);
	TAILQ_FOREACH(km, &kmod_head, km_link)
		*held += km->km_npages;
	simple_unlock(&kmod_lock);
}
VM_PAGE_HOLDER(kmod, "kext images", kmod_count_pages);

/* kextstat lists the ids a kext links against highest first. */
static void
kmod_sort_desc(uint32_t *ids, uint32_t n)
{
	uint32_t i, j, t;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ids[j - 1] < ids[j]; j--) {
			t = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
}

/*
 * Before a listing, ask the checks again about each pinned kmod, so that
 * its row says what holds it now.  kmod_op_lock keeps every kmod in the
 * list (only unloads remove them); kmod_lock is dropped around the
 * checks, which may take mutexes.
 */
static void
kmod_recheck_pinned(void)
{
	struct kmod *km;
	int others;

	lck_mtx_lock(&kmod_op_lock);
	simple_lock(&kmod_lock);
	km = TAILQ_FIRST(&kmod_head);
	for (;;) {
		while (km != NULL && !kmod_pinned(km))
			km = TAILQ_NEXT(km, km_link);
		simple_unlock(&kmod_lock);
		if (km == NULL)
			break;
		(void)kmod_check(km, &others);
		simple_lock(&kmod_lock);
		km = TAILQ_NEXT(km, km_link);
	}
	lck_mtx_unlock(&kmod_op_lock);
}

static enum kmod_stat_state
kmod_state(const struct kmod *km)
{
	switch (km->km_state) {
	case KM_STARTING:
		return KS_STARTING;
	case KM_STOPPING:
		return KS_STOPPING;
	case KM_STOPPED:
		return km->km_hold == KMOD_HOLD_FOREVER ? KS_PINNED_FOREVER :
		    KS_PINNED;
	default:
		return KS_RUNNING;
	}
}

int
kmod_list(struct kmod_stat *rows, int max)
{
	struct kmod *km;
	int n = 0, i;

	kmod_recheck_pinned();

	for (i = 0; i < kmod_ncomponents && n < max; i++, n++) {
		bzero(&rows[n], sizeof(rows[n]));
		rows[n].ks_id = i;
		rows[n].ks_refs = 1;
		rows[n].ks_component = true;
		strlcpy(rows[n].ks_name, kmod_components[i].kc_name,
		    KMOD_MAX_NAME);
		strlcpy(rows[n].ks_version, kmod_components[i].kc_version,
		    KMOD_MAX_NAME);
	}
	simple_lock(&kmod_lock);
	TAILQ_FOREACH(km, &kmod_head, km_link) {
		if (!kmod_loaded(km) || n == max)
			continue;
		bzero(&rows[n], sizeof(rows[n]));
		rows[n].ks_id = km->km_info->id;
		rows[n].ks_refs = km->km_info->reference_count;
		rows[n].ks_address = km->km_addr;
		rows[n].ks_size = km->km_npages * PAGE_SIZE;
		rows[n].ks_wired = rows[n].ks_size;
		rows[n].ks_crc = km->km_crc;
		strlcpy(rows[n].ks_compat, km->km_compat, KMOD_MAX_NAME);
		strlcpy(rows[n].ks_name, km->km_info->name, KMOD_MAX_NAME);
		strlcpy(rows[n].ks_version, km->km_info->version,
		    KMOD_MAX_NAME);
		rows[n].ks_ndeps = km->km_ndeps;
		memcpy(rows[n].ks_deps, km->km_deps, sizeof(km->km_deps));
		rows[n].ks_state = kmod_state(km);
		if (kmod_busy(km)) {
			rows[n].ks_busy_ms = (mach_absolute_time() -
			    km->km_since) / NSEC_PER_MSEC;
			kmod_busy_words(km, rows[n].ks_why,
			    sizeof(rows[n].ks_why));
		} else if (kmod_pinned(km))
			strlcpy(rows[n].ks_why, kmod_why(km),
			    sizeof(rows[n].ks_why));
		kmod_sort_desc(rows[n].ks_deps, km->km_ndeps);
		n++;
	}
	simple_unlock(&kmod_lock);
	return n;
}

/*
 * The list is walked under kmod_lock, since an unload may be freeing an
 * entry on another thread at this moment; a panic walks it bare, as
 * kmod_panic_dump does, because the lock may be held by the thread that
 * panicked.
 */
const kmod_info_t *
kmod_lookup_address(uint32_t addr)
{
	const kmod_info_t *ki = NULL;
	bool locked = panic_in_progress == 0;
	struct kmod *km;

	if (locked)
		simple_lock(&kmod_lock);
	TAILQ_FOREACH(km, &kmod_head, km_link)
		if (kmod_loaded(km) && addr >= km->km_addr &&
		    addr < km->km_addr + km->km_npages * PAGE_SIZE) {
			ki = km->km_info;
			break;
		}
	if (locked)
		simple_unlock(&kmod_lock);
	return ki;
}

/* No locks: we are panicking. */
void
kmod_panic_dump(void)
{
	struct kmod *km;
	bool any = false;

	TAILQ_FOREACH(km, &kmod_head, km_link) {
		if (!kmod_loaded(km))
			continue;
		if (!any)
			printf("Kernel extensions loaded:\n");
		any = true;
		printf("  %s (%s) @ 0x%08x-0x%08x\n", km->km_info->name,
		    km->km_info->version, km->km_addr,
		    km->km_addr + km->km_npages * PAGE_SIZE - 1);
	}
}

/* How kextstat names a state on the line under a row (and the host's
 * kextstat too: tools/finch/kext/loaded.py). */
static const char *
kmod_state_name(enum kmod_stat_state state)
{
	switch (state) {
	case KS_RUNNING:		return "running";
	case KS_PINNED:			return "stopped, pinned";
	case KS_PINNED_FOREVER:		return "stopped, pinned until reboot";
	case KS_STARTING:		return "starting";
	case KS_STOPPING:		return "stopping";
	}
	return "?";
}

/*
 * kextstat in the Tiger format (docs/kexts.md shows it).  The row of a
 * kext that is not simply running is followed by an indented line: its
 * state, and what holds it (pinned) or how long its routine has run
 * (starting, stopping).
 */
static int
mon_kextstat(int argc, char **argv)
{
	static struct kmod_stat rows[64];
	int n, i;
	uint32_t d;

	n = kmod_list(rows, 64);
	printf("Index Refs Address    Size       Wired      "
	    "Name (Version) <Linked Against>\n");
	for (i = 0; i < n; i++) {
		printf("%5u %4d %-10p %-10p %-10p %s (%s)", rows[i].ks_id,
		    rows[i].ks_refs, (void *)rows[i].ks_address,
		    (void *)rows[i].ks_size, (void *)rows[i].ks_wired,
		    rows[i].ks_name, rows[i].ks_version);
		if (rows[i].ks_ndeps > 0) {
			printf(" <");
			for (d = 0; d < rows[i].ks_ndeps; d++)
				printf(d ? " %u" : "%u", rows[i].ks_deps[d]);
			printf(">");
		}
		printf("\n");
		if (rows[i].ks_state != KS_RUNNING)
			printf("      %s: %s\n", kmod_state_name(rows[i].ks_state),
			    rows[i].ks_why);
	}
	return 0;
}
MONITOR_COMMAND(kextstat, mon_kextstat, "kextstat",
    "loaded kernel extensions (Tiger's kextstat columns)");
