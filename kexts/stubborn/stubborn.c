/*
 * stubborn -- a kext whose stop routine refuses, as a real one must while
 * it still has work in flight (a filter with packets queued, a client
 * still connected).  The kernel keeps it loaded and kextunload says why.
 *
 * To show both outcomes it refuses only the first time: a second
 * kextunload succeeds.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <libkern/libkern.h>

kern_return_t	stubborn_start(kmod_info_t *ki, void *data);
kern_return_t	stubborn_stop(kmod_info_t *ki, void *data);

static int stop_requests;

kern_return_t
stubborn_start(kmod_info_t *ki, void *data)
{
	printf("stubborn: started; the first kextunload will be refused\n");
	return KERN_SUCCESS;
}

kern_return_t
stubborn_stop(kmod_info_t *ki, void *data)
{
	if (stop_requests++ == 0) {
		printf("stubborn: not yet: still busy\n");
		return KERN_FAILURE;
	}
	printf("stubborn: stopping\n");
	return KERN_SUCCESS;
}
