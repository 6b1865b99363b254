/*
 * Function names for code addresses (see ksyms.h): where the table for
 * an address is -- the kernel's .ksyms section, or the end of the block
 * of the kext that holds it -- and the search of one table.  A kext's
 * table lies in the kext's own memory, which a bug in the kext may have
 * written over: everything it says is checked before it is believed.
 */
#include <sys/systm.h>
#include <i386/pmap.h>
#include <kern/kmod_var.h>
#include <kern/ksyms.h>

/* kernel.ld */
extern const char __ksyms_start[], __ksyms_end[];
extern const char _kernel_start[], _etext[];

/*
 * Copy a name to print: at most len - 1 bytes of it, and no more than
 * `max` are read.  A byte that is not printable ASCII becomes '?', so
 * that no table can put a newline (or a line a host tool would take for
 * something else) into a listing or a panic report.
 */
static void
ksym_copy_name(char *dst, size_t len, const char *src, size_t max)
{
	size_t i;
	unsigned char c;

	for (i = 0; i + 1 < len && i < max && src[i] != '\0'; i++) {
		c = (unsigned char)src[i];
		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

/*
 * Is the table sound enough to search?  Its entries and names must lie
 * between the region's start and the trailer, the entries strictly
 * ascending, each function inside [lo, hi) and each name offset inside
 * the names.  Whether a name ends before the trailer is checked for the
 * one name found.
 */
static bool
ksym_table_check(const struct ksym_entry *ke, uint32_t count,
    uint32_t nnames, uint32_t lo, uint32_t hi)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		if (ke[i].ke_addr < lo || ke[i].ke_addr >= hi ||
		    ke[i].ke_size > hi - ke[i].ke_addr ||
		    ke[i].ke_name >= nnames)
			return false;
		if (i > 0 && ke[i].ke_addr <= ke[i - 1].ke_addr)
			return false;
	}
	return true;
}

bool
ksym_table_lookup(uint32_t base, uint32_t size, uint32_t lo, uint32_t hi,
    uint32_t addr, struct ksym *ks)
{
	const struct ksym_trailer *kt;
	const struct ksym_entry *ke;
	const char *names, *name;
	uint32_t room, count, nnames, first, n, half;

	if (size < sizeof(*kt))
		return false;
	room = size - sizeof(*kt);
	kt = (const struct ksym_trailer *)(base + room);
	if (kt->kt_magic != KSYM_MAGIC || kt->kt_version != KSYM_VERSION)
		return false;
	count = kt->kt_count;
	if (kt->kt_offset > room ||
	    count > (room - kt->kt_offset) / sizeof(*ke))
		return false;
	ke = (const struct ksym_entry *)(base + kt->kt_offset);
	names = (const char *)(ke + count);
	nnames = room - kt->kt_offset - count * sizeof(*ke);
	if (!ksym_table_check(ke, count, nnames, lo, hi))
		return false;

	/* The number of entries that start at or below addr. */
	first = 0;
	for (n = count; n > 0; ) {
		half = n / 2;
		if (ke[first + half].ke_addr <= addr) {
			first += half + 1;
			n -= half + 1;
		} else
			n = half;
	}
	if (first == 0)
		return false;
	ke += first - 1;
	if (addr - ke->ke_addr >= ke->ke_size)
		return false;		/* between two functions */
	name = names + ke->ke_name;
	if (name[0] == '\0' ||
	    strnlen(name, nnames - ke->ke_name) == nnames - ke->ke_name)
		return false;		/* empty, or runs into the trailer */
	ks->ks_start = ke->ke_addr;
	ks->ks_offset = addr - ke->ke_addr;
	ksym_copy_name(ks->ks_name, sizeof(ks->ks_name), name,
	    nnames - ke->ke_name);
	return true;
}

/*
 * A kext's table ends its block.  kmod_info lies in the image, which
 * the kext may have written over like the rest: its block is believed
 * only if it holds addr, is no larger than an image can be, and is
 * mapped (a block that an unload freed a moment ago may be a guard page
 * by now).
 */
static bool
ksym_kext_lookup(uint32_t addr, struct ksym *ks)
{
	const kmod_info_t *ki;
	uint32_t base, size;

	ki = kmod_lookup_address(addr);
	if (ki == NULL || !pmap_is_mapped_range((uint32_t)ki, sizeof(*ki)))
		return false;
	ksym_copy_name(ks->ks_kext, sizeof(ks->ks_kext), ki->name,
	    sizeof(ki->name));
	base = ki->address;
	size = ki->size;
	if (addr < base || addr - base >= size || size > KMOD_MAX_IMAGE ||
	    !pmap_is_mapped_range(base, size))
		return false;
	return ksym_table_lookup(base, size, base, base + size, addr, ks);
}

bool
ksym_lookup(uint32_t addr, struct ksym *ks)
{
	bzero(ks, sizeof(*ks));
	if (addr >= (uint32_t)_kernel_start && addr < (uint32_t)_etext)
		return ksym_table_lookup((uint32_t)__ksyms_start,
		    __ksyms_end - __ksyms_start, (uint32_t)_kernel_start,
		    (uint32_t)_etext, addr, ks);
	return ksym_kext_lookup(addr, ks);
}

const char *
ksym_format(char *buf, size_t len, uint32_t addr, int flags)
{
	struct ksym ks;
	size_t n;
	bool named;

	if (len == 0)
		return buf;
	named = ksym_lookup(flags & KSYM_RETURN ? addr - 1 : addr, &ks);
	n = snprintf(buf, len, "0x%08x", addr);
	if (named && n < len) {
		ks.ks_offset = addr - ks.ks_start;
		if (ks.ks_offset == 0)
			n += snprintf(buf + n, len - n, " %s", ks.ks_name);
		else
			n += snprintf(buf + n, len - n, " %s+0x%x", ks.ks_name,
			    ks.ks_offset);
	}
	if ((flags & KSYM_KEXT) && ks.ks_kext[0] != '\0' && n < len)
		snprintf(buf + n, len - n, " (%s)", ks.ks_kext);
	return buf;
}
