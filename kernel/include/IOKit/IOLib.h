/*
 * <IOKit/IOLib.h> -- the handful of IOKit's C functions that network
 * kexts written for Mac OS X called: logging, sleeping and busy-waiting,
 * and untyped memory.  Finch has no IOKit; these are in
 * com.apple.kpi.iokit, and any other IOKit call is refused when the kext
 * links.  The code is iokit/IOLib.c.
 */
#ifndef __IOKIT_IOLIB_H
#define __IOKIT_IOLIB_H

#include <sys/cdefs.h>
#include <stdarg.h>
#include <IOKit/IOTypes.h>

__BEGIN_DECLS

/* Formatted output to the console, as printf.  Never sleeps; any
 * context. */
void	IOLog(const char *format, ...) __printflike(1, 2);
void	IOLogv(const char *format, va_list ap) __printflike(1, 0);

/* Sleep at least `milliseconds` ms: thread context only, holding no
 * spin lock. */
void	IOSleep(unsigned milliseconds);

/* Busy-wait `microseconds` µs: any context, interrupts off included. */
void	IODelay(unsigned microseconds);

/*
 * `size` bytes, not zeroed, or NULL (size 0, out of memory); never
 * sleeps.  IOFree takes the size given to IOMalloc (a mismatch or a
 * block freed twice panics).  The memory is charged to the kernel's
 * "IOMalloc" tag, not to your kext: use OSMalloc with a tag of your own
 * to have `mem` and kextunload count what your kext holds.
 */
void	*IOMalloc(vm_size_t size);
void	IOFree(void *address, vm_size_t size);

__END_DECLS

#endif /* __IOKIT_IOLIB_H */
