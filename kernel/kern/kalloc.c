/*
 * The kernel heap (see kalloc.h).  Every block starts with a 16-byte
 * header recording its size, its tag and a magic number, so that a
 * double free, a wrong size or a wild pointer panics at the kfree that
 * made it, naming the block, instead of corrupting memory silently.
 * Each tag remembers the kext that made it, for `mem` and `kextres`.
 */
#include <sys/systm.h>
#include <i386/pmap.h>
#include <kern/kalloc.h>
#include <kern/kmod_resources.h>
#include <kern/monitor.h>
#include <kern/simple_lock.h>
#include <kern/vm_page.h>

#define KALLOC_MAGIC		0x4b414c43	/* "KALC": allocated */
#define KALLOC_FREE_MAGIC	0x46524545	/* "FREE": on a free list */
#define KALLOC_LARGE		0xff		/* kh_class of page runs */
#define KALLOC_POISON		0xdb		/* fills freed small blocks */

struct kalloc_hdr {
	uint32_t	kh_magic;
	uint32_t	kh_size;	/* bytes the caller asked for */
	OSMallocTag	kh_tag;
	uint32_t	kh_class;	/* size class index or KALLOC_LARGE */
};

/* A free chunk keeps the magic where the header's is, then the link. */
struct kalloc_free {
	uint32_t		kf_magic;
	struct kalloc_free	*kf_next;
};

/* Size classes, header included: 32 bytes to one page. */
#define KALLOC_NCLASSES	8
#define KALLOC_MINSHIFT	5

struct kalloc_class {
	uint32_t		kc_size;
	struct kalloc_free	*kc_free;	/* free chunks */
	uint32_t		kc_inuse;	/* chunks handed out */
	uint32_t		kc_nfree;
	uint32_t		kc_pages;	/* pages carved for this class */
};

/* kalloc_lock guards the classes, the tags and the totals. */
static simple_lock_data_t kalloc_lock = SIMPLE_LOCK_INITIALIZER("kalloc");
static struct kalloc_class kalloc_classes[KALLOC_NCLASSES];
static TAILQ_HEAD(, __OSMallocTag__) kalloc_tags =
    TAILQ_HEAD_INITIALIZER(kalloc_tags);
static uint32_t kalloc_large_pages;
static uint32_t kalloc_failures;

struct __OSMallocTag__ kalloc_tag_kernel = {
	.ot_magic = OSMT_MAGIC,
	.ot_name = "kernel",
};

/* A tag used after OSMalloc_Tagfree, or a pointer that is no tag. */
static void
kalloc_check_tag(OSMallocTag tag, const char *fn)
{
	if (tag->ot_magic != OSMT_MAGIC)
		panic("%s: %p is not an OSMalloc tag (freed already?)", fn, tag);
	if (tag->ot_released)
		panic("%s: tag '%s' was released with OSMalloc_Tagfree",
		    fn, tag->ot_name);
}

void
kalloc_init(void)
{
	int i;

	for (i = 0; i < KALLOC_NCLASSES; i++)
		kalloc_classes[i].kc_size = 1u << (KALLOC_MINSHIFT + i);
	TAILQ_INSERT_TAIL(&kalloc_tags, &kalloc_tag_kernel, ot_link);
}

/* The smallest class that holds `total` bytes, or -1 for a page run. */
static int
kalloc_class_of(size_t total)
{
	int i;

	for (i = 0; i < KALLOC_NCLASSES; i++)
		if (total <= kalloc_classes[i].kc_size)
			return i;
	return -1;
}

/* Carve a fresh page into chunks of class `kc`.  Called locked. */
static bool
kalloc_class_grow(struct kalloc_class *kc)
{
	char *page = vm_page_alloc();
	uint32_t off;

	if (page == NULL)
		return false;
	for (off = 0; off + kc->kc_size <= PAGE_SIZE; off += kc->kc_size) {
		struct kalloc_free *kf = (struct kalloc_free *)(page + off);

		kf->kf_magic = KALLOC_FREE_MAGIC;
		kf->kf_next = kc->kc_free;
		kc->kc_free = kf;
		kc->kc_nfree++;
	}
	kc->kc_pages++;
	return true;
}

static struct kalloc_hdr *
kalloc_small(int class)
{
	struct kalloc_class *kc = &kalloc_classes[class];
	struct kalloc_free *kf;

	if (kc->kc_free == NULL && !kalloc_class_grow(kc))
		return NULL;
	kf = kc->kc_free;
	kc->kc_free = kf->kf_next;
	kc->kc_nfree--;
	kc->kc_inuse++;
	return (struct kalloc_hdr *)kf;
}

void *
kalloc_tag(size_t size, OSMallocTag tag)
{
	size_t total = size + sizeof(struct kalloc_hdr);
	struct kalloc_hdr *kh;
	int class;

	if (size == 0 || total < size)
		return NULL;
	class = kalloc_class_of(total);
	simple_lock(&kalloc_lock);
	kalloc_check_tag(tag, "OSMalloc");
	if (class >= 0) {
		kh = kalloc_small(class);
	} else {
		kh = vm_page_alloc_contig(round_page(total) / PAGE_SIZE);
		if (kh != NULL)
			kalloc_large_pages += round_page(total) / PAGE_SIZE;
	}
	if (kh == NULL) {
		kalloc_failures++;
		simple_unlock(&kalloc_lock);
		return NULL;
	}
	kh->kh_magic = KALLOC_MAGIC;
	kh->kh_size = size;
	kh->kh_tag = tag;
	kh->kh_class = class >= 0 ? (uint32_t)class : KALLOC_LARGE;
	tag->ot_blocks++;
	tag->ot_bytes += size;
	tag->ot_total++;
	simple_unlock(&kalloc_lock);
	return kh + 1;
}

/* Check a block being freed; panic with the details if it is wrong. */
static struct kalloc_hdr *
kfree_check(void *addr, size_t size, OSMallocTag tag)
{
	struct kalloc_hdr *kh = (struct kalloc_hdr *)addr - 1;

	if (tag->ot_magic != OSMT_MAGIC)	/* released tags may still free */
		panic("OSFree: %p is not an OSMalloc tag (freed already?)", tag);
	if (addr == NULL || ((uint32_t)addr & 0xf) != 0 ||
	    !pmap_is_mapped_range((uint32_t)kh, sizeof(*kh)))
		panic("kfree: %p is not a heap block", addr);
	if (kh->kh_magic == KALLOC_FREE_MAGIC)
		panic("kfree: double free of %p (%u bytes)", addr, size);
	if (kh->kh_magic != KALLOC_MAGIC)
		panic("kfree: %p is not a heap block (bad magic 0x%08x)",
		    addr, kh->kh_magic);
	if (kh->kh_size != size)
		panic("kfree: %p was allocated with %u bytes, freed with %u",
		    addr, kh->kh_size, size);
	if (kh->kh_tag != tag)
		panic("kfree: %p belongs to tag '%s', freed with tag '%s'",
		    addr, kh->kh_tag->ot_name, tag->ot_name);
	return kh;
}

static void
kalloc_tag_destroy_locked(OSMallocTag tag)
{
	TAILQ_REMOVE(&kalloc_tags, tag, ot_link);
	tag->ot_magic = 0;
}

void
kfree_tag(void *addr, size_t size, OSMallocTag tag)
{
	struct kalloc_hdr *kh;
	struct kalloc_class *kc;
	bool destroy = false;

	simple_lock(&kalloc_lock);
	kh = kfree_check(addr, size, tag);
	tag->ot_blocks--;
	tag->ot_bytes -= size;
	if (tag->ot_released && tag->ot_blocks == 0) {
		kalloc_tag_destroy_locked(tag);
		destroy = true;
	}
	if (kh->kh_class == KALLOC_LARGE) {
		kh->kh_magic = KALLOC_FREE_MAGIC;
		kalloc_large_pages -= round_page(size + sizeof(*kh)) / PAGE_SIZE;
		vm_page_free_contig(kh,
		    round_page(size + sizeof(*kh)) / PAGE_SIZE);
	} else {
		kc = &kalloc_classes[kh->kh_class];
		memset(kh + 1, KALLOC_POISON, kc->kc_size - sizeof(*kh));
		((struct kalloc_free *)kh)->kf_magic = KALLOC_FREE_MAGIC;
		((struct kalloc_free *)kh)->kf_next = kc->kc_free;
		kc->kc_free = (struct kalloc_free *)kh;
		kc->kc_inuse--;
		kc->kc_nfree++;
	}
	simple_unlock(&kalloc_lock);
	if (destroy)
		kfree(tag, sizeof(*tag));
}

void *
kalloc(size_t size)
{
	return kalloc_tag(size, &kalloc_tag_kernel);
}

void
kfree(void *addr, size_t size)
{
	kfree_tag(addr, size, &kalloc_tag_kernel);
}

OSMallocTag
kalloc_tag_create_owned(const char *name, uint32_t flags,
    const struct kmod_owner *owner)
{
	OSMallocTag tag = kalloc(sizeof(*tag));

	if (tag == NULL)
		return NULL;
	bzero(tag, sizeof(*tag));
	tag->ot_magic = OSMT_MAGIC;
	strlcpy(tag->ot_name, name, sizeof(tag->ot_name));
	tag->ot_flags = flags;
	tag->ot_owner = *owner;
	simple_lock(&kalloc_lock);
	TAILQ_INSERT_TAIL(&kalloc_tags, tag, ot_link);
	simple_unlock(&kalloc_lock);
	return tag;
}

OSMallocTag
kalloc_tag_create(const char *name, uint32_t flags)
{
	return kalloc_tag_create_owned(name, flags, &kmod_owner_kernel);
}

/* The tag goes now if it holds nothing, else with its last block. */
void
kalloc_tag_release(OSMallocTag tag)
{
	bool destroy;

	simple_lock(&kalloc_lock);
	kalloc_check_tag(tag, "OSMalloc_Tagfree");
	tag->ot_released = true;
	destroy = tag->ot_blocks == 0;
	if (destroy)
		kalloc_tag_destroy_locked(tag);
	simple_unlock(&kalloc_lock);
	if (destroy)
		kfree(tag, sizeof(*tag));
}

void
kalloc_stats(struct kalloc_stats *ks)
{
	OSMallocTag tag;

	bzero(ks, sizeof(*ks));
	simple_lock(&kalloc_lock);
	TAILQ_FOREACH(tag, &kalloc_tags, ot_link) {
		ks->ks_blocks += tag->ot_blocks;
		ks->ks_bytes += tag->ot_bytes;
	}
	ks->ks_failures = kalloc_failures;
	simple_unlock(&kalloc_lock);
}

/*
 * What a kext holds in OSMalloc: each of its tags with the blocks still
 * allocated.  A tag it never freed counts even when empty: the tag
 * itself is kernel memory (its size is not in the bytes, which are the
 * kext's own blocks).
 */
static void
kalloc_report(const struct kmod_owner *query, kmod_resource_emit_t *emit,
    void *arg)
{
	struct kmod_resource kr = { "OSMalloc tag", 0, 0, "" };
	OSMallocTag tag;

	simple_lock(&kalloc_lock);
	TAILQ_FOREACH(tag, &kalloc_tags, ot_link) {
		if (!kmod_owner_match(&tag->ot_owner, query))
			continue;
		kr.kr_count = tag->ot_blocks;
		kr.kr_bytes = tag->ot_bytes;
		snprintf(kr.kr_text, sizeof(kr.kr_text), "OSMalloc tag '%s'%s: "
		    "%u block%s, %u bytes", tag->ot_name, tag->ot_released ?
		    " (freed, blocks remain)" : "", tag->ot_blocks,
		    tag->ot_blocks == 1 ? "" : "s", tag->ot_bytes);
		emit(&kr, arg);
	}
	simple_unlock(&kalloc_lock);
}
KMOD_RESOURCES(osmalloc, KMOD_RES_MEMORY, kalloc_report);

/* The heap keeps its pages too: blocks are freed to their class. */
static void
kalloc_count_pages(uint32_t *held, uint32_t *free_inside)
{
	uint32_t bytes_free = 0;
	int i;

	*held = 0;
	simple_lock(&kalloc_lock);
	for (i = 0; i < KALLOC_NCLASSES; i++) {
		*held += kalloc_classes[i].kc_pages;
		bytes_free += kalloc_classes[i].kc_nfree *
		    kalloc_classes[i].kc_size;
	}
	*held += kalloc_large_pages;
	simple_unlock(&kalloc_lock);
	*free_inside = bytes_free / PAGE_SIZE;
}
VM_PAGE_HOLDER(kalloc, "heap", kalloc_count_pages);

LINKER_SET_DECLARE(vm_page_holder, const struct vm_page_holder);

/* Pages in use, by who holds them; the rest is "other". */
static void
mem_print_holders(uint32_t inuse)
{
	const struct vm_page_holder **hp;
	uint32_t held, free_inside;

	printf("pages held:");
	LINKER_SET_FOREACH(vm_page_holder, hp) {
		(*hp)->vph_count(&held, &free_inside);
		printf(" %s %u", (*hp)->vph_name, held);
		if (free_inside > 0)
			printf(" (%u free inside)", free_inside);
		printf(",");
		inuse -= held < inuse ? held : inuse;
	}
	printf(" other %u\n", inuse);
}

static void
mem_print_pages(void)
{
	struct vm_page_stats ps;

	vm_page_stats(&ps);
	printf("pages: %u total, %u free, %u in use (%u KiB free), "
	    "%u kernel image\n", ps.vps_total, ps.vps_free,
	    ps.vps_total - ps.vps_free, ps.vps_free * (PAGE_SIZE / 1024),
	    ps.vps_kernel);
	mem_print_holders(ps.vps_total - ps.vps_free - ps.vps_kernel);
	printf("page allocations: %u, failed: %u\n",
	    ps.vps_allocs, ps.vps_failures);
}

/*
 * Copy under the lock, print after: printf may be slow and must not run
 * with the heap locked (interrupts off).
 */
static void
mem_print_heap(void)
{
	struct kalloc_class kc[KALLOC_NCLASSES];
	uint32_t large, failures;
	int i;

	simple_lock(&kalloc_lock);
	memcpy(kc, kalloc_classes, sizeof(kc));
	large = kalloc_large_pages;
	failures = kalloc_failures;
	simple_unlock(&kalloc_lock);

	printf("heap: %-6s %8s %8s %6s\n", "class", "inuse", "free", "pages");
	for (i = 0; i < KALLOC_NCLASSES; i++)
		printf("      %-6u %8u %8u %6u\n", kc[i].kc_size,
		    kc[i].kc_inuse, kc[i].kc_nfree, kc[i].kc_pages);
	printf("      %-6s %8s %8s %6u\n", "large", "-", "-", large);
	printf("heap allocations failed: %u\n", failures);
}

#define MEM_TAGS_SHOWN	32

/* The copy is static: it is large, and commands run one at a time. */
static void
mem_print_tags(void)
{
	static struct __OSMallocTag__ copy[MEM_TAGS_SHOWN];
	char owner[KMOD_OWNER_NAME_MAX];
	OSMallocTag tag;
	int n = 0, more = 0, i;

	simple_lock(&kalloc_lock);
	TAILQ_FOREACH(tag, &kalloc_tags, ot_link) {
		if (n < MEM_TAGS_SHOWN)
			copy[n++] = *tag;
		else
			more++;
	}
	simple_unlock(&kalloc_lock);

	printf("%-32s %8s %10s %10s  %s\n", "OSMalloc tag", "blocks", "bytes",
	    "total", "owner");
	for (i = 0; i < n; i++)
		printf("%-32s %8u %10u %10u  %s%s\n", copy[i].ot_name,
		    copy[i].ot_blocks, copy[i].ot_bytes, copy[i].ot_total,
		    kmod_owner_name(&copy[i].ot_owner, owner, sizeof(owner)),
		    copy[i].ot_released ? " (freed, blocks remain)" : "");
	if (more > 0)
		printf("... and %d more tags\n", more);
}

static int
mon_mem(int argc, char **argv)
{
	mem_print_pages();
	mem_print_heap();
	mem_print_tags();
	return 0;
}
MONITOR_COMMAND(mem, mon_mem, "mem",
    "pages, heap size classes, OSMalloc tags and their owners");
