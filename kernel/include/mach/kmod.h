/*
 * <mach/kmod.h> -- what the kernel knows about a loaded kext.
 *
 * Every kext carries one kmod_info_t named `kmod_info`: either generated
 * by the build from Info.plist (the usual way, as Xcode did) or written
 * with KMOD_EXPLICIT_DECL.  The loader fills in id, address, size and
 * references; the kext supplies the name, version and its start and stop
 * routines.  Field order and packing match XNU, so existing sources and
 * debuggers read it unchanged.
 */
#ifndef _MACH_KMOD_H_
#define _MACH_KMOD_H_

#include <sys/cdefs.h>
#include <mach/mach_types.h>

__BEGIN_DECLS

#define KMOD_INFO_NAME		kmod_info
#define KMOD_INFO_VERSION	1
#define KMOD_MAX_NAME		64

struct kmod_info;

/*
 * Start and stop routines.  Return KERN_SUCCESS, or anything else to
 * refuse: a failed start unloads the kext; a failed stop keeps it loaded
 * and running, and the next kextunload calls stop again (so remember
 * what stop has taken back already).  A stop that succeeded is not
 * called again.
 *
 * Each call runs in a kernel thread of its own ("kmod start <id>",
 * "kmod stop <id>" in `ps`), in thread context, with no kernel lock
 * held, and must return holding no lock it took.  It may sleep; other
 * kexts load and unload meanwhile and the host link keeps answering.
 * kextload and kextunload wait 2 s for the routine, then say "still
 * starting" or "still stopping" (exit status 3) and kextstat shows the
 * state until it returns; the result then takes effect (a late failed
 * start unloads the kext, printed on the console).  A routine that never
 * returns keeps its kext until reboot: a kernel thread cannot be killed.
 * So bound every wait to a second or so; if stop must wait longer for
 * an asynchronous detach, return KERN_FAILURE (kextunload -w retries).
 */
typedef kern_return_t kmod_start_func_t(struct kmod_info *ki, void *data);
typedef kern_return_t kmod_stop_func_t(struct kmod_info *ki, void *data);

#pragma pack(4)

/* One dependency: this kext is linked against `info`. */
typedef struct kmod_reference {
	struct kmod_reference	*next;
	struct kmod_info	*info;
} kmod_reference_t;

typedef struct kmod_info {
	struct kmod_info	*next;
	int32_t			info_version;	/* KMOD_INFO_VERSION */
	uint32_t		id;
	char			name[KMOD_MAX_NAME];	/* bundle id */
	char			version[KMOD_MAX_NAME];
	int32_t			reference_count; /* kexts linked against us */
	kmod_reference_t	*reference_list; /* what we link against */
	vm_address_t		address;	/* where the image starts */
	vm_size_t		size;
	vm_size_t		hdr_size;
	kmod_start_func_t	*start;
	kmod_stop_func_t	*stop;
} kmod_info_t;

#pragma pack()

typedef kmod_info_t *kmod_info_array_t;

/* Declare this kext's kmod_info with explicit start and stop routines. */
#define KMOD_EXPLICIT_DECL(name, version, start, stop)			\
	kmod_info_t KMOD_INFO_NAME = { 0, KMOD_INFO_VERSION, -1U,	\
	    { #name }, { version }, -1, 0, 0, 0, 0, start, stop };

/* The same with routines named name_module_start and name_module_stop. */
#define KMOD_DECL(name, version)					\
	static kmod_start_func_t name ## _module_start;			\
	static kmod_stop_func_t name ## _module_stop;			\
	KMOD_EXPLICIT_DECL(name, version, name ## _module_start,	\
	    name ## _module_stop)

__END_DECLS

#endif /* _MACH_KMOD_H_ */
