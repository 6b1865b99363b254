/*
 * Who owns what (see kmod_resources.h): owner records, the walk over
 * every subsystem's reporter, the leak report the unload path prints,
 * and the monitor's `kextres` command, which shows what one kext holds
 * -- or what unloaded kexts of that name left behind.
 */
#include <sys/systm.h>
#include <kern/kmod_resources.h>
#include <kern/kmod_var.h>
#include <kern/ksyms.h>
#include <kern/monitor.h>

extern char _kernel_start[], _kernel_end[];

const struct kmod_owner kmod_owner_kernel = { KMOD_OWNER_KERNEL, 0, 0, "" };

/* ---- owners ---- */

void
kmod_owner_from_info(const kmod_info_t *ki, struct kmod_owner *ko)
{
	ko->ko_id = ki->id;
	ko->ko_addr = ki->address;
	ko->ko_size = ki->size;
	strlcpy(ko->ko_name, ki->name, sizeof(ko->ko_name));
}

void
kmod_owner_of(uint32_t ra, struct kmod_owner *ko)
{
	const kmod_info_t *ki = NULL;

	if (ra < (uint32_t)_kernel_start || ra >= (uint32_t)_kernel_end)
		ki = kmod_lookup_address(ra);
	if (ki == NULL) {
		ko->ko_id = KMOD_OWNER_KERNEL;
		ko->ko_addr = 0;
		ko->ko_size = 0;
		ko->ko_name[0] = '\0';
		return;
	}
	kmod_owner_from_info(ki, ko);
}

bool
kmod_owner_is_kernel(const struct kmod_owner *ko)
{
	return ko->ko_id == KMOD_OWNER_KERNEL;
}

bool
kmod_owner_loaded(const struct kmod_owner *ko)
{
	const kmod_info_t *ki;

	if (kmod_owner_is_kernel(ko))
		return true;
	ki = kmod_lookup_address(ko->ko_addr);
	return ki != NULL && ki->id == ko->ko_id;
}

const char *
kmod_owner_name(const struct kmod_owner *ko, char *buf, size_t len)
{
	if (kmod_owner_is_kernel(ko))
		strlcpy(buf, ko->ko_name[0] != '\0' ? ko->ko_name : "kernel",
		    len);
	else if (kmod_owner_loaded(ko))
		strlcpy(buf, ko->ko_name, len);
	else
		snprintf(buf, len, "(unloaded) %s", ko->ko_name);
	return buf;
}

bool
kmod_owner_match(const struct kmod_owner *ko, const struct kmod_owner *query)
{
	if (query->ko_id != KMOD_OWNER_ANY)
		return ko->ko_id == query->ko_id;
	return !kmod_owner_is_kernel(ko) &&
	    strcmp(ko->ko_name, query->ko_name) == 0;
}

bool
kmod_owner_holds_addr(const struct kmod_owner *query, uint32_t addr)
{
	return query->ko_id != KMOD_OWNER_ANY &&
	    !kmod_owner_is_kernel(query) && addr >= query->ko_addr &&
	    addr - query->ko_addr < query->ko_size;
}

/* ---- the reporters ---- */

const char *
kmod_resource_func(const struct kmod_owner *owner, uint32_t func, char *buf,
    size_t len)
{
	if (kmod_owner_loaded(owner))
		return ksym_format(buf, len, func, 0);
	snprintf(buf, len, "0x%08x", func);
	return buf;
}

LINKER_SET_DECLARE(kmod_resource, const struct kmod_resource_reporter);

/* Counts the lines on their way to the caller's emit. */
struct res_count {
	kmod_resource_emit_t	*rc_emit;
	void			*rc_arg;
	uint32_t		rc_lines;
};

static void
res_count_emit(const struct kmod_resource *kr, void *arg)
{
	struct res_count *rc = arg;

	rc->rc_lines++;
	rc->rc_emit(kr, rc->rc_arg);
}

uint32_t
kmod_resources(const struct kmod_owner *query, kmod_resource_emit_t *emit,
    void *arg)
{
	const struct kmod_resource_reporter **rp;
	struct res_count rc = { emit, arg, 0 };
	int class;

	for (class = 0; class < KMOD_RES_NCLASSES; class++)
		LINKER_SET_FOREACH(kmod_resource, rp)
			if ((*rp)->krr_class == (enum kmod_res_class)class)
				(*rp)->krr_func(query, res_count_emit, &rc);
	return rc.rc_lines;
}

/* ---- the leak report ---- */

/* The report's lines, joined by "; " after a header written at the end. */
struct leak_text {
	char		*lt_buf;
	size_t		lt_len;
	size_t		lt_used;	/* bytes of items written */
	uint32_t	lt_bytes;	/* their total */
	bool		lt_cut;		/* an item did not fit */
};

static void
leak_text_emit(const struct kmod_resource *kr, void *arg)
{
	struct leak_text *lt = arg;
	int n;

	lt->lt_bytes += kr->kr_bytes;
	if (lt->lt_cut)
		return;
	n = snprintf(lt->lt_buf + lt->lt_used, lt->lt_len - lt->lt_used,
	    "%s%s", lt->lt_used > 0 ? "; " : "", kr->kr_text);
	if ((size_t)n >= lt->lt_len - lt->lt_used) {
		lt->lt_cut = true;
		lt->lt_buf[lt->lt_used] = '\0';
	} else
		lt->lt_used += n;
}

/*
 * The items go into buf first (their total is known only at the end),
 * then move right to make room for the header.  A report that did not
 * fit ends with "...".
 */
size_t
kmod_leak_text(const struct kmod_owner *query, char *buf, size_t len)
{
	struct leak_text lt = { buf, len, 0, 0, false };
	char head[KMOD_MAX_NAME + 64];
	size_t hlen, keep;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (kmod_resources(query, leak_text_emit, &lt) == 0)
		return 0;
	hlen = snprintf(head, sizeof(head), "%s: leaked %u bytes, which the "
	    "kernel will not free: ", query->ko_name, lt.lt_bytes);
	if (hlen >= len) {
		strlcpy(buf, head, len);
		return strlen(buf);
	}
	keep = lt.lt_used;
	if (keep > len - 1 - hlen) {
		keep = len - 1 - hlen;
		lt.lt_cut = true;
	}
	memmove(buf + hlen, buf, keep);
	memcpy(buf, head, hlen);
	buf[hlen + keep] = '\0';
	if (lt.lt_cut && hlen + keep >= 3)
		memcpy(buf + hlen + keep - 3, "...", 3);
	return hlen + keep;
}

size_t
kmod_leak_report(const kmod_info_t *ki, char *buf, size_t len)
{
	struct kmod_owner ko;
	size_t n;

	kmod_owner_from_info(ki, &ko);
	n = kmod_leak_text(&ko, buf, len);
	if (n > 0)
		printf("kmod: %s\n", buf);
	return n;
}

/* ---- the `kextres` command ---- */

#define KEXTRES_LINES	64
#define KEXTRES_KEXTS	64

/* kmod_list()'s rows; static, as commands run one at a time. */
static struct kmod_stat kextres_rows[KEXTRES_KEXTS];

/* The lines for one kext, copied by the emit, printed after the walk. */
struct kextres_lines {
	struct kmod_resource	kl_res[KEXTRES_LINES];
	uint32_t		kl_n;		/* lines seen (may be more */
	uint32_t		kl_bytes;	/*   than were kept) */
};

static void
kextres_emit(const struct kmod_resource *kr, void *arg)
{
	struct kextres_lines *kl = arg;

	if (kl->kl_n < KEXTRES_LINES)
		kl->kl_res[kl->kl_n] = *kr;
	kl->kl_n++;
	kl->kl_bytes += kr->kr_bytes;
}

/* Print what `query` holds under a heading; `what` names it. */
static void
kextres_print(const struct kmod_owner *query, const char *what)
{
	static struct kextres_lines kl;	/* commands run one at a time */
	uint32_t i;

	bzero(&kl, sizeof(kl));
	kmod_resources(query, kextres_emit, &kl);
	if (kl.kl_n == 0) {
		printf("%s: nothing\n", what);
		return;
	}
	printf("%s:\n", what);
	for (i = 0; i < kl.kl_n && i < KEXTRES_LINES; i++)
		printf("  %s\n", kl.kl_res[i].kr_text);
	if (kl.kl_n > KEXTRES_LINES)
		printf("  ... and %u more\n", kl.kl_n - KEXTRES_LINES);
	printf("  %u in all, %u bytes\n", kl.kl_n, kl.kl_bytes);
}

static void
kextres_owner(const struct kmod_stat *row, struct kmod_owner *ko)
{
	ko->ko_id = row->ks_id;
	ko->ko_addr = row->ks_address;
	ko->ko_size = row->ks_size;
	strlcpy(ko->ko_name, row->ks_name, sizeof(ko->ko_name));
}

/*
 * The loaded kext with that id or bundle id as an owner record; else a
 * query for every unloaded kext of that name (false if `arg` is a
 * number: ids of unloaded kexts are not kept).
 */
static bool
kextres_find(const char *arg, struct kmod_owner *ko, bool *loaded)
{
	struct kmod_stat *rows = kextres_rows;
	char *end;
	uint32_t id;
	int n, i;

	id = strtoul(arg, &end, 10);
	n = kmod_list(rows, KEXTRES_KEXTS);
	for (i = 0; i < n; i++) {
		if (rows[i].ks_component)
			continue;
		if (*end == '\0' ? rows[i].ks_id != id :
		    strcmp(rows[i].ks_name, arg) != 0)
			continue;
		kextres_owner(&rows[i], ko);
		*loaded = true;
		return true;
	}
	*loaded = false;
	if (*end == '\0')
		return false;
	bzero(ko, sizeof(*ko));
	ko->ko_id = KMOD_OWNER_ANY;
	strlcpy(ko->ko_name, arg, sizeof(ko->ko_name));
	return true;
}

/* No argument: every loaded kext in turn. */
static int
kextres_all(void)
{
	struct kmod_stat *rows = kextres_rows;
	struct kmod_owner ko;
	char what[KMOD_MAX_NAME + 32];
	int n, i, shown = 0;

	n = kmod_list(rows, KEXTRES_KEXTS);
	for (i = 0; i < n; i++) {
		if (rows[i].ks_component)
			continue;
		kextres_owner(&rows[i], &ko);
		snprintf(what, sizeof(what), "%s (id %u) holds", ko.ko_name,
		    ko.ko_id);
		kextres_print(&ko, what);
		shown++;
	}
	if (shown == 0)
		printf("kextres: no kext is loaded\n");
	return 0;
}

static int
mon_kextres(int argc, char **argv)
{
	static char report[1024];
	struct kmod_owner ko;
	char what[KMOD_MAX_NAME + 64];
	bool leaks = argc == 3 && strcmp(argv[1], "-l") == 0;
	bool loaded;

	if (argc == 1)
		return kextres_all();
	if (argc != 2 && !leaks)
		return monitor_usage(argc, argv);
	if (!kextres_find(argv[argc - 1], &ko, &loaded)) {
		printf("kextres: no kext with id %s is loaded; name an "
		    "unloaded one by its bundle id\n", argv[argc - 1]);
		return 1;
	}
	if (leaks) {
		if (kmod_leak_text(&ko, report, sizeof(report)) == 0)
			printf("kextres: %s would leak nothing\n", ko.ko_name);
		else
			printf("kmod: %s\n", report);
		return 0;
	}
	if (loaded)
		snprintf(what, sizeof(what), "%s (id %u) holds", ko.ko_name,
		    ko.ko_id);
	else
		snprintf(what, sizeof(what), "%s is not loaded; unloaded kexts "
		    "of that name left", ko.ko_name);
	kextres_print(&ko, what);
	return 0;
}
MONITOR_COMMAND(kextres, mon_kextres, "kextres [-l] [ID|BUNDLE-ID]",
    "what a kext holds; -l: what unloading it would leak");
