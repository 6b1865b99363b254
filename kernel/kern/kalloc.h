/*
 * The kernel heap.  kalloc() hands out blocks of any size, each charged
 * to an OSMalloc tag so that `mem` can say who holds the memory.  Small
 * blocks come from power-of-two size classes carved out of pages; large
 * ones are runs of whole pages.  kfree() must be given the same size.
 * Safe from interrupt handlers; never sleeps.
 */
#ifndef _KERN_KALLOC_H_
#define _KERN_KALLOC_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <libkern/OSMalloc.h>
#include <kern/kmod_resources.h>

#define OSMT_NAME_MAX	64
#define OSMT_MAGIC	0x4f534d54	/* "OSMT" */

/*
 * An OSMalloc tag: a name, the memory charged to it and who made it.
 * The counts change under kalloc_lock; the rest is set at creation.
 */
struct __OSMallocTag__ {
	uint32_t	ot_magic;	/* OSMT_MAGIC while the tag exists */
	TAILQ_ENTRY(__OSMallocTag__) ot_link;	/* kalloc_lock */
	char		ot_name[OSMT_NAME_MAX];
	uint32_t	ot_flags;
	struct kmod_owner ot_owner;	/* the kext that made it, or kernel */
	bool		ot_released;	/* Tagfree called, blocks remain */
	uint32_t	ot_blocks;	/* blocks outstanding */
	uint32_t	ot_bytes;	/* bytes requested, outstanding */
	uint32_t	ot_total;	/* blocks ever allocated */
};

/* The tag of the kernel's own allocations. */
extern struct __OSMallocTag__ kalloc_tag_kernel;

void	kalloc_init(void);

void	*kalloc(size_t size);
void	kfree(void *addr, size_t size);

/* Allocate and free against a given tag (OSMalloc's engine). */
void	*kalloc_tag(size_t size, OSMallocTag tag);
void	kfree_tag(void *addr, size_t size, OSMallocTag tag);

/* Tags: create (the kernel's own, or one a kext made through
 * OSMalloc_Tagalloc), release (deferred while blocks remain). */
OSMallocTag	kalloc_tag_create(const char *name, uint32_t flags);
OSMallocTag	kalloc_tag_create_owned(const char *name, uint32_t flags,
		    const struct kmod_owner *owner);
void		kalloc_tag_release(OSMallocTag tag);

/* Heap totals, for leak checks: blocks and bytes outstanding. */
struct kalloc_stats {
	uint32_t	ks_blocks;
	uint32_t	ks_bytes;
	uint32_t	ks_failures;
};
void	kalloc_stats(struct kalloc_stats *ks);

#endif /* _KERN_KALLOC_H_ */
