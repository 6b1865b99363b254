/*
 * The kmod table: which kexts are loaded, where, and who depends on whom
 * (see kmod_var.h).  Loads and unloads are serialized by kmod_op_lock,
 * held across start and stop routines; kmod_lock guards the lists
 * themselves so that kextstat and panic reports can read them.
 */
#include <sys/systm.h>
#include <i386/pmap.h>
#include <kern/kalloc.h>
#include <kern/kmod_var.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/simple_lock.h>
#include <kern/thread_call_var.h>
#include <kern/vm_page.h>

struct kmod {
	TAILQ_ENTRY(kmod)	km_link;	/* kmod_lock */
	kmod_info_t		*km_info;	/* inside the image */
	uint32_t		km_addr;	/* the reservation */
	uint32_t		km_npages;
	bool			km_loaded;	/* false: reserved only */
	bool			km_started;	/* start returned success */
	uint32_t		km_ndeps;	/* ids linked against, */
	uint32_t		km_deps[KMOD_MAX_DEPS];	/* components too */
};

static TAILQ_HEAD(, kmod) kmod_head = TAILQ_HEAD_INITIALIZER(kmod_head);
static simple_lock_data_t kmod_lock = SIMPLE_LOCK_INITIALIZER("kmod");
static lck_mtx_t kmod_op_lock;
static bool kmod_ready;
static uint32_t kmod_next_id;

static void
kmod_init_once(void)
{
	if (kmod_ready)
		return;
	lck_mtx_init(&kmod_op_lock, NULL, NULL);
	kmod_next_id = kmod_ncomponents;
	kmod_ready = true;
}

static struct kmod *
kmod_find_id_locked(uint32_t id)
{
	struct kmod *km;

	TAILQ_FOREACH(km, &kmod_head, km_link)
		if (km->km_loaded && km->km_info->id == id)
			return km;
	return NULL;
}

static struct kmod *
kmod_find_addr_locked(uint32_t addr, bool loaded)
{
	struct kmod *km;

	TAILQ_FOREACH(km, &kmod_head, km_link)
		if (km->km_addr == addr && km->km_loaded == loaded)
			return km;
	return NULL;
}

errno_t
kmod_alloc(uint32_t size, uint32_t *addr)
{
	struct kmod *km;
	uint32_t npages = round_page(size) / PAGE_SIZE;
	void *image;

	if (size == 0 || size > KMOD_MAX_IMAGE)
		return EMSGSIZE;
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

/* Unlist and free a kmod's memory and record. */
static void
kmod_destroy(struct kmod *km)
{
	simple_lock(&kmod_lock);
	TAILQ_REMOVE(&kmod_head, km, km_link);
	simple_unlock(&kmod_lock);
	vm_page_free_contig((void *)km->km_addr, km->km_npages);
	kfree(km, sizeof(*km));
}

errno_t
kmod_free(uint32_t addr)
{
	struct kmod *km;

	simple_lock(&kmod_lock);
	km = kmod_find_addr_locked(addr, false);
	simple_unlock(&kmod_lock);
	if (km == NULL)
		return ENOENT;
	kmod_destroy(km);
	return 0;
}

void
kmod_free_orphans(void)
{
	struct kmod *km;

	for (;;) {
		simple_lock(&kmod_lock);
		TAILQ_FOREACH(km, &kmod_head, km_link)
			if (!km->km_loaded)
				break;
		simple_unlock(&kmod_lock);
		if (km == NULL)
			return;
		kmod_destroy(km);
	}
}

/* Is the kmod_info at `info` inside the image, well formed, and new? */
static errno_t
kmod_check_info(struct kmod *km, uint32_t info_addr)
{
	uint32_t end = km->km_addr + km->km_npages * PAGE_SIZE;
	kmod_info_t *ki = (kmod_info_t *)info_addr;
	struct kmod *other;

	if (info_addr < km->km_addr || info_addr + sizeof(*ki) > end)
		return EINVAL;
	if (ki->info_version != KMOD_INFO_VERSION ||
	    strnlen(ki->name, KMOD_MAX_NAME) == KMOD_MAX_NAME ||
	    strnlen(ki->version, KMOD_MAX_NAME) == KMOD_MAX_NAME)
		return EINVAL;
	if ((ki->start != NULL && ((uint32_t)ki->start < km->km_addr ||
	    (uint32_t)ki->start >= end)) ||
	    (ki->stop != NULL && ((uint32_t)ki->stop < km->km_addr ||
	    (uint32_t)ki->stop >= end)))
		return EINVAL;
	TAILQ_FOREACH(other, &kmod_head, km_link)
		if (other->km_loaded && strcmp(other->km_info->name,
		    ki->name) == 0)
			return EEXIST;
	return 0;
}

/* Link ki to each dependency and count the references. */
static errno_t
kmod_retain_deps(kmod_info_t *ki, const uint32_t *deps, uint32_t ndeps)
{
	kmod_reference_t *ref;
	struct kmod *dep;
	uint32_t i;

	for (i = 0; i < ndeps; i++) {
		if (deps[i] < (uint32_t)kmod_ncomponents)
			continue;		/* the kernel is never unloaded */
		simple_lock(&kmod_lock);
		dep = kmod_find_id_locked(deps[i]);
		simple_unlock(&kmod_lock);
		if (dep == NULL)
			return ENOENT;
		ref = kalloc(sizeof(*ref));
		if (ref == NULL)
			return ENOMEM;
		ref->info = dep->km_info;
		ref->next = ki->reference_list;
		ki->reference_list = ref;
		dep->km_info->reference_count++;
	}
	return 0;
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

errno_t
kmod_load(uint32_t addr, uint32_t info_addr, const uint32_t *deps,
    uint32_t ndeps, uint32_t *id, kern_return_t *start_result)
{
	struct kmod *km;
	kmod_info_t *ki;
	errno_t err;

	kmod_init_once();
	*start_result = KERN_SUCCESS;
	if (ndeps > KMOD_MAX_DEPS)
		return EINVAL;
	lck_mtx_lock(&kmod_op_lock);
	simple_lock(&kmod_lock);
	km = kmod_find_addr_locked(addr, false);
	err = km == NULL ? ENOENT : kmod_check_info(km, info_addr);
	simple_unlock(&kmod_lock);
	if (err != 0)
		goto out;

	ki = (kmod_info_t *)info_addr;
	ki->reference_list = NULL;
	ki->reference_count = 0;
	err = kmod_retain_deps(ki, deps, ndeps);
	if (err != 0) {
		kmod_release_deps(ki);
		goto out;
	}
	memcpy(km->km_deps, deps, ndeps * sizeof(deps[0]));
	km->km_ndeps = ndeps;
	ki->id = kmod_next_id++;
	ki->address = km->km_addr;
	ki->size = km->km_npages * PAGE_SIZE;
	ki->hdr_size = 0;
	km->km_info = ki;
	km->km_loaded = true;		/* listed now: a panic in start names it */

	if (ki->start != NULL)
		*start_result = ki->start(ki, NULL);
	if (*start_result != KERN_SUCCESS) {
		printf("kmod: %s start failed (%d); unloading\n", ki->name,
		    *start_result);
		kmod_release_deps(ki);
		kmod_destroy(km);
		err = EIO;
		goto out;
	}
	km->km_started = true;
	*id = ki->id;
out:
	lck_mtx_unlock(&kmod_op_lock);
	return err;
}

/*
 * Does anything the kernel will call later still point into the image?
 * Pending timers and thread calls are checked here; later subsystems
 * (filters, controls, interfaces) add their own checks.
 */
static bool
kmod_in_use(struct kmod *km, char *why, size_t whylen)
{
	uint32_t start = km->km_addr;
	uint32_t end = start + km->km_npages * PAGE_SIZE;

	return thread_call_points_into(start, end, why, whylen) ||
	    timeout_points_into(start, end, why, whylen);
}

errno_t
kmod_unload(uint32_t id, kern_return_t *stop_result, char *why, size_t whylen)
{
	struct kmod *km;
	kmod_info_t *ki;
	errno_t err = 0;

	kmod_init_once();
	*stop_result = KERN_SUCCESS;
	why[0] = '\0';
	lck_mtx_lock(&kmod_op_lock);
	simple_lock(&kmod_lock);
	km = kmod_find_id_locked(id);
	simple_unlock(&kmod_lock);
	if (km == NULL) {
		err = ENOENT;
		goto out;
	}
	ki = km->km_info;
	if (ki->reference_count > 0) {
		snprintf(why, whylen, "%d loaded kext(s) depend on it",
		    ki->reference_count);
		err = EBUSY;
		goto out;
	}
	/* A kmod whose stop succeeded but left a timer behind is not
	 * stopped twice: the next attempt only re-checks. */
	if (km->km_started && ki->stop != NULL)
		*stop_result = ki->stop(ki, NULL);
	if (*stop_result != KERN_SUCCESS) {
		err = EIO;
		goto out;
	}
	km->km_started = false;
	if (kmod_in_use(km, why, whylen)) {
		err = EBUSY;
		goto out;
	}
	kmod_release_deps(ki);
	kmod_destroy(km);
out:
	lck_mtx_unlock(&kmod_op_lock);
	return err;
}

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

int
kmod_list(struct kmod_stat *rows, int max)
{
	struct kmod *km;
	int n = 0, i;

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
		if (!km->km_loaded || n == max)
			continue;
		bzero(&rows[n], sizeof(rows[n]));
		rows[n].ks_id = km->km_info->id;
		rows[n].ks_refs = km->km_info->reference_count;
		rows[n].ks_address = km->km_addr;
		rows[n].ks_size = km->km_npages * PAGE_SIZE;
		strlcpy(rows[n].ks_name, km->km_info->name, KMOD_MAX_NAME);
		strlcpy(rows[n].ks_version, km->km_info->version,
		    KMOD_MAX_NAME);
		rows[n].ks_ndeps = km->km_ndeps;
		memcpy(rows[n].ks_deps, km->km_deps, sizeof(km->km_deps));
		kmod_sort_desc(rows[n].ks_deps, km->km_ndeps);
		n++;
	}
	simple_unlock(&kmod_lock);
	return n;
}

const kmod_info_t *
kmod_lookup_address(uint32_t addr)
{
	struct kmod *km;

	TAILQ_FOREACH(km, &kmod_head, km_link)
		if (km->km_loaded && addr >= km->km_addr &&
		    addr < km->km_addr + km->km_npages * PAGE_SIZE)
			return km->km_info;
	return NULL;
}

/* No locks: we are panicking. */
void
kmod_panic_dump(void)
{
	struct kmod *km;
	bool any = false;

	TAILQ_FOREACH(km, &kmod_head, km_link) {
		if (!km->km_loaded)
			continue;
		if (!any)
			printf("Kernel extensions loaded:\n");
		any = true;
		printf("  %s (%s) @ 0x%08x-0x%08x\n", km->km_info->name,
		    km->km_info->version, km->km_addr,
		    km->km_addr + km->km_npages * PAGE_SIZE - 1);
	}
}

/* kextstat in the Tiger format (KPI.md section 9). */
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
		    (void *)rows[i].ks_size, (void *)rows[i].ks_size,
		    rows[i].ks_name, rows[i].ks_version);
		if (rows[i].ks_ndeps > 0) {
			printf(" <");
			for (d = 0; d < rows[i].ks_ndeps; d++)
				printf(d ? " %u" : "%u", rows[i].ks_deps[d]);
			printf(">");
		}
		printf("\n");
	}
	return 0;
}
MONITOR_COMMAND(kextstat, mon_kextstat, "kextstat",
    "loaded kernel extensions (Tiger's kextstat columns)");
