/*
 * The kernel's table of loaded kexts (kmods), as the host link's loader
 * requests drive it.  A load is two steps: kmod_alloc() reserves memory
 * for the image (the host links against that address and writes the
 * image, by kmod_write() or straight into shared RAM), then kmod_load()
 * checks it, records the kmod and has its start routine called.
 *
 * A kext's start and stop routines run in a thread of their own, named
 * "kmod start <bundle id>" ("kmod stop ...") in `ps`, never in the
 * caller's: kmod_load() and kmod_unload() wait for the routine at most
 * KMOD_CALL_WAIT_MS and then return EINPROGRESS, the kext listed as
 * starting (stopping) until the routine returns.  So the host link,
 * which calls them, never waits for a kext longer than that.
 */
#ifndef _KERN_KMOD_VAR_H_
#define _KERN_KMOD_VAR_H_

#include <sys/types.h>
#include <mach/kmod.h>
#include <kern/kmod_check.h>

#define KMOD_MAX_DEPS		16
#define KMOD_MAX_IMAGE		(4u * 1024 * 1024)

/*
 * How long kmod_load() and kmod_unload() wait for a start or stop
 * routine before they answer "still starting" ("still stopping"): well
 * under the host's 5 s request timeout (docs/hostlink.md, section 5),
 * and far over what a start routine that only registers things takes.
 */
#define KMOD_CALL_WAIT_MS	2000
/*
 * A routine that has run this long is probably stuck: kextstat says
 * that only a reboot ends it, should it never return.
 */
#define KMOD_CALL_STUCK_S	10

/* The kernel and its KPI pseudo-bundles, listed first by kextstat. */
struct kmod_component {
	const char	*kc_name;
	const char	*kc_version;
};
extern const struct kmod_component kmod_components[];
extern const int kmod_ncomponents;

/*
 * Where a loaded kmod is, as kextstat shows it (and KMOD_LIST sends it:
 * the values are docs/hostlink.md's).
 */
enum kmod_stat_state {
	KS_RUNNING = 0,		/* started; its stop routine has not run */
	KS_PINNED = 1,		/* stopped (or its start failed), but kept in
				   memory: something the kernel will call
				   still points into it; kextunload re-checks */
	KS_PINNED_FOREVER = 2,	/* stopped and kept, and nothing will ever
				   release it: it stays until the guest
				   reboots */
	KS_STARTING = 3,	/* loaded; its start routine has not returned
				   yet */
	KS_STOPPING = 4		/* its stop routine has not returned yet */
};

/* One row of the kmod table, as kextstat shows it. */
struct kmod_stat {
	uint32_t	ks_id;
	int32_t		ks_refs;
	uint32_t	ks_address;
	uint32_t	ks_size;	/* the block: whole pages */
	uint32_t	ks_wired;	/* all of it: kext memory never pages */
	uint32_t	ks_crc;		/* the image's CRC-32, from the load */
	char		ks_name[KMOD_MAX_NAME];
	char		ks_version[KMOD_MAX_NAME];
	char		ks_compat[KMOD_MAX_NAME];	/* "" if none */
	uint32_t	ks_ndeps;
	uint32_t	ks_deps[KMOD_MAX_DEPS];
	bool		ks_component;	/* kernel or KPI pseudo-bundle */
	enum kmod_stat_state ks_state;
	uint32_t	ks_busy_ms;	/* starting, stopping: how long the
					   routine has run */
	char		ks_why[KMOD_WHY_MAX];	/* pinned: what holds it;
					   starting, stopping: how long, in
					   which thread */
};

/* What the host asks kmod_load() to load (the KMOD_LOAD request). */
struct kmod_load_req {
	uint32_t	kl_addr;	/* the block from kmod_alloc() */
	uint32_t	kl_size;	/* image bytes written into it */
	uint32_t	kl_info;	/* the image's kmod_info */
	uint32_t	kl_crc;		/* CRC-32 of the image as linked */
	uint32_t	kl_ndeps;
	uint32_t	kl_deps[KMOD_MAX_DEPS];	/* kmod ids it links against */
	/* OSBundleCompatibleVersion, "" if none. */
	char		kl_compat[KMOD_MAX_NAME];
};

/* Set up the table's locks (boot, before the host link starts). */
void	kmod_init(void);

/*
 * Reserve `size` bytes of wired, physically contiguous memory for an
 * image; *addr is where to link it.  EINVAL for size 0, ENOMEM when
 * size is over KMOD_MAX_IMAGE or memory is short.
 */
errno_t	kmod_alloc(uint32_t size, uint32_t *addr);
/* Copy image bytes into a reserved block; EINVAL unless
 * [addr, addr + len) lies inside a block not yet loaded. */
errno_t	kmod_write(uint32_t addr, const void *data, size_t len);
/* Give back a reservation that will not be loaded; EINVAL if none. */
errno_t	kmod_free(uint32_t addr);
/* Give back every reservation (a new host session begins). */
void	kmod_free_orphans(void);

/*
 * Check the image (block, CRC, kmod_info, name, dependencies), record
 * the kmod, retain its dependencies and have its start routine called.
 * On success *id is the new kmod id.  EINPROGRESS: the kmod is loaded
 * (*id is its id) and its start routine has not returned within
 * KMOD_CALL_WAIT_MS; what happens when it does is up to the routine's
 * thread (see kmod.c), and the console says so.  Otherwise the errno
 * says why (EINVAL, EIO: bad CRC or start failed, EEXIST, ENOENT,
 * EAGAIN: a dependency is still starting or stopping, ENOMEM) and `why`
 * says it in words for the student.  *start_result is what start
 * returned, *ran_ms how long it ran (or has run so far); a failed start
 * removes the kmod and frees its block.  Thread context; sleeps.
 */
errno_t	kmod_load(const struct kmod_load_req *req, uint32_t *id,
	    kern_return_t *start_result, uint32_t *ran_ms, char *why,
	    size_t whylen);

/*
 * Have the stop routine of kmod `id` called and unload it.  ENOENT for
 * an unknown id or a kernel component; EAGAIN while its start or stop
 * routine runs; EBUSY while other kmods depend on it or while something
 * it registered still points into it (it is then stopped and pinned:
 * its memory stays, and a later call does not call stop again, it only
 * re-checks); EIO (with *stop_result set) when stop refuses;
 * EINPROGRESS when stop has not returned within KMOD_CALL_WAIT_MS (the
 * kmod is listed as stopping, and the unload goes on when stop returns).
 * *ran_ms is how long stop ran (or has run so far).  `why` explains a
 * refusal: give it KMOD_REFUSAL_MAX.  Thread context; sleeps.
 */
#define KMOD_REFUSAL_MAX	512
errno_t	kmod_unload(uint32_t id, kern_return_t *stop_result, uint32_t *ran_ms,
	    char *why, size_t whylen);

/*
 * Fill up to `max` rows, components first; returns the row count.  The
 * checks are asked again about every pinned kmod first, so that its row
 * says what holds it now.  Thread context.
 */
int	kmod_list(struct kmod_stat *rows, int max);

/*
 * The kmod whose image holds `addr` (a return address, a callback), or
 * NULL.  Takes kmod_lock: do not call it holding that lock.  The result
 * stays valid only while the kext cannot be unloaded (the caller runs in
 * it, or holds kmod_op_lock); copy what you need from it.
 */
const kmod_info_t *kmod_lookup_address(uint32_t addr);

/* Panic report: every loaded kmod with its address range. */
void	kmod_panic_dump(void);

#endif /* _KERN_KMOD_VAR_H_ */
