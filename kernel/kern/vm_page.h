/*
 * The physical page allocator: every 4 KiB page of RAM is free or in
 * use, one bit each.  Since RAM is identity-mapped, a page's physical
 * address is also the pointer to use.  Safe from interrupt handlers.
 */
#ifndef _KERN_VM_PAGE_H_
#define _KERN_VM_PAGE_H_

#include <sys/types.h>
#include <kern/linker_set.h>

struct vm_page_stats {
	uint32_t	vps_total;	/* pages the allocator manages */
	uint32_t	vps_free;
	uint32_t	vps_kernel;	/* pages of the kernel image */
	uint32_t	vps_allocs;	/* vm_page_alloc* calls that succeeded */
	uint32_t	vps_failures;	/* ... and that failed */
};

void	vm_page_bootstrap(uint32_t phys_top);
void	vm_page_release_range(uint32_t start, uint32_t end);
void	vm_page_reserve_range(uint32_t start, uint32_t end);

void	*vm_page_alloc(void);			/* NULL if none */
void	*vm_page_alloc_contig(uint32_t npages);	/* NULL if no such run */
void	vm_page_free(void *page);
void	vm_page_free_contig(void *page, uint32_t npages);
void	vm_page_stats(struct vm_page_stats *st);

/*
 * Who holds pages, for `mem`.  A subsystem that keeps pages for itself
 * (a pool that carves pages into objects and never gives them back, the
 * kext images) says how many it holds and how many pages' worth of that
 * is free inside, kept for reuse: so that a pool grown by a flood is not
 * taken for a leak.  `count` runs in the monitor's thread.
 */
struct vm_page_holder {
	const char	*vph_name;
	void		(*vph_count)(uint32_t *held, uint32_t *free_inside);
};

#define VM_PAGE_HOLDER(name, desc, fn)					\
	static const struct vm_page_holder __vm_page_holder_##name =	\
	    { desc, fn };						\
	LINKER_SET_ENTRY(vm_page_holder, __vm_page_holder_##name)

#endif /* _KERN_VM_PAGE_H_ */
