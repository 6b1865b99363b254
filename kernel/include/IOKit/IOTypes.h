/*
 * <IOKit/IOTypes.h> -- the scalar types and return codes IOKit's C
 * functions use.  Finch has no IOKit; <IOKit/IOLib.h> offers the few
 * calls NKEs made (IOLog, IOSleep, IODelay, IOMalloc, IOFree).
 */
#ifndef __IOKIT_IOTYPES_H
#define __IOKIT_IOTYPES_H

#include <sys/types.h>
#include <mach/mach_types.h>
#include <libkern/OSTypes.h>

typedef kern_return_t	IOReturn;
typedef UInt32		IOOptionBits;
typedef vm_size_t	IOByteCount;
typedef natural_t	IOItemCount;
typedef vm_address_t	IOVirtualAddress;
typedef UInt32		IOPhysicalAddress;

#define kIOReturnSuccess	KERN_SUCCESS
#define kIOReturnError		((IOReturn)0xe00002bc)	/* general error */
#define kIOReturnNoMemory	((IOReturn)0xe00002bd)	/* can't allocate memory */
#define kIOReturnBadArgument	((IOReturn)0xe00002c2)	/* invalid argument */
#define kIOReturnUnsupported	((IOReturn)0xe00002c7)	/* unsupported function */
#define kIOReturnTimeout	((IOReturn)0xe00002d6)	/* I/O timeout */

#endif /* __IOKIT_IOTYPES_H */
