/*
 * Unit tests of who-owns-what (kmod_resources.c), run by `selftest`:
 * owner names and matching, and the leak report's text, made from
 * objects the test charges to an owner no kext has (so that no image is
 * involved and live traffic cannot disturb the counts).
 */
#include <sys/systm.h>
#include <kern/kalloc.h>
#include <kern/kmod_resources.h>
#include <kern/locks_var.h>
#include <kern/selftest.h>
#include <kern/thread_call.h>
#include <kern/thread_call_var.h>

/* An id no kext will have for a long while (they count up from 5). */
#define ST_KMOD_ID	0x7fff0000u

static void
st_owner(struct kmod_owner *ko, const char *name)
{
	bzero(ko, sizeof(*ko));
	ko->ko_id = ST_KMOD_ID;
	strlcpy(ko->ko_name, name, sizeof(ko->ko_name));
}

static void
st_call_func(thread_call_param_t p0, thread_call_param_t p1)
{
}

static int
test_kmod_res_owner(void)
{
	struct kmod_owner mine, kernel, query;
	char buf[KMOD_OWNER_NAME_MAX];

	KMOD_OWNER_CALLER(&kernel);	/* selftest.c called: the kernel */
	ST_ASSERT(kmod_owner_is_kernel(&kernel));
	ST_ASSERT(strcmp(kmod_owner_name(&kernel, buf, sizeof(buf)),
	    "kernel") == 0);
	st_owner(&mine, "com.example.gone");
	ST_ASSERT(!kmod_owner_loaded(&mine));	/* no image at address 0 */
	ST_ASSERT(strcmp(kmod_owner_name(&mine, buf, sizeof(buf)),
	    "(unloaded) com.example.gone") == 0);

	query = mine;
	ST_ASSERT(kmod_owner_match(&mine, &query));
	query.ko_id = ST_KMOD_ID + 1;		/* another load of it */
	ST_ASSERT(!kmod_owner_match(&mine, &query));
	query.ko_id = KMOD_OWNER_ANY;		/* every load of that name */
	ST_ASSERT(kmod_owner_match(&mine, &query));
	ST_ASSERT(!kmod_owner_match(&kernel, &query));
	strlcpy(query.ko_name, "com.example.other", sizeof(query.ko_name));
	ST_ASSERT(!kmod_owner_match(&mine, &query));
	ST_ASSERT(!kmod_owner_holds_addr(&query, 0));
	return 0;
}
SELFTEST(kmod_res_owner, test_kmod_res_owner);

static int
test_kmod_res_leak_text(void)
{
	static char buf[512], want[512];
	struct kmod_owner ko;
	OSMallocTag tag;
	void *a, *b;
	lck_grp_t *grp;
	lck_mtx_t *mtx;
	thread_call_t call;
	uint32_t grp_bytes, total;

	st_owner(&ko, "selftest.leaker");
	ST_ASSERT(kmod_leak_text(&ko, buf, sizeof(buf)) == 0);
	ST_ASSERT(buf[0] == '\0');

	tag = kalloc_tag_create_owned("selftest.tag", 0, &ko);
	a = kalloc_tag(40, tag);
	b = kalloc_tag(60, tag);
	grp = lck_grp_alloc_init("selftest.grp", LCK_GRP_ATTR_NULL);
	grp->lg_owner = ko;	/* as if the kext had called */
	mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL);
	call = thread_call_allocate(st_call_func, NULL);
	thread_call_set_label(call, "thread call", st_call_func, &ko);
	ST_ASSERT(tag != NULL && a != NULL && b != NULL && grp != NULL &&
	    mtx != NULL && call != NULL);

	grp_bytes = sizeof(*grp) + sizeof(*mtx);
	total = 100 + grp_bytes + sizeof(struct call_entry);
	snprintf(want, sizeof(want), "selftest.leaker: leaked %u bytes, which "
	    "the kernel will not free: OSMalloc tag 'selftest.tag': 2 blocks, "
	    "100 bytes; lock group 'selftest.grp': 1 mutex, %u bytes; thread "
	    "call to 0x%08x: idle, %u bytes", total, grp_bytes,
	    (uint32_t)st_call_func, (uint32_t)sizeof(struct call_entry));
	ST_ASSERT(kmod_leak_text(&ko, buf, sizeof(buf)) == strlen(want));
	ST_ASSERT(strcmp(buf, want) == 0);

	/* Too long for the buffer: cut, ending with "...". */
	ST_ASSERT(kmod_leak_text(&ko, buf, 80) == 79);
	ST_ASSERT(strncmp(buf, want, 76) == 0);
	ST_ASSERT(strcmp(buf + 76, "...") == 0);

	/* A freed group that still holds its mutex says so. */
	lck_grp_free(grp);
	kmod_leak_text(&ko, buf, sizeof(buf));
	ST_ASSERT(strstr(buf, "lock group 'selftest.grp' (freed, locks "
	    "remain): 1 mutex") != NULL);

	thread_call_free(call);
	lck_mtx_free(mtx, grp);
	kfree_tag(a, 40, tag);
	kfree_tag(b, 60, tag);
	kalloc_tag_release(tag);
	ST_ASSERT(kmod_leak_text(&ko, buf, sizeof(buf)) == 0);
	return 0;
}
SELFTEST(kmod_res_leak_text, test_kmod_res_leak_text);
