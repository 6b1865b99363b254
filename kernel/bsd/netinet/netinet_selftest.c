/*
 * Unit tests of IPv4's pure logic (`selftest netinet`): checksum vectors,
 * address parsing, ip_input's header checks, reassembly (in and out of
 * order, duplicates, overlap, oversize, limits, timeout, stale datagrams)
 * and the ARP cache (resolve, the hold queue, retries, expiry, eviction),
 * each on its own table.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/kalloc.h>
#include <kern/selftest.h>
#include <net/if_types.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_arp_var.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/ip_var.h>

/* ---- Helpers ---- */

static struct in_addr
ip4(u_int8_t a, u_int8_t b, u_int8_t c, u_int8_t d)
{
	struct in_addr x;

	x.s_addr = htonl((u_int32_t)a << 24 | (u_int32_t)b << 16 |
	    (u_int32_t)c << 8 | d);
	return x;
}

/* Byte i of a datagram's payload in these tests. */
static u_char
pat(size_t i)
{
	return (u_char)(i * 13 + 5);
}

/* A packet of len bytes (a chain of pieces of the given sizes when
 * pieces is not NULL), each byte from buf. */
static mbuf_t
st_packet(const u_char *buf, size_t len, const size_t *pieces, int npieces)
{
	mbuf_t head = NULL, tail = NULL, m;
	size_t off = 0, n;
	int i;

	for (i = 0; off < len || i == 0; i++) {
		n = pieces != NULL && i < npieces ? pieces[i] : len - off;
		if (n > 200)
			n = 200;
		if ((i == 0 ? mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &m) :
		    mbuf_get(MBUF_WAITOK, MBUF_TYPE_DATA, &m)) != 0) {
			mbuf_freem(head);
			return NULL;
		}
		memcpy(mbuf_data(m), buf + off, n);
		mbuf_setlen(m, n);
		if (tail != NULL)
			mbuf_setnext(tail, m);
		else
			head = m;
		tail = m;
		off += n;
	}
	mbuf_pkthdr_setlen(head, len);
	return head;
}

/* A fragment: a 20-byte header (id, offset in bytes, more fragments)
 * from src to 10.0.0.2, then len bytes of pat() from off. */
static mbuf_t
st_fragment_from(struct in_addr src, u_int16_t id, size_t off, size_t len,
    bool mf)
{
	static u_char buf[1600];
	struct ip *ip = (struct ip *)buf;
	size_t i;

	bzero(ip, sizeof(*ip));
	ip->ip_v = IPVERSION;
	ip->ip_hl = 5;
	ip->ip_len = htons((u_int16_t)(sizeof(*ip) + len));
	ip->ip_id = htons(id);
	ip->ip_off = htons((u_int16_t)((off >> 3) | (mf ? IP_MF : 0)));
	ip->ip_ttl = 64;
	ip->ip_p = IPPROTO_UDP;
	ip->ip_src = src;
	ip->ip_dst = ip4(10, 0, 0, 2);
	ip->ip_sum = in_cksum_buf(ip, sizeof(*ip));
	for (i = 0; i < len; i++)
		buf[sizeof(*ip) + i] = pat(off + i);
	return st_packet(buf, sizeof(*ip) + len, NULL, 0);
}

/* The same from 10.0.0.1. */
static mbuf_t
st_fragment(u_int16_t id, size_t off, size_t len, bool mf)
{
	return st_fragment_from(ip4(10, 0, 0, 1), id, off, len, mf);
}

/* Does the datagram m hold exactly total bytes of pat() after its header? */
static bool
st_holds(mbuf_t m, size_t total)
{
	u_char b;
	size_t i;

	if (mbuf_pkthdr_len(m) != sizeof(struct ip) + total)
		return false;
	for (i = 0; i < total; i++)
		if (mbuf_copydata(m, sizeof(struct ip) + i, 1, &b) != 0 ||
		    b != pat(i))
			return false;
	return true;
}

static int
st_free_list(mbuf_t *list)
{
	int n = mbuf_freem_list(*list);

	*list = NULL;
	return n;
}

/* ---- Checksums ---- */

static int
test_cksum_vectors(void)
{
	/* RFC 1071 section 3: the sum is ddf2, the checksum 220d. */
	static const u_char rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
	    0xf6, 0xf7 };
	/* A real IPv4 header; its checksum b861 is in bytes 10 and 11. */
	static u_char hdr[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
	    0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
	    0x00, 0xc7 };
	static const u_char odd[] = { 0x01, 0x02, 0x03 };

	ST_ASSERT(ntohs(in_cksum_buf(rfc, sizeof(rfc))) == 0x220d);
	ST_ASSERT(in_cksum_buf(hdr, sizeof(hdr)) == 0);
	hdr[10] = hdr[11] = 0;
	ST_ASSERT(ntohs(in_cksum_buf(hdr, sizeof(hdr))) == 0xb861);
	hdr[10] = 0xb8;
	hdr[11] = 0x61;
	/* An odd length pads with a zero byte: 0102 + 0300 = 0402. */
	ST_ASSERT(ntohs(in_cksum_buf(odd, sizeof(odd))) == (u_int16_t)~0x0402);
	ST_ASSERT(ntohs(in_cksum_buf(NULL, 0)) == 0xffff);
	return 0;
}
SELFTEST(netinet_cksum_vectors, test_cksum_vectors);

/* The plain RFC 1071 loop, 16 bits at a time: the reference for the
 * fast in_cksum_buf. */
static u_int16_t
ref_cksum(const u_char *p, size_t len)
{
	u_int32_t sum = 0;

	for (; len >= 2; p += 2, len -= 2)
		sum += p[0] | (p[1] << 8);	/* memory order on the i386 */
	if (len == 1)
		sum += p[0];
	while (sum >> 16)
		sum = (sum >> 16) + (sum & 0xffff);
	return (u_int16_t)~sum;
}

/* Every start (odd ones too) and every length up to 70, over data that
 * makes many carries, sums as the 16-bit reference does. */
static int
test_cksum_fast_vs_ref(void)
{
	static u_char buf[80];
	size_t i, off, len;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u_char)(0xff - (i * 13 & 0x1f));
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 70; len++)
			ST_ASSERT(in_cksum_buf(buf + off, len) ==
			    ref_cksum(buf + off, len));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = 0xff;			/* all carries */
	ST_ASSERT(in_cksum_buf(buf, 63) == ref_cksum(buf, 63));
	return 0;
}
SELFTEST(netinet_cksum_fast_vs_ref, test_cksum_fast_vs_ref);

/* Changing one word and adjusting (RFC 1624) gives the checksum a full
 * recomputation gives, including the ICMP echo's type 8 -> 0. */
static int
test_cksum_adjust(void)
{
	u_char msg[] = { 0x08, 0x00, 0x00, 0x00, 0x46, 0x49, 0x00, 0x01,
	    0xde, 0xad, 0xbe, 0xef, 0x01 };
	u_int16_t ck, oldw, neww;
	int t;

	for (t = 0; t < 3; t++) {
		msg[2] = msg[3] = 0;
		ck = in_cksum_buf(msg, sizeof(msg));
		memcpy(&msg[2], &ck, 2);
		memcpy(&oldw, &msg[0], 2);
		msg[0] = (u_char)(t == 0 ? 0x00 : t == 1 ? 0xff : 0x08);
		msg[1] = (u_char)(t == 1 ? 0xff : 0x00);
		memcpy(&neww, &msg[0], 2);
		ck = in_cksum_adjust(ck, oldw, neww);
		memcpy(&msg[2], &ck, 2);
		ST_ASSERT(in_cksum_buf(msg, sizeof(msg)) == 0);
	}
	return 0;
}
SELFTEST(netinet_cksum_adjust, test_cksum_adjust);

/* The chain's checksum, split anywhere, equals the flat buffer's. */
static int
test_cksum_mbuf_splits(void)
{
	static const size_t splits[][4] = {
		{ 1, 1, 1, 200 }, { 3, 5, 7, 200 }, { 2, 4, 6, 200 },
		{ 199, 1, 3, 200 }, { 200, 200, 200, 200 },
	};
	static u_char buf[601];
	size_t i, s, off, len;
	mbuf_t m;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = pat(i * 7);
	for (s = 0; s < sizeof(splits) / sizeof(splits[0]); s++) {
		m = st_packet(buf, sizeof(buf), splits[s], 4);
		ST_ASSERT(m != NULL);
		for (off = 0; off < 9; off++)
			for (len = 0; len + off <= sizeof(buf); len += 37)
				ST_ASSERT(in_cksum_mbuf(m, off, len, 0) ==
				    in_cksum_buf(buf + off, len));
		ST_ASSERT(in_cksum(m, sizeof(buf)) ==
		    in_cksum_buf(buf, sizeof(buf)));
		mbuf_freem(m);
	}
	return 0;
}
SELFTEST(netinet_cksum_mbuf_splits, test_cksum_mbuf_splits);

/* A datagram with its UDP checksum filled in checks to 0 with the
 * pseudo header, and not with another source address. */
static int
test_cksum_pseudo(void)
{
	static u_char udp[12] = { 0x30, 0x39, 0x00, 0x07, 0x00, 0x0c, 0, 0,
	    'p', 'i', 'n', 'g' };
	struct in_addr src = ip4(10, 0, 2, 2), dst = ip4(10, 0, 2, 15);
	u_int32_t ph = in_pseudo(src.s_addr, dst.s_addr,
	    htons(sizeof(udp) + IPPROTO_UDP));
	u_int16_t sum;

	sum = (u_int16_t)~in_cksum_partial(udp, sizeof(udp), ph);
	memcpy(&udp[6], &sum, 2);
	ST_ASSERT((u_int16_t)~in_cksum_partial(udp, sizeof(udp), ph) == 0);
	ph = in_pseudo(ip4(10, 0, 2, 3).s_addr, dst.s_addr,
	    htons(sizeof(udp) + IPPROTO_UDP));
	ST_ASSERT((u_int16_t)~in_cksum_partial(udp, sizeof(udp), ph) != 0);
	return 0;
}
SELFTEST(netinet_cksum_pseudo, test_cksum_pseudo);

/* ---- Addresses ---- */

static int
test_addr_parsing(void)
{
	struct in_addr a;

	ST_ASSERT(inet_aton("10.0.2.15", &a) && a.s_addr == ip4(10, 0, 2, 15).s_addr);
	ST_ASSERT(inet_aton("255.255.255.255", &a));
	ST_ASSERT(!inet_aton("256.0.0.1", &a));
	ST_ASSERT(!inet_aton("1.2.3", &a));
	ST_ASSERT(!inet_aton("1.2.3.4.5", &a));
	ST_ASSERT(!inet_aton("1..2.3", &a));
	ST_ASSERT(!inet_aton("0001.2.3.4", &a));
	ST_ASSERT(!inet_aton("", &a));
	ST_ASSERT(in_mask_len(ip4(255, 255, 255, 0)) == 24);
	ST_ASSERT(in_mask_len(ip4(0, 0, 0, 0)) == 0);
	ST_ASSERT(in_mask_len(ip4(255, 255, 255, 255)) == 32);
	ST_ASSERT(in_mask_len(ip4(255, 0, 255, 0)) == -1);
	ST_ASSERT(in_len_mask(20).s_addr == ip4(255, 255, 240, 0).s_addr);
	ST_ASSERT(in_len_mask(0).s_addr == 0);
	return 0;
}
SELFTEST(netinet_addr_parsing, test_addr_parsing);

/* ---- Header checks ---- */

/* A 20-byte header (no rcvif: not lo0) with one change, through ip_check. */
enum hdr_fault { HF_NONE, HF_VERS, HF_HLEN_SMALL, HF_HLEN_BIG, HF_SUM,
	HF_LEN_SMALL, HF_LEN_BIG, HF_SRC_MCAST, HF_DST_LOOP };

static volatile u_int32_t *
st_check(enum hdr_fault fault)
{
	u_char buf[40];
	struct ip *ip = (struct ip *)buf;
	volatile u_int32_t *reason;
	mbuf_t m;

	bzero(buf, sizeof(buf));
	ip->ip_v = fault == HF_VERS ? 6 : IPVERSION;
	ip->ip_hl = fault == HF_HLEN_SMALL ? 4 : fault == HF_HLEN_BIG ? 15 : 5;
	ip->ip_len = htons(fault == HF_LEN_SMALL ? 19 :
	    fault == HF_LEN_BIG ? 41 : 40);
	ip->ip_ttl = 64;
	ip->ip_p = IPPROTO_UDP;
	ip->ip_src = fault == HF_SRC_MCAST ? ip4(224, 0, 0, 1) : ip4(10, 0, 2, 2);
	ip->ip_dst = fault == HF_DST_LOOP ? ip4(127, 0, 0, 1) : ip4(10, 0, 2, 15);
	ip->ip_sum = in_cksum_buf(ip, ip->ip_hl << 2);
	if (fault == HF_SUM)
		ip->ip_sum ^= 0x0100;
	m = st_packet(buf, sizeof(buf), NULL, 0);
	if (m == NULL)
		return NULL;
	reason = ip_check(m);
	mbuf_freem(m);
	return reason;
}

static int
test_ip_header_checks(void)
{
	ST_ASSERT(st_check(HF_NONE) == NULL);
	ST_ASSERT(st_check(HF_VERS) == &ipstat.ips_badvers);
	ST_ASSERT(st_check(HF_HLEN_SMALL) == &ipstat.ips_badhlen);
	ST_ASSERT(st_check(HF_HLEN_BIG) == &ipstat.ips_badhlen);
	ST_ASSERT(st_check(HF_SUM) == &ipstat.ips_badsum);
	ST_ASSERT(st_check(HF_LEN_SMALL) == &ipstat.ips_badlen);
	ST_ASSERT(st_check(HF_LEN_BIG) == &ipstat.ips_truncated);
	ST_ASSERT(st_check(HF_SRC_MCAST) == &ipstat.ips_badaddr);
	ST_ASSERT(st_check(HF_DST_LOOP) == &ipstat.ips_badaddr);
	return 0;
}
SELFTEST(netinet_ip_header_checks, test_ip_header_checks);

/* ---- Reassembly ---- */

static struct ipq_table *
st_ipq_table(void)
{
	struct ipq_table *t = kalloc(sizeof(*t));

	if (t != NULL)
		ip_reass_init(t);
	return t;
}

static void
st_ipq_done(struct ipq_table *t)
{
	mbuf_t freelist = NULL;

	ip_reass_flush(t, &freelist);
	mbuf_freem_list(freelist);
	kfree(t, sizeof(*t));
}

/* Feed fragments (offset, length, more) in the order given; the last
 * one must complete a datagram of `total` bytes. */
struct st_frag { size_t off, len; bool mf; };

static int
st_reassemble(const struct st_frag *frags, int n, size_t total)
{
	struct ipq_table *t = st_ipq_table();
	mbuf_t m = NULL, freelist = NULL;
	struct ip *ip;
	int i;

	ST_ASSERT(t != NULL);
	for (i = 0; i < n; i++) {
		ST_ASSERT(m == NULL);
		m = ip_reass(t, st_fragment(7, frags[i].off, frags[i].len,
		    frags[i].mf), 1000, &freelist);
	}
	ST_ASSERT(m != NULL && freelist == NULL);
	ST_ASSERT(st_holds(m, total));
	ip = mbuf_data(m);
	ST_ASSERT(ntohs(ip->ip_len) == sizeof(*ip) + total && ip->ip_off == 0);
	ST_ASSERT(in_cksum_buf(ip, sizeof(*ip)) == 0);
	ST_ASSERT(ip_reass_count(t) == 0);
	mbuf_freem(m);
	st_ipq_done(t);
	return 0;
}

static int
test_reass_in_order(void)
{
	static const struct st_frag f[] = {
		{ 0, 1480, true }, { 1480, 1480, true }, { 2960, 1000, false },
	};

	return st_reassemble(f, 3, 3960);
}
SELFTEST(netinet_reass_in_order, test_reass_in_order);

static int
test_reass_out_of_order(void)
{
	static const struct st_frag f[] = {
		{ 2960, 1001, false }, { 0, 1480, true }, { 1480, 1480, true },
	};
	static const struct st_frag g[] = {
		{ 8, 8, true }, { 24, 3, false }, { 0, 8, true }, { 16, 8, true },
	};

	if (st_reassemble(f, 3, 3961) != 0)
		return 1;
	return st_reassemble(g, 4, 27);
}
SELFTEST(netinet_reass_out_of_order, test_reass_out_of_order);

/* An exact copy is dropped alone; the datagram still completes. */
static int
test_reass_duplicate(void)
{
	struct ipq_table *t = st_ipq_table();
	u_int32_t dups = ipstat.ips_frag_dup;
	mbuf_t m, freelist = NULL;

	ST_ASSERT(t != NULL);
	ST_ASSERT(ip_reass(t, st_fragment(9, 0, 16, true), 0, &freelist) == NULL);
	ST_ASSERT(ip_reass(t, st_fragment(9, 0, 16, true), 0, &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 1 && ipstat.ips_frag_dup == dups + 1);
	m = ip_reass(t, st_fragment(9, 16, 5, false), 0, &freelist);
	ST_ASSERT(m != NULL && st_holds(m, 21));
	mbuf_freem(m);
	st_ipq_done(t);
	return 0;
}
SELFTEST(netinet_reass_duplicate, test_reass_duplicate);

/* A partial overlap condemns the whole datagram, both ways round. */
static int
test_reass_overlap(void)
{
	struct ipq_table *t = st_ipq_table();
	u_int32_t before = ipstat.ips_frag_overlap;
	mbuf_t freelist = NULL;

	ST_ASSERT(t != NULL);
	ST_ASSERT(ip_reass(t, st_fragment(1, 0, 16, true), 0, &freelist) == NULL);
	ST_ASSERT(ip_reass(t, st_fragment(1, 8, 16, true), 0, &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 2 && ip_reass_count(t) == 0);
	ST_ASSERT(ip_reass(t, st_fragment(2, 8, 16, true), 0, &freelist) == NULL);
	ST_ASSERT(ip_reass(t, st_fragment(2, 0, 16, true), 0, &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 2 && ip_reass_count(t) == 0);
	/* Data beyond the end a last fragment set. */
	ST_ASSERT(ip_reass(t, st_fragment(3, 16, 16, true), 0, &freelist) == NULL);
	ST_ASSERT(ip_reass(t, st_fragment(3, 0, 8, false), 0, &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 2 && ip_reass_count(t) == 0);
	ST_ASSERT(ipstat.ips_frag_overlap == before + 6);
	st_ipq_done(t);
	return 0;
}
SELFTEST(netinet_reass_overlap, test_reass_overlap);

/* Past 65535 bytes (the "ping of death"), or a bad length. */
static int
test_reass_oversize_and_badlen(void)
{
	struct ipq_table *t = st_ipq_table();
	u_int32_t big = ipstat.ips_frag_oversize, bad = ipstat.ips_frag_badlen;
	mbuf_t freelist = NULL;

	ST_ASSERT(t != NULL);
	ST_ASSERT(ip_reass(t, st_fragment(4, 0, 8, true), 0, &freelist) == NULL);
	ST_ASSERT(ip_reass(t, st_fragment(4, 65512, 100, false), 0,
	    &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 2 && ip_reass_count(t) == 0);
	ST_ASSERT(ipstat.ips_frag_oversize == big + 2);
	ST_ASSERT(ip_reass(t, st_fragment(5, 0, 12, true), 0, &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 1 && ipstat.ips_frag_badlen == bad + 1);
	st_ipq_done(t);
	return 0;
}
SELFTEST(netinet_reass_oversize_and_badlen, test_reass_oversize_and_badlen);

/* The 65th fragment of one datagram drops it all. */
static int
test_reass_too_many(void)
{
	struct ipq_table *t = st_ipq_table();
	u_int32_t before = ipstat.ips_frag_toomany;
	mbuf_t freelist = NULL;
	int i;

	ST_ASSERT(t != NULL);
	for (i = 0; i <= IPQ_MAXFRAGS; i++)
		ST_ASSERT(ip_reass(t, st_fragment(6, (size_t)i * 16, 8, true),
		    0, &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == IPQ_MAXFRAGS + 1);
	ST_ASSERT(ipstat.ips_frag_toomany == before + IPQ_MAXFRAGS + 1);
	ST_ASSERT(ip_reass_count(t) == 0);
	st_ipq_done(t);
	return 0;
}
SELFTEST(netinet_reass_too_many, test_reass_too_many);

/* A datagram more than the table holds evicts the oldest. */
static int
test_reass_table_full(void)
{
	struct ipq_table *t = st_ipq_table();
	u_int32_t before = ipstat.ips_reass_full;
	mbuf_t freelist = NULL;
	int i;

	ST_ASSERT(t != NULL);
	for (i = 0; i <= IPQ_MAXDGRAMS; i++)
		ST_ASSERT(ip_reass(t, st_fragment((u_int16_t)(100 + i), 0, 8,
		    true), (u_int64_t)i, &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 1);
	ST_ASSERT(ipstat.ips_reass_full == before + 1);
	ST_ASSERT(ip_reass_count(t) == IPQ_MAXDGRAMS);
	st_ipq_done(t);
	return 0;
}
SELFTEST(netinet_reass_table_full, test_reass_table_full);

/* 30 s after its first fragment, an incomplete datagram is dropped. */
static int
test_reass_timeout(void)
{
	struct ipq_table *t = st_ipq_table();
	u_int32_t before = ipstat.ips_reass_timeout;
	mbuf_t freelist = NULL;

	ST_ASSERT(t != NULL);
	ST_ASSERT(ip_reass(t, st_fragment(8, 0, 8, true), 5000, &freelist) == NULL);
	ST_ASSERT(ip_reass(t, st_fragment(8, 16, 8, false), 20000,
	    &freelist) == NULL);
	ip_reass_expire(t, 5000 + IPQ_TIMEOUT_MS - 1, &freelist);
	ST_ASSERT(freelist == NULL && ip_reass_count(t) == 1);
	ip_reass_expire(t, 5000 + IPQ_TIMEOUT_MS, &freelist);
	ST_ASSERT(st_free_list(&freelist) == 2 && ip_reass_count(t) == 0);
	ST_ASSERT(ipstat.ips_reass_timeout == before + 2);
	st_ipq_done(t);
	return 0;
}
SELFTEST(netinet_reass_timeout, test_reass_timeout);

/* n whole datagrams of two fragments from src, ids from id up: each
 * must complete.  0 or 1, as ST_ASSERT returns. */
static int
st_reass_others(struct ipq_table *t, struct in_addr src, u_int16_t id,
    int n)
{
	mbuf_t m, freelist = NULL;
	int i;

	for (i = 0; i < n; i++) {
		ST_ASSERT(ip_reass(t, st_fragment_from(src, (u_int16_t)(id + i),
		    0, 8, true), 0, &freelist) == NULL);
		m = ip_reass(t, st_fragment_from(src, (u_int16_t)(id + i), 8,
		    8, false), 0, &freelist);
		ST_ASSERT(m != NULL && freelist == NULL);
		mbuf_freem(m);
	}
	return 0;
}

/*
 * RFC 4963: a datagram whose source sent more than IPQ_MAXDIST fragments
 * of others since it last grew is dropped, before its id comes round and
 * a new datagram's fragments join it.  Fragments from another source do
 * not age it; growing starts it over.
 */
static int
test_reass_stale(void)
{
	struct ipq_table *t = st_ipq_table();
	struct in_addr a = ip4(10, 0, 0, 1), b = ip4(10, 0, 0, 3);
	u_int32_t before = ipstat.ips_reass_stale;
	mbuf_t m, freelist = NULL;

	ST_ASSERT(t != NULL);
	/* Id 1 waits for its last fragment, which was lost. */
	ST_ASSERT(ip_reass(t, st_fragment_from(a, 1, 0, 16, true), 0,
	    &freelist) == NULL);
	/* Another source's fragments do not age it. */
	ST_ASSERT(st_reass_others(t, b, 1000, IPQ_MAXDIST) == 0);
	/* Its own source's do, but it outlives IPQ_MAXDIST of them (two a
	 * datagram); then it grows, which starts it over. */
	ST_ASSERT(st_reass_others(t, a, 2000, IPQ_MAXDIST / 2) == 0);
	ST_ASSERT(ip_reass(t, st_fragment_from(a, 1, 16, 8, true), 0,
	    &freelist) == NULL);
	ST_ASSERT(st_reass_others(t, a, 3000, IPQ_MAXDIST / 2) == 0);
	ST_ASSERT(ip_reass_count(t) == 1 && ipstat.ips_reass_stale == before);
	/* One more from its source, and both its fragments go. */
	ST_ASSERT(ip_reass(t, st_fragment_from(a, 5000, 0, 8, true), 0,
	    &freelist) == NULL);
	ST_ASSERT(st_free_list(&freelist) == 2);
	ST_ASSERT(ipstat.ips_reass_stale == before + 2);
	ST_ASSERT(ip_reass_count(t) == 1);	/* id 5000 waits */
	/* Id 1 comes round, cut another way: whole (with the old fragments
	 * it would have been a duplicate, then an overlap). */
	ST_ASSERT(ip_reass(t, st_fragment_from(a, 1, 0, 16, true), 0,
	    &freelist) == NULL);
	m = ip_reass(t, st_fragment_from(a, 1, 16, 24, false), 0, &freelist);
	ST_ASSERT(m != NULL && freelist == NULL && st_holds(m, 40));
	mbuf_freem(m);
	st_ipq_done(t);
	return 0;
}
SELFTEST(netinet_reass_stale, test_reass_stale);

/* ---- The ARP cache ---- */

static errno_t
st_if_output(ifnet_t ifp, mbuf_t m)
{
	mbuf_freem(m);
	return 0;
}

static errno_t
st_if_demux(ifnet_t ifp, mbuf_t m, char *hdr, protocol_family_t *pf)
{
	return ENOENT;
}

static errno_t
st_if_add_proto(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_demux_desc *d, u_int32_t n)
{
	return 0;
}

static errno_t
st_if_del_proto(ifnet_t ifp, protocol_family_t pf)
{
	return 0;
}

/* An interface that is never attached: only its identity is used. */
static ifnet_t
st_ifnet(void)
{
	struct ifnet_init_params init;
	ifnet_t ifp;

	bzero(&init, sizeof(init));
	init.name = "arptest";
	init.family = IFNET_FAMILY_ETHERNET;
	init.type = IFT_ETHER;
	init.output = st_if_output;
	init.demux = st_if_demux;
	init.add_proto = st_if_add_proto;
	init.del_proto = st_if_del_proto;
	return ifnet_allocate(&init, &ifp) == 0 ? ifp : NULL;
}

struct st_arp {
	struct arp_cache	*ac;
	struct arp_todo		*todo;
	ifnet_t			ifp;
};

static bool
st_arp_setup(struct st_arp *s)
{
	s->ac = kalloc(sizeof(*s->ac));
	s->todo = kalloc(sizeof(*s->todo));
	s->ifp = st_ifnet();
	if (s->ac != NULL)
		arp_cache_init(s->ac);
	return s->ac != NULL && s->todo != NULL && s->ifp != NULL;
}

static void
st_arp_done(struct st_arp *s)
{
	mbuf_t freelist = NULL;

	if (s->ac != NULL) {
		arp_cache_purge(s->ac, NULL, &freelist);
		mbuf_freem_list(freelist);
		kfree(s->ac, sizeof(*s->ac));
	}
	if (s->todo != NULL)
		kfree(s->todo, sizeof(*s->todo));
	if (s->ifp != NULL)
		ifnet_release(s->ifp);
}

/* Run the timer; drop the requests' interface references. */
static u_int32_t
st_arp_timer(struct st_arp *s, u_int64_t now, int *freed)
{
	u_int32_t i;

	arp_cache_timer(s->ac, now, s->todo);
	for (i = 0; i < s->todo->at_nreq; i++)
		ifnet_release(s->todo->at_req[i].ifp);
	*freed = mbuf_freem_list(s->todo->at_free);
	return s->todo->at_nreq;
}

static mbuf_t
st_small(void)
{
	mbuf_t m;

	return mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &m) == 0 ? m : NULL;
}

/* A one-byte packet whose byte is tag, to tell packets apart. */
static mbuf_t
st_tagged(u_char tag)
{
	mbuf_t m = st_small();

	if (m != NULL) {
		*(u_char *)mbuf_data(m) = tag;
		mbuf_setlen(m, 1);
		mbuf_pkthdr_setlen(m, 1);
	}
	return m;
}

/* Does the nextpkt list hold the packets tagged first, first + 1, ...,
 * first + n - 1, in that order? */
static bool
st_tags_are(mbuf_t list, u_char first, int n)
{
	mbuf_t m = list;
	int i;

	for (i = 0; i < n; i++, m = mbuf_nextpkt(m))
		if (m == NULL || *(u_char *)mbuf_data(m) != first + i)
			return false;
	return m == NULL;
}

static u_int32_t
st_arpstat(const char *name)
{
	u_int32_t v = 0;

	netstat_counter_get("arp", name, &v);
	return v;
}

/* Unknown: ask once, hold the packets; the reply hands them back. */
static int
test_arp_resolve_and_hold(void)
{
	static const u_char mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
	struct in_addr gw = ip4(10, 0, 2, 2);
	mbuf_t held = NULL, freelist = NULL;
	bool ask1, ask2, ask3, ok;
	errno_t e1, e2, e3;
	u_char out[6];
	struct st_arp s;

	ok = st_arp_setup(&s);
	if (!ok)
		goto out;
	/* The cache takes each packet, whatever it answers. */
	e1 = arp_cache_resolve(s.ac, s.ifp, gw, st_tagged(1), 0, out, &ask1,
	    &freelist);
	e2 = arp_cache_resolve(s.ac, s.ifp, gw, st_tagged(2), 10, out, &ask2,
	    &freelist);
	ok = e1 == EJUSTRETURN && ask1 && e2 == EJUSTRETURN && !ask2 &&
	    freelist == NULL && !arp_cache_lookup(s.ac, s.ifp, gw, out, 20);
	if (!ok)
		goto out;
	ok = arp_cache_update(s.ac, s.ifp, gw, mac, false, 20, &held,
	    &freelist) && st_tags_are(held, 1, 2);
	mbuf_freem_list(held);
	e3 = arp_cache_resolve(s.ac, s.ifp, gw, NULL, 40, out, &ask3, &freelist);
	ok = ok && arp_cache_lookup(s.ac, s.ifp, gw, out, 30) &&
	    memcmp(out, mac, 6) == 0 && e3 == 0 && !ask3;
out:
	st_arp_done(&s);
	ST_ASSERT(ok);
	return 0;
}
SELFTEST(netinet_arp_resolve_and_hold, test_arp_resolve_and_hold);

/*
 * An entry holds ARP_MAXHOLD packets, the oldest dropped for each one
 * more (the fragments of a big datagram all wait); the reply hands them
 * back oldest first, and a timeout drops and counts every one.
 */
static int
test_arp_hold_queue(void)
{
	static const u_char mac[6] = { 2, 0, 0, 0, 0, 3 };
	struct in_addr a = ip4(10, 0, 2, 30), b = ip4(10, 0, 2, 31);
	u_int32_t overflow = st_arpstat("hold_overflow");
	u_int32_t timeout = st_arpstat("timeout");
	mbuf_t held = NULL, freelist = NULL;
	struct st_arp s;
	u_char out[6];
	int i, freed, rc = 1;
	bool ask;

	if (!st_arp_setup(&s))
		goto out;
	for (i = 0; i < ARP_MAXHOLD + 2; i++)
		if (arp_cache_resolve(s.ac, s.ifp, a, st_tagged((u_char)i), 0,
		    out, &ask, &freelist) != EJUSTRETURN || ask != (i == 0))
			goto out;
	/* Two made room, counted: the oldest two, as the reply shows. */
	if (st_free_list(&freelist) != 2 ||
	    st_arpstat("hold_overflow") != overflow + 2)
		goto out;
	arp_cache_update(s.ac, s.ifp, a, mac, false, 10, &held, &freelist);
	if (!st_tags_are(held, 2, ARP_MAXHOLD))
		goto out;
	mbuf_freem_list(held);
	held = NULL;
	/* Resolved: the next packet goes at once. */
	if (arp_cache_resolve(s.ac, s.ifp, a, NULL, 20, out, &ask,
	    &freelist) != 0)
		goto out;
	/* Three packets wait for b; three unanswered requests drop all. */
	for (i = 0; i < 3; i++)
		arp_cache_resolve(s.ac, s.ifp, b, st_tagged((u_char)i), 1000,
		    out, &ask, &freelist);
	st_arp_timer(&s, 2000, &freed);
	st_arp_timer(&s, 3000, &freed);
	if (st_arp_timer(&s, 4000, &freed) != 0 || freed != 3 ||
	    st_arpstat("timeout") != timeout + 3)
		goto out;
	rc = 0;
out:
	mbuf_freem_list(held);
	st_free_list(&freelist);
	st_arp_done(&s);
	ST_ASSERT(rc == 0);
	return 0;
}
SELFTEST(netinet_arp_hold_queue, test_arp_hold_queue);

/* Requests every second, three in all, then the held packet is dropped;
 * a resolved entry is forgotten after 20 minutes. */
static int
test_arp_retry_and_expire(void)
{
	static const u_char mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct in_addr a = ip4(10, 0, 2, 9), b = ip4(10, 0, 2, 10);
	mbuf_t freelist = NULL, held;
	struct st_arp s;
	u_char out[6];
	bool ask;
	int freed, rc = 1;

	if (!st_arp_setup(&s))
		goto out;
	if (arp_cache_resolve(s.ac, s.ifp, a, st_small(), 1000, out, &ask,
	    &freelist) != EJUSTRETURN || !ask)
		goto out;
	if (st_arp_timer(&s, 1999, &freed) != 0 || freed != 0)
		goto out;
	if (st_arp_timer(&s, 2000, &freed) != 1 || freed != 0 ||
	    s.todo->at_req[0].ip.s_addr != a.s_addr)
		goto out;
	if (st_arp_timer(&s, 3000, &freed) != 1 || freed != 0)
		goto out;
	if (st_arp_timer(&s, 4000, &freed) != 0 || freed != 1)
		goto out;
	if (arp_cache_list(s.ac, NULL, 0, 4000) != 0)
		goto out;
	/* Resolved: good for ARP_KEEP_MS. */
	arp_cache_update(s.ac, s.ifp, b, mac, true, 5000, &held, &freelist);
	if (held != NULL || !arp_cache_lookup(s.ac, s.ifp, b, out, 5000))
		goto out;
	st_arp_timer(&s, 5000 + ARP_KEEP_MS - 1, &freed);
	if (!arp_cache_lookup(s.ac, s.ifp, b, out, 5000 + ARP_KEEP_MS - 1))
		goto out;
	st_arp_timer(&s, 5000 + ARP_KEEP_MS, &freed);
	if (arp_cache_list(s.ac, NULL, 0, 5000 + ARP_KEEP_MS) != 0)
		goto out;
	rc = 0;
out:
	st_arp_done(&s);
	ST_ASSERT(rc == 0);
	return 0;
}
SELFTEST(netinet_arp_retry_and_expire, test_arp_retry_and_expire);

/* Only packets about us create entries; a full cache reuses the least
 * recently changed one. */
static int
test_arp_insert_and_evict(void)
{
	static const u_char mac[6] = { 2, 0, 0, 0, 0, 2 };
	mbuf_t held, freelist = NULL;
	struct st_arp s;
	int i, rc = 1;

	if (!st_arp_setup(&s))
		goto out;
	if (arp_cache_update(s.ac, s.ifp, ip4(10, 1, 0, 1), mac, false, 0,
	    &held, &freelist))
		goto out;
	for (i = 0; i < ARP_CACHE_SIZE; i++)
		if (!arp_cache_update(s.ac, s.ifp, ip4(10, 1, 0, (u_int8_t)i),
		    mac, true, (u_int64_t)i, &held, &freelist))
			goto out;
	if (arp_cache_list(s.ac, NULL, 0, 0) != ARP_CACHE_SIZE)
		goto out;
	arp_cache_update(s.ac, s.ifp, ip4(10, 2, 0, 1), mac, true, 100, &held,
	    &freelist);
	if (arp_cache_list(s.ac, NULL, 0, 0) != ARP_CACHE_SIZE ||
	    arp_cache_lookup(s.ac, s.ifp, ip4(10, 1, 0, 0), NULL, 100) ||
	    !arp_cache_lookup(s.ac, s.ifp, ip4(10, 1, 0, 1), NULL, 100) ||
	    !arp_cache_lookup(s.ac, s.ifp, ip4(10, 2, 0, 1), NULL, 100))
		goto out;
	if (arp_cache_delete(s.ac, ip4(10, 2, 0, 1), &freelist) != 0 ||
	    arp_cache_delete(s.ac, ip4(10, 2, 0, 1), &freelist) != ESRCH)
		goto out;
	rc = 0;
out:
	st_arp_done(&s);
	ST_ASSERT(rc == 0);
	return 0;
}
SELFTEST(netinet_arp_insert_and_evict, test_arp_insert_and_evict);

/* ---- An interface that detaches ---- */

static volatile int st_tun_detached;

static void
st_tun_detach(ifnet_t ifp)
{
	st_tun_detached = 1;
	wakeup((void *)&st_tun_detached);
}

static errno_t
st_tun_input(ifnet_t ifp, protocol_family_t pf, mbuf_t m, char *header)
{
	return ENOENT;
}

static errno_t
st_tun_preout(ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    const struct sockaddr *dest, void *route, char *type, char *lladdr)
{
	return 0;
}

/*
 * A driver that attaches PF_INET with its own callbacks (a tun) gets an
 * address through in_ifaddr_add as any other; when the interface starts
 * detaching, the address and its route are gone at once -- the
 * interface-detach handler, not IPv4's `detached`, which this driver's
 * protocol never reaches.
 */
static int
test_ifdetach_purges(void)
{
	struct ifnet_attach_proto_param proto;
	struct ifnet_init_params init;
	struct in_addr addr, mask, any = { INADDR_ANY }, peer;
	struct timespec ts = { 1, 0 };
	struct in_route ro;
	ifnet_t ifp;

	bzero(&init, sizeof(init));
	init.name = "sttun";
	init.family = IFNET_FAMILY_TUN;
	init.type = IFT_OTHER;
	init.output = st_if_output;
	init.demux = st_if_demux;
	init.add_proto = st_if_add_proto;
	init.del_proto = st_if_del_proto;
	init.detach = st_tun_detach;
	bzero(&proto, sizeof(proto));
	proto.input = st_tun_input;
	proto.pre_output = st_tun_preout;
	inet_aton("10.98.0.1", &addr);
	inet_aton("255.255.255.0", &mask);
	inet_aton("10.98.0.2", &peer);
	st_tun_detached = 0;
	ST_ASSERT(ifnet_allocate(&init, &ifp) == 0);
	ifnet_set_flags(ifp, IFF_UP | IFF_RUNNING, 0xffff);
	ST_ASSERT(ifnet_attach(ifp, NULL) == 0);
	ST_ASSERT(ifnet_attach_protocol(ifp, PF_INET, &proto) == 0);
	ST_ASSERT(in_ifaddr_add(ifp, addr, mask, any, 0) == 0);
	ST_ASSERT(in_ifaddr_has(ifp, addr));
	ST_ASSERT(in_route_lookup(peer, &ro) == 0 && ro.ro_ifp == ifp);
	in_route_release(&ro);

	ST_ASSERT(ifnet_detach(ifp) == 0);
	ST_ASSERT(!in_ifaddr_has(ifp, addr));
	if (in_route_lookup(peer, &ro) == 0) {	/* a default route, say */
		ST_ASSERT(ro.ro_ifp != ifp);
		in_route_release(&ro);
	}
	if (!st_tun_detached)
		msleep((void *)&st_tun_detached, NULL, 0, "st_tun", &ts);
	ST_ASSERT(st_tun_detached);
	ifnet_release(ifp);
	return 0;
}
SELFTEST(netinet_ifdetach_purges, test_ifdetach_purges);
