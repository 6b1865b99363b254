/*
 * countuser -- a kext that calls into a library kext.  Its Info.plist
 * asks for com.finch.sample.counterlib 1.1.0; kextload finds the library
 * in a search directory (-r), loads it first if needed, and links
 * countuser against the library's exported globals.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <libkern/libkern.h>
#include "../counterlib/counterlib.h"

kern_return_t	countuser_start(kmod_info_t *ki, void *data);
kern_return_t	countuser_stop(kmod_info_t *ki, void *data);

kern_return_t
countuser_start(kmod_info_t *ki, void *data)
{
	printf("countuser: counter is now %d\n",
	    (int)com_finch_counterlib_add(5));
	return KERN_SUCCESS;
}

kern_return_t
countuser_stop(kmod_info_t *ki, void *data)
{
	printf("countuser: leaving the counter at %d\n",
	    (int)com_finch_counterlib_value());
	return KERN_SUCCESS;
}
