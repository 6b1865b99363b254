/*
 * The kernel's table of loaded kexts (kmods), as the host link's loader
 * requests drive it.  A load is two steps: kmod_alloc() reserves memory
 * for the image (the host links against that address and writes the
 * image), then kmod_load() records the kmod and calls its start routine.
 */
#ifndef _KERN_KMOD_VAR_H_
#define _KERN_KMOD_VAR_H_

#include <sys/types.h>
#include <mach/kmod.h>

#define KMOD_MAX_DEPS		16
#define KMOD_MAX_IMAGE		(4u * 1024 * 1024)

/* The kernel and its KPI pseudo-bundles, listed first by kextstat. */
struct kmod_component {
	const char	*kc_name;
	const char	*kc_version;
};
extern const struct kmod_component kmod_components[];
extern const int kmod_ncomponents;

/* One row of the kmod table, as kextstat shows it. */
struct kmod_stat {
	uint32_t	ks_id;
	int32_t		ks_refs;
	uint32_t	ks_address;
	uint32_t	ks_size;
	char		ks_name[KMOD_MAX_NAME];
	char		ks_version[KMOD_MAX_NAME];
	uint32_t	ks_ndeps;
	uint32_t	ks_deps[KMOD_MAX_DEPS];
	bool		ks_component;	/* kernel or KPI pseudo-bundle */
};

/* Reserve `size` bytes for an image; *addr is where to link it. */
errno_t	kmod_alloc(uint32_t size, uint32_t *addr);
/* Give back a reservation that will not be loaded. */
errno_t	kmod_free(uint32_t addr);
/* Give back every reservation (a new host session begins). */
void	kmod_free_orphans(void);

/*
 * Record the image at `addr` whose kmod_info is at `info_addr`, retain
 * its dependencies, and call its start routine.  On success *id is the
 * new kmod id.  *start_result is what start returned; a failed start
 * removes the kmod and frees its memory (errno EIO).
 */
errno_t	kmod_load(uint32_t addr, uint32_t info_addr, const uint32_t *deps,
	    uint32_t ndeps, uint32_t *id, kern_return_t *start_result);

/*
 * Call the stop routine of kmod `id` and unload it.  EBUSY while other
 * kmods depend on it or while something it registered still points into
 * it; EIO (with *stop_result set) when stop refuses.
 */
errno_t	kmod_unload(uint32_t id, kern_return_t *stop_result,
	    char *why, size_t whylen);

/* Fill up to `max` rows, components first; returns the row count. */
int	kmod_list(struct kmod_stat *rows, int max);

/* The kmod whose image holds `addr`, for panic reports; NULL if none. */
const kmod_info_t *kmod_lookup_address(uint32_t addr);

/* Panic report: every loaded kmod with its address range. */
void	kmod_panic_dump(void);

#endif /* _KERN_KMOD_VAR_H_ */
