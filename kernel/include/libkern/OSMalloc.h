/*
 * <libkern/OSMalloc.h> -- tagged kernel memory for kexts.
 *
 * Allocate a tag once (it names your kext's memory in the monitor's
 * `mem` command), then OSMalloc/OSFree against it.  OSFree must be given
 * the size that was allocated.  Free every block before OSMalloc_Tagfree
 * and before your kext unloads: the kernel does not clean up after you.
 */
#ifndef _LIBKERN_OSMALLOC_H_
#define _LIBKERN_OSMALLOC_H_

#include <sys/cdefs.h>
#include <stdint.h>

__BEGIN_DECLS

typedef struct __OSMallocTag__	*OSMallocTag;
typedef struct __OSMallocTag__	*OSMallocTag_t;

#define OSMT_DEFAULT	0x00
#define OSMT_PAGEABLE	0x01	/* accepted; Finch's memory is all wired */

/* A new tag named `str` (copied); NULL if str is NULL or out of memory.
 * Flags: OSMT_DEFAULT or OSMT_PAGEABLE. */
OSMallocTag	OSMalloc_Tagalloc(const char *str, uint32_t flags);

/* Release the tag; it lingers until its last block is freed. */
void		OSMalloc_Tagfree(OSMallocTag tag);

/* `size` bytes, not zeroed, or NULL (size 0, a NULL tag, out of
 * memory).  Finch never pages, so none of these block: any context,
 * interrupt handlers included, may call them. */
void		*OSMalloc(uint32_t size, OSMallocTag tag);
void		*OSMalloc_nowait(uint32_t size, OSMallocTag tag);
void		*OSMalloc_noblock(uint32_t size, OSMallocTag tag);

/* Free a block: addr, size and tag must match the allocation; a
 * mismatch, a NULL, or a block freed twice panics with the details. */
void		OSFree(void *addr, uint32_t size, OSMallocTag tag);

__END_DECLS

#endif /* _LIBKERN_OSMALLOC_H_ */
