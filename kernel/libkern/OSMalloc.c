/*
 * The OSMalloc KPI: a thin layer of argument checks over the kernel
 * heap's tagged allocations (kern/kalloc.c), which does the accounting
 * that the monitor's `mem` command shows per tag.
 */
#include <sys/systm.h>
#include <libkern/OSMalloc.h>
#include <kern/kalloc.h>

OSMallocTag
OSMalloc_Tagalloc(const char *str, uint32_t flags)
{
	if (str == NULL)
		return NULL;
	return kalloc_tag_create(str, flags);
}

void
OSMalloc_Tagfree(OSMallocTag tag)
{
	if (tag != NULL)
		kalloc_tag_release(tag);
}

void *
OSMalloc(uint32_t size, OSMallocTag tag)
{
	if (tag == NULL)
		return NULL;
	return kalloc_tag(size, tag);
}

void *
OSMalloc_nowait(uint32_t size, OSMallocTag tag)
{
	return OSMalloc(size, tag);
}

void *
OSMalloc_noblock(uint32_t size, OSMallocTag tag)
{
	return OSMalloc(size, tag);
}

void
OSFree(void *addr, uint32_t size, OSMallocTag tag)
{
	if (addr == NULL || tag == NULL)
		panic("OSFree: NULL %s", addr == NULL ? "address" : "tag");
	kfree_tag(addr, size, tag);
}
