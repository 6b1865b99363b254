/*
 * hello -- the smallest kext: it says hello when kextload starts it and
 * goodbye when kextunload stops it.  Start here.
 *
 * The build generates this kext's kmod_info from Info.plist, naming
 * hello_start and hello_stop (CFBundleExecutable + _start / _stop).
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <libkern/libkern.h>

kern_return_t	hello_start(kmod_info_t *ki, void *data);
kern_return_t	hello_stop(kmod_info_t *ki, void *data);

kern_return_t
hello_start(kmod_info_t *ki, void *data)
{
	printf("hello: hello from %s %s (kmod id %u at %p)\n", ki->name,
	    ki->version, ki->id, (void *)ki->address);
	return KERN_SUCCESS;
}

kern_return_t
hello_stop(kmod_info_t *ki, void *data)
{
	printf("hello: goodbye from %s\n", ki->name);
	return KERN_SUCCESS;
}
