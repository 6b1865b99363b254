/*
 * Unit tests of function names (ksyms.c), run by `selftest`: the
 * kernel's own table names its functions, and a table damaged in any of
 * the ways its checks know gives no name (and no fault).  The damaged
 * tables are built here, in a region laid out as the host linker lays
 * out a kext's (tools/finch/ksyms.py).
 */
#include <sys/systm.h>
#include <kern/ksyms.h>
#include <kern/selftest.h>

/* A made-up image at ST_LO: three functions, the middle one alone. */
#define ST_LO		0x00400000u
#define ST_HI		0x00401000u
#define ST_COUNT	3

struct st_region {
	struct ksym_entry	sr_entries[ST_COUNT];
	char			sr_names[20];
	struct ksym_trailer	sr_trailer;
};

static struct st_region st_region;

static void
st_good_region(struct st_region *sr)
{
	static const char names[] = "first\0second\0third";
	static const struct ksym_entry entries[ST_COUNT] = {
		{ ST_LO + 0x10, 0x20, 0 },
		{ ST_LO + 0x40, 0x10, 6 },	/* a gap before it */
		{ ST_LO + 0x50, 0x30, 13 },
	};

	bzero(sr, sizeof(*sr));
	memcpy(sr->sr_entries, entries, sizeof(entries));
	memcpy(sr->sr_names, names, sizeof(names));
	sr->sr_trailer.kt_magic = KSYM_MAGIC;
	sr->sr_trailer.kt_version = KSYM_VERSION;
	sr->sr_trailer.kt_offset = 0;
	sr->sr_trailer.kt_count = ST_COUNT;
}

/* The name `addr` gets from the region, or "" for none. */
static const char *
st_name(const struct st_region *sr, uint32_t addr, struct ksym *ks)
{
	bzero(ks, sizeof(*ks));
	if (!ksym_table_lookup((uint32_t)sr, sizeof(*sr), ST_LO, ST_HI, addr,
	    ks))
		return "";
	return ks->ks_name;
}

static int
test_ksyms_table(void)
{
	struct st_region *sr = &st_region;
	struct ksym ks;

	st_good_region(sr);
	ST_ASSERT(strcmp(st_name(sr, ST_LO + 0x10, &ks), "first") == 0);
	ST_ASSERT(ks.ks_start == ST_LO + 0x10 && ks.ks_offset == 0);
	ST_ASSERT(strcmp(st_name(sr, ST_LO + 0x2f, &ks), "first") == 0);
	ST_ASSERT(ks.ks_offset == 0x1f);
	ST_ASSERT(strcmp(st_name(sr, ST_LO + 0x45, &ks), "second") == 0);
	ST_ASSERT(strcmp(st_name(sr, ST_LO + 0x7f, &ks), "third") == 0);
	ST_ASSERT(*st_name(sr, ST_LO + 0x0f, &ks) == '\0');	/* before */
	ST_ASSERT(*st_name(sr, ST_LO + 0x30, &ks) == '\0');	/* the gap */
	ST_ASSERT(*st_name(sr, ST_LO + 0x80, &ks) == '\0');	/* after */
	ST_ASSERT(!ksym_table_lookup((uint32_t)sr, 8, ST_LO, ST_HI,
	    ST_LO + 0x10, &ks));		/* too small for a trailer */
	return 0;
}
SELFTEST(ksyms_table, test_ksyms_table);

/* Each damage on its own: the good table's names are then all gone. */
static int
test_ksyms_damaged(void)
{
	struct st_region *sr = &st_region;
	struct ksym ks;
	int damage;

	for (damage = 0; damage < 12; damage++) {
		st_good_region(sr);
		switch (damage) {
		case 0: sr->sr_trailer.kt_magic ^= 1; break;
		case 1: sr->sr_trailer.kt_version = 2; break;
		case 2: sr->sr_trailer.kt_offset = sizeof(*sr); break;
		case 3: sr->sr_trailer.kt_offset = 0xfffffff0u; break;
		case 4: sr->sr_trailer.kt_count = 0xffffffffu; break;
		case 5: sr->sr_trailer.kt_count = 0x15555556u; break; /* *12 wraps */
		case 6: sr->sr_entries[2].ke_addr = ST_LO + 0x40; break;
		case 7: sr->sr_entries[0].ke_addr = ST_LO - 0x10; break;
		case 8: sr->sr_entries[2].ke_size = 0xffffff00u; break;
		case 9: sr->sr_entries[1].ke_name = sizeof(sr->sr_names); break;
		case 10: sr->sr_entries[1].ke_name = 0xffffffffu; break;
		case 11: sr->sr_entries[2].ke_addr = ST_HI; break;
		}
		if (*st_name(sr, ST_LO + 0x45, &ks) != '\0') {
			printf("    damage %d still gave a name\n", damage);
			return 1;
		}
	}

	/* A name that runs into the trailer: that one is unnamed. */
	st_good_region(sr);
	memset(sr->sr_names + 13, 'x', sizeof(sr->sr_names) - 13);
	ST_ASSERT(*st_name(sr, ST_LO + 0x50, &ks) == '\0');
	ST_ASSERT(strcmp(st_name(sr, ST_LO + 0x40, &ks), "second") == 0);

	/* Bytes no listing should print are shown as '?'. */
	st_good_region(sr);
	sr->sr_names[7] = '\n';
	ST_ASSERT(strcmp(st_name(sr, ST_LO + 0x40, &ks), "s?cond") == 0);
	return 0;
}
SELFTEST(ksyms_damaged, test_ksyms_damaged);

/* The kernel's table, which the build linked in, names the kernel. */
static int
test_ksyms_kernel(void)
{
	char buf[KSYM_TEXT_MAX], want[KSYM_TEXT_MAX];
	uint32_t fn = (uint32_t)ksym_lookup;
	static int data;
	struct ksym ks;

	ST_ASSERT(ksym_lookup(fn, &ks));
	ST_ASSERT(strcmp(ks.ks_name, "ksym_lookup") == 0);
	ST_ASSERT(ks.ks_start == fn && ks.ks_offset == 0 && ks.ks_kext[0] == 0);
	ST_ASSERT(ksym_lookup((uint32_t)test_ksyms_kernel + 5, &ks));
	ST_ASSERT(strcmp(ks.ks_name, "test_ksyms_kernel") == 0);
	ST_ASSERT(ks.ks_offset == 5);
	ST_ASSERT(!ksym_lookup((uint32_t)&data, &ks));
	ST_ASSERT(!ksym_lookup(0, &ks));

	snprintf(want, sizeof(want), "0x%08x ksym_lookup", fn);
	ST_ASSERT(strcmp(ksym_format(buf, sizeof(buf), fn, KSYM_KEXT),
	    want) == 0);
	snprintf(want, sizeof(want), "0x%08x ksym_lookup+0x4", fn + 4);
	ST_ASSERT(strcmp(ksym_format(buf, sizeof(buf), fn + 4, KSYM_RETURN),
	    want) == 0);
	/* A return address at a function's start was pushed by a call at
	 * the end of the one before. */
	ST_ASSERT(strstr(ksym_format(buf, sizeof(buf), fn, KSYM_RETURN),
	    "ksym_lookup") == NULL);
	snprintf(want, sizeof(want), "0x%08x", (uint32_t)&data);
	ST_ASSERT(strcmp(ksym_format(buf, sizeof(buf), (uint32_t)&data, 0),
	    want) == 0);
	ksym_format(buf, 11, fn, KSYM_KEXT);	/* cut to the address */
	ST_ASSERT(strlen(buf) == 10 && strncmp(buf, "0x", 2) == 0);
	return 0;
}
SELFTEST(ksyms_kernel, test_ksyms_kernel);
