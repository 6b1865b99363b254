/*
 * counterlib -- a library kext: it exports functions that other kexts
 * link against (they name com.finch.sample.counterlib in their
 * OSBundleLibraries).  kextload loads it first and kextunload refuses to
 * remove it while a dependent is loaded.  OSBundleCompatibleVersion in
 * Info.plist says which older versions this one can stand in for.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <libkern/libkern.h>
#include <libkern/OSAtomic.h>
#include "counterlib.h"

kern_return_t	counterlib_start(kmod_info_t *ki, void *data);
kern_return_t	counterlib_stop(kmod_info_t *ki, void *data);

static volatile SInt32 counter;

int32_t
com_finch_counterlib_add(int32_t n)
{
	return OSAddAtomic(n, &counter) + n;	/* OSAddAtomic returns the old */
}

int32_t
com_finch_counterlib_value(void)
{
	return counter;
}

kern_return_t
counterlib_start(kmod_info_t *ki, void *data)
{
	printf("counterlib: ready (version %s)\n", ki->version);
	return KERN_SUCCESS;
}

kern_return_t
counterlib_stop(kmod_info_t *ki, void *data)
{
	printf("counterlib: stopping at count %d\n", (int)counter);
	return KERN_SUCCESS;
}
