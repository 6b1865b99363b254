/*
 * failstart -- a kext whose start routine fails, as a real one does when
 * it cannot get what it needs (memory, a device, a registration).  The
 * kernel then unloads it at once and frees its memory: kextload reports
 * the failure and kextstat does not list it.
 *
 * A start routine that fails must first undo whatever it already did:
 * the kernel will not call stop for it.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <libkern/libkern.h>

kern_return_t	failstart_start(kmod_info_t *ki, void *data);
kern_return_t	failstart_stop(kmod_info_t *ki, void *data);

kern_return_t
failstart_start(kmod_info_t *ki, void *data)
{
	printf("failstart: refusing to start\n");
	return KERN_FAILURE;
}

kern_return_t
failstart_stop(kmod_info_t *ki, void *data)
{
	return KERN_SUCCESS;		/* never called: start failed */
}
