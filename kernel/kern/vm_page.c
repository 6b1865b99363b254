/*
 * Physical page allocator: a bitmap with one bit per page (1 = in use).
 * A search for a run of free pages starts where the last one ended (next
 * fit), so single-page allocation is usually immediate, and a run of
 * pages for a kext image or a big buffer is found by the same loop.
 */
#include <sys/systm.h>
#include <i386/pmap.h>
#include <kern/simple_lock.h>
#include <kern/vm_page.h>

#define MAX_PHYS	(1024u * 1024 * 1024)	/* Finch uses at most 1 GiB */
#define MAX_PAGES	(MAX_PHYS / PAGE_SIZE)
#define BITS		32

static uint32_t page_bitmap[MAX_PAGES / BITS];	/* guarded by page_lock */
static uint32_t page_count;		/* pages covered by the bitmap */
static uint32_t page_hint;		/* where the next search starts */
static struct vm_page_stats page_stats;
static simple_lock_data_t page_lock = SIMPLE_LOCK_INITIALIZER("vm_page");

static inline bool
page_in_use(uint32_t pn)
{
	return (page_bitmap[pn / BITS] >> (pn % BITS)) & 1;
}

static inline void
page_set(uint32_t pn, bool used)
{
	if (used)
		page_bitmap[pn / BITS] |= 1u << (pn % BITS);
	else
		page_bitmap[pn / BITS] &= ~(1u << (pn % BITS));
}

/* Start with every page in use; the boot code frees what RAM exists. */
void
vm_page_bootstrap(uint32_t phys_top)
{
	if (phys_top > MAX_PHYS)
		phys_top = MAX_PHYS;
	page_count = phys_top / PAGE_SIZE;
	memset(page_bitmap, 0xff, sizeof(page_bitmap));
}

void
vm_page_release_range(uint32_t start, uint32_t end)
{
	uint32_t pn;

	if (end > page_count * PAGE_SIZE)
		end = page_count * PAGE_SIZE;
	for (pn = round_page(start) / PAGE_SIZE; pn < end / PAGE_SIZE; pn++) {
		if (page_in_use(pn)) {
			page_set(pn, false);
			page_stats.vps_total++;
			page_stats.vps_free++;
		}
	}
}

void
vm_page_reserve_range(uint32_t start, uint32_t end)
{
	uint32_t pn;

	for (pn = trunc_page(start) / PAGE_SIZE;
	    pn < round_page(end) / PAGE_SIZE && pn < page_count; pn++) {
		if (!page_in_use(pn)) {
			page_set(pn, true);
			page_stats.vps_free--;
			page_stats.vps_kernel++;
		}
	}
}

/* Find `n` free pages in a row at or after `from`; page_count if none. */
static uint32_t
page_find_run(uint32_t from, uint32_t n)
{
	uint32_t pn, run = 0;

	for (pn = from; pn < page_count; pn++) {
		if (page_bitmap[pn / BITS] == 0xffffffffu && pn % BITS == 0) {
			pn += BITS - 1;		/* skip a full word at once */
			run = 0;
			continue;
		}
		run = page_in_use(pn) ? 0 : run + 1;
		if (run == n)
			return pn - n + 1;
	}
	return page_count;
}

void *
vm_page_alloc_contig(uint32_t npages)
{
	uint32_t pn, i;

	if (npages == 0)
		return NULL;
	simple_lock(&page_lock);
	pn = page_find_run(page_hint, npages);
	if (pn == page_count)
		pn = page_find_run(0, npages);
	if (pn == page_count) {
		page_stats.vps_failures++;
		simple_unlock(&page_lock);
		return NULL;
	}
	for (i = 0; i < npages; i++)
		page_set(pn + i, true);
	page_hint = pn + npages;
	page_stats.vps_free -= npages;
	page_stats.vps_allocs++;
	simple_unlock(&page_lock);
	return (void *)(pn * PAGE_SIZE);
}

void *
vm_page_alloc(void)
{
	return vm_page_alloc_contig(1);
}

void
vm_page_free_contig(void *page, uint32_t npages)
{
	uint32_t pn = (uint32_t)page / PAGE_SIZE, i;

	if (((uint32_t)page & PAGE_MASK) != 0 || pn + npages > page_count)
		panic("vm_page_free: bad address %p (%u pages)", page, npages);
	simple_lock(&page_lock);
	for (i = 0; i < npages; i++) {
		if (!page_in_use(pn + i))
			panic("vm_page_free: page %p is already free",
			    (void *)((pn + i) * PAGE_SIZE));
		page_set(pn + i, false);
	}
	page_stats.vps_free += npages;
	simple_unlock(&page_lock);
}

void
vm_page_free(void *page)
{
	vm_page_free_contig(page, 1);
}

void
vm_page_stats(struct vm_page_stats *st)
{
	simple_lock(&page_lock);
	*st = page_stats;
	simple_unlock(&page_lock);
}
