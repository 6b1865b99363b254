/*
 * <sys/malloc.h> -- BSD's kernel allocator as kexts written before
 * OSMalloc used it: MALLOC(p, cast, size, type, flags) and FREE(p, type),
 * which need no size to free.  The type (M_TEMP, ...) is kept for source
 * compatibility and changes nothing.  The memory is charged to the
 * kernel's "MALLOC" tag, not to your kext: OSMalloc with a tag of your
 * own lets `mem` and kextunload count what your kext holds.  The code is
 * bsd/kern/kern_malloc.c.
 */
#ifndef _SYS_MALLOC_H_
#define _SYS_MALLOC_H_

#include <sys/cdefs.h>
#include <sys/types.h>

/* flags */
#define M_WAITOK	0x0000	/* may wait (Finch's heap never does) */
#define M_NOWAIT	0x0001	/* fail rather than wait */
#define M_ZERO		0x0004	/* zero the block */

/* types (Darwin's numbers; a few of them) */
#define M_FREE		0	/* should be on free list */
#define M_MBUF		1	/* mbuf */
#define M_DEVBUF	2	/* device driver memory */
#define M_SOCKET	3	/* socket structure */
#define M_PCB		4	/* protocol control block */
#define M_RTABLE	5	/* routing tables */
#define M_IFADDR	9	/* interface address */
#define M_SOOPTS	10	/* socket options */
#define M_SONAME	11	/* socket name */
#define M_IOCTLOPS	14	/* ioctl data buffer */
#define M_IOV		19	/* large iov's */
#define M_TEMP		80	/* misc temporary data buffers */
#define M_LAST		112	/* must be last type + 1 */

#define MALLOC(space, cast, size, type, flags) \
	((space) = (cast)_MALLOC(size, type, flags))
#define FREE(addr, type)	_FREE((void *)(addr), type)
#define MALLOC_ZONE(space, cast, size, type, flags) \
	((space) = (cast)_MALLOC_ZONE(size, type, flags))
#define FREE_ZONE(elem, size, type)	_FREE_ZONE((void *)(elem), size, type)

__BEGIN_DECLS

/* `size` bytes (zeroed with M_ZERO), or NULL for size 0 or out of
 * memory.  Never sleeps; any context. */
void	*_MALLOC(size_t size, int type, int flags);

/* Free a block from _MALLOC; NULL is ignored.  A block not from
 * _MALLOC, or freed twice, panics. */
void	_FREE(void *addr, int type);

/* The same where the caller keeps the size: _FREE_ZONE must be given
 * the size given to _MALLOC_ZONE (a mismatch panics). */
void	*_MALLOC_ZONE(size_t size, int type, int flags);
void	_FREE_ZONE(void *elem, size_t size, int type);

__END_DECLS

#endif /* _SYS_MALLOC_H_ */
