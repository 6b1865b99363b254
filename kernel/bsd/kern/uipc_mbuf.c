/*
 * The mbuf allocator.  Small mbufs and 2 KB / 4 KB clusters come from
 * three pools, each a free list carved from whole pages on demand up to
 * a limit, so that allocation is O(1) and safe in interrupt handlers.
 * Every allocation is charged to an owner (the kernel or a kext) so that
 * `netstat -m` shows who holds what; a fault-injection knob makes
 * DONTWAIT allocations fail on purpose.  kpi_mbuf.c is the public face.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <i386/intr.h>
#include <i386/pmap.h>
#include <kern/kmod_resources.h>
#include <kern/kmod_var.h>
#include <kern/monitor.h>
#include <kern/simple_lock.h>
#include <kern/thread.h>
#include <kern/vm_page.h>
#include <libkern/OSAtomic.h>
#include <bsd/kern/mbuf_var.h>

#define MBUF_POISON		0xdb	/* fills the data of freed mbufs */
#define MBUF_WAIT_MS		10	/* WAITOK: sleep this long per try */
#define MBUF_WAIT_TRIES		100	/* ... this many times at most */

/*
 * A pool of fixed-size objects.  Mbufs are their own objects; a cluster
 * pool hands out descriptors (struct mcluster) from mp_desc, each bound
 * to its storage when the page is carved.  Either way an object's first
 * word links it on the free list.  Guarded by mbuf_lock.
 */
struct mbuf_pool {
	const char	*mp_name;
	uint32_t	mp_size;	/* bytes of storage per object */
	uint32_t	mp_limit;	/* objects at most */
	struct mcluster	*mp_desc;	/* cluster pools: descriptors */
	void		*mp_freelist;
	uint32_t	mp_carved;	/* objects made from pages so far */
	uint32_t	mp_free;	/* objects on the free list */
	uint32_t	mp_failed;	/* allocations refused */
};

enum { POOL_MBUF, POOL_CL, POOL_BIGCL, MBUF_NPOOLS };

/*
 * Who allocated what.  An unused slot has an empty name.  A kext's slot
 * also keeps the owner record of the last kext of that name charged, so
 * that `netstat -m` can say when it has been unloaded; other slots
 * ("kernel", names the selftests bind) have none (id 0).
 */
struct mbuf_owner {
	char		mo_name[MBUF_OWNER_NAMELEN];
	struct kmod_owner mo_kmod;
	uint32_t	mo_inuse[MBUF_NPOOLS];	/* objects held now */
	uint32_t	mo_total;		/* allocations ever */
	uint32_t	mo_failed;		/* allocations refused */
};

/*
 * mbuf_lock guards the pools, the owners, the counters below and the
 * fault-injection state.  A spin lock: interrupt handlers allocate.
 */
static simple_lock_data_t mbuf_lock = SIMPLE_LOCK_INITIALIZER("mbuf");

static struct mcluster mcl_desc[NMBCLUSTERS];
static struct mcluster mbigcl_desc[NMBIGCLUSTERS];

static struct mbuf_pool mbuf_pools[MBUF_NPOOLS] = {
	[POOL_MBUF] = { "mbufs", MSIZE, NMBUFS, NULL, NULL, 0, 0, 0 },
	[POOL_CL] = { "2 KB clusters", MCLBYTES, NMBCLUSTERS, mcl_desc,
	    NULL, 0, 0, 0 },
	[POOL_BIGCL] = { "4 KB clusters", MBIGCLBYTES, NMBIGCLUSTERS,
	    mbigcl_desc, NULL, 0, 0, 0 },
};

static struct mbuf_owner mbuf_owners[MBUF_OWNER_MAX] = {
	[MBUF_OWNER_KERNEL] = { .mo_name = "kernel" },
	[MBUF_OWNER_MAX - 1] = { .mo_name = "(other kexts)" },
};

static uint32_t mbuf_waits;		/* WAITOK sleeps */
static uint32_t mbuf_waiters;		/* threads asleep for memory now */
static uint32_t mbuf_mcfail, mbuf_mpfail;
static thread_t mbuf_bound_thread;	/* mbuf_owner_bind_thread */
static uint8_t mbuf_bound_owner;

/* Fault injection (mbuf_lock). */
static struct mbuf_fault mbuf_fault = { MBUF_FAULT_OFF, 0, -1 };
static uint32_t mbuf_fault_seen;	/* eligible allocations since set */
static uint32_t mbuf_fault_injected;	/* failures made on purpose */
static uint32_t mbuf_fault_rng = 0x2545f491;

/* In use per mbuf_type_t.  Updated atomically, read without a lock. */
static volatile SInt32 mbuf_types[256];

extern char _kernel_start[], _kernel_end[];

/* ---- Owners ---- */

/* The slot named `name`, made if missing ("other" if full).  Locked. */
static uint8_t
mbuf_owner_find_locked(const char *name)
{
	int i, unused = -1;

	for (i = 0; i < MBUF_OWNER_MAX - 1; i++) {
		if (strcmp(mbuf_owners[i].mo_name, name) == 0)
			return i;
		if (unused < 0 && mbuf_owners[i].mo_name[0] == '\0')
			unused = i;
	}
	if (unused < 0)
		return MBUF_OWNER_MAX - 1;
	strlcpy(mbuf_owners[unused].mo_name, name, MBUF_OWNER_NAMELEN);
	return unused;
}

/*
 * Kernel code is charged to "kernel" without a lookup.  A kext is known
 * by its bundle id, not its kmod id, so that a leak survives a reload
 * under the same name.  An allocating kext cannot be unloaded under its
 * own feet, so the kmod_info the lookup returns stays while we read it.
 */
uint8_t
mbuf_owner_of(const void *ra)
{
	const kmod_info_t *ki;
	uint8_t owner;

	if (mbuf_bound_thread != NULL && current_thread() == mbuf_bound_thread)
		return mbuf_bound_owner;
	if ((const char *)ra >= _kernel_start && (const char *)ra < _kernel_end)
		return MBUF_OWNER_KERNEL;
	ki = kmod_lookup_address((uint32_t)ra);
	if (ki == NULL)
		return MBUF_OWNER_KERNEL;
	simple_lock(&mbuf_lock);
	owner = mbuf_owner_find_locked(ki->name);
	if (owner != MBUF_OWNER_MAX - 1 &&
	    mbuf_owners[owner].mo_kmod.ko_id != ki->id)
		kmod_owner_from_info(ki, &mbuf_owners[owner].mo_kmod);
	simple_unlock(&mbuf_lock);
	return owner;
}

void
mbuf_owner_bind_thread(const char *name)
{
	simple_lock(&mbuf_lock);
	if (name == NULL) {
		mbuf_bound_thread = NULL;
	} else {
		mbuf_bound_owner = mbuf_owner_find_locked(name);
		mbuf_bound_thread = current_thread();
	}
	simple_unlock(&mbuf_lock);
}

void
mbuf_owner_usage(const char *name, struct mbuf_owner_usage *u)
{
	struct mbuf_owner *mo;

	simple_lock(&mbuf_lock);
	mo = &mbuf_owners[mbuf_owner_find_locked(name)];
	u->mo_mbufs = mo->mo_inuse[POOL_MBUF];
	u->mo_clusters = mo->mo_inuse[POOL_CL];
	u->mo_bigclusters = mo->mo_inuse[POOL_BIGCL];
	simple_unlock(&mbuf_lock);
}

/*
 * What a kext holds in mbufs and clusters, for `kextres` and the leak
 * report.  Charged by name, so this is what every kext of that name
 * holds (a leak of an earlier load included).
 */
static void
mbuf_owner_report(const struct kmod_owner *query, kmod_resource_emit_t *emit,
    void *arg)
{
	struct kmod_resource kr = { "mbufs", 0, 0, "" };
	const struct mbuf_owner *mo = NULL;
	uint32_t m, cl, big;
	int i, n;

	if (kmod_owner_is_kernel(query))
		return;
	simple_lock(&mbuf_lock);
	for (i = 0; i < MBUF_OWNER_MAX - 1; i++)
		if (strcmp(mbuf_owners[i].mo_name, query->ko_name) == 0)
			mo = &mbuf_owners[i];
	if (mo == NULL || (mo->mo_inuse[POOL_MBUF] == 0 &&
	    mo->mo_inuse[POOL_CL] == 0 && mo->mo_inuse[POOL_BIGCL] == 0)) {
		simple_unlock(&mbuf_lock);
		return;
	}
	m = mo->mo_inuse[POOL_MBUF];
	cl = mo->mo_inuse[POOL_CL];
	big = mo->mo_inuse[POOL_BIGCL];
	kr.kr_count = m + cl + big;
	kr.kr_bytes = m * MSIZE + cl * MCLBYTES + big * MBIGCLBYTES;
	n = snprintf(kr.kr_text, sizeof(kr.kr_text), "mbufs: %u mbuf%s", m,
	    m == 1 ? "" : "s");
	if (cl > 0)
		n += snprintf(kr.kr_text + n, sizeof(kr.kr_text) - n, ", %u "
		    "cluster%s (2 KB)", cl, cl == 1 ? "" : "s");
	if (big > 0)
		n += snprintf(kr.kr_text + n, sizeof(kr.kr_text) - n, ", %u "
		    "big cluster%s (4 KB)", big, big == 1 ? "" : "s");
	snprintf(kr.kr_text + n, sizeof(kr.kr_text) - n, ", %u bytes",
	    kr.kr_bytes);
	emit(&kr, arg);
	simple_unlock(&mbuf_lock);
}
KMOD_RESOURCES(mbuf, KMOD_RES_MBUFS, mbuf_owner_report);

/* ---- Fault injection ---- */

/* xorshift32: a tiny PRNG, good enough to spread failures. */
static uint32_t
mbuf_fault_random(void)
{
	uint32_t x = mbuf_fault_rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	mbuf_fault_rng = x;
	return x;
}

static bool
mbuf_fault_hit_locked(mbuf_how_t how, uint8_t owner)
{
	bool hit;

	if (mbuf_fault.mf_mode == MBUF_FAULT_OFF || how != MBUF_DONTWAIT)
		return false;
	if (mbuf_fault.mf_owner >= 0 && mbuf_fault.mf_owner != owner)
		return false;
	mbuf_fault_seen++;
	if (mbuf_fault.mf_mode == MBUF_FAULT_EVERY)
		hit = mbuf_fault_seen % mbuf_fault.mf_arg == 0;
	else
		hit = mbuf_fault_random() % MBUF_FAULT_PPM <
		    mbuf_fault.mf_arg;
	if (hit)
		mbuf_fault_injected++;
	return hit;
}

bool
mbuf_fault_hit(mbuf_how_t how, uint8_t owner)
{
	bool hit;

	simple_lock(&mbuf_lock);
	hit = mbuf_fault_hit_locked(how, owner);
	simple_unlock(&mbuf_lock);
	return hit;
}

void
mbuf_fault_get(struct mbuf_fault *f)
{
	simple_lock(&mbuf_lock);
	*f = mbuf_fault;
	simple_unlock(&mbuf_lock);
}

void
mbuf_fault_set(const struct mbuf_fault *f)
{
	simple_lock(&mbuf_lock);
	mbuf_fault = *f;
	if (mbuf_fault.mf_mode == MBUF_FAULT_EVERY && mbuf_fault.mf_arg == 0)
		mbuf_fault.mf_mode = MBUF_FAULT_OFF;
	mbuf_fault_seen = 0;
	simple_unlock(&mbuf_lock);
}

errno_t
mbuf_fault_parse_rate(const char *s, uint32_t *ppm)
{
	uint32_t whole = 0, frac = 0, scale = 1000;
	int digits = 0, decimals = 0;

	for (; *s >= '0' && *s <= '9' && whole <= 1000; s++, digits++)
		whole = whole * 10 + (*s - '0');
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, decimals++) {
			if (decimals == 3)
				return EINVAL;	/* finer than 1 ppm */
			frac = frac * 10 + (*s - '0');
		}
	}
	if (*s == '%') {
		scale = 10000;		/* 1% is 10 per mille */
		s++;
	}
	if (digits == 0 || *s != '\0' || whole > 1000)
		return EINVAL;
	for (; decimals < 3; decimals++)
		frac *= 10;
	/* frac is now thousandths of the unit. */
	*ppm = whole * scale + frac * (scale / 1000);
	if (*ppm == 0 || *ppm > MBUF_FAULT_PPM)
		return EINVAL;
	return 0;
}

/* ---- Pools ---- */

/* Carve one more page into objects.  Locked; vm_page_alloc never sleeps. */
static bool
mbuf_pool_grow(struct mbuf_pool *p)
{
	uint32_t per_page = PAGE_SIZE / p->mp_size, i;
	char *page;
	void **obj;

	if (p->mp_carved + per_page > p->mp_limit)
		return false;
	page = vm_page_alloc();
	if (page == NULL)
		return false;
	for (i = 0; i < per_page; i++) {
		if (p->mp_desc != NULL) {
			p->mp_desc[p->mp_carved].mc_buf = page + i * p->mp_size;
			obj = (void **)&p->mp_desc[p->mp_carved];
		} else {
			obj = (void **)(page + i * p->mp_size);
		}
		*obj = p->mp_freelist;
		p->mp_freelist = obj;
		p->mp_carved++;
		p->mp_free++;
	}
	return true;
}

/*
 * For `mem`: the pools keep every page they carved, so after a flood
 * most of them are free inside.  Whole pages only: a 4 KB cluster pool
 * counts its free clusters, the others round down.
 */
static void
mbuf_count_pages(uint32_t *held, uint32_t *free_inside)
{
	uint32_t carved = 0, free = 0;
	struct mbuf_pool *p;

	simple_lock(&mbuf_lock);
	for (p = mbuf_pools; p < mbuf_pools + MBUF_NPOOLS; p++) {
		carved += p->mp_carved * p->mp_size;
		free += p->mp_free * p->mp_size;
	}
	simple_unlock(&mbuf_lock);
	*held = carved / PAGE_SIZE;
	*free_inside = free / PAGE_SIZE;
}
VM_PAGE_HOLDER(mbuf, "mbuf pool", mbuf_count_pages);

/* Take an object, charging `owner`; NULL if none.  Locked. */
static void *
mbuf_pool_take(struct mbuf_pool *p, mbuf_how_t how, uint8_t owner)
{
	void **obj;

	if (mbuf_fault_hit_locked(how, owner))
		return NULL;
	if (p->mp_freelist == NULL && !mbuf_pool_grow(p))
		return NULL;
	obj = p->mp_freelist;
	p->mp_freelist = *obj;
	p->mp_free--;
	mbuf_owners[owner].mo_inuse[p - mbuf_pools]++;
	mbuf_owners[owner].mo_total++;
	return obj;
}

/* May this failed allocation sleep and try again?  Never in an
 * interrupt or with interrupts off (a spin lock is held). */
static bool
mbuf_may_wait(mbuf_how_t how, int *tries)
{
	if (how != MBUF_WAITOK || intr_context() ||
	    !ml_get_interrupts_enabled())
		return false;
	return (*tries)++ < MBUF_WAIT_TRIES;
}

/*
 * Take an object from pool p.  WAITOK sleeps in short steps for a free:
 * with a timeout, since a free between our check and msleep() would
 * otherwise leave us asleep.
 */
static void *
mbuf_pool_alloc(struct mbuf_pool *p, mbuf_how_t how, uint8_t owner)
{
	struct timespec ts = { 0, MBUF_WAIT_MS * 1000 * 1000 };
	void *obj;
	int tries = 0;

	for (;;) {
		simple_lock(&mbuf_lock);
		obj = mbuf_pool_take(p, how, owner);
		if (obj != NULL || !mbuf_may_wait(how, &tries))
			break;
		mbuf_waits++;
		mbuf_waiters++;
		simple_unlock(&mbuf_lock);
		msleep(&mbuf_waiters, NULL, 0, "mbuf", &ts);
		simple_lock(&mbuf_lock);
		mbuf_waiters--;
		simple_unlock(&mbuf_lock);
	}
	if (obj == NULL) {
		p->mp_failed++;
		mbuf_owners[owner].mo_failed++;
	}
	simple_unlock(&mbuf_lock);
	return obj;
}

static void
mbuf_pool_free(struct mbuf_pool *p, void *obj, uint8_t owner)
{
	bool wake;

	simple_lock(&mbuf_lock);
	*(void **)obj = p->mp_freelist;
	p->mp_freelist = obj;
	p->mp_free++;
	mbuf_owners[owner].mo_inuse[p - mbuf_pools]--;
	wake = mbuf_waiters > 0;
	simple_unlock(&mbuf_lock);
	if (wake)
		wakeup(&mbuf_waiters);
}

/* ---- Mbufs ---- */

struct mbuf *
m_get(mbuf_how_t how, int type, uint8_t owner)
{
	struct mbuf *m;

	m = mbuf_pool_alloc(&mbuf_pools[POOL_MBUF], how, owner);
	if (m == NULL)
		return NULL;
	m->m_next = NULL;
	m->m_nextpkt = NULL;
	m->m_data = m->m_dat;
	m->m_len = 0;
	m->m_type = type;
	m->m_owner = owner;
	m->m_flags = 0;
	OSAddAtomic(1, &mbuf_types[type & 0xff]);
	return m;
}

void
m_pkthdr_init(struct mbuf *m)
{
	m->m_flags |= M_PKTHDR;
	bzero(&m->m_pkthdr, sizeof(m->m_pkthdr));
	SLIST_INIT(&m->m_pkthdr.tags);
	if (!(m->m_flags & M_EXT))
		m->m_data = m->m_pktdat;
}

struct mbuf *
m_gethdr(mbuf_how_t how, int type, uint8_t owner)
{
	struct mbuf *m = m_get(how, type, owner);

	if (m != NULL)
		m_pkthdr_init(m);
	return m;
}

void
m_settype(struct mbuf *m, int type)
{
	OSAddAtomic(-1, &mbuf_types[m->m_type]);
	OSAddAtomic(1, &mbuf_types[type & 0xff]);
	m->m_type = type;
}

void
m_move_pkthdr(struct mbuf *to, struct mbuf *from)
{
	to->m_pkthdr = from->m_pkthdr;		/* the tag list moves too */
	to->m_flags = (to->m_flags & M_EXT) | (from->m_flags & M_COPYFLAGS);
	if (!(to->m_flags & M_EXT))
		to->m_data = to->m_pktdat;
	from->m_flags &= ~M_PKTHDR;
	SLIST_INIT(&from->m_pkthdr.tags);
}

void
m_copy_pkthdr_fields(struct mbuf *to, struct mbuf *from)
{
	struct m_tag *keep = SLIST_FIRST(&to->m_pkthdr.tags);

	to->m_pkthdr = from->m_pkthdr;
	SLIST_FIRST(&to->m_pkthdr.tags) = keep;
	to->m_flags = (to->m_flags & M_EXT) | (from->m_flags & M_COPYFLAGS);
}

/* Drop one reference to a cluster; the last one frees it. */
static void
m_cl_release(struct mcluster *cl)
{
	struct mbuf_pool *p = &mbuf_pools[cl->mc_big ? POOL_BIGCL : POOL_CL];
	bool last;

	simple_lock(&mbuf_lock);
	if (cl->mc_refcnt == 0)
		panic("mbuf: cluster %p freed twice", cl->mc_buf);
	last = --cl->mc_refcnt == 0;
	simple_unlock(&mbuf_lock);
	if (last)
		mbuf_pool_free(p, cl, cl->mc_owner);
}

errno_t
m_clattach(struct mbuf *m, mbuf_how_t how, uint32_t size)
{
	bool big = size == MBIGCLBYTES;
	struct mcluster *cl;

	cl = mbuf_pool_alloc(&mbuf_pools[big ? POOL_BIGCL : POOL_CL], how,
	    m->m_owner);
	if (cl == NULL)
		return ENOMEM;
	if (m->m_flags & M_EXT)
		m_cl_release(m->m_ext.ext_cl);
	cl->mc_refcnt = 1;
	cl->mc_owner = m->m_owner;
	cl->mc_big = big;
	m->m_ext.ext_cl = cl;
	m->m_ext.ext_buf = cl->mc_buf;
	m->m_ext.ext_size = size;
	m->m_flags |= M_EXT;
	m->m_data = cl->mc_buf;
	m->m_len = 0;
	return 0;
}

void
m_clshare(struct mbuf *m, struct mbuf *n)
{
	simple_lock(&mbuf_lock);
	n->m_ext.ext_cl->mc_refcnt++;
	simple_unlock(&mbuf_lock);
	m->m_ext = n->m_ext;
	m->m_flags |= M_EXT;
}

/* Copy the data to a cluster of our own, at the same offset. */
errno_t
m_unshare(struct mbuf *m, mbuf_how_t how)
{
	struct mcluster *old, *cl;
	uint32_t off;

	if (M_WRITABLE(m))
		return 0;
	old = m->m_ext.ext_cl;
	cl = mbuf_pool_alloc(&mbuf_pools[old->mc_big ? POOL_BIGCL : POOL_CL],
	    how, m->m_owner);
	if (cl == NULL)
		return ENOMEM;
	cl->mc_refcnt = 1;
	cl->mc_owner = m->m_owner;
	cl->mc_big = old->mc_big;
	off = m->m_data - old->mc_buf;
	memcpy(cl->mc_buf + off, m->m_data, m->m_len);
	m->m_ext.ext_cl = cl;
	m->m_ext.ext_buf = cl->mc_buf;
	m->m_data = cl->mc_buf + off;
	m_cl_release(old);
	return 0;
}

/*
 * Free one mbuf.  Its data area is poisoned so that a use after free
 * reads 0xdb bytes instead of plausible old data.
 */
struct mbuf *
m_free(struct mbuf *m)
{
	struct mbuf *next = m->m_next;

	if (m->m_type == MBUF_TYPE_FREE)
		panic("mbuf_free: mbuf %p freed twice", m);
	if (m->m_flags & M_PKTHDR)
		m_tag_delete_chain(m);
	if (m->m_flags & M_EXT)
		m_cl_release(m->m_ext.ext_cl);
	OSAddAtomic(-1, &mbuf_types[m->m_type]);
	m->m_type = MBUF_TYPE_FREE;
	m->m_flags = 0;
	m->m_len = 0;
	m->m_nextpkt = NULL;
	memset(m->m_dat, MBUF_POISON, MLEN);
	mbuf_pool_free(&mbuf_pools[POOL_MBUF], m, m->m_owner);
	return next;
}

void
m_freem(struct mbuf *m)
{
	while (m != NULL)
		m = m_free(m);
}

/* ---- Counters and reports ---- */

void
mbuf_count_mcfail(void)
{
	simple_lock(&mbuf_lock);
	mbuf_mcfail++;
	simple_unlock(&mbuf_lock);
}

void
mbuf_count_mpfail(void)
{
	simple_lock(&mbuf_lock);
	mbuf_mpfail++;
	simple_unlock(&mbuf_lock);
}

static uint32_t
mbuf_pool_inuse(const struct mbuf_pool *p)
{
	return p->mp_carved - p->mp_free;
}

void
mbuf_usage(struct mbuf_usage *u)
{
	simple_lock(&mbuf_lock);
	u->mu_mbufs = mbuf_pool_inuse(&mbuf_pools[POOL_MBUF]);
	u->mu_clusters = mbuf_pool_inuse(&mbuf_pools[POOL_CL]);
	u->mu_bigclusters = mbuf_pool_inuse(&mbuf_pools[POOL_BIGCL]);
	simple_unlock(&mbuf_lock);
	u->mu_tags = m_tag_inuse();
}

void
mbuf_fill_stat(struct mbuf_stat *st)
{
	int i;

	bzero(st, sizeof(*st));
	simple_lock(&mbuf_lock);
	st->mbufs = mbuf_pools[POOL_MBUF].mp_carved;
	st->clusters = mbuf_pools[POOL_CL].mp_carved;
	st->clfree = mbuf_pools[POOL_CL].mp_free;
	st->bigclusters = mbuf_pools[POOL_BIGCL].mp_carved;
	st->bigclfree = mbuf_pools[POOL_BIGCL].mp_free;
	for (i = 0; i < MBUF_NPOOLS; i++)
		st->drops += mbuf_pools[i].mp_failed;
	st->wait = mbuf_waits;
	st->mcfail = mbuf_mcfail;
	st->mpfail = mbuf_mpfail;
	simple_unlock(&mbuf_lock);
	for (i = 0; i < 256; i++)
		st->mtypes[i] = mbuf_types[i] > 0xffff ? 0xffff : mbuf_types[i];
	st->msize = MSIZE;
	st->mclbytes = MCLBYTES;
	st->minclsize = MINCLSIZE;
	st->mlen = MLEN;
	st->mhlen = MHLEN;
	st->bigmclbytes = MBIGCLBYTES;
}

static const char *const mbuf_type_names[256] = {
	[MBUF_TYPE_DATA] = "data", [MBUF_TYPE_HEADER] = "header",
	[MBUF_TYPE_SOCKET] = "socket", [MBUF_TYPE_PCB] = "pcb",
	[MBUF_TYPE_RTABLE] = "rtable", [MBUF_TYPE_HTABLE] = "htable",
	[MBUF_TYPE_ATABLE] = "atable", [MBUF_TYPE_SONAME] = "soname",
	[MBUF_TYPE_SOOPTS] = "soopts", [MBUF_TYPE_FTABLE] = "ftable",
	[MBUF_TYPE_RIGHTS] = "rights", [MBUF_TYPE_IFADDR] = "ifaddr",
	[MBUF_TYPE_CONTROL] = "control", [MBUF_TYPE_OOBDATA] = "oobdata",
};

static void
mbuf_print_pools(const struct mbuf_pool *pools)
{
	const struct mbuf_pool *p;
	uint32_t kbytes = 0;

	printf("%-14s %7s %7s %7s %7s %7s\n", "pool", "in use", "free",
	    "carved", "limit", "failed");
	for (p = pools; p < pools + MBUF_NPOOLS; p++) {
		printf("%-14s %7u %7u %7u %7u %7u\n", p->mp_name,
		    p->mp_carved - p->mp_free, p->mp_free, p->mp_carved,
		    p->mp_limit, p->mp_failed);
		kbytes += p->mp_carved * p->mp_size / 1024;
	}
	printf("%u KB of pages carved for the network\n", kbytes);
}

static void
mbuf_print_types(void)
{
	int i, n = 0;

	printf("mbufs in use by type:");
	for (i = 1; i < 256; i++) {
		if (mbuf_types[i] == 0)
			continue;
		if (mbuf_type_names[i] != NULL)
			printf(" %d %s", (int)mbuf_types[i],
			    mbuf_type_names[i]);
		else
			printf(" %d type-%d", (int)mbuf_types[i], i);
		n++;
	}
	printf("%s\n", n == 0 ? " none" : "");
}

/* A kext's slot says "(unloaded)" once the kext has gone. */
static void
mbuf_print_owners(const struct mbuf_owner *owners)
{
	char name[KMOD_OWNER_NAME_MAX];
	int i;

	printf("%-32s %7s %7s %7s %8s %7s\n", "owner", "mbufs", "2KB cl",
	    "4KB cl", "allocs", "failed");
	for (i = 0; i < MBUF_OWNER_MAX; i++) {
		const struct mbuf_owner *mo = &owners[i];

		if (mo->mo_name[0] == '\0' || (i != MBUF_OWNER_KERNEL &&
		    mo->mo_total == 0 && mo->mo_failed == 0))
			continue;
		if (kmod_owner_is_kernel(&mo->mo_kmod))
			strlcpy(name, mo->mo_name, sizeof(name));
		else
			kmod_owner_name(&mo->mo_kmod, name, sizeof(name));
		printf("%-32s %7u %7u %7u %8u %7u\n", name,
		    mo->mo_inuse[POOL_MBUF], mo->mo_inuse[POOL_CL],
		    mo->mo_inuse[POOL_BIGCL], mo->mo_total, mo->mo_failed);
	}
}

/* Name of the owner fault injection aims at.  Locked. */
static void
mbuf_fault_who_locked(char *who, size_t len)
{
	if (mbuf_fault.mf_owner >= 0)
		strlcpy(who, mbuf_owners[mbuf_fault.mf_owner].mo_name, len);
	else
		strlcpy(who, "everyone", len);
}

/* Parts per million as per mille, without trailing zeros: 0.5, 200. */
static void
mbuf_print_permille(uint32_t ppm)
{
	uint32_t frac = ppm % 1000;
	int width = 3;

	printf("%u", ppm / 1000);
	if (frac == 0)
		return;
	for (; frac % 10 == 0; frac /= 10)
		width--;
	printf(".%0*u", width, frac);
}

static void
mbuf_print_fault(void)
{
	char who[MBUF_OWNER_NAMELEN];
	struct mbuf_fault f;
	uint32_t injected;

	simple_lock(&mbuf_lock);
	f = mbuf_fault;
	injected = mbuf_fault_injected;
	mbuf_fault_who_locked(who, sizeof(who));
	simple_unlock(&mbuf_lock);

	if (f.mf_mode == MBUF_FAULT_OFF)
		printf("fault injection: off");
	else if (f.mf_mode == MBUF_FAULT_EVERY)
		printf("fault injection: every %u DONTWAIT allocations of %s",
		    f.mf_arg, who);
	else {
		printf("fault injection: ");
		mbuf_print_permille(f.mf_arg);
		printf(" per mille of DONTWAIT allocations of %s", who);
	}
	printf("; %u failures injected\n", injected);
}

/*
 * Copy under the lock, print after: printf is slow and must not run
 * with interrupts off.  The copies are large, so they are static: the
 * monitor runs one command at a time.
 */
void
mbuf_print_stats(void)
{
	static struct mbuf_pool pools[MBUF_NPOOLS];
	static struct mbuf_owner owners[MBUF_OWNER_MAX];
	uint32_t waits, mcfail, mpfail;

	simple_lock(&mbuf_lock);
	memcpy(pools, mbuf_pools, sizeof(pools));
	memcpy(owners, mbuf_owners, sizeof(owners));
	waits = mbuf_waits;
	mcfail = mbuf_mcfail;
	mpfail = mbuf_mpfail;
	simple_unlock(&mbuf_lock);

	mbuf_print_pools(pools);
	mbuf_print_types();
	printf("packet tags in use: %u\n", m_tag_inuse());
	printf("waited for memory %u times; copym failed %u, pullup failed "
	    "%u\n", waits, mcfail, mpfail);
	mbuf_print_owners(owners);
	mbuf_print_fault();
	printf("sizes: mbuf %d (data %d, with header %d), clusters %d and "
	    "%d\n", MSIZE, MLEN, MHLEN, MCLBYTES, MBIGCLBYTES);
}

/* ---- The `mbuf` monitor command ---- */

static int
mon_mbuf_fail(int argc, char **argv)
{
	struct mbuf_fault f = { MBUF_FAULT_OFF, 0, -1 };
	char *end;

	if (argc == 3 && strcmp(argv[2], "off") == 0)
		goto set;
	if (argc < 4 || argc > 5)
		return monitor_usage(argc, argv);
	if (strcmp(argv[2], "every") == 0)
		f.mf_mode = MBUF_FAULT_EVERY;
	else if (strcmp(argv[2], "rate") == 0)
		f.mf_mode = MBUF_FAULT_RATE;
	else
		return monitor_usage(argc, argv);
	if (f.mf_mode == MBUF_FAULT_RATE &&
	    mbuf_fault_parse_rate(argv[3], &f.mf_arg) != 0) {
		printf("mbuf: '%s' is not a rate: give per mille, above 0 and "
		    "at most 1000, with up to three decimals (5, 0.5) or in "
		    "percent (0.5%%)\n", argv[3]);
		return 1;
	}
	if (f.mf_mode == MBUF_FAULT_EVERY) {
		f.mf_arg = strtoul(argv[3], &end, 0);
		if (*end != '\0' || f.mf_arg == 0) {
			printf("mbuf: '%s' is not a count: every N needs a "
			    "whole number, 1 or more\n", argv[3]);
			return 1;
		}
	}
	if (argc == 5) {
		simple_lock(&mbuf_lock);
		f.mf_owner = mbuf_owner_find_locked(argv[4]);
		simple_unlock(&mbuf_lock);
	}
set:
	mbuf_fault_set(&f);
	mbuf_print_fault();
	return 0;
}

static int
mon_mbuf(int argc, char **argv)
{
	if (argc == 1 || (argc == 2 && strcmp(argv[1], "stats") == 0)) {
		mbuf_print_stats();
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "fail") == 0)
		return mon_mbuf_fail(argc, argv);
	return monitor_usage(argc, argv);
}
MONITOR_COMMAND(mbuf, mon_mbuf,
    "mbuf [stats] | mbuf fail off | mbuf fail every N [owner] | "
    "mbuf fail rate PERMILLE [owner]",
    "mbuf pools, use per type and owner; make DONTWAIT allocations fail");
