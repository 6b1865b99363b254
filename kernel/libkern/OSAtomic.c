/*
 * The OSAtomic KPI (libkern/OSAtomic.h).  Each operation is a GCC atomic
 * builtin that becomes a lock-prefixed instruction (lock xadd, or a lock
 * cmpxchg loop for the bit operations, lock cmpxchg8b for 64 bits):
 * atomic across CPUs and a full barrier.  They are real functions, not
 * inlines, so that kexts can link to them.
 */
#include <sys/types.h>
#include <libkern/OSAtomic.h>

#define SEQ	__ATOMIC_SEQ_CST

/* Addition, returning the old value. */

SInt32
OSAddAtomic(SInt32 amount, volatile SInt32 *address)
{
	return (__atomic_fetch_add(address, amount, SEQ));
}

SInt16
OSAddAtomic16(SInt32 amount, volatile SInt16 *address)
{
	return (__atomic_fetch_add(address, (SInt16)amount, SEQ));
}

SInt8
OSAddAtomic8(SInt32 amount, volatile SInt8 *address)
{
	return (__atomic_fetch_add(address, (SInt8)amount, SEQ));
}

/*
 * i386 has no 64-bit xadd, so add by compare-and-swap: guess the old
 * value, try to replace it with old + amount, and on failure retry with
 * the value cmpxchg8b found.  The first guess may be a torn read of the
 * two halves; the swap then fails and the loop retries.  (GCC's 64-bit
 * __atomic builtins would call libatomic; the __sync ones stay inline.)
 */
SInt64
OSAddAtomic64(SInt64 amount, volatile SInt64 *address)
{
	SInt64 old, seen;

	old = *address;
	for (;;) {
		seen = __sync_val_compare_and_swap(address, old, old + amount);
		if (seen == old)
			return (old);
		old = seen;
	}
}

SInt32
OSIncrementAtomic(volatile SInt32 *address)
{
	return (OSAddAtomic(1, address));
}

SInt16
OSIncrementAtomic16(volatile SInt16 *address)
{
	return (OSAddAtomic16(1, address));
}

SInt8
OSIncrementAtomic8(volatile SInt8 *address)
{
	return (OSAddAtomic8(1, address));
}

SInt64
OSIncrementAtomic64(volatile SInt64 *address)
{
	return (OSAddAtomic64(1, address));
}

SInt32
OSDecrementAtomic(volatile SInt32 *address)
{
	return (OSAddAtomic(-1, address));
}

SInt16
OSDecrementAtomic16(volatile SInt16 *address)
{
	return (OSAddAtomic16(-1, address));
}

SInt8
OSDecrementAtomic8(volatile SInt8 *address)
{
	return (OSAddAtomic8(-1, address));
}

SInt64
OSDecrementAtomic64(volatile SInt64 *address)
{
	return (OSAddAtomic64(-1, address));
}

/* Bit operations, returning the old value. */

UInt32
OSBitOrAtomic(UInt32 mask, volatile UInt32 *address)
{
	return (__atomic_fetch_or(address, mask, SEQ));
}

UInt16
OSBitOrAtomic16(UInt32 mask, volatile UInt16 *address)
{
	return (__atomic_fetch_or(address, (UInt16)mask, SEQ));
}

UInt8
OSBitOrAtomic8(UInt32 mask, volatile UInt8 *address)
{
	return (__atomic_fetch_or(address, (UInt8)mask, SEQ));
}

UInt32
OSBitAndAtomic(UInt32 mask, volatile UInt32 *address)
{
	return (__atomic_fetch_and(address, mask, SEQ));
}

UInt16
OSBitAndAtomic16(UInt32 mask, volatile UInt16 *address)
{
	return (__atomic_fetch_and(address, (UInt16)mask, SEQ));
}

UInt8
OSBitAndAtomic8(UInt32 mask, volatile UInt8 *address)
{
	return (__atomic_fetch_and(address, (UInt8)mask, SEQ));
}

UInt32
OSBitXorAtomic(UInt32 mask, volatile UInt32 *address)
{
	return (__atomic_fetch_xor(address, mask, SEQ));
}

UInt16
OSBitXorAtomic16(UInt32 mask, volatile UInt16 *address)
{
	return (__atomic_fetch_xor(address, (UInt16)mask, SEQ));
}

UInt8
OSBitXorAtomic8(UInt32 mask, volatile UInt8 *address)
{
	return (__atomic_fetch_xor(address, (UInt8)mask, SEQ));
}

/*
 * Compare and swap.  The builtin writes the value it found back into
 * its second argument on failure; we only want the verdict.
 */

Boolean
OSCompareAndSwap(UInt32 oldValue, UInt32 newValue, volatile UInt32 *address)
{
	return (__atomic_compare_exchange_n(address, &oldValue, newValue,
	    false, SEQ, SEQ));
}

Boolean
OSCompareAndSwap64(UInt64 oldValue, UInt64 newValue,
    volatile UInt64 *address)
{
	return (__sync_bool_compare_and_swap(address, oldValue, newValue));
}

Boolean
OSCompareAndSwapPtr(void *oldValue, void *newValue, void * volatile *address)
{
	return (__atomic_compare_exchange_n(address, &oldValue, newValue,
	    false, SEQ, SEQ));
}

/*
 * Single bits.  XNU numbers the bits of a string from the most
 * significant bit of the first byte, so bit n lives in byte n / 8 under
 * the mask 0x80 >> (n % 8).
 */

Boolean
OSTestAndSet(UInt32 bit, volatile UInt8 *startAddress)
{
	UInt8 mask;

	mask = 0x80 >> (bit & 7);
	return ((OSBitOrAtomic8(mask, startAddress + (bit >> 3)) & mask) != 0);
}

Boolean
OSTestAndClear(UInt32 bit, volatile UInt8 *startAddress)
{
	UInt8 mask;

	mask = 0x80 >> (bit & 7);
	return ((OSBitAndAtomic8((UInt8)~mask, startAddress + (bit >> 3)) &
	    mask) != 0);
}

/*
 * Barriers.  A sequentially consistent fence on i686 is a locked
 * read-modify-write of the stack ("lock orl $0, (%esp)"), which orders
 * every earlier load and store before every later one.
 */

void
OSMemoryBarrier(void)
{
	__atomic_thread_fence(SEQ);
}

void
OSSynchronizeIO(void)
{
	__atomic_thread_fence(SEQ);
}
