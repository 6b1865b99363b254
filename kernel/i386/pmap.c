/*
 * Paging setup.  A two-level i386 page table (a page directory of 1024
 * page tables of 1024 4 KiB pages) identity-maps RAM; page 0 stays
 * unmapped, and so does the guard page under each kernel stack.  Page
 * tables come from the physical page allocator.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/pmap.h>
#include <kern/vm_page.h>

#define PTE_P		0x001	/* present */
#define PTE_W		0x002	/* writable */
#define PTE_PCD		0x010	/* cache disabled (device memory) */
#define CR0_PG		0x80000000
#define CR0_WP		0x00010000

#define PDX(va)		(((uint32_t)(va) >> 22) & 0x3ff)
#define PTX(va)		(((uint32_t)(va) >> 12) & 0x3ff)
#define PTE_ADDR(pte)	((pte) & ~PAGE_MASK)

static uint32_t *kernel_pdir;	/* the page directory */

static uint32_t *
pmap_pte(uint32_t va, bool create)
{
	uint32_t *pde = &kernel_pdir[PDX(va)];
	uint32_t *ptab;

	if ((*pde & PTE_P) == 0) {
		if (!create)
			return NULL;
		ptab = (uint32_t *)vm_page_alloc();
		if (ptab == NULL)
			panic("pmap: out of memory for page tables");
		bzero(ptab, PAGE_SIZE);
		*pde = (uint32_t)ptab | PTE_P | PTE_W;
	}
	ptab = (uint32_t *)PTE_ADDR(*pde);
	return &ptab[PTX(va)];
}

static void
pmap_enter_range(uint32_t start, uint32_t end, uint32_t flags)
{
	uint32_t va;

	for (va = trunc_page(start); va < end && va >= trunc_page(start);
	    va += PAGE_SIZE) {
		*pmap_pte(va, true) = va | flags;
		invlpg(va);
	}
}

void
pmap_bootstrap(uint32_t phys_top)
{
	kernel_pdir = (uint32_t *)vm_page_alloc();
	if (kernel_pdir == NULL)
		panic("pmap: no page for the page directory");
	bzero(kernel_pdir, PAGE_SIZE);

	pmap_enter_range(PAGE_ZERO_END, phys_top, PTE_P | PTE_W);

	set_cr3((uint32_t)kernel_pdir);
	set_cr0(get_cr0() | CR0_PG | CR0_WP);
}

/* Identity-map a device's registers, uncached. */
void
pmap_map_device(uint32_t pa, uint32_t size)
{
	pmap_enter_range(pa, pa + size, PTE_P | PTE_W | PTE_PCD);
}

bool
pmap_is_mapped_range(uint32_t va, uint32_t len)
{
	uint32_t end = va + len, p;
	uint32_t *pte;

	if (end < va)
		return false;
	for (p = trunc_page(va); p < end; p += PAGE_SIZE) {
		pte = pmap_pte(p, false);
		if (pte == NULL || (*pte & PTE_P) == 0)
			return false;
	}
	return true;
}

/* The page table entry of a page of RAM, which pmap_bootstrap mapped. */
static uint32_t *
pmap_ram_pte(uint32_t va)
{
	uint32_t *pte = pmap_pte(va, false);

	if (pte == NULL || PTE_ADDR(*pte) != trunc_page(va))
		panic("pmap: 0x%08x is not a page of RAM", va);
	return pte;
}

/*
 * Unmap one page of RAM, so that any access to it faults.  The page
 * stays allocated to its owner, who maps it back with
 * pmap_unguard_page() before freeing it.
 */
void
pmap_guard_page(uint32_t va)
{
	*pmap_ram_pte(va) &= ~PTE_P;
	invlpg(va);
}

void
pmap_unguard_page(uint32_t va)
{
	*pmap_ram_pte(va) |= PTE_P;
	invlpg(va);
}
