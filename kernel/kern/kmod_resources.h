/*
 * Who owns what.  Each kernel object a kext makes through a KPI (an
 * OSMalloc tag, a lock group, a thread call, a timeout, mbufs) records
 * its owner: the kext whose code made the call, found from the return
 * address once, when the object is made.  Each subsystem adds a reporter
 * beside its code that lists what one owner holds; the `kextres` command
 * and the leak report at unload walk the reporters and know none of them
 * by name (as kmod_check.h does for unload checks):
 *
 *	static void
 *	kalloc_report(const struct kmod_owner *query,
 *	    kmod_resource_emit_t *emit, void *arg)
 *	{
 *		struct kmod_resource kr = { "OSMalloc tag", 0, 0, "" };
 *
 *		simple_lock(&kalloc_lock);
 *		TAILQ_FOREACH(tag, &kalloc_tags, ot_link) {
 *			if (!kmod_owner_match(&tag->ot_owner, query))
 *				continue;
 *			kr.kr_count = tag->ot_blocks;
 *			kr.kr_bytes = tag->ot_bytes;
 *			snprintf(kr.kr_text, sizeof(kr.kr_text), "OSMalloc "
 *			    "tag '%s': %u blocks, %u bytes", ...);
 *			emit(&kr, arg);
 *		}
 *		simple_unlock(&kalloc_lock);
 *	}
 *	KMOD_RESOURCES(osmalloc, KMOD_RES_MEMORY, kalloc_report);
 */
#ifndef _KERN_KMOD_RESOURCES_H_
#define _KERN_KMOD_RESOURCES_H_

#include <sys/types.h>
#include <mach/kmod.h>
#include <kern/linker_set.h>

/*
 * An owner, copied into each object when it is made so that it outlives
 * the kext: its kmod id (never reused), where its image was and its
 * name.  The kernel is id 0 with an empty name.  It never changes once
 * recorded, so it needs no lock of its own: the lock that guards the
 * object guards its owner.
 */
struct kmod_owner {
	uint32_t	ko_id;		/* kmod id; 0: the kernel */
	uint32_t	ko_addr;	/* the image: [ko_addr, */
	uint32_t	ko_size;	/*   ko_addr + ko_size) */
	char		ko_name[KMOD_MAX_NAME];	/* bundle id; "" for the kernel */
};

#define KMOD_OWNER_KERNEL	0
/* A query's id meaning "every kext of that name, loaded or unloaded". */
#define KMOD_OWNER_ANY		0xffffffffu
/* Room for kmod_owner_name(): "(unloaded) " and the bundle id. */
#define KMOD_OWNER_NAME_MAX	(KMOD_MAX_NAME + 12)

/*
 * The owner of code at return address `ra`: the loaded kext whose image
 * holds it, else the kernel.  Costs a compare for the kernel's own code
 * and a walk of the (short) kmod list otherwise: call it when an object
 * is made, never per packet or per lock taken.  Any context.
 */
void	kmod_owner_of(uint32_t ra, struct kmod_owner *ko);

/*
 * The KPI function a kext called is charged to the kext: use this in
 * that function itself (not in a helper it calls), as
 * KMOD_OWNER_CALLER(&owner).
 */
#define KMOD_OWNER_CALLER(ko)						\
	kmod_owner_of((uint32_t)__builtin_return_address(0), (ko))

/* The owner record of a loaded kext. */
void	kmod_owner_from_info(const kmod_info_t *ki, struct kmod_owner *ko);

extern const struct kmod_owner kmod_owner_kernel;

/* Is it the kernel?  Is that kext still loaded (and not another one
 * loaded since at the same address)? */
bool	kmod_owner_is_kernel(const struct kmod_owner *ko);
bool	kmod_owner_loaded(const struct kmod_owner *ko);

/*
 * How listings name an owner: "kernel", "com.example.ticker", or
 * "(unloaded) com.example.ticker" for a kext that is gone.  An owner with
 * id 0 and a name of its own (an mbuf owner a selftest made up) is that
 * name.  Returns buf (KMOD_OWNER_NAME_MAX bytes is enough).
 */
const char *kmod_owner_name(const struct kmod_owner *ko, char *buf,
	    size_t len);

/*
 * Does an object owned by `ko` answer `query`?  A query by id matches
 * that one kext; a query with id KMOD_OWNER_ANY matches every kext of
 * its name, loaded or unloaded (what unloaded kexts left behind).
 */
bool	kmod_owner_match(const struct kmod_owner *ko,
	    const struct kmod_owner *query);

/* Is `addr` inside the image of the kext `query` names by id? */
bool	kmod_owner_holds_addr(const struct kmod_owner *query, uint32_t addr);

/*
 * What a reporter found: one line.  The text says what it is as the
 * student knows it (a tag's or group's name, the function a call runs as
 * kmod_resource_func() gives it) and how much: "OSMalloc tag
 * 'com.example.leaky': 3 blocks, 384 bytes".
 */
#define KMOD_RESOURCE_TEXT	160

struct kmod_resource {
	const char	*kr_kind;	/* "OSMalloc tag", "mbufs", ... */
	uint32_t	kr_count;	/* blocks, mbufs and clusters, locks;
					   1 for one call, timeout, thread */
	uint32_t	kr_bytes;	/* the memory it holds */
	char		kr_text[KMOD_RESOURCE_TEXT];
};

/*
 * Called once per line, with the reporter's locks held (interrupts may
 * be off): copy what you need and return; never print or sleep.
 */
typedef void kmod_resource_emit_t(const struct kmod_resource *kr,
    void *arg);

/*
 * The function an object of `owner` calls, for a reporter's text: its
 * address and name ("0x00401234 leaky_tick", kern/ksyms.h) while the
 * owner is loaded; only the address once it is not, as the memory there
 * may hold another kext by then.  Returns buf (KSYM_TEXT_MAX bytes).
 */
const char *kmod_resource_func(const struct kmod_owner *owner, uint32_t func,
	    char *buf, size_t len);

/* Emit one line for each thing of this subsystem that `query` matches. */
typedef void kmod_resource_func_t(const struct kmod_owner *query,
    kmod_resource_emit_t *emit, void *arg);

/* Where a reporter's lines go in a report: memory first.  Reporters of
 * one class come in link order (by file name). */
enum kmod_res_class {
	KMOD_RES_MEMORY,	/* OSMalloc */
	KMOD_RES_MBUFS,
	KMOD_RES_LOCKS,
	KMOD_RES_CALLBACKS,	/* thread calls, timeouts, later filters */
	KMOD_RES_THREADS,
	KMOD_RES_NCLASSES
};

struct kmod_resource_reporter {
	const char		*krr_name;	/* "timeout", "mbuf" */
	enum kmod_res_class	krr_class;
	kmod_resource_func_t	*krr_func;
};

#define KMOD_RESOURCES(name, class, func)				\
	static const struct kmod_resource_reporter __kmod_res_##name =	\
	    { #name, class, func };					\
	LINKER_SET_ENTRY(kmod_resource, __kmod_res_##name)

/* Walk every reporter for `query`, class by class; returns the lines. */
uint32_t kmod_resources(const struct kmod_owner *query,
	    kmod_resource_emit_t *emit, void *arg);

/*
 * The leak report: what `query` still holds, in one line for the console
 * and the host --
 *
 *	com.example.leaky: leaked 3142 bytes, which the kernel will not
 *	free: OSMalloc tag 'com.example.leaky': 3 blocks, 384 bytes; mbufs:
 *	2 mbufs, 1 cluster (2 KB), 2560 bytes; ...
 *
 * (a single line) -- into buf; returns its length, 0 (and "") when
 * nothing is left.  A report longer than len ends with "...".
 */
size_t	kmod_leak_text(const struct kmod_owner *query, char *buf, size_t len);

/*
 * For the unload path, once the kext's stop routine succeeded (or its
 * start failed) and just before its image is freed, while `ki` is still
 * readable: write the leak report of kmod `ki` into buf and, if anything
 * leaked, print it on the console as "kmod: <report>".  Returns its
 * length (0: nothing leaked).  What leaked stays allocated -- the kernel
 * does not clean up after a kext -- and `mem`, `locks`, `callout`,
 * `netstat -m` and `kextres` go on showing it as "(unloaded) <name>".
 * Thread context; takes each subsystem's lock in turn, so call it
 * without holding the kmod list's simple lock.
 */
size_t	kmod_leak_report(const kmod_info_t *ki, char *buf, size_t len);

#endif /* _KERN_KMOD_RESOURCES_H_ */
