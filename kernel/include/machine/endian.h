/*
 * <machine/endian.h> -- the i386's byte order (little-endian) and the
 * conversions to and from the network's (big-endian): ntohl, htons, ...
 * Darwin's <sys/_endian.h> and <netinet/in.h> hand out the same macros.
 */
#ifndef _MACHINE_ENDIAN_H_
#define _MACHINE_ENDIAN_H_

#include <sys/types.h>

#define LITTLE_ENDIAN	1234	/* least significant byte first (i386) */
#define BIG_ENDIAN	4321	/* most significant byte first (network) */
#define PDP_ENDIAN	3412
#define BYTE_ORDER	LITTLE_ENDIAN

#define __DARWIN_LITTLE_ENDIAN	LITTLE_ENDIAN
#define __DARWIN_BIG_ENDIAN	BIG_ENDIAN
#define __DARWIN_BYTE_ORDER	BYTE_ORDER

#ifndef ntohs
#define __finch_bswap16(x)	((u_int16_t)__builtin_bswap16((u_int16_t)(x)))
#define __finch_bswap32(x)	((u_int32_t)__builtin_bswap32((u_int32_t)(x)))
#define ntohs(x)	__finch_bswap16(x)
#define htons(x)	__finch_bswap16(x)
#define ntohl(x)	__finch_bswap32(x)
#define htonl(x)	__finch_bswap32(x)
#define NTOHS(x)	((x) = ntohs((u_int16_t)(x)))
#define HTONS(x)	((x) = htons((u_int16_t)(x)))
#define NTOHL(x)	((x) = ntohl((u_int32_t)(x)))
#define HTONL(x)	((x) = htonl((u_int32_t)(x)))
#endif

#endif /* _MACHINE_ENDIAN_H_ */
