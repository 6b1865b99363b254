/*
 * <libkern/crc32.h> -- CRC-32 as zlib computes it: crc32(0, buf, len),
 * or continue a running value with crc32(previous, more, n).
 */
#ifndef _LIBKERN_CRC32_H_
#define _LIBKERN_CRC32_H_

#include <sys/cdefs.h>
#include <sys/types.h>

__BEGIN_DECLS
/* The CRC-32 of len bytes at buf, continuing from crc (0 to start).
 * Never sleeps.  Kernel only for now: no KPI bundle exports it. */
uint32_t	crc32(uint32_t crc, const void *buf, size_t len);
__END_DECLS

#endif /* _LIBKERN_CRC32_H_ */
