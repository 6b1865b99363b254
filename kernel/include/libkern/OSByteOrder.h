/*
 * <libkern/OSByteOrder.h> -- byte swapping with Apple's names: swap
 * always (OSSwapInt16/32/64), or convert between the host's order (the
 * i386 is little-endian) and big- or little-endian data
 * (OSSwapHostToBigInt32, OSSwapLittleToHostInt16, ...), and the same
 * reading from or writing to memory at a byte offset.  All are macros
 * or inline functions: nothing to link against, any context.
 */
#ifndef _OS_OSBYTEORDER_H
#define _OS_OSBYTEORDER_H

#include <libkern/OSTypes.h>
#include <stdint.h>

#define OSSwapConstInt16(x)	((uint16_t)__builtin_bswap16((uint16_t)(x)))
#define OSSwapConstInt32(x)	((uint32_t)__builtin_bswap32((uint32_t)(x)))
#define OSSwapConstInt64(x)	((uint64_t)__builtin_bswap64((uint64_t)(x)))
#define OSSwapInt16(x)		OSSwapConstInt16(x)
#define OSSwapInt32(x)		OSSwapConstInt32(x)
#define OSSwapInt64(x)		OSSwapConstInt64(x)

enum {
	OSUnknownByteOrder,
	OSLittleEndian,
	OSBigEndian
};

/* The host's order: OSLittleEndian on the i386. */
static inline int32_t
OSHostByteOrder(void)
{
	return OSLittleEndian;
}

/* Host <-> big-endian: a swap on the i386. */
#define OSSwapHostToBigInt16(x)		OSSwapInt16(x)
#define OSSwapHostToBigInt32(x)		OSSwapInt32(x)
#define OSSwapHostToBigInt64(x)		OSSwapInt64(x)
#define OSSwapBigToHostInt16(x)		OSSwapInt16(x)
#define OSSwapBigToHostInt32(x)		OSSwapInt32(x)
#define OSSwapBigToHostInt64(x)		OSSwapInt64(x)
#define OSSwapHostToBigConstInt16(x)	OSSwapConstInt16(x)
#define OSSwapHostToBigConstInt32(x)	OSSwapConstInt32(x)
#define OSSwapHostToBigConstInt64(x)	OSSwapConstInt64(x)
#define OSSwapBigToHostConstInt16(x)	OSSwapConstInt16(x)
#define OSSwapBigToHostConstInt32(x)	OSSwapConstInt32(x)
#define OSSwapBigToHostConstInt64(x)	OSSwapConstInt64(x)

/* Host <-> little-endian: nothing to do on the i386. */
#define OSSwapHostToLittleInt16(x)	((uint16_t)(x))
#define OSSwapHostToLittleInt32(x)	((uint32_t)(x))
#define OSSwapHostToLittleInt64(x)	((uint64_t)(x))
#define OSSwapLittleToHostInt16(x)	((uint16_t)(x))
#define OSSwapLittleToHostInt32(x)	((uint32_t)(x))
#define OSSwapLittleToHostInt64(x)	((uint64_t)(x))
#define OSSwapHostToLittleConstInt16(x)	((uint16_t)(x))
#define OSSwapHostToLittleConstInt32(x)	((uint32_t)(x))
#define OSSwapHostToLittleConstInt64(x)	((uint64_t)(x))
#define OSSwapLittleToHostConstInt16(x)	((uint16_t)(x))
#define OSSwapLittleToHostConstInt32(x)	((uint32_t)(x))
#define OSSwapLittleToHostConstInt64(x)	((uint64_t)(x))

/* Read or write a value at base + offset, which need not be aligned. */
#define __OSAtOffset(base, offset, type) \
	((volatile type *)(void *)((uintptr_t)(base) + (uintptr_t)(offset)))
#define OSReadBigInt16(base, offset) \
	OSSwapBigToHostInt16(*__OSAtOffset(base, offset, uint16_t))
#define OSReadBigInt32(base, offset) \
	OSSwapBigToHostInt32(*__OSAtOffset(base, offset, uint32_t))
#define OSReadBigInt64(base, offset) \
	OSSwapBigToHostInt64(*__OSAtOffset(base, offset, uint64_t))
#define OSReadLittleInt16(base, offset)	(*__OSAtOffset(base, offset, uint16_t))
#define OSReadLittleInt32(base, offset)	(*__OSAtOffset(base, offset, uint32_t))
#define OSReadLittleInt64(base, offset)	(*__OSAtOffset(base, offset, uint64_t))
#define OSWriteBigInt16(base, offset, data) \
	(*__OSAtOffset(base, offset, uint16_t) = OSSwapHostToBigInt16(data))
#define OSWriteBigInt32(base, offset, data) \
	(*__OSAtOffset(base, offset, uint32_t) = OSSwapHostToBigInt32(data))
#define OSWriteBigInt64(base, offset, data) \
	(*__OSAtOffset(base, offset, uint64_t) = OSSwapHostToBigInt64(data))
#define OSWriteLittleInt16(base, offset, data) \
	(*__OSAtOffset(base, offset, uint16_t) = (uint16_t)(data))
#define OSWriteLittleInt32(base, offset, data) \
	(*__OSAtOffset(base, offset, uint32_t) = (uint32_t)(data))
#define OSWriteLittleInt64(base, offset, data) \
	(*__OSAtOffset(base, offset, uint64_t) = (uint64_t)(data))

#endif /* _OS_OSBYTEORDER_H */
