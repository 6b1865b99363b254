/*
 * Finch's address space: one page table shared by every kernel thread,
 * mapping all of RAM at its physical address (virtual == physical), with
 * page 0 left unmapped so that a NULL dereference traps.  Devices' MMIO
 * windows are mapped on request, uncached.
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

#endif /* _I386_PMAP_H_ */
