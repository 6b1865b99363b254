/*
 * Operations on mbuf chains: copy bytes in and out, gather a header into
 * one mbuf (pullup, pulldown), make room in front (prepend), cut (split,
 * adj), copy (copym, dup) and build a packet of a given length.  The
 * allocator is uipc_mbuf.c; kpi_mbuf.c adds the KPI's argument checks.
 * Clusters are shared by copies, so nothing here writes into a cluster
 * that another mbuf also points at.
 */
#include <sys/systm.h>
#include <bsd/kern/mbuf_var.h>

int
m_length(struct mbuf *m)
{
	int len = 0;

	for (; m != NULL; m = m->m_next)
		len += m->m_len;
	return len;
}

int
m_leadingspace(struct mbuf *m)
{
	if (!M_WRITABLE(m))
		return 0;
	return m->m_data - M_STORAGE(m);
}

int
m_trailingspace(struct mbuf *m)
{
	if (!M_WRITABLE(m))
		return 0;
	return M_STORAGE(m) + M_STORAGE_SIZE(m) - (m->m_data + m->m_len);
}

/* Walk to the mbuf holding byte `*off` (or the end); *off becomes the
 * offset inside it. */
static struct mbuf *
m_seek(struct mbuf *m, size_t *off)
{
	while (m != NULL && *off >= (size_t)m->m_len) {
		*off -= m->m_len;
		m = m->m_next;
	}
	return m;
}

errno_t
m_copydata(struct mbuf *m, size_t off, size_t len, void *out)
{
	char *cp = out;
	size_t n;

	m = m_seek(m, &off);
	while (len > 0) {
		if (m == NULL)
			return EINVAL;
		n = min(m->m_len - off, len);
		memcpy(cp, m->m_data + off, n);
		cp += n;
		len -= n;
		off = 0;
		m = m->m_next;
	}
	return 0;
}

/*
 * Lengthen the chain by `more` zero bytes: first into the last mbuf's
 * free room, then in new mbufs.  Returns how many bytes it added.
 */
static size_t
m_grow(struct mbuf *m, size_t more, mbuf_how_t how, uint8_t owner)
{
	struct mbuf *n;
	size_t added = 0, count;

	while (m->m_next != NULL)
		m = m->m_next;
	for (;;) {
		count = min(m_trailingspace(m), more - added);
		bzero(m->m_data + m->m_len, count);
		m->m_len += count;
		added += count;
		if (added == more)
			break;
		n = m_get(how, m->m_type, owner);
		if (n == NULL)
			break;
		/* Without a cluster it still takes MLEN bytes. */
		if (more - added > MLEN)
			(void)m_clattach(n, how, MCLBYTES);
		m->m_next = n;
		m = n;
	}
	return added;
}

/*
 * Grow the chain to off + len bytes if it is shorter, then overwrite.
 * A shared cluster is copied before it is written.  If the chain could
 * not grow (or a cluster not be copied), what fits is written: ENOBUFS.
 */
errno_t
m_copyback(struct mbuf *m0, size_t off, size_t len, const void *in,
    mbuf_how_t how, uint8_t owner)
{
	size_t total = m_length(m0), n;
	const char *cp = in;
	errno_t error = 0;
	struct mbuf *m;

	if (off + len < off)
		return EINVAL;
	if (off + len > total) {
		n = off + len - total;
		if (m_grow(m0, n, how, owner) < n)
			error = ENOBUFS;
		total = m_length(m0);
		if ((m0->m_flags & M_PKTHDR) && m0->m_pkthdr.len < (int)total)
			m0->m_pkthdr.len = total;
	}
	for (m = m_seek(m0, &off); m != NULL && len > 0; m = m->m_next) {
		n = min(m->m_len - off, len);
		if (m_unshare(m, how) != 0)
			return ENOBUFS;
		memcpy(m->m_data + off, cp, n);
		cp += n;
		len -= n;
		off = 0;
	}
	return error;
}

/*
 * Move `want` bytes from the mbufs after m to the end of m's data; the
 * caller made the room and knows the bytes are there.  Emptied mbufs
 * are freed.
 */
static void
m_gather(struct mbuf *m, size_t want)
{
	struct mbuf *src = m->m_next;
	size_t n;

	while (want > 0) {
		n = min(want, src->m_len);
		memcpy(m->m_data + m->m_len, src->m_data, n);
		m->m_len += n;
		want -= n;
		src->m_data += n;
		src->m_len -= n;
		if (src->m_len == 0)
			src = m_free(src);
	}
	m->m_next = src;
}

/* The cluster size for `len` bytes (a small mbuf holds `small`). */
static uint32_t
m_cluster_for(size_t len, size_t small)
{
	if (len <= small)
		return 0;
	return len <= MCLBYTES ? MCLBYTES : MBIGCLBYTES;
}

/* A new mbuf able to hold len bytes, taking over m's packet header. */
static struct mbuf *
m_get_front(struct mbuf *m, size_t len, mbuf_how_t how, uint8_t owner)
{
	size_t small = m->m_flags & M_PKTHDR ? MHLEN : MLEN;
	uint32_t cl = m_cluster_for(len, small);
	struct mbuf *n;

	n = m_get(how, m->m_type, owner);
	if (n == NULL)
		return NULL;
	if (cl != 0 && m_clattach(n, how, cl) != 0) {
		m_free(n);
		return NULL;
	}
	if (m->m_flags & M_PKTHDR)
		m_move_pkthdr(n, m);
	n->m_next = m;
	return n;
}

/*
 * Where m_pullup gathers: m itself if it is writable and big enough
 * (its data slid to the front of its storage if need be), else a new
 * mbuf in front of it.
 */
static struct mbuf *
m_pullup_target(struct mbuf *m, size_t len, uint8_t owner)
{
	if (M_WRITABLE(m) && (size_t)M_STORAGE_SIZE(m) >= len) {
		if (M_STORAGE(m) + M_STORAGE_SIZE(m) - m->m_data < (int)len) {
			memmove(M_STORAGE(m), m->m_data, m->m_len);
			m->m_data = M_STORAGE(m);
		}
		return m;
	}
	return m_get_front(m, len, MBUF_DONTWAIT, owner);
}

/* Never sleeps: it runs on the input path. */
struct mbuf *
m_pullup(struct mbuf *m, size_t len, uint8_t owner)
{
	struct mbuf *head;

	if ((size_t)m->m_len >= len)
		return m;
	if (len > MBIGCLBYTES || len > (size_t)m_length(m))
		goto fail;
	head = m_pullup_target(m, len, owner);
	if (head == NULL)
		goto fail;
	m_gather(head, len - head->m_len);
	return head;
fail:
	m_freem(m);
	mbuf_count_mpfail();
	return NULL;
}

/*
 * Room for len bytes in front: in the leading space if there is enough,
 * else in a new first mbuf whose data ends at the end of its storage
 * (so that the next prepend finds room).  The new bytes are not zeroed.
 */
struct mbuf *
m_prepend(struct mbuf *m, size_t len, mbuf_how_t how, uint8_t owner)
{
	struct mbuf *n;

	if ((size_t)m_leadingspace(m) >= len) {
		m->m_data -= len;
		m->m_len += len;
	} else {
		n = len <= MBIGCLBYTES ? m_get_front(m, len, how, owner) : NULL;
		if (n == NULL) {
			m_freem(m);
			return NULL;
		}
		n->m_data = M_STORAGE(n) + ((M_STORAGE_SIZE(n) - len) & ~3u);
		n->m_len = len;
		m = n;
	}
	if (m->m_flags & M_PKTHDR)
		m->m_pkthdr.len += len;
	return m;
}

/*
 * Make bytes [off, off + len) contiguous in one mbuf, leaving the bytes
 * before off where they are.  Returns that mbuf, with *offp the bytes'
 * offset inside it; NULL (the chain freed) if it cannot.
 */
struct mbuf *
m_pulldown(struct mbuf *m0, size_t off, size_t len, size_t *offp,
    uint8_t owner)
{
	struct mbuf *n, *o;
	size_t moved;

	if (len == 0 || len > MBIGCLBYTES || off + len < off ||
	    off + len > (size_t)m_length(m0))
		goto fail;
	n = m_seek(m0, &off);
	if (off + len <= (size_t)n->m_len)
		goto done;
	if (M_WRITABLE(n) &&
	    M_STORAGE(n) + M_STORAGE_SIZE(n) >= n->m_data + off + len) {
		m_gather(n, off + len - n->m_len);
		goto done;
	}
	/* A new mbuf after n takes n's bytes from off on, then the rest. */
	o = m_get(MBUF_DONTWAIT, n->m_type, owner);
	if (o == NULL)
		goto fail;
	if (len > MLEN && m_clattach(o, MBUF_DONTWAIT,
	    m_cluster_for(len, MLEN)) != 0) {
		m_free(o);
		goto fail;
	}
	moved = n->m_len - off;
	memcpy(o->m_data, n->m_data + off, moved);
	o->m_len = moved;
	n->m_len = off;
	o->m_next = n->m_next;
	n->m_next = o;
	m_gather(o, len - moved);
	n = o;
	off = 0;
done:
	*offp = off;
	return n;
fail:
	m_freem(m0);
	mbuf_count_mpfail();
	return NULL;
}

/* A new mbuf with m's bytes from off on: sharing m's cluster, or a copy
 * of m's small data (which always fits: MLEN is the most it can hold). */
static struct mbuf *
m_split_rest(struct mbuf *m, size_t off, mbuf_how_t how, uint8_t owner)
{
	struct mbuf *r = m_get(how, m->m_type, owner);

	if (r == NULL)
		return NULL;
	if (m->m_flags & M_EXT) {
		m_clshare(r, m);
		r->m_data = m->m_data + off;
	} else {
		memcpy(r->m_data, m->m_data + off, m->m_len - off);
	}
	r->m_len = m->m_len - off;
	return r;
}

/*
 * Cut after `off0` bytes: m0 keeps them, *tail gets the rest (never
 * NULL: an empty mbuf if nothing is left).  Everything is allocated
 * before anything is changed, so a failure leaves m0 intact.
 */
errno_t
m_split(struct mbuf *m0, size_t off0, mbuf_how_t how, uint8_t owner,
    struct mbuf **tail)
{
	struct mbuf *m = m0, *rest = NULL, *n;
	size_t off = off0;

	if (off0 > (size_t)m_length(m0))
		return EINVAL;
	while (off > (size_t)m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	if (off < (size_t)m->m_len) {
		rest = m_split_rest(m, off, how, owner);
		if (rest == NULL)
			return ENOMEM;
		rest->m_next = m->m_next;
	} else {
		rest = m->m_next;
	}
	n = rest;
	if ((m0->m_flags & M_PKTHDR) || n == NULL) {
		n = m0->m_flags & M_PKTHDR ? m_gethdr(how, m0->m_type, owner) :
		    m_get(how, m0->m_type, owner);
		if (n == NULL) {
			if (rest != m->m_next)
				m_free(rest);
			return ENOMEM;
		}
		n->m_next = rest;
	}
	if (m0->m_flags & M_PKTHDR) {
		n->m_pkthdr.rcvif = m0->m_pkthdr.rcvif;
		n->m_pkthdr.len = m0->m_pkthdr.len - off0;
		m0->m_pkthdr.len = off0;
	}
	m->m_len = off;
	m->m_next = NULL;
	*tail = n;
	return 0;
}

/*
 * Copy len bytes from off into a new chain.  Cluster data is shared
 * (read-only from then on), small mbufs' data is copied.  A copy from
 * offset 0 of a packet gets its header, without the tags.
 */
errno_t
m_copym(struct mbuf *m0, size_t off, size_t len, mbuf_how_t how,
    uint8_t owner, struct mbuf **copy)
{
	bool hdr = off == 0 && (m0->m_flags & M_PKTHDR);
	size_t total = m_length(m0), count;
	struct mbuf *top = NULL, **np = &top, *m, *n;

	if (off >= total)
		return EINVAL;
	if (len == MBUF_COPYALL)
		len = total - off;
	if (len == 0 || len > total - off)
		return EINVAL;
	m = m_seek(m0, &off);
	while (len > 0) {
		if (off == (size_t)m->m_len) {	/* used up, or empty */
			m = m->m_next;
			off = 0;
			continue;
		}
		n = top == NULL && hdr ? m_gethdr(how, m->m_type, owner) :
		    m_get(how, m->m_type, owner);
		if (n == NULL)
			goto fail;
		if (top == NULL && hdr)
			m_copy_pkthdr_fields(n, m0);
		*np = n;
		np = &n->m_next;
		count = min(m->m_len - off, len);
		if (m->m_flags & M_EXT) {
			m_clshare(n, m);
			n->m_data = m->m_data + off;
		} else {
			/* A header mbuf holds less than a plain one. */
			count = min(count, M_STORAGE_SIZE(n));
			memcpy(n->m_data, m->m_data + off, count);
		}
		n->m_len = count;
		len -= count;
		off += count;
	}
	if (hdr)
		top->m_pkthdr.len = m_length(top);
	*copy = top;
	return 0;
fail:
	m_freem(top);
	mbuf_count_mcfail();
	return ENOMEM;
}

/*
 * Mbufs for len bytes: one small mbuf if it fits, else 4 KB clusters
 * and a last mbuf just big enough for the remainder.
 */
static unsigned int
m_chunks_for(size_t len)
{
	if (len <= MHLEN)
		return 1;
	return (len + MBIGCLBYTES - 1) / MBIGCLBYTES;
}

/* A chain of len bytes (lengths set, contents not), as m_chunks_for
 * says; a packet header on the first mbuf if hdr. */
static errno_t
m_alloc_chain(size_t len, bool hdr, int type, mbuf_how_t how,
    uint8_t owner, struct mbuf **chain)
{
	struct mbuf *top = NULL, **np = &top, *m;
	size_t left = len;
	uint32_t cl;

	do {
		bool first = top == NULL;

		m = first && hdr ? m_gethdr(how, type, owner) :
		    m_get(how, type, owner);
		if (m == NULL)
			goto fail;
		*np = m;
		np = &m->m_next;
		cl = m_cluster_for(left, M_STORAGE_SIZE(m));
		if (cl != 0 && m_clattach(m, how, cl) != 0)
			goto fail;
		m->m_len = min(left, M_STORAGE_SIZE(m));
		left -= m->m_len;
	} while (left > 0);
	if (hdr)
		top->m_pkthdr.len = len;
	*chain = top;
	return 0;
fail:
	m_freem(top);
	return ENOMEM;
}

errno_t
m_allocpacket(size_t len, unsigned int *maxchunks, mbuf_how_t how,
    uint8_t owner, struct mbuf **packet)
{
	unsigned int need = m_chunks_for(len);
	errno_t error;

	if (maxchunks != NULL && *maxchunks != 0 && need > *maxchunks)
		return ENOBUFS;
	error = m_alloc_chain(len, true, MBUF_TYPE_DATA, how, owner, packet);
	if (error == 0 && maxchunks != NULL)
		*maxchunks = need;
	return error;
}

/* A private copy of a whole chain: data, packet header and tags. */
errno_t
m_dup(struct mbuf *m, mbuf_how_t how, uint8_t owner, struct mbuf **copy)
{
	bool hdr = m->m_flags & M_PKTHDR;
	struct mbuf *top, *n;
	size_t off = 0;

	if (m_alloc_chain(m_length(m), hdr, m->m_type, how, owner, &top) != 0)
		goto fail;
	if (hdr) {
		m_copy_pkthdr_fields(top, m);
		if (m_tag_copy_chain(top, m, how) != 0) {
			m_freem(top);
			goto fail;
		}
	}
	for (n = top; n != NULL; n = n->m_next) {
		(void)m_copydata(m, off, n->m_len, n->m_data);
		off += n->m_len;
	}
	*copy = top;
	return 0;
fail:
	mbuf_count_mcfail();
	return ENOMEM;
}

/* Trim from the front: emptied mbufs stay (the first one must). */
static void
m_adj_front(struct mbuf *m0, size_t len)
{
	size_t trimmed = 0, n;
	struct mbuf *m;

	for (m = m0; m != NULL && trimmed < len; m = m->m_next) {
		n = min(m->m_len, len - trimmed);
		m->m_data += n;
		m->m_len -= n;
		trimmed += n;
	}
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.len -= trimmed;
}

/* Trim from the tail: mbufs past the new end are freed. */
static void
m_adj_back(struct mbuf *m0, size_t len)
{
	size_t total = m_length(m0);
	size_t keep = len >= total ? 0 : total - len;
	struct mbuf *m;

	for (m = m0; (size_t)m->m_len < keep; m = m->m_next)
		keep -= m->m_len;
	m->m_len = keep;
	m_freem(m->m_next);
	m->m_next = NULL;
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.len -= total - m_length(m0);
}

void
m_adj(struct mbuf *m, int len)
{
	if (len >= 0)
		m_adj_front(m, len);
	else
		m_adj_back(m, -(size_t)len);
}
