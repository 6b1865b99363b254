/*
 * The mbuf KPI of <sys/kpi_mbuf.h>: thin checks and accessors over the
 * allocator (uipc_mbuf.c) and the chain operations (uipc_mbuf2.c); the
 * tag functions are in uipc_mbuf_tags.c.  Drivers, the stack and kexts
 * all come through here, so each allocating entry point charges its
 * caller, found from its return address, for `netstat -m`.
 */
#include <sys/systm.h>
#include <bsd/kern/mbuf_var.h>

/*
 * The owner to charge: whoever called the KPI function this macro is
 * used in.  Use it only directly in an entry point, never in a helper
 * (the return address would be the entry point's own).
 */
#define CALLER_OWNER()	mbuf_owner_of(__builtin_return_address(0))

#define MBUF_KNOWN_FLAGS (MBUF_EXT | MBUF_PKTHDR | MBUF_EOR | MBUF_LOOP | \
	MBUF_BCAST | MBUF_MCAST | MBUF_FRAG | MBUF_FIRSTFRAG | \
	MBUF_LASTFRAG | MBUF_PROMISC | MBUF_HASFCS)

#define FINALIZE_PF_INET	2	/* PF_INET of <sys/socket.h> */

static bool
mbuf_args_ok(mbuf_how_t how, mbuf_type_t type)
{
	return how <= MBUF_DONTWAIT && type != MBUF_TYPE_FREE && type < 256;
}

/* Setters that return nothing cannot refuse: writing a header field of
 * a plain mbuf would overwrite its data, so say so loudly. */
static void
mbuf_require_pkthdr(mbuf_t m, const char *who)
{
	if (!(m->m_flags & M_PKTHDR))
		panic("%s: mbuf %p has no packet header", who, m);
}

/* ---- Data ---- */

void *
mbuf_data(mbuf_t m)
{
	return m->m_data;
}

void *
mbuf_datastart(mbuf_t m)
{
	return M_STORAGE(m);
}

errno_t
mbuf_setdata(mbuf_t m, void *data, size_t len)
{
	char *start = M_STORAGE(m), *p = data;

	if (p < start || p + len > start + M_STORAGE_SIZE(m) || p + len < p)
		return EINVAL;
	m->m_data = p;
	m->m_len = len;
	return 0;
}

errno_t
mbuf_align_32(mbuf_t m, size_t len)
{
	if (!M_WRITABLE(m) || len > (size_t)M_STORAGE_SIZE(m))
		return ENOTSUP;
	m->m_data = M_STORAGE(m) + ((M_STORAGE_SIZE(m) - len) & ~3u);
	return 0;
}

/* Finch maps all RAM one to one, and every cluster lies in one page. */
addr64_t
mbuf_data_to_physical(void *ptr)
{
	return (addr64_t)(uintptr_t)ptr;
}

/* ---- Allocation ---- */

errno_t
mbuf_get(mbuf_how_t how, mbuf_type_t type, mbuf_t *mbuf)
{
	if (!mbuf_args_ok(how, type) || mbuf == NULL)
		return EINVAL;
	*mbuf = m_get(how, type, CALLER_OWNER());
	return *mbuf == NULL ? ENOMEM : 0;
}

errno_t
mbuf_gethdr(mbuf_how_t how, mbuf_type_t type, mbuf_t *mbuf)
{
	if (!mbuf_args_ok(how, type) || mbuf == NULL)
		return EINVAL;
	*mbuf = m_gethdr(how, type, CALLER_OWNER());
	return *mbuf == NULL ? ENOMEM : 0;
}

/* mbuf_getcluster and mbuf_mclget: a new mbuf is freed on failure, the
 * caller's is left alone. */
static errno_t
mbuf_cluster(mbuf_how_t how, mbuf_type_t type, size_t size, mbuf_t *mbuf,
    uint8_t owner)
{
	bool new = *mbuf == NULL;
	errno_t error;

	if (new) {
		*mbuf = m_get(how, type, owner);
		if (*mbuf == NULL)
			return ENOMEM;
	}
	error = m_clattach(*mbuf, how, size);
	if (error != 0 && new) {
		m_free(*mbuf);
		*mbuf = NULL;
	}
	return error;
}

errno_t
mbuf_getcluster(mbuf_how_t how, mbuf_type_t type, size_t size, mbuf_t *mbuf)
{
	if (!mbuf_args_ok(how, type) || mbuf == NULL ||
	    (size != MCLBYTES && size != MBIGCLBYTES))
		return EINVAL;
	return mbuf_cluster(how, type, size, mbuf, CALLER_OWNER());
}

errno_t
mbuf_mclget(mbuf_how_t how, mbuf_type_t type, mbuf_t *mbuf)
{
	if (!mbuf_args_ok(how, type) || mbuf == NULL)
		return EINVAL;
	return mbuf_cluster(how, type, MCLBYTES, mbuf, CALLER_OWNER());
}

errno_t
mbuf_allocpacket(mbuf_how_t how, size_t packetlen, unsigned int *maxchunks,
    mbuf_t *mbuf)
{
	if (how > MBUF_DONTWAIT || packetlen == 0 || mbuf == NULL)
		return EINVAL;
	return m_allocpacket(packetlen, maxchunks, how, CALLER_OWNER(), mbuf);
}

errno_t
mbuf_getpacket(mbuf_how_t how, mbuf_t *mbuf)
{
	if (how > MBUF_DONTWAIT || mbuf == NULL)
		return EINVAL;
	*mbuf = m_gethdr(how, MBUF_TYPE_DATA, CALLER_OWNER());
	if (*mbuf == NULL)
		return ENOMEM;
	if (m_clattach(*mbuf, how, MCLBYTES) != 0) {
		m_free(*mbuf);
		*mbuf = NULL;
		return ENOMEM;
	}
	return 0;
}

mbuf_t
mbuf_free(mbuf_t m)
{
	return m_free(m);
}

void
mbuf_freem(mbuf_t m)
{
	m_freem(m);
}

int
mbuf_freem_list(mbuf_t m)
{
	mbuf_t next;
	int packets = 0;

	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
		packets++;
	}
	return packets;
}

/* ---- Chains ---- */

size_t
mbuf_leadingspace(mbuf_t m)
{
	return m_leadingspace(m);
}

size_t
mbuf_trailingspace(mbuf_t m)
{
	return m_trailingspace(m);
}

errno_t
mbuf_copym(mbuf_t src, size_t offset, size_t len, mbuf_how_t how,
    mbuf_t *new_mbuf)
{
	if (src == NULL || new_mbuf == NULL || how > MBUF_DONTWAIT)
		return EINVAL;
	return m_copym(src, offset, len, how, CALLER_OWNER(), new_mbuf);
}

errno_t
mbuf_dup(mbuf_t src, mbuf_how_t how, mbuf_t *new_mbuf)
{
	if (src == NULL || new_mbuf == NULL || how > MBUF_DONTWAIT)
		return EINVAL;
	return m_dup(src, how, CALLER_OWNER(), new_mbuf);
}

errno_t
mbuf_prepend(mbuf_t *mbuf, size_t len, mbuf_how_t how)
{
	if (mbuf == NULL || *mbuf == NULL || how > MBUF_DONTWAIT)
		return EINVAL;
	*mbuf = m_prepend(*mbuf, len, how, CALLER_OWNER());
	return *mbuf == NULL ? ENOMEM : 0;
}

errno_t
mbuf_split(mbuf_t src, size_t offset, mbuf_how_t how, mbuf_t *new_mbuf)
{
	if (src == NULL || new_mbuf == NULL || how > MBUF_DONTWAIT)
		return EINVAL;
	return m_split(src, offset, how, CALLER_OWNER(), new_mbuf);
}

errno_t
mbuf_pullup(mbuf_t *mbuf, size_t len)
{
	if (mbuf == NULL || *mbuf == NULL)
		return EINVAL;
	*mbuf = m_pullup(*mbuf, len, CALLER_OWNER());
	return *mbuf == NULL ? ENOMEM : 0;
}

errno_t
mbuf_pulldown(mbuf_t src, size_t *offset, size_t length, mbuf_t *location)
{
	size_t off;

	if (src == NULL || offset == NULL || location == NULL)
		return EINVAL;
	*location = m_pulldown(src, *offset, length, &off, CALLER_OWNER());
	if (*location == NULL)
		return ENOMEM;
	*offset = off;
	return 0;
}

void
mbuf_adj(mbuf_t m, int len)
{
	m_adj(m, len);
}

errno_t
mbuf_copydata(mbuf_t m, size_t offset, size_t length, void *out_data)
{
	if (m == NULL || (out_data == NULL && length > 0))
		return EINVAL;
	return m_copydata(m, offset, length, out_data);
}

errno_t
mbuf_copyback(mbuf_t m, size_t offset, size_t length, const void *data,
    mbuf_how_t how)
{
	if (m == NULL || (data == NULL && length > 0) || how > MBUF_DONTWAIT)
		return EINVAL;
	return m_copyback(m, offset, length, data, how, CALLER_OWNER());
}

int
mbuf_mclhasreference(mbuf_t m)
{
	return (m->m_flags & M_EXT) && m->m_ext.ext_cl->mc_refcnt > 1;
}

/* ---- Fields ---- */

mbuf_t
mbuf_next(mbuf_t m)
{
	return m->m_next;
}

errno_t
mbuf_setnext(mbuf_t m, mbuf_t next)
{
	if (next != NULL && next->m_type == MBUF_TYPE_FREE)
		return EINVAL;
	m->m_next = next;
	return 0;
}

mbuf_t
mbuf_nextpkt(mbuf_t m)
{
	return m->m_nextpkt;
}

void
mbuf_setnextpkt(mbuf_t m, mbuf_t nextpkt)
{
	m->m_nextpkt = nextpkt;
}

size_t
mbuf_len(mbuf_t m)
{
	return m->m_len;
}

/* A length past the end of the storage would let the next reader run
 * off into a neighbour's memory: stop here instead. */
void
mbuf_setlen(mbuf_t m, size_t len)
{
	if (m->m_data + len > M_STORAGE(m) + M_STORAGE_SIZE(m))
		panic("mbuf_setlen: %u bytes do not fit mbuf %p (room for %d)",
		    len, m, M_STORAGE(m) + M_STORAGE_SIZE(m) - m->m_data);
	m->m_len = len;
}

size_t
mbuf_maxlen(mbuf_t m)
{
	return M_STORAGE_SIZE(m);
}

mbuf_type_t
mbuf_type(mbuf_t m)
{
	return m->m_type;
}

errno_t
mbuf_settype(mbuf_t m, mbuf_type_t new_type)
{
	if (new_type == MBUF_TYPE_FREE || new_type >= 256)
		return EINVAL;
	m_settype(m, new_type);
	return 0;
}

mbuf_flags_t
mbuf_flags(mbuf_t m)
{
	return m->m_flags & MBUF_KNOWN_FLAGS;
}

errno_t
mbuf_setflags_mask(mbuf_t m, mbuf_flags_t flags, mbuf_flags_t mask)
{
	mbuf_flags_t new = (m->m_flags & ~mask) | (flags & mask);

	if ((mask & ~MBUF_KNOWN_FLAGS) != 0 ||
	    ((new ^ m->m_flags) & (MBUF_EXT | MBUF_PKTHDR)) != 0)
		return EINVAL;
	m->m_flags = new;
	return 0;
}

errno_t
mbuf_setflags(mbuf_t m, mbuf_flags_t flags)
{
	if ((flags & ~MBUF_KNOWN_FLAGS) != 0)
		return EINVAL;
	return mbuf_setflags_mask(m, flags, MBUF_KNOWN_FLAGS);
}

/*
 * dest gets a packet header if it has none -- unless it holds data in
 * its own small buffer, which the header would overlap (EINVAL).  Tags
 * are copied too (ENOMEM if they cannot be).
 */
errno_t
mbuf_copy_pkthdr(mbuf_t dest, mbuf_t src)
{
	if (!(src->m_flags & M_PKTHDR))
		return EINVAL;
	if (dest->m_flags & M_PKTHDR) {
		m_tag_delete_chain(dest);
	} else {
		if (!(dest->m_flags & M_EXT) && dest->m_len > 0)
			return EINVAL;
		m_pkthdr_init(dest);
	}
	m_copy_pkthdr_fields(dest, src);
	return m_tag_copy_chain(dest, src, MBUF_DONTWAIT);
}

/* ---- Packet header ---- */

size_t
mbuf_pkthdr_len(mbuf_t m)
{
	return m->m_flags & M_PKTHDR ? (size_t)m->m_pkthdr.len : 0;
}

void
mbuf_pkthdr_setlen(mbuf_t m, size_t len)
{
	mbuf_require_pkthdr(m, "mbuf_pkthdr_setlen");
	m->m_pkthdr.len = len;
}

void
mbuf_pkthdr_adjustlen(mbuf_t m, int amount)
{
	mbuf_require_pkthdr(m, "mbuf_pkthdr_adjustlen");
	m->m_pkthdr.len += amount;
}

ifnet_t
mbuf_pkthdr_rcvif(mbuf_t m)
{
	return m->m_flags & M_PKTHDR ? m->m_pkthdr.rcvif : NULL;
}

errno_t
mbuf_pkthdr_setrcvif(mbuf_t m, ifnet_t ifp)
{
	if (!(m->m_flags & M_PKTHDR))
		return EINVAL;
	m->m_pkthdr.rcvif = ifp;
	return 0;
}

void *
mbuf_pkthdr_header(mbuf_t m)
{
	return m->m_flags & M_PKTHDR ? m->m_pkthdr.header : NULL;
}

void
mbuf_pkthdr_setheader(mbuf_t m, void *header)
{
	mbuf_require_pkthdr(m, "mbuf_pkthdr_setheader");
	m->m_pkthdr.header = header;
}

/* ---- Checksums and VLAN tags ----
 * Requested and performed bits share csum_flags (they never meet: one
 * is for output, the other for input) and the value csum_data. */

void
mbuf_inbound_modified(mbuf_t m)
{
	if (!(m->m_flags & M_PKTHDR))
		return;
	m->m_pkthdr.csum_flags &= ~CSUM_PERFORMED_MASK;
	m->m_pkthdr.csum_data = 0;
}

errno_t
mbuf_set_csum_requested(mbuf_t m, mbuf_csum_request_flags_t request,
    u_int32_t value)
{
	if (!(m->m_flags & M_PKTHDR))
		return EINVAL;
	m->m_pkthdr.csum_flags = (m->m_pkthdr.csum_flags & ~CSUM_REQUEST_MASK) |
	    (request & CSUM_REQUEST_MASK);
	m->m_pkthdr.csum_data = value;
	return 0;
}

errno_t
mbuf_get_csum_requested(mbuf_t m, mbuf_csum_request_flags_t *request,
    u_int32_t *value)
{
	if (!(m->m_flags & M_PKTHDR) || request == NULL)
		return EINVAL;
	*request = m->m_pkthdr.csum_flags & CSUM_REQUEST_MASK;
	if (value != NULL)
		*value = m->m_pkthdr.csum_data;
	return 0;
}

errno_t
mbuf_clear_csum_requested(mbuf_t m)
{
	if (!(m->m_flags & M_PKTHDR))
		return EINVAL;
	m->m_pkthdr.csum_flags &= ~CSUM_REQUEST_MASK;
	m->m_pkthdr.csum_data = 0;
	return 0;
}

errno_t
mbuf_set_csum_performed(mbuf_t m, mbuf_csum_performed_flags_t performed,
    u_int32_t value)
{
	if (!(m->m_flags & M_PKTHDR))
		return EINVAL;
	m->m_pkthdr.csum_flags =
	    (m->m_pkthdr.csum_flags & ~CSUM_PERFORMED_MASK) |
	    (performed & CSUM_PERFORMED_MASK);
	m->m_pkthdr.csum_data = value;
	return 0;
}

errno_t
mbuf_get_csum_performed(mbuf_t m, mbuf_csum_performed_flags_t *performed,
    u_int32_t *value)
{
	if (!(m->m_flags & M_PKTHDR) || performed == NULL)
		return EINVAL;
	*performed = m->m_pkthdr.csum_flags & CSUM_PERFORMED_MASK;
	if (value != NULL)
		*value = m->m_pkthdr.csum_data;
	return 0;
}

errno_t
mbuf_clear_csum_performed(mbuf_t m)
{
	if (!(m->m_flags & M_PKTHDR))
		return EINVAL;
	m->m_pkthdr.csum_flags &= ~CSUM_PERFORMED_MASK;
	m->m_pkthdr.csum_data = 0;
	return 0;
}

errno_t
mbuf_set_vlan_tag(mbuf_t m, u_int16_t vlan)
{
	if (!(m->m_flags & M_PKTHDR))
		return EINVAL;
	m->m_pkthdr.csum_flags |= CSUM_VLAN_TAG_VALID;
	m->m_pkthdr.vlan_tag = vlan;
	return 0;
}

errno_t
mbuf_get_vlan_tag(mbuf_t m, u_int16_t *vlan)
{
	if (!(m->m_flags & M_PKTHDR) || vlan == NULL)
		return EINVAL;
	if (!(m->m_pkthdr.csum_flags & CSUM_VLAN_TAG_VALID))
		return ENXIO;
	*vlan = m->m_pkthdr.vlan_tag;
	return 0;
}

errno_t
mbuf_clear_vlan_tag(mbuf_t m)
{
	if (!(m->m_flags & M_PKTHDR))
		return EINVAL;
	m->m_pkthdr.csum_flags &= ~CSUM_VLAN_TAG_VALID;
	m->m_pkthdr.vlan_tag = 0;
	return 0;
}

/*
 * The Internet checksum's ones' complement sum of len bytes at off,
 * taken as big-endian 16-bit words whatever the mbuf boundaries.
 */
static uint32_t
mbuf_sum16(mbuf_t m, size_t off, size_t len)
{
	uint32_t sum = 0;
	bool odd = false;
	size_t i, n;

	while (m != NULL && off >= (size_t)m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	for (; m != NULL && len > 0; m = m->m_next, off = 0) {
		const uint8_t *p = (const uint8_t *)m->m_data + off;

		n = min(m->m_len - off, len);
		for (i = 0; i < n; i++, odd = !odd)
			sum += odd ? p[i] : (uint32_t)p[i] << 8;
		sum = (sum & 0xffff) + (sum >> 16);	/* no overflow */
		len -= n;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void
mbuf_put16(mbuf_t m, size_t off, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	/* In place: the bytes exist, so this can only fail by not being
	 * able to copy a shared cluster; the packet then goes out with a
	 * bad checksum and the receiver drops it. */
	(void)m_copyback(m, off, 2, b, MBUF_DONTWAIT, MBUF_OWNER_KERNEL);
}

/*
 * What the stack leaves for later (BSD's "delayed checksums"): for
 * CSUM_TCP/CSUM_UDP the transport checksum field holds the pseudo-
 * header sum and csum_data the field's offset in the transport header;
 * for CSUM_IP the header checksum is computed from scratch.
 */
static void
mbuf_finalize_inet(mbuf_t m, size_t ip_off)
{
	uint32_t flags = m->m_pkthdr.csum_flags;
	size_t hlen, ip_len, field;
	uint8_t ip[4];
	uint16_t sum;

	if (m_copydata(m, ip_off, sizeof(ip), ip) != 0)
		return;
	hlen = (ip[0] & 0x0f) * 4;
	ip_len = ip[2] << 8 | ip[3];
	if (hlen < 20 || ip_len < hlen || ip_off + ip_len > (size_t)m_length(m))
		return;
	if (flags & CSUM_DELAY_DATA) {
		field = hlen + (m->m_pkthdr.csum_data & 0xffff);
		if (field + 2 <= ip_len) {
			sum = ~mbuf_sum16(m, ip_off + hlen, ip_len - hlen);
			if (sum == 0 && (flags & CSUM_UDP))
				sum = 0xffff;	/* 0 means "no checksum" */
			mbuf_put16(m, ip_off + field, sum);
		}
	}
	if (flags & CSUM_IP) {
		mbuf_put16(m, ip_off + 10, 0);
		mbuf_put16(m, ip_off + 10, ~mbuf_sum16(m, ip_off, hlen));
	}
}

void
mbuf_outbound_finalize(mbuf_t m, u_long protocol_family,
    size_t protocol_offset)
{
	if (!(m->m_flags & M_PKTHDR))
		return;
	if (protocol_family != FINALIZE_PF_INET)
		return;		/* Finch has only IPv4 */
	mbuf_finalize_inet(m, protocol_offset);
	m->m_pkthdr.csum_flags &= ~CSUM_REQUEST_MASK;
}

/* ---- Sizes and statistics ---- */

size_t
mbuf_get_mlen(void)
{
	return MLEN;
}

size_t
mbuf_get_mhlen(void)
{
	return MHLEN;
}

u_int32_t
mbuf_get_minclsize(void)
{
	return MINCLSIZE;
}

void
mbuf_stats(struct mbuf_stat *stats)
{
	mbuf_fill_stat(stats);
}
