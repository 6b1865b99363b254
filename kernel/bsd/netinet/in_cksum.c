/*
 * The Internet checksum (RFC 1071): the one's complement of the one's
 * complement sum of 16-bit words, over a flat buffer or a byte range of
 * an mbuf chain.  IP checks its header with it, ICMP its message, UDP its
 * datagram plus a pseudo header (in_pseudo).
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <bsd/netinet/in_var.h>

/*
 * The sum does not depend on byte order (RFC 1071, section 2): adding
 * words as the i386 loads them gives the checksum in memory order, ready
 * to store in a header without htons.
 */

/* Fold a 32-bit running sum to 16 bits, adding the carries back in. */
static u_int32_t
in_cksum_fold(u_int32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return sum;
}

/*
 * Add len bytes at buf to sum, as 16-bit words in memory order.  An odd
 * last byte counts as the first byte of a word whose second byte is 0.
 * The result is folded to 16 bits.
 */
static u_int32_t
in_cksum_add(const void *buf, size_t len, u_int32_t sum)
{
	const u_int8_t *p = buf;
	u_int16_t word;

	while (len >= 2) {
		memcpy(&word, p, 2);		/* p may be odd-aligned */
		sum += word;
		if (sum & 0x80000000)		/* keep room for more carries */
			sum = in_cksum_fold(sum);
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		word = 0;
		memcpy(&word, p, 1);
		sum += word;
	}
	return in_cksum_fold(sum);
}

/* Swap the two bytes of a folded sum (a sum that started at an odd offset). */
static u_int32_t
in_cksum_swap(u_int32_t sum)
{
	return ((sum & 0xff) << 8) | (sum >> 8);
}

u_int32_t
in_cksum_partial(const void *buf, size_t len, u_int32_t sum)
{
	return in_cksum_fold(in_cksum_add(buf, len, 0) + sum);
}

u_int16_t
in_cksum_buf(const void *buf, size_t len)
{
	return (u_int16_t)~in_cksum_add(buf, len, 0);
}

/*
 * The pseudo header's contribution to a UDP or TCP checksum: source,
 * destination, and the protocol and length given as
 * htons(length + protocol) (one word holding both sums the same as the
 * two words of the real pseudo header).  Not complemented.
 */
u_int32_t
in_pseudo(in_addr_t src, in_addr_t dst, u_int32_t proto_len)
{
	u_int32_t sum;

	sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	    (proto_len >> 16) + (proto_len & 0xffff);
	return in_cksum_fold(sum);
}

/*
 * The checksum of len bytes of the chain m from byte off, starting from
 * the partial sum `initial` (e.g. in_pseudo()), complemented.  Bytes past
 * the end of the chain count as absent.  A piece that starts at an odd
 * offset of the range has its bytes in the other halves of the words:
 * its sum is byte-swapped before it is added.
 */
u_int16_t
in_cksum_mbuf(mbuf_t m, size_t off, size_t len, u_int32_t initial)
{
	u_int32_t sum = in_cksum_fold(initial), part;
	size_t done = 0, n;

	/* Find the mbuf that holds byte off. */
	while (m != NULL && off >= mbuf_len(m)) {
		off -= mbuf_len(m);
		m = mbuf_next(m);
	}
	for (; m != NULL && done < len; m = mbuf_next(m), off = 0) {
		n = mbuf_len(m) - off;
		if (n > len - done)
			n = len - done;
		part = in_cksum_add((const u_int8_t *)mbuf_data(m) + off, n, 0);
		if (done & 1)
			part = in_cksum_swap(part);
		sum = in_cksum_fold(sum + part);
		done += n;
	}
	return (u_int16_t)~sum;
}

/* The KPI (<netinet/in.h>): the first len bytes of the chain. */
int
in_cksum(mbuf_t m, int len)
{
	if (m == NULL || len < 0)
		return 0xffff;
	return in_cksum_mbuf(m, 0, (size_t)len, 0);
}
