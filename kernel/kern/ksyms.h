/*
 * Function names for code addresses, in the guest, as Linux's kallsyms
 * gives them: `callout`, `kextres` and panics print "tick+0x10" after a
 * raw address (which the host can still turn into file:line).  The names
 * come from two kinds of table with one layout: the kernel's, which the
 * build links in last (tools/finch/build.py), and each kext's, which the
 * host linker appends to its image (tools/finch/link.py).
 */
#ifndef _KERN_KSYMS_H_
#define _KERN_KSYMS_H_

#include <sys/types.h>
#include <mach/kmod.h>

/*
 * A table fills a region of memory and ends with a trailer; the entries
 * sit at kt_offset from the region's start, sorted by address, and the
 * names follow them up to the trailer, each ending with a NUL.  The
 * kernel's region is its .ksyms section; a kext's is its whole block
 * (kmod_info's address and size), whose last bytes are the trailer.  A
 * region without the magic has no names (tools/finch/ksyms.py).
 */
#define KSYM_MAGIC	0x4d59534bu	/* "KSYM" */
#define KSYM_VERSION	1

struct ksym_entry {
	uint32_t	ke_addr;	/* the function's first byte */
	uint32_t	ke_size;	/* its length */
	uint32_t	ke_name;	/* offset of its name in the names */
};

struct ksym_trailer {
	uint32_t	kt_magic;	/* KSYM_MAGIC */
	uint32_t	kt_version;	/* KSYM_VERSION */
	uint32_t	kt_offset;	/* of the entries, from the region */
	uint32_t	kt_count;	/* entries */
};

#define KSYM_NAME_MAX	64	/* longer names are cut */

/* What is known about one code address. */
struct ksym {
	uint32_t	ks_start;		/* the function's first byte */
	uint32_t	ks_offset;		/* the address - ks_start */
	char		ks_name[KSYM_NAME_MAX];	/* "" when not known */
	char		ks_kext[KMOD_MAX_NAME];	/* the kext it is in; "" for
						   the kernel (or none) */
};

/*
 * Name the function that holds `addr`: true when one is known.  ks_kext
 * is filled either way for an address inside a kext.  A kext's table is
 * checked at every lookup (the kext may have written over it): a damaged
 * one gives no name, never a fault.  Takes the kmod list's lock briefly
 * (do not hold it); any context, panics included.
 */
bool	ksym_lookup(uint32_t addr, struct ksym *ks);

/*
 * The raw address and its name, as listings print them:
 *
 *	0x0010a2c0 ip_input+0x4c
 *	0x00401234 tick (com.example.ticker)	with KSYM_KEXT
 *	0x00401234				no name known
 *
 * KSYM_KEXT adds the kext that holds the address; KSYM_RETURN names a
 * return address by its call instruction (addr - 1: a call may be the
 * last instruction of a function), the offset still counted to addr.
 * Returns buf, which KSYM_TEXT_MAX bytes always hold.
 */
#define KSYM_KEXT	0x1
#define KSYM_RETURN	0x2
#define KSYM_TEXT_MAX	(sizeof("0x00000000 +0x00000000 ()") + \
			    KSYM_NAME_MAX + KMOD_MAX_NAME)

const char *ksym_format(char *buf, size_t len, uint32_t addr, int flags);

/*
 * The check and search themselves, on the table that ends the region
 * [base, base + size), whose functions must all lie in [lo, hi); for
 * ksym_lookup and the selftests.  Fills ks_start, ks_offset, ks_name.
 */
bool	ksym_table_lookup(uint32_t base, uint32_t size, uint32_t lo,
	    uint32_t hi, uint32_t addr, struct ksym *ks);

#endif /* _KERN_KSYMS_H_ */
