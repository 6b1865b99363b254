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
 *
 * The loop adds 32 bits at a time into a 64-bit accumulator: a 32-bit
 * word is two 16-bit words, and since 2^16 == 1 modulo 0xffff, the
 * carries out of bit 15 and bit 31 are the end-around carries, added
 * back when the sum is folded.  A 64-bit sum cannot overflow before
 * 2^32 words, so the loop needs no carry test; folding once at the end
 * gives the same checksum as adding 16 bits at a time (RFC 1071,
 * section 2, "parallel summation").  The i386 loads unaligned words
 * itself: __builtin_memcpy of 4 bytes compiles to one load, where the
 * libkern memcpy (-ffreestanding) would be a call and a byte loop.
 */
static u_int32_t
in_cksum_add(const void *buf, size_t len, u_int32_t sum)
{
	const u_int8_t *p = buf;
	u_int64_t acc = sum;
	u_int32_t w0, w1, w2, w3;
	u_int16_t word;

	while (len >= 16) {		/* four words per turn: fewer branches */
		__builtin_memcpy(&w0, p, 4);
		__builtin_memcpy(&w1, p + 4, 4);
		__builtin_memcpy(&w2, p + 8, 4);
		__builtin_memcpy(&w3, p + 12, 4);
		acc += (u_int64_t)w0 + w1 + w2 + w3;
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		__builtin_memcpy(&w0, p, 4);
		acc += w0;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		__builtin_memcpy(&word, p, 2);
		acc += word;
		p += 2;
		len -= 2;
	}
	if (len == 1)
		acc += *p;		/* the first byte of a word: its low half */
	acc = (acc >> 32) + (acc & 0xffffffff);	/* at most 33 bits */
	acc = (acc >> 32) + (acc & 0xffffffff);	/* now 32 */
	return in_cksum_fold((u_int32_t)acc);
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

/*
 * A checksum after one 16-bit word of the data changed from old to new
 * (RFC 1624, equation 3: HC' = ~(~HC + ~m + m')), without summing the
 * data again.  All three in memory order, as they sit in the packet.
 */
u_int16_t
in_cksum_adjust(u_int16_t cksum, u_int16_t old, u_int16_t new)
{
	u_int32_t sum;

	sum = (u_int16_t)~cksum + (u_int16_t)~old + (u_int32_t)new;
	return (u_int16_t)~in_cksum_fold(sum);
}

/* The KPI (<netinet/in.h>): the first len bytes of the chain. */
int
in_cksum(mbuf_t m, int len)
{
	if (m == NULL || len < 0)
		return 0xffff;
	return in_cksum_mbuf(m, 0, (size_t)len, 0);
}
