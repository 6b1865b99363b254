/*
 * Finch's address space: one page table shared by every kernel thread,
 * mapping all of RAM at its physical address (virtual == physical), with
 * page 0 left unmapped so that a NULL dereference traps.  Devices' MMIO
 * windows are mapped on request, uncached.  A guard page under each
 * kernel stack is unmapped too, so that an overflow traps.
 */
#ifndef _I386_PMAP_H_
#define _I386_PMAP_H_

#include <sys/types.h>

#define PAGE_SIZE	4096
#define PAGE_SHIFT	12
#define PAGE_MASK	(PAGE_SIZE - 1)
#define PAGE_ZERO_END	PAGE_SIZE	/* addresses below this always fault */

#define round_page(x)	(((uint32_t)(x) + PAGE_MASK) & ~PAGE_MASK)
#define trunc_page(x)	((uint32_t)(x) & ~PAGE_MASK)

void	pmap_bootstrap(uint32_t phys_top);
void	pmap_map_device(uint32_t pa, uint32_t size);
bool	pmap_is_mapped_range(uint32_t va, uint32_t len);

/* Unmap a page of RAM so that touching it faults (a stack's guard page),
 * and map it back before it is freed. */
void	pmap_guard_page(uint32_t va);
void	pmap_unguard_page(uint32_t va);

#endif /* _I386_PMAP_H_ */
