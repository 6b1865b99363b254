/*
 * IP reassembly (RFC 791, RFC 815): fragments wait here by datagram until
 * every byte has come.  Limits keep attackers from pinning memory: 16
 * datagrams, 64 fragments each, 30 s, 65535 bytes; a fragment that
 * overlaps another (not an exact copy) condemns its datagram (RFC 5722);
 * a datagram its source has left behind goes before the source's 16-bit
 * ids come round to it again (RFC 4963, ipq_age).
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/ip_var.h>

void
ip_reass_init(struct ipq_table *t)
{
	bzero(t, sizeof(*t));
	simple_lock_init(&t->ipq_lock, "ipq");
}

/* Count a dropped packet and put it on the list to free later. */
static void
ipq_drop(mbuf_t m, volatile u_int32_t *reason, mbuf_t *freelist)
{
	NETSTAT_INC(*reason);
	mbuf_setnextpkt(m, *freelist);
	*freelist = m;
}

/* Drop every fragment of q and free the slot.  (ipq_lock) held. */
static void
ipq_free(struct ipq *q, volatile u_int32_t *reason, mbuf_t *freelist)
{
	u_int32_t i;

	for (i = 0; i < q->q_nfrags; i++)
		ipq_drop(q->q_frags[i].f_m, reason, freelist);
	bzero(q, sizeof(*q));
}

/* The datagram ip belongs to, or NULL.  (ipq_lock) held. */
static struct ipq *
ipq_find(struct ipq_table *t, const struct ip *ip)
{
	struct ipq *q;
	int i;

	for (i = 0; i < IPQ_MAXDGRAMS; i++) {
		q = &t->ipq_q[i];
		if (q->q_used && q->q_id == ip->ip_id && q->q_p == ip->ip_p &&
		    q->q_src.s_addr == ip->ip_src.s_addr &&
		    q->q_dst.s_addr == ip->ip_dst.s_addr)
			return q;
	}
	return NULL;
}

/*
 * Stale datagrams (RFC 4963, "IPv4 Reassembly Errors at High Data
 * Rates").  A datagram is named by (src, dst, protocol, id) and the id
 * has 16 bits: a sender flooding small fragmented datagrams goes through
 * all 65536 in a few seconds, well within the 30 s a datagram may wait
 * here.  When a fragment is lost on the way (a full ring or input
 * queue), the others wait for it; when the sender's id comes round,
 * the fragments of a new datagram with the same name join them.  One
 * that is a copy of an old fragment is dropped as a duplicate, one cut
 * differently as an overlap; or the datagram completes, part old and
 * part new, and UDP finds its length wrong (udp.badlen) or its checksum
 * (udp.badsum).
 *
 * So every fragment ages the other datagrams held from its source (by
 * source alone, as Linux does: a sender numbers what it sends to all our
 * addresses and protocols from one counter, or one per destination), and
 * a datagram that has not grown while more than IPQ_MAXDIST fragments of
 * others came from there is dropped.  The fragments of one datagram are
 * sent back to back: 64 others is far beyond any reordering, and far
 * short of the 131072 it takes the ids of 2-fragment datagrams to come
 * round.  This is Linux's ipfrag_max_dist (64 too).  No ICMP "time
 * exceeded": the sender has moved on.
 *
 * Not every misassembly is caught.  Only fragments age a datagram, but
 * whole datagrams spend ids too; and a sender may reuse an id sooner.
 * A datagram misassembled at the right length passes every check here
 * and UDP's length check: the UDP checksum is the last line of defence
 * (udp.badsum), and with no checksum (uh_sum 0) the wrong data is
 * delivered.  (ipq_lock) held.
 */
static void
ipq_age(struct ipq_table *t, const struct ipq *mine, struct in_addr src,
    mbuf_t *freelist)
{
	struct ipq *q;
	int i;

	for (i = 0; i < IPQ_MAXDGRAMS; i++) {
		q = &t->ipq_q[i];
		if (q == mine || !q->q_used || q->q_src.s_addr != src.s_addr)
			continue;
		if (++q->q_dist > IPQ_MAXDIST)
			ipq_free(q, &ipstat.ips_reass_stale, freelist);
	}
}

/* A slot for a new datagram: a free one, or the oldest, whose
 * fragments are dropped.  (ipq_lock) held. */
static struct ipq *
ipq_new(struct ipq_table *t, const struct ip *ip, u_int64_t now,
    mbuf_t *freelist)
{
	struct ipq *q, *oldest = NULL;
	int i;

	for (i = 0; i < IPQ_MAXDGRAMS; i++) {
		q = &t->ipq_q[i];
		if (!q->q_used) {
			oldest = q;
			break;
		}
		if (oldest == NULL || q->q_expire < oldest->q_expire)
			oldest = q;
	}
	if (oldest->q_used)
		ipq_free(oldest, &ipstat.ips_reass_full, freelist);
	oldest->q_used = true;
	oldest->q_src = ip->ip_src;
	oldest->q_dst = ip->ip_dst;
	oldest->q_id = ip->ip_id;
	oldest->q_p = ip->ip_p;
	oldest->q_expire = now + IPQ_TIMEOUT_MS;
	return oldest;
}

/*
 * Where does fragment f go in q?  Returns the index to insert it at, or
 * -1 with *reason set: an exact duplicate (ips_frag_dup, only f is
 * dropped), or something that makes the datagram impossible (the whole
 * datagram is dropped).  mf: more fragments follow f.
 */
static int
ipq_place(const struct ipq *q, const struct ipq_frag *f, bool mf,
    volatile u_int32_t **reason)
{
	u_int32_t end = f->f_off + f->f_len, i, n = q->q_nfrags;
	const struct ipq_frag *fr = q->q_frags;

	*reason = NULL;
	if (end > IP_MAXPACKET - sizeof(struct ip)) {
		*reason = &ipstat.ips_frag_oversize;
		return -1;
	}
	for (i = 0; i < n && fr[i].f_off < f->f_off; i++)
		;
	if (i < n && fr[i].f_off == f->f_off && fr[i].f_len == f->f_len)
		*reason = &ipstat.ips_frag_dup;
	else if ((i > 0 && fr[i - 1].f_off + fr[i - 1].f_len > f->f_off) ||
	    (i < n && end > fr[i].f_off))
		*reason = &ipstat.ips_frag_overlap;
	else if (q->q_havelast && (end > q->q_total ||
	    (!mf && end != q->q_total)))
		*reason = &ipstat.ips_frag_overlap;	/* contradicts the end */
	else if (!mf && n > 0 && fr[n - 1].f_off + fr[n - 1].f_len > end)
		*reason = &ipstat.ips_frag_overlap;	/* data past the end */
	else if (n == IPQ_MAXFRAGS)
		*reason = &ipstat.ips_frag_toomany;
	return *reason == NULL ? (int)i : -1;
}

/* Put f at index i.  (ipq_lock) held. */
static void
ipq_insert(struct ipq *q, const struct ipq_frag *f, int i, bool mf)
{
	memmove(&q->q_frags[i + 1], &q->q_frags[i],
	    (q->q_nfrags - i) * sizeof(q->q_frags[0]));
	q->q_frags[i] = *f;
	q->q_nfrags++;
	q->q_dist = 0;
	if (!mf) {
		q->q_havelast = true;
		q->q_total = f->f_off + f->f_len;
	}
}

/* Has every byte from 0 to the end come?  (ipq_lock) held. */
static bool
ipq_complete(const struct ipq *q)
{
	u_int32_t i, next = 0;

	if (!q->q_havelast)
		return false;
	for (i = 0; i < q->q_nfrags; i++) {
		if (q->q_frags[i].f_off != next)
			return false;
		next += q->q_frags[i].f_len;
	}
	return next == q->q_total;
}

/*
 * Chain the fragments (in order, each trimmed to its header and data by
 * ip_input) into one datagram: the first keeps its header, the others
 * lose theirs.  The header then describes the whole datagram.  NULL if
 * it would pass 65535 bytes (the first fragment's options count too);
 * the fragments are then dropped.
 */
static mbuf_t
ipq_join(struct ipq_frag *frags, u_int32_t n, u_int32_t total, mbuf_t *freelist)
{
	mbuf_t m = frags[0].f_m, tail, f;
	struct ip *ip = mbuf_data(m);
	u_int32_t i, hlen = ip->ip_hl << 2;

	if (hlen + total > IP_MAXPACKET) {
		for (i = 0; i < n; i++)
			ipq_drop(frags[i].f_m, &ipstat.ips_frag_oversize,
			    freelist);
		return NULL;
	}
	for (tail = m; mbuf_next(tail) != NULL; tail = mbuf_next(tail))
		;
	for (i = 1; i < n; i++) {
		f = frags[i].f_m;
		mbuf_adj(f, ((struct ip *)mbuf_data(f))->ip_hl << 2);
		mbuf_setnext(tail, f);
		for (tail = f; mbuf_next(tail) != NULL; tail = mbuf_next(tail))
			;
	}
	mbuf_pkthdr_setlen(m, hlen + total);
	ip->ip_len = htons(hlen + total);
	ip->ip_off = 0;
	ip->ip_sum = 0;
	ip->ip_sum = in_cksum_buf(ip, hlen);
	NETSTAT_INC(ipstat.ips_reassembled);
	return m;
}

/* The fragment's place in its datagram, from its header.  NULL if it
 * can be placed, else why not. */
static volatile u_int32_t *
ipq_frag_info(const struct ip *ip, struct ipq_frag *f, bool *mf)
{
	u_int32_t hlen = ip->ip_hl << 2, off = ntohs(ip->ip_off);

	*mf = (off & IP_MF) != 0;
	f->f_off = (u_int16_t)((off & IP_OFFMASK) << 3);
	f->f_len = (u_int16_t)(ntohs(ip->ip_len) - hlen);
	/* Data, and but for the last a multiple of 8 bytes (RFC 791). */
	if (f->f_len == 0 || (*mf && (f->f_len & 7) != 0))
		return &ipstat.ips_frag_badlen;
	return NULL;
}

mbuf_t
ip_reass(struct ipq_table *t, mbuf_t m, u_int64_t now, mbuf_t *freelist)
{
	struct ipq_frag f, frags[IPQ_MAXFRAGS];
	volatile u_int32_t *reason;
	struct ip *ip = mbuf_data(m);
	u_int32_t n = 0, total = 0;
	struct ipq *q;
	bool mf;
	int i;

	NETSTAT_INC(ipstat.ips_fragments);
	if ((reason = ipq_frag_info(ip, &f, &mf)) != NULL) {
		ipq_drop(m, reason, freelist);
		return NULL;
	}
	f.f_m = m;
	simple_lock(&t->ipq_lock);
	q = ipq_find(t, ip);
	ipq_age(t, q, ip->ip_src, freelist);	/* first: it may free slots */
	if (q == NULL)
		q = ipq_new(t, ip, now, freelist);
	i = ipq_place(q, &f, mf, &reason);
	if (reason == &ipstat.ips_frag_dup)
		ipq_drop(m, reason, freelist);
	else if (reason != NULL) {
		ipq_drop(m, reason, freelist);
		ipq_free(q, reason, freelist);
	} else {
		ipq_insert(q, &f, i, mf);
		if (ipq_complete(q)) {
			n = q->q_nfrags;
			total = q->q_total;
			memcpy(frags, q->q_frags, n * sizeof(frags[0]));
			bzero(q, sizeof(*q));
		}
	}
	simple_unlock(&t->ipq_lock);
	return n > 0 ? ipq_join(frags, n, total, freelist) : NULL;
}

void
ip_reass_expire(struct ipq_table *t, u_int64_t now, mbuf_t *freelist)
{
	int i;

	simple_lock(&t->ipq_lock);
	for (i = 0; i < IPQ_MAXDGRAMS; i++)
		if (t->ipq_q[i].q_used && now >= t->ipq_q[i].q_expire)
			ipq_free(&t->ipq_q[i], &ipstat.ips_reass_timeout,
			    freelist);
	simple_unlock(&t->ipq_lock);
}

void
ip_reass_flush(struct ipq_table *t, mbuf_t *freelist)
{
	int i;

	simple_lock(&t->ipq_lock);
	for (i = 0; i < IPQ_MAXDGRAMS; i++)
		if (t->ipq_q[i].q_used)
			ipq_free(&t->ipq_q[i], &ipstat.ips_reass_timeout,
			    freelist);
	simple_unlock(&t->ipq_lock);
}

int
ip_reass_count(struct ipq_table *t)
{
	int i, n = 0;

	simple_lock(&t->ipq_lock);
	for (i = 0; i < IPQ_MAXDGRAMS; i++)
		if (t->ipq_q[i].q_used)
			n++;
	simple_unlock(&t->ipq_lock);
	return n;
}
