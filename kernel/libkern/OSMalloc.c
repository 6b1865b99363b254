/*
 * The OSMalloc KPI: a thin layer of argument checks over the kernel
 * heap's tagged allocations (kern/kalloc.c), which does the accounting
 * that the monitor's `mem` command shows per tag.  A tag is charged to
 * the kext that called OSMalloc_Tagalloc.
 */
#include <sys/systm.h>
#include <libkern/OSMalloc.h>
#include <kern/kalloc.h>

OSMallocTag
OSMalloc_Tagalloc(const char *str, uint32_t flags)
{
	struct kmod_owner owner;

	if (str == NULL)
		return NULL;
	KMOD_OWNER_CALLER(&owner);
	return kalloc_tag_create_owned(str, flags, &owner);
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
