/*
 * IOKit's C helpers that NKEs used (<IOKit/IOLib.h>), on the BSD and
 * Mach services they always stood for: printf, a timed sleep, delay()
 * and the kernel heap under one kernel tag, "IOMalloc".
 */
#include <sys/systm.h>
#include <kern/clock.h>
#include <kern/kalloc.h>
#include <libkern/OSAtomic.h>
#include <IOKit/IOLib.h>

static OSMallocTag iomalloc_tag;

void
IOLogv(const char *format, va_list ap)
{
	vprintf(format, ap);
}

void
IOLog(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
}

void
IOSleep(unsigned milliseconds)
{
	struct timespec ts;
	int chan;

	ts.tv_sec = milliseconds / 1000;
	ts.tv_nsec = (long)(milliseconds % 1000) * 1000000;
	if (ts.tv_sec == 0 && ts.tv_nsec == 0)
		return;
	/* Nobody wakes a channel on our stack: msleep returns on time. */
	(void)msleep(&chan, NULL, 0, "IOSleep", &ts);
}

void
IODelay(unsigned microseconds)
{
	delay_for_interval(microseconds, kMicrosecondScale);
}

/* The tag, made on first use: losing the race to make it frees ours. */
static OSMallocTag
iomalloc_tag_get(void)
{
	OSMallocTag tag = iomalloc_tag;

	if (tag == NULL) {
		tag = kalloc_tag_create("IOMalloc", 0);
		if (tag == NULL)
			return NULL;
		if (!OSCompareAndSwapPtr(NULL, tag, (void * volatile *)&iomalloc_tag)) {
			kalloc_tag_release(tag);
			tag = iomalloc_tag;
		}
	}
	return tag;
}

void *
IOMalloc(vm_size_t size)
{
	OSMallocTag tag = iomalloc_tag_get();

	if (size == 0 || tag == NULL)
		return NULL;
	return kalloc_tag(size, tag);
}

void
IOFree(void *address, vm_size_t size)
{
	OSMallocTag tag = iomalloc_tag;

	if (address == NULL)
		return;
	if (tag == NULL)
		panic("IOFree: %p: nothing was ever allocated with IOMalloc", address);
	kfree_tag(address, size, tag);
}
