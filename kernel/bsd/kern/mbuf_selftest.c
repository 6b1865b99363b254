/*
 * Unit tests of the mbuf KPI (kpi_mbuf.c over uipc_mbuf*.c), run by the
 * monitor's `selftest mbuf`: allocation, data and chain operations with
 * their failure rules, packet-header fields, tags, checksums and fault
 * injection.  Each test runs charged to its own owner, so that the leak
 * check after it (nothing left allocated) ignores live network traffic.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <i386/cpu.h>
#include <kern/selftest.h>
#include <bsd/kern/mbuf_var.h>

#define ST_OWNER	"selftest:mbuf"
#define W		MBUF_WAITOK
#define D		MBUF_DONTWAIT

/* ---- Helpers ---- */

/* The test pattern: byte i of a test packet. */
static uint8_t
pat(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/*
 * A packet of n mbufs holding lens[i] bytes each, filled with pat();
 * a mbuf gets a cluster when its length needs one.  NULL on failure.
 */
static mbuf_t
st_chain(const size_t *lens, int n)
{
	mbuf_t head = NULL, prev = NULL, m;
	size_t off = 0, j;
	uint8_t *p;
	int i;

	for (i = 0; i < n; i++) {
		if ((i == 0 ? mbuf_gethdr(W, MBUF_TYPE_DATA, &m) :
		    mbuf_get(W, MBUF_TYPE_DATA, &m)) != 0)
			goto fail;
		if (lens[i] > mbuf_maxlen(m) && mbuf_getcluster(W,
		    MBUF_TYPE_DATA, lens[i] > 2048 ? 4096 : 2048, &m) != 0) {
			mbuf_free(m);
			goto fail;
		}
		for (p = mbuf_data(m), j = 0; j < lens[i]; j++)
			p[j] = pat(off + j);
		mbuf_setlen(m, lens[i]);
		off += lens[i];
		if (prev == NULL)
			head = m;
		else
			mbuf_setnext(prev, m);
		prev = m;
	}
	mbuf_pkthdr_setlen(head, off);
	return head;
fail:
	mbuf_freem(head);
	return NULL;
}

/* Do bytes [off, off + len) of the chain hold pat(first + k)? */
static bool
st_holds(mbuf_t m, size_t off, size_t len, size_t first)
{
	static uint8_t buf[8192];	/* tests run one at a time */
	size_t i;

	if (len > sizeof(buf) || mbuf_copydata(m, off, len, buf) != 0)
		return false;
	for (i = 0; i < len; i++)
		if (buf[i] != pat(first + i))
			return false;
	return true;
}

static size_t
st_length(mbuf_t m)
{
	return m_length(m);
}

static int
st_count(mbuf_t m)
{
	int n = 0;

	for (; m != NULL; m = mbuf_next(m))
		n++;
	return n;
}

/* The owner index the tests are charged to (the thread is bound). */
static int
st_owner(void)
{
	return mbuf_owner_of(NULL);
}

static void
st_fault(enum mbuf_fault_mode mode, uint32_t arg)
{
	struct mbuf_fault f = { mode, arg, st_owner() };

	mbuf_fault_set(&f);
}

/*
 * Run one test charged to ST_OWNER with fault injection off, then check
 * that it gave back every mbuf, cluster and tag it took.
 */
static int
mbuf_st_run(int (*body)(void))
{
	struct mbuf_fault saved, off = { MBUF_FAULT_OFF, 0, -1 };
	struct mbuf_owner_usage before, after;
	uint32_t tags = m_tag_inuse();
	int failed;

	mbuf_fault_get(&saved);
	mbuf_fault_set(&off);
	mbuf_owner_usage(ST_OWNER, &before);
	mbuf_owner_bind_thread(ST_OWNER);
	failed = body();
	mbuf_owner_bind_thread(NULL);
	mbuf_fault_set(&saved);
	mbuf_owner_usage(ST_OWNER, &after);
	if (after.mo_mbufs != before.mo_mbufs ||
	    after.mo_clusters != before.mo_clusters ||
	    after.mo_bigclusters != before.mo_bigclusters ||
	    m_tag_inuse() != tags) {
		printf("    leaked: %d mbufs, %d+%d clusters, %d tags\n",
		    after.mo_mbufs - before.mo_mbufs,
		    after.mo_clusters - before.mo_clusters,
		    after.mo_bigclusters - before.mo_bigclusters,
		    m_tag_inuse() - tags);
		return 1;
	}
	return failed;
}

#define MBUF_TEST(name, func)						\
	static int name##_run(void) { return mbuf_st_run(func); }	\
	SELFTEST(name, name##_run)

/* ---- Allocation ---- */

static int
test_sizes(void)
{
	struct mbuf_stat st;

	ST_ASSERT(mbuf_get_mlen() == MLEN && MLEN == 236);
	ST_ASSERT(mbuf_get_mhlen() == MHLEN && MHLEN == 208);
	ST_ASSERT(mbuf_get_minclsize() == MINCLSIZE);
	mbuf_stats(&st);
	ST_ASSERT(st.msize == 256 && st.mclbytes == 2048);
	ST_ASSERT(st.bigmclbytes == 4096 && st.mlen == MLEN);
	ST_ASSERT(st.mhlen == MHLEN && st.minclsize == MINCLSIZE);
	return 0;
}
MBUF_TEST(mbuf_sizes, test_sizes);

static int
test_alloc(void)
{
	struct mbuf_stat before, during;
	mbuf_t m, n, list;

	ST_ASSERT(mbuf_get(W, MBUF_TYPE_FREE, &m) == EINVAL);
	ST_ASSERT(mbuf_get(7, MBUF_TYPE_DATA, &m) == EINVAL);
	mbuf_stats(&before);
	ST_ASSERT(mbuf_get(W, MBUF_TYPE_SONAME, &m) == 0);
	mbuf_stats(&during);
	ST_ASSERT(during.mtypes[MBUF_TYPE_SONAME] ==
	    before.mtypes[MBUF_TYPE_SONAME] + 1);
	ST_ASSERT(mbuf_type(m) == MBUF_TYPE_SONAME && mbuf_flags(m) == 0);
	ST_ASSERT(mbuf_len(m) == 0 && mbuf_maxlen(m) == MLEN);
	ST_ASSERT(mbuf_settype(m, MBUF_TYPE_FREE) == EINVAL);
	ST_ASSERT(mbuf_settype(m, MBUF_TYPE_DATA) == 0);
	mbuf_stats(&during);
	ST_ASSERT(during.mtypes[MBUF_TYPE_SONAME] ==
	    before.mtypes[MBUF_TYPE_SONAME]);
	/* A cluster on an existing mbuf; a bad size leaves it alone. */
	ST_ASSERT(mbuf_getcluster(W, MBUF_TYPE_DATA, 3000, &m) == EINVAL);
	ST_ASSERT(mbuf_getcluster(W, MBUF_TYPE_DATA, 4096, &m) == 0);
	ST_ASSERT(mbuf_flags(m) == MBUF_EXT && mbuf_maxlen(m) == 4096);
	ST_ASSERT(mbuf_mclhasreference(m) == 0);
	/* mbuf_free returns the next one. */
	ST_ASSERT(mbuf_gethdr(W, MBUF_TYPE_HEADER, &n) == 0);
	ST_ASSERT(mbuf_flags(n) == MBUF_PKTHDR && mbuf_maxlen(n) == MHLEN);
	mbuf_setnext(n, m);
	ST_ASSERT(mbuf_free(n) == m);
	mbuf_freem(m);
	mbuf_freem(NULL);
	/* A new mbuf for a NULL *mbuf. */
	m = NULL;
	ST_ASSERT(mbuf_mclget(D, MBUF_TYPE_DATA, &m) == 0 && m != NULL);
	ST_ASSERT(mbuf_maxlen(m) == 2048 && !(mbuf_flags(m) & MBUF_PKTHDR));
	ST_ASSERT(mbuf_getpacket(W, &n) == 0);
	ST_ASSERT(mbuf_flags(n) == (MBUF_PKTHDR | MBUF_EXT));
	/* A packet list: mbuf_freem_list counts packets, not mbufs. */
	ST_ASSERT(mbuf_get(W, MBUF_TYPE_DATA, &list) == 0);
	mbuf_setnext(n, list);
	mbuf_setnextpkt(m, n);
	ST_ASSERT(mbuf_nextpkt(m) == n);
	ST_ASSERT(mbuf_freem_list(m) == 2);
	return 0;
}
MBUF_TEST(mbuf_alloc, test_alloc);

static int
test_allocpacket(void)
{
	unsigned int chunks;
	mbuf_t m;

	ST_ASSERT(mbuf_allocpacket(W, 0, NULL, &m) == EINVAL);
	chunks = 0;
	ST_ASSERT(mbuf_allocpacket(W, 100, &chunks, &m) == 0);
	ST_ASSERT(chunks == 1 && st_count(m) == 1);
	ST_ASSERT(mbuf_pkthdr_len(m) == 100 && mbuf_len(m) == 100);
	mbuf_freem(m);
	ST_ASSERT(mbuf_allocpacket(W, 3000, NULL, &m) == 0);
	ST_ASSERT(st_count(m) == 1 && mbuf_maxlen(m) == 4096);
	mbuf_freem(m);
	chunks = 0;
	ST_ASSERT(mbuf_allocpacket(W, 9000, &chunks, &m) == 0);
	ST_ASSERT(chunks == 3 && st_count(m) == 3);
	ST_ASSERT(st_length(m) == 9000 && mbuf_pkthdr_len(m) == 9000);
	ST_ASSERT(mbuf_type(m) == MBUF_TYPE_DATA);
	mbuf_freem(m);
	chunks = 2;
	ST_ASSERT(mbuf_allocpacket(W, 9000, &chunks, &m) == ENOBUFS);
	chunks = 3;
	ST_ASSERT(mbuf_allocpacket(D, 9000, &chunks, &m) == 0);
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_allocpacket, test_allocpacket);

/* ---- Data ---- */

static int
test_data(void)
{
	mbuf_t m;
	char *start;

	ST_ASSERT(mbuf_gethdr(W, MBUF_TYPE_DATA, &m) == 0);
	start = mbuf_datastart(m);
	ST_ASSERT(mbuf_data(m) == start && mbuf_leadingspace(m) == 0);
	ST_ASSERT(mbuf_trailingspace(m) == MHLEN);
	ST_ASSERT(mbuf_setdata(m, start + 8, 16) == 0);
	ST_ASSERT(mbuf_leadingspace(m) == 8 && mbuf_len(m) == 16);
	ST_ASSERT(mbuf_trailingspace(m) == MHLEN - 24);
	ST_ASSERT(mbuf_setdata(m, start - 1, 4) == EINVAL);
	ST_ASSERT(mbuf_setdata(m, start + 8, MHLEN) == EINVAL);
	ST_ASSERT(mbuf_align_32(m, 20) == 0);
	ST_ASSERT(((uintptr_t)mbuf_data(m) & 3) == 0);
	ST_ASSERT((char *)mbuf_data(m) + 20 <= start + MHLEN);
	ST_ASSERT(start + MHLEN - (char *)mbuf_data(m) < 24);
	ST_ASSERT(mbuf_align_32(m, MHLEN + 1) == ENOTSUP);
	mbuf_setlen(m, 4);
	ST_ASSERT(mbuf_len(m) == 4);
	ST_ASSERT(mbuf_data_to_physical(start) == (uintptr_t)start);
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_data, test_data);

/* ---- Chains ---- */

static int
test_copydata(void)
{
	static const size_t lens[] = { 10, 200, 1500, 30 };
	uint8_t buf[64];
	mbuf_t m = st_chain(lens, 4);
	size_t off;

	ST_ASSERT(m != NULL && st_length(m) == 1740);
	for (off = 0; off + 64 <= 1740; off += 37) {
		ST_ASSERT(mbuf_copydata(m, off, 64, buf) == 0);
		ST_ASSERT(buf[0] == pat(off) && buf[63] == pat(off + 63));
	}
	ST_ASSERT(st_holds(m, 0, 1740, 0));
	ST_ASSERT(mbuf_copydata(m, 1700, 41, buf) == EINVAL);
	ST_ASSERT(mbuf_copydata(m, 1740, 0, buf) == 0);
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_copydata, test_copydata);

static int
test_copyback(void)
{
	static const size_t lens[] = { 10, 20, 30 };
	static const uint8_t zero[40];
	uint8_t bytes[600];
	mbuf_t m = st_chain(lens, 3), copy;
	size_t i;

	ST_ASSERT(m != NULL);
	/* Overwrite across both boundaries, in place. */
	for (i = 0; i < 40; i++)
		bytes[i] = pat(5 + i);
	ST_ASSERT(mbuf_copyback(m, 5, 40, bytes, W) == 0);
	ST_ASSERT(st_length(m) == 60 && st_holds(m, 0, 60, 0));
	/* Past the end: a 40-byte zero gap, then 600 bytes; header len too. */
	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = pat(100 + i);
	ST_ASSERT(mbuf_copyback(m, 100, sizeof(bytes), bytes, W) == 0);
	ST_ASSERT(st_length(m) == 700 && mbuf_pkthdr_len(m) == 700);
	ST_ASSERT(st_holds(m, 0, 60, 0) && st_holds(m, 100, 600, 100));
	ST_ASSERT(mbuf_copydata(m, 60, 40, bytes) == 0);
	ST_ASSERT(memcmp(bytes, zero, 40) == 0);
	mbuf_freem(m);
	/* A shared cluster is copied before it is written. */
	ST_ASSERT(mbuf_getpacket(W, &m) == 0);
	bzero(mbuf_data(m), 100);
	mbuf_setlen(m, 100);
	mbuf_pkthdr_setlen(m, 100);
	ST_ASSERT(mbuf_copym(m, 0, MBUF_COPYALL, W, &copy) == 0);
	ST_ASSERT(mbuf_mclhasreference(m) && mbuf_mclhasreference(copy));
	ST_ASSERT(mbuf_copyback(m, 0, 4, "abcd", W) == 0);
	ST_ASSERT(!mbuf_mclhasreference(m) && !mbuf_mclhasreference(copy));
	ST_ASSERT(memcmp(mbuf_data(m), "abcd", 4) == 0);
	ST_ASSERT(memcmp(mbuf_data(copy), zero, 4) == 0);
	mbuf_freem(m);
	mbuf_freem(copy);
	return 0;
}
MBUF_TEST(mbuf_copyback, test_copyback);

static int
test_pullup(void)
{
	static const size_t lens[] = { 10, 20, 30 };
	static const size_t big[] = { 100, 1000 };
	mbuf_t m = st_chain(lens, 3), first;

	ST_ASSERT(m != NULL);
	first = m;
	ST_ASSERT(mbuf_pullup(&m, 8) == 0 && m == first);	/* already */
	/* 40 bytes from three mbufs into the first, which has room. */
	ST_ASSERT(mbuf_pullup(&m, 40) == 0 && m == first);
	ST_ASSERT(mbuf_len(m) >= 40 && st_length(m) == 60);
	ST_ASSERT(mbuf_pkthdr_len(m) == 60 && st_holds(m, 0, 60, 0));
	/* Too much: the chain is freed and *m cleared (the leak check
	 * proves the freeing). */
	ST_ASSERT(mbuf_pullup(&m, 61) == ENOMEM && m == NULL);
	/* More than a header mbuf holds: a cluster in front. */
	m = st_chain(big, 2);
	ST_ASSERT(m != NULL && mbuf_pullup(&m, 500) == 0);
	ST_ASSERT(mbuf_len(m) >= 500 && (mbuf_flags(m) & MBUF_PKTHDR));
	ST_ASSERT(mbuf_pkthdr_len(m) == 1100 && st_holds(m, 0, 1100, 0));
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_pullup, test_pullup);

static int
test_prepend(void)
{
	static const size_t lens[] = { 20, 20 };
	mbuf_t m = st_chain(lens, 2), first;
	uint8_t *p;

	ST_ASSERT(m != NULL);
	first = m;
	/* Into the leading space: the same mbuf. */
	memmove((char *)mbuf_datastart(m) + 16, mbuf_data(m), 20);
	ST_ASSERT(mbuf_setdata(m, (char *)mbuf_datastart(m) + 16, 20) == 0);
	ST_ASSERT(mbuf_prepend(&m, 16, W) == 0 && m == first);
	ST_ASSERT(mbuf_len(m) == 36 && mbuf_pkthdr_len(m) == 56);
	ST_ASSERT(st_holds(m, 16, 40, 0));
	/* No room: a new first mbuf takes over the packet header. */
	ST_ASSERT(mbuf_prepend(&m, 14, D) == 0 && m != first);
	ST_ASSERT(mbuf_len(m) == 14 && mbuf_next(m) == first);
	ST_ASSERT((mbuf_flags(m) & MBUF_PKTHDR) &&
	    !(mbuf_flags(first) & MBUF_PKTHDR));
	ST_ASSERT(mbuf_pkthdr_len(m) == 70 && st_length(m) == 70);
	ST_ASSERT(mbuf_leadingspace(m) >= 64);	/* room for the next one */
	p = mbuf_data(m);
	p[0] = 0xee;
	ST_ASSERT(st_holds(m, 30, 40, 0));
	/* A failure frees the chain and clears *m. */
	st_fault(MBUF_FAULT_EVERY, 1);
	ST_ASSERT(mbuf_prepend(&m, 1000, D) == ENOMEM && m == NULL);
	return 0;
}
MBUF_TEST(mbuf_prepend, test_prepend);

/* Split a fresh chain at `off` and check both halves. */
static int
split_at(const size_t *lens, int n, size_t off)
{
	mbuf_t m = st_chain(lens, n), tail;
	size_t total = st_length(m);

	ST_ASSERT(m != NULL);
	ST_ASSERT(mbuf_split(m, off, W, &tail) == 0 && tail != NULL);
	ST_ASSERT(st_length(m) == off && mbuf_pkthdr_len(m) == off);
	ST_ASSERT(st_length(tail) == total - off);
	ST_ASSERT(mbuf_flags(tail) & MBUF_PKTHDR);
	ST_ASSERT(mbuf_pkthdr_len(tail) == total - off);
	ST_ASSERT(st_holds(m, 0, off, 0));
	ST_ASSERT(st_holds(tail, 0, total - off, off));
	mbuf_freem(m);
	mbuf_freem(tail);
	return 0;
}

static int
test_split(void)
{
	static const size_t lens[] = { 5, 7, 9 };
	static const size_t cl[] = { 40, 1000 };
	mbuf_t m, tail;
	size_t off;

	for (off = 0; off <= 21; off++)
		if (split_at(lens, 3, off) != 0) {
			printf("    (split at %u)\n", off);
			return 1;
		}
	/* Inside a cluster, the halves share it. */
	ST_ASSERT(split_at(cl, 2, 500) == 0);
	/* Failure or a bad offset leaves the chain intact. */
	m = st_chain(lens, 3);
	ST_ASSERT(m != NULL);
	ST_ASSERT(mbuf_split(m, 22, W, &tail) == EINVAL);
	st_fault(MBUF_FAULT_EVERY, 1);
	ST_ASSERT(mbuf_split(m, 8, D, &tail) == ENOMEM);
	ST_ASSERT(st_length(m) == 21 && st_count(m) == 3);
	ST_ASSERT(mbuf_pkthdr_len(m) == 21 && st_holds(m, 0, 21, 0));
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_split, test_split);

static int
test_adj(void)
{
	static const size_t lens[] = { 10, 20, 30 };
	mbuf_t m = st_chain(lens, 3);

	ST_ASSERT(m != NULL);
	mbuf_adj(m, 15);		/* the front, across a boundary */
	ST_ASSERT(st_length(m) == 45 && mbuf_pkthdr_len(m) == 45);
	ST_ASSERT(mbuf_len(m) == 0 && st_holds(m, 0, 45, 15));
	mbuf_adj(m, -35);		/* the tail, across a boundary */
	ST_ASSERT(st_length(m) == 10 && mbuf_pkthdr_len(m) == 10);
	ST_ASSERT(st_holds(m, 0, 10, 15) && st_count(m) == 2);
	mbuf_adj(m, -100);			/* more than there is */
	ST_ASSERT(st_length(m) == 0 && mbuf_pkthdr_len(m) == 0);
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_adj, test_adj);

static int
test_copym_dup(void)
{
	static const size_t lens[] = { 100, 1000, 50 };
	mbuf_tag_id_t id;
	mbuf_t m = st_chain(lens, 3), c;
	size_t len;
	void *tag;

	ST_ASSERT(m != NULL);
	ST_ASSERT(mbuf_tag_id_find("org.finch.selftest.copym", &id) == 0);
	ST_ASSERT(mbuf_tag_allocate(m, id, 1, 8, W, &tag) == 0);
	mbuf_pkthdr_setrcvif(m, (ifnet_t)0x1234);
	/* The whole packet: header without tags, the cluster shared. */
	ST_ASSERT(mbuf_copym(m, 0, MBUF_COPYALL, W, &c) == 0);
	ST_ASSERT((mbuf_flags(c) & MBUF_PKTHDR) && mbuf_pkthdr_len(c) == 1150);
	ST_ASSERT(mbuf_pkthdr_rcvif(c) == (ifnet_t)0x1234);
	ST_ASSERT(mbuf_tag_find(c, id, 1, &len, &tag) == ENOENT);
	ST_ASSERT(st_holds(c, 0, 1150, 0));
	ST_ASSERT(mbuf_mclhasreference(mbuf_next(m)));
	mbuf_freem(c);
	ST_ASSERT(!mbuf_mclhasreference(mbuf_next(m)));
	/* A middle piece: no header. */
	ST_ASSERT(mbuf_copym(m, 90, 1020, W, &c) == 0);
	ST_ASSERT(!(mbuf_flags(c) & MBUF_PKTHDR) && st_length(c) == 1020);
	ST_ASSERT(st_holds(c, 0, 1020, 90));
	mbuf_freem(c);
	ST_ASSERT(mbuf_copym(m, 1000, 151, W, &c) == EINVAL);
	st_fault(MBUF_FAULT_EVERY, 2);
	ST_ASSERT(mbuf_copym(m, 0, MBUF_COPYALL, D, &c) == ENOMEM);
	st_fault(MBUF_FAULT_OFF, 0);
	/* dup: private storage, header and tags. */
	ST_ASSERT(mbuf_dup(m, W, &c) == 0);
	ST_ASSERT(mbuf_pkthdr_len(c) == 1150 && st_holds(c, 0, 1150, 0));
	ST_ASSERT(mbuf_tag_find(c, id, 1, &len, &tag) == 0 && len == 8);
	for (; c != NULL; c = mbuf_free(c))
		ST_ASSERT(!mbuf_mclhasreference(c));
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_copym_dup, test_copym_dup);

static int
test_pulldown(void)
{
	static const size_t lens[] = { 10, 10, 30 };
	mbuf_t m = st_chain(lens, 3), where;
	size_t off;

	ST_ASSERT(m != NULL);
	off = 12;				/* already contiguous */
	ST_ASSERT(mbuf_pulldown(m, &off, 5, &where) == 0);
	ST_ASSERT(where == mbuf_next(m) && off == 2);
	off = 5;				/* spans all three */
	ST_ASSERT(mbuf_pulldown(m, &off, 20, &where) == 0);
	ST_ASSERT(off + 20 <= mbuf_len(where));
	ST_ASSERT(((uint8_t *)mbuf_data(where))[off] == pat(5));
	ST_ASSERT(((uint8_t *)mbuf_data(where))[off + 19] == pat(24));
	ST_ASSERT(st_length(m) == 50 && st_holds(m, 0, 50, 0));
	/* Past the end: the chain is freed. */
	off = 40;
	ST_ASSERT(mbuf_pulldown(m, &off, 11, &where) == ENOMEM);
	return 0;
}
MBUF_TEST(mbuf_pulldown, test_pulldown);

/* ---- Fields ---- */

static int
test_pkthdr(void)
{
	mbuf_csum_request_flags_t req;
	mbuf_csum_performed_flags_t perf;
	u_int32_t value;
	u_int16_t vlan;
	mbuf_t m, n;
	char hdr[14];

	ST_ASSERT(mbuf_gethdr(W, MBUF_TYPE_DATA, &m) == 0);
	mbuf_pkthdr_setlen(m, 100);
	mbuf_pkthdr_adjustlen(m, -30);
	ST_ASSERT(mbuf_pkthdr_len(m) == 70);
	ST_ASSERT(mbuf_pkthdr_setrcvif(m, (ifnet_t)0x1000) == 0);
	ST_ASSERT(mbuf_pkthdr_rcvif(m) == (ifnet_t)0x1000);
	mbuf_pkthdr_setheader(m, hdr);
	ST_ASSERT(mbuf_pkthdr_header(m) == hdr);
	/* Checksums requested (output) and performed (input). */
	ST_ASSERT(mbuf_set_csum_requested(m, MBUF_CSUM_REQ_UDP, 6) == 0);
	ST_ASSERT(mbuf_get_csum_requested(m, &req, &value) == 0);
	ST_ASSERT(req == MBUF_CSUM_REQ_UDP && value == 6);
	ST_ASSERT(mbuf_clear_csum_requested(m) == 0);
	ST_ASSERT(mbuf_get_csum_requested(m, &req, NULL) == 0 && req == 0);
	ST_ASSERT(mbuf_set_csum_performed(m, MBUF_CSUM_DID_IP |
	    MBUF_CSUM_IP_GOOD | MBUF_CSUM_DID_DATA, 0xbeef) == 0);
	ST_ASSERT(mbuf_get_csum_performed(m, &perf, &value) == 0);
	ST_ASSERT(perf == (MBUF_CSUM_DID_IP | MBUF_CSUM_IP_GOOD |
	    MBUF_CSUM_DID_DATA) && value == 0xbeef);
	mbuf_inbound_modified(m);
	ST_ASSERT(mbuf_get_csum_performed(m, &perf, &value) == 0);
	ST_ASSERT(perf == 0 && value == 0);
	/* VLAN tags. */
	ST_ASSERT(mbuf_get_vlan_tag(m, &vlan) == ENXIO);
	ST_ASSERT(mbuf_set_vlan_tag(m, 42) == 0);
	ST_ASSERT(mbuf_get_vlan_tag(m, &vlan) == 0 && vlan == 42);
	ST_ASSERT(mbuf_clear_vlan_tag(m) == 0);
	ST_ASSERT(mbuf_get_vlan_tag(m, &vlan) == ENXIO);
	/* Flags: the kernel's two cannot be changed. */
	ST_ASSERT(mbuf_setflags(m, MBUF_PKTHDR | MBUF_BCAST) == 0);
	ST_ASSERT(mbuf_flags(m) == (MBUF_PKTHDR | MBUF_BCAST));
	ST_ASSERT(mbuf_setflags(m, MBUF_BCAST) == EINVAL);
	ST_ASSERT(mbuf_setflags(m, MBUF_PKTHDR | MBUF_EXT) == EINVAL);
	ST_ASSERT(mbuf_setflags(m, MBUF_PKTHDR | 0x8000) == EINVAL);
	ST_ASSERT(mbuf_setflags_mask(m, MBUF_MCAST, MBUF_MCAST |
	    MBUF_BCAST) == 0);
	ST_ASSERT(mbuf_flags(m) == (MBUF_PKTHDR | MBUF_MCAST));
	/* A plain mbuf has no header to set or read. */
	ST_ASSERT(mbuf_get(W, MBUF_TYPE_DATA, &n) == 0);
	ST_ASSERT(mbuf_pkthdr_setrcvif(n, NULL) == EINVAL);
	ST_ASSERT(mbuf_pkthdr_len(n) == 0);
	ST_ASSERT(mbuf_set_vlan_tag(n, 1) == EINVAL);
	/* ... until it gets a copy of one. */
	ST_ASSERT(mbuf_copy_pkthdr(n, m) == 0);
	ST_ASSERT(mbuf_flags(n) == (MBUF_PKTHDR | MBUF_MCAST));
	ST_ASSERT(mbuf_pkthdr_len(n) == 70);
	ST_ASSERT(mbuf_pkthdr_rcvif(n) == (ifnet_t)0x1000);
	mbuf_freem(n);
	ST_ASSERT(mbuf_get(W, MBUF_TYPE_DATA, &n) == 0);
	ST_ASSERT(mbuf_copy_pkthdr(m, n) == EINVAL);	/* no header to copy */
	mbuf_setlen(n, 1);
	ST_ASSERT(mbuf_copy_pkthdr(n, m) == EINVAL);	/* would hide data */
	mbuf_freem(n);
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_pkthdr, test_pkthdr);

static int
test_tags(void)
{
	mbuf_tag_id_t a, b, again;
	void *data, *found;
	char longname[300];
	mbuf_t m, n;
	size_t len;

	ST_ASSERT(mbuf_tag_id_find("org.finch.selftest.a", &a) == 0);
	ST_ASSERT(mbuf_tag_id_find("org.finch.selftest.b", &b) == 0);
	ST_ASSERT(mbuf_tag_id_find("org.finch.selftest.a", &again) == 0);
	ST_ASSERT(a != b && a == again && a != KERNEL_MODULE_TAG_ID);
	ST_ASSERT(mbuf_tag_id_find("", &again) == EINVAL);
	ST_ASSERT(mbuf_tag_id_find(NULL, &again) == EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ST_ASSERT(mbuf_tag_id_find(longname, &again) == EINVAL);

	ST_ASSERT(mbuf_gethdr(W, MBUF_TYPE_DATA, &m) == 0);
	ST_ASSERT(mbuf_tag_allocate(m, a, 7, 12, W, &data) == 0);
	memcpy(data, "seen it!", 9);
	ST_ASSERT(mbuf_tag_allocate(m, a, 7, 12, W, &data) == EEXIST);
	ST_ASSERT(mbuf_tag_allocate(m, a, 8, 0, W, &data) == EINVAL);
	ST_ASSERT(mbuf_tag_allocate(m, 0xdead, 7, 4, W, &data) == EINVAL);
	ST_ASSERT(mbuf_tag_allocate(m, b, 7, 4, W, &data) == 0);
	ST_ASSERT(mbuf_tag_find(m, a, 7, &len, &found) == 0);
	ST_ASSERT(len == 12 && strcmp(found, "seen it!") == 0);
	ST_ASSERT(mbuf_tag_find(m, a, 8, &len, &found) == ENOENT);
	mbuf_tag_free(m, b, 7);
	ST_ASSERT(mbuf_tag_find(m, b, 7, &len, &found) == ENOENT);
	ST_ASSERT(mbuf_tag_find(m, a, 7, &len, &found) == 0);
	/* Only on packet headers. */
	ST_ASSERT(mbuf_get(W, MBUF_TYPE_DATA, &n) == 0);
	ST_ASSERT(mbuf_tag_allocate(n, a, 7, 4, W, &data) == EINVAL);
	/* Copied with the header; a failed copy leaves none. */
	ST_ASSERT(mbuf_copy_pkthdr(n, m) == 0);
	ST_ASSERT(mbuf_tag_find(n, a, 7, &len, &found) == 0 && found != data);
	st_fault(MBUF_FAULT_EVERY, 1);
	ST_ASSERT(mbuf_tag_allocate(m, a, 9, 4, D, &data) == ENOMEM);
	ST_ASSERT(mbuf_copy_pkthdr(n, m) == ENOMEM);
	ST_ASSERT(mbuf_tag_find(n, a, 7, &len, &found) == ENOENT);
	st_fault(MBUF_FAULT_OFF, 0);
	/* Freed with the mbuf: the leak check counts tags. */
	mbuf_freem(n);
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_tags, test_tags);

/* ---- Fault injection ---- */

static int
test_fault(void)
{
	struct mbuf_fault kernel_only =
	    { MBUF_FAULT_EVERY, 1, MBUF_OWNER_KERNEL };
	struct mbuf_stat before, after;
	mbuf_t m[4];
	int i;

	mbuf_stats(&before);
	st_fault(MBUF_FAULT_EVERY, 2);
	ST_ASSERT(mbuf_get(D, MBUF_TYPE_DATA, &m[0]) == 0);
	ST_ASSERT(mbuf_get(D, MBUF_TYPE_DATA, &m[1]) == ENOMEM);
	ST_ASSERT(mbuf_get(D, MBUF_TYPE_DATA, &m[1]) == 0);
	ST_ASSERT(mbuf_get(D, MBUF_TYPE_DATA, &m[2]) == ENOMEM);
	for (i = 2; i < 4; i++)		/* WAITOK is never refused */
		ST_ASSERT(mbuf_get(W, MBUF_TYPE_DATA, &m[i]) == 0);
	mbuf_stats(&after);
	ST_ASSERT(after.drops >= before.drops + 2);
	for (i = 0; i < 4; i++)
		mbuf_free(m[i]);
	/* A rate of 1000 per mille refuses every DONTWAIT allocation. */
	st_fault(MBUF_FAULT_RATE, MBUF_FAULT_PPM);
	for (i = 0; i < 10; i++)
		ST_ASSERT(mbuf_getpacket(D, &m[0]) == ENOMEM);
	ST_ASSERT(mbuf_getpacket(W, &m[0]) == 0);
	mbuf_freem(m[0]);
	/* Injection aimed at another owner spares us. */
	mbuf_fault_set(&kernel_only);
	ST_ASSERT(mbuf_get(D, MBUF_TYPE_DATA, &m[0]) == 0);
	mbuf_free(m[0]);
	return 0;
}
MBUF_TEST(mbuf_fault, test_fault);

/* `mbuf fail rate` takes per mille with decimals, or percent. */
static int
test_fault_rate(void)
{
	uint32_t ppm;

	ST_ASSERT(mbuf_fault_parse_rate("200", &ppm) == 0 && ppm == 200000);
	ST_ASSERT(mbuf_fault_parse_rate("0.5", &ppm) == 0 && ppm == 500);
	ST_ASSERT(mbuf_fault_parse_rate("0.125", &ppm) == 0 && ppm == 125);
	ST_ASSERT(mbuf_fault_parse_rate("1000", &ppm) == 0 &&
	    ppm == MBUF_FAULT_PPM);
	ST_ASSERT(mbuf_fault_parse_rate("5%", &ppm) == 0 && ppm == 50000);
	ST_ASSERT(mbuf_fault_parse_rate("0.5%", &ppm) == 0 && ppm == 5000);
	ST_ASSERT(mbuf_fault_parse_rate("100%", &ppm) == 0 &&
	    ppm == MBUF_FAULT_PPM);
	ST_ASSERT(mbuf_fault_parse_rate("0", &ppm) == EINVAL);
	ST_ASSERT(mbuf_fault_parse_rate("1001", &ppm) == EINVAL);
	ST_ASSERT(mbuf_fault_parse_rate("101%", &ppm) == EINVAL);
	ST_ASSERT(mbuf_fault_parse_rate("0.0001", &ppm) == EINVAL);
	ST_ASSERT(mbuf_fault_parse_rate(".5", &ppm) == EINVAL);
	ST_ASSERT(mbuf_fault_parse_rate("5x", &ppm) == EINVAL);
	ST_ASSERT(mbuf_fault_parse_rate("", &ppm) == EINVAL);
	ST_ASSERT(mbuf_fault_parse_rate("99999999999", &ppm) == EINVAL);
	return 0;
}
MBUF_TEST(mbuf_fault_rate, test_fault_rate);

/* ---- Checksums ---- */

/* The Internet checksum of a flat buffer, the simple way. */
static uint16_t
st_cksum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i < len; i++)
		sum += i & 1 ? p[i] : p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/*
 * An Ethernet + IPv4 + UDP frame spread over three mbufs, with the IP
 * and UDP checksums left to mbuf_outbound_finalize: both must then
 * check out.
 */
static int
test_finalize(void)
{
	static const size_t lens[] = { 14, 17, 69 };	/* 100 bytes */
	mbuf_csum_request_flags_t req;
	uint8_t f[100];
	uint32_t pseudo;
	mbuf_t m = st_chain(lens, 3);

	ST_ASSERT(m != NULL);
	ST_ASSERT(mbuf_copydata(m, 0, 100, f) == 0);
	f[14] = 0x45;				/* IPv4, 20-byte header */
	f[16] = 0;
	f[17] = 86;				/* total length */
	f[23] = 17;				/* UDP */
	f[24] = f[25] = 0x55;			/* junk where the sum goes */
	f[38] = 0;
	f[39] = 66;				/* UDP length */
	pseudo = (f[26] << 8 | f[27]) + (f[28] << 8 | f[29]) +
	    (f[30] << 8 | f[31]) + (f[32] << 8 | f[33]) + 17 + 66;
	pseudo = (pseudo & 0xffff) + (pseudo >> 16);
	f[40] = pseudo >> 8;			/* the stack's part */
	f[41] = pseudo & 0xff;
	ST_ASSERT(mbuf_copyback(m, 0, 100, f, W) == 0);
	ST_ASSERT(mbuf_set_csum_requested(m, MBUF_CSUM_REQ_IP |
	    MBUF_CSUM_REQ_UDP, 6) == 0);
	mbuf_outbound_finalize(m, 2 /* PF_INET */, 14);
	ST_ASSERT(mbuf_copydata(m, 0, 100, f) == 0);
	/* What a receiver checks: each sums to all ones. */
	ST_ASSERT(st_cksum(f + 14, 20, 0) == 0);
	ST_ASSERT(st_cksum(f + 34, 66, pseudo) == 0);
	ST_ASSERT(mbuf_get_csum_requested(m, &req, NULL) == 0 && req == 0);
	mbuf_freem(m);
	return 0;
}
MBUF_TEST(mbuf_finalize, test_finalize);
