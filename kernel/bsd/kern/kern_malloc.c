/*
 * BSD's MALLOC and FREE (<sys/malloc.h>) on the kernel heap.  _FREE is
 * given no size, so each block carries a small header with its size and
 * a magic number, checked when it is freed.  Everything is charged to
 * one kernel tag, "MALLOC", made on first use.
 */
#include <sys/systm.h>
#include <sys/malloc.h>
#include <kern/kalloc.h>
#include <libkern/OSAtomic.h>

#define MALLOC_MAGIC	0x4d414c43	/* "MALC" */
#define MALLOC_FREED	0x46524545	/* "FREE" */

/* Eight bytes, so that the block keeps the heap's alignment. */
struct malloc_hdr {
	uint32_t	mh_magic;
	uint32_t	mh_size;	/* what the caller asked for */
};

static OSMallocTag malloc_tag;

/* The tag, made on first use: losing the race to make it frees ours. */
static OSMallocTag
malloc_tag_get(void)
{
	OSMallocTag tag = malloc_tag;

	if (tag == NULL) {
		tag = kalloc_tag_create("MALLOC", 0);
		if (tag == NULL)
			return NULL;
		if (!OSCompareAndSwapPtr(NULL, tag, (void * volatile *)&malloc_tag)) {
			kalloc_tag_release(tag);
			tag = malloc_tag;
		}
	}
	return tag;
}

void *
_MALLOC_ZONE(size_t size, int type, int flags)
{
	OSMallocTag tag = malloc_tag_get();
	void *p;

	if (size == 0 || tag == NULL)
		return NULL;
	p = kalloc_tag(size, tag);
	if (p != NULL && (flags & M_ZERO))
		bzero(p, size);
	return p;
}

void
_FREE_ZONE(void *elem, size_t size, int type)
{
	if (elem == NULL)
		return;
	if (malloc_tag == NULL)
		panic("_FREE_ZONE: %p: nothing was ever allocated with MALLOC_ZONE", elem);
	kfree_tag(elem, size, malloc_tag);
}

void *
_MALLOC(size_t size, int type, int flags)
{
	struct malloc_hdr *mh;

	if (size == 0 || size > UINT32_MAX - sizeof(*mh))
		return NULL;
	mh = _MALLOC_ZONE(sizeof(*mh) + size, type, flags);
	if (mh == NULL)
		return NULL;
	mh->mh_magic = MALLOC_MAGIC;
	mh->mh_size = size;
	return mh + 1;
}

void
_FREE(void *addr, int type)
{
	struct malloc_hdr *mh;

	if (addr == NULL)
		return;
	mh = (struct malloc_hdr *)addr - 1;
	if (mh->mh_magic != MALLOC_MAGIC)
		panic("_FREE: %p was not allocated by MALLOC, or was freed twice "
		    "(magic %#x)", addr, mh->mh_magic);
	mh->mh_magic = MALLOC_FREED;
	_FREE_ZONE(mh, sizeof(*mh) + mh->mh_size, type);
}
