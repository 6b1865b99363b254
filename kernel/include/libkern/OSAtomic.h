/*
 * <libkern/OSAtomic.h> -- atomic arithmetic, bit operations and
 * compare-and-swap on memory shared between threads, interrupt handlers
 * and CPUs, with XNU's names.  Every operation is SMP-safe, never sleeps,
 * is a full memory barrier, and (except compare-and-swap) returns the
 * value the memory held BEFORE the operation.  Code: libkern/OSAtomic.c.
 */
#ifndef _OS_OSATOMIC_H
#define _OS_OSATOMIC_H

#include <sys/cdefs.h>
#include <libkern/OSTypes.h>

__BEGIN_DECLS

/*
 * *address += amount; returns the old value.  The 16- and 8-bit forms
 * add the low 16 or 8 bits of amount and wrap around.
 */
SInt32	OSAddAtomic(SInt32 amount, volatile SInt32 *address);
SInt16	OSAddAtomic16(SInt32 amount, volatile SInt16 *address);
SInt8	OSAddAtomic8(SInt32 amount, volatile SInt8 *address);
SInt64	OSAddAtomic64(SInt64 amount, volatile SInt64 *address);

/* *address += 1 or -= 1; returns the old value. */
SInt32	OSIncrementAtomic(volatile SInt32 *address);
SInt16	OSIncrementAtomic16(volatile SInt16 *address);
SInt8	OSIncrementAtomic8(volatile SInt8 *address);
SInt64	OSIncrementAtomic64(volatile SInt64 *address);
SInt32	OSDecrementAtomic(volatile SInt32 *address);
SInt16	OSDecrementAtomic16(volatile SInt16 *address);
SInt8	OSDecrementAtomic8(volatile SInt8 *address);
SInt64	OSDecrementAtomic64(volatile SInt64 *address);

/*
 * *address |= mask, &= mask or ^= mask; returns the old value.  The 16-
 * and 8-bit forms use the low bits of mask.
 */
UInt32	OSBitOrAtomic(UInt32 mask, volatile UInt32 *address);
UInt16	OSBitOrAtomic16(UInt32 mask, volatile UInt16 *address);
UInt8	OSBitOrAtomic8(UInt32 mask, volatile UInt8 *address);
UInt32	OSBitAndAtomic(UInt32 mask, volatile UInt32 *address);
UInt16	OSBitAndAtomic16(UInt32 mask, volatile UInt16 *address);
UInt8	OSBitAndAtomic8(UInt32 mask, volatile UInt8 *address);
UInt32	OSBitXorAtomic(UInt32 mask, volatile UInt32 *address);
UInt16	OSBitXorAtomic16(UInt32 mask, volatile UInt16 *address);
UInt8	OSBitXorAtomic8(UInt32 mask, volatile UInt8 *address);

/*
 * If *address equals oldValue, store newValue there and return true;
 * otherwise leave memory alone and return false.
 */
Boolean	OSCompareAndSwap(UInt32 oldValue, UInt32 newValue,
	    volatile UInt32 *address);
Boolean	OSCompareAndSwap64(UInt64 oldValue, UInt64 newValue,
	    volatile UInt64 *address);
Boolean	OSCompareAndSwapPtr(void *oldValue, void *newValue,
	    void * volatile *address);

/*
 * Set or clear one bit of the bit string at startAddress and return its
 * previous value (true if it was set).  Bits are numbered as XNU does:
 * bit 0 is the most significant bit (0x80) of byte 0, bit 7 its least
 * significant, bit 8 the most significant bit of byte 1, and so on.
 */
Boolean	OSTestAndSet(UInt32 bit, volatile UInt8 *startAddress);
Boolean	OSTestAndClear(UInt32 bit, volatile UInt8 *startAddress);

/*
 * OSMemoryBarrier: no load or store moves across it, on this CPU or as
 * seen by others.  OSSynchronizeIO: order memory accesses before device
 * (MMIO) accesses that follow; on x86 it is the same full barrier.
 */
void	OSMemoryBarrier(void);
void	OSSynchronizeIO(void);

__END_DECLS

#endif /* _OS_OSATOMIC_H */
