/*
 * Unit tests of the host link's frame decoder (hostlink_codec.c), run by
 * the monitor's `selftest`: the receiving rules of docs/hostlink.md
 * section 1.  The frames are built here, byte by byte, the way the host's
 * codec.py builds them, so that a mistake shared by the kernel's encoder
 * and decoder cannot hide.
 */
#include <sys/systm.h>
#include <kern/hostlink_var.h>
#include <kern/kalloc.h>
#include <kern/selftest.h>
#include <libkern/crc32.h>

#define FRAME_MAX	64	/* the test frames are small */
#define P(s)		s, sizeof(s) - 1	/* a payload and its length */

/* A frame as codec.py's encode_frame() makes it; returns its size. */
static size_t
mkframe(uint8_t *out, uint8_t version, uint8_t type, uint16_t seq,
    const char *payload, uint32_t len)
{
	uint32_t crc;

	out[0] = 'F';
	out[1] = 'N';
	out[2] = version;
	out[3] = type;
	out[4] = seq & 0xff;
	out[5] = seq >> 8;
	out[6] = len & 0xff;
	out[7] = (len >> 8) & 0xff;
	out[8] = (len >> 16) & 0xff;
	out[9] = len >> 24;
	memcpy(out + 10, payload, len);
	crc = crc32(0, out, 10 + len);
	out[10 + len] = crc & 0xff;
	out[11 + len] = (crc >> 8) & 0xff;
	out[12 + len] = (crc >> 16) & 0xff;
	out[13 + len] = crc >> 24;
	return 14 + len;
}

static size_t
mkgood(uint8_t *out, uint8_t type, uint16_t seq, const char *payload,
    uint32_t len)
{
	return mkframe(out, HL_VERSION, type, seq, payload, len);
}

/* Is the next thing decoded a frame with this type, seq and payload? */
static bool
next_is_frame(struct hl_decoder *d, uint8_t type, uint16_t seq,
    const char *payload, uint32_t len)
{
	struct hl_frame f;
	enum hl_decode r = hl_decode(d, &f);

	if (r != HL_DEC_FRAME) {
		printf("    decoded %d, want a frame (seq %u)\n", r, seq);
		return false;
	}
	return f.f_type == type && f.f_seq == seq && f.f_len == len &&
	    memcmp(f.f_payload, payload, len) == 0;
}

/* Is the next thing decoded `want` (an error, or MORE)? */
static bool
next_is(struct hl_decoder *d, enum hl_decode want)
{
	struct hl_frame f;
	enum hl_decode r = hl_decode(d, &f);

	if (r != want)
		printf("    decoded %d, want %d\n", r, want);
	return r == want;
}

/*
 * Run body with a decoder of the protocol's full size, then free it
 * whatever body returned (ST_ASSERT returns early).
 */
static int
with_decoder(int (*body)(struct hl_decoder *d))
{
	struct hl_decoder d;
	uint8_t *buf;
	int failed;

	buf = kalloc(HL_MAX_FRAME);
	if (buf == NULL) {
		printf("    no memory for a decoder\n");
		return 1;
	}
	hl_decoder_init(&d, buf, HL_MAX_FRAME);
	failed = body(&d);
	kfree(buf, HL_MAX_FRAME);
	return failed;
}

/* The example of docs/hostlink.md, then a frame with no payload. */
static int
good_frame(struct hl_decoder *d)
{
	static const uint8_t hello[] = {
		0x46, 0x4e, 0x01, 0x01, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x95, 0xc9, 0xb4, 0xa6,
	};
	uint8_t list[FRAME_MAX];
	size_t n = mkgood(list, HL_KMOD_LIST, 2, P(""));

	ST_ASSERT(n == HL_OVERHEAD);
	ST_ASSERT(hl_decoder_put(d, hello, sizeof(hello)) == sizeof(hello));
	ST_ASSERT(hl_decoder_put(d, list, n) == n);
	ST_ASSERT(next_is_frame(d, HL_HELLO, 1, P("\x01\x00\x00\x00")));
	ST_ASSERT(next_is_frame(d, HL_KMOD_LIST, 2, P("")));
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(hl_decoder_pending(d) == 0);
	ST_ASSERT(d->d_frames == 2 && d->d_bad_magic == 0 && d->d_bad_crc == 0);
	return 0;
}

static int
test_hostlink_good_frame(void)
{
	return with_decoder(good_frame);
}
SELFTEST(hostlink_good_frame, test_hostlink_good_frame);

/* Byte by byte, a frame comes out exactly when its last byte is in. */
static int
split_delivery(struct hl_decoder *d)
{
	uint8_t buf[2 * FRAME_MAX];
	size_t n1, n, i;

	n1 = mkgood(buf, HL_MONITOR, 1, P("version"));
	n = n1 + mkgood(buf + n1, HL_MONITOR, 2, P("kextstat"));
	for (i = 0; i < n; i++) {
		ST_ASSERT(hl_decoder_put(d, buf + i, 1) == 1);
		if (i == n1 - 1)
			ST_ASSERT(next_is_frame(d, HL_MONITOR, 1,
			    P("version")));
		else if (i == n - 1)
			ST_ASSERT(next_is_frame(d, HL_MONITOR, 2,
			    P("kextstat")));
		ST_ASSERT(next_is(d, HL_DEC_MORE));
	}
	ST_ASSERT(hl_decoder_pending(d) == 0);
	ST_ASSERT(d->d_frames == 2 && d->d_bad_magic == 0);
	return 0;
}

static int
test_hostlink_split(void)
{
	return with_decoder(split_delivery);
}
SELFTEST(hostlink_split, test_hostlink_split);

/* Bytes before a magic are dropped and counted; an 'F' at the very end
 * may be the first half of a magic and waits. */
static int
garbage_first(struct hl_decoder *d)
{
	uint8_t buf[FRAME_MAX];
	size_t n = mkgood(buf, HL_HELLO, 3, P("\x01\x02\x03\x04"));

	ST_ASSERT(hl_decoder_put(d, "garbage", 7) == 7);
	ST_ASSERT(hl_decoder_put(d, buf, n) == n);
	ST_ASSERT(next_is(d, HL_DEC_BAD_MAGIC));
	ST_ASSERT(d->d_bad_magic == 7);
	ST_ASSERT(next_is_frame(d, HL_HELLO, 3, P("\x01\x02\x03\x04")));

	ST_ASSERT(hl_decoder_put(d, "xyF", 3) == 3);
	ST_ASSERT(next_is(d, HL_DEC_BAD_MAGIC));
	ST_ASSERT(d->d_bad_magic == 9);
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(hl_decoder_pending(d) == 1);
	ST_ASSERT(hl_decoder_put(d, buf + 1, n - 1) == n - 1);
	ST_ASSERT(next_is_frame(d, HL_HELLO, 3, P("\x01\x02\x03\x04")));
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	return 0;
}

static int
test_hostlink_garbage(void)
{
	return with_decoder(garbage_first);
}
SELFTEST(hostlink_garbage, test_hostlink_garbage);

/*
 * A damaged byte is one CRC error and the next frame still decodes; so
 * does a good frame that a damaged length swallowed.
 */
static int
bad_crc(struct hl_decoder *d)
{
	uint8_t buf[2 * FRAME_MAX];
	size_t n1, n2;

	n1 = mkgood(buf, HL_MONITOR, 1, P("version"));
	buf[12] ^= 0x40;
	n2 = mkgood(buf + n1, HL_MONITOR, 2, P("kextstat"));
	ST_ASSERT(hl_decoder_put(d, buf, n1 + n2) == n1 + n2);
	ST_ASSERT(next_is(d, HL_DEC_BAD_CRC));
	ST_ASSERT(next_is_frame(d, HL_MONITOR, 2, P("kextstat")));
	ST_ASSERT(next_is(d, HL_DEC_MORE));

	/* The first frame claims 10 bytes more than it has: its "end"
	 * lies inside the second frame. */
	n1 = mkgood(buf, HL_MONITOR, 3, P("uptime"));
	buf[6] += 10;
	n2 = mkgood(buf + n1, HL_MONITOR, 4, P("help"));
	ST_ASSERT(hl_decoder_put(d, buf, n1 + n2) == n1 + n2);
	ST_ASSERT(next_is(d, HL_DEC_BAD_CRC));
	ST_ASSERT(next_is_frame(d, HL_MONITOR, 4, P("help")));
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(d->d_bad_crc == 2 && d->d_frames == 2);
	return 0;
}

static int
test_hostlink_bad_crc(void)
{
	return with_decoder(bad_crc);
}
SELFTEST(hostlink_bad_crc, test_hostlink_bad_crc);

/* A length over 65,536 is a damaged header: dropped at once, without
 * waiting for bytes that will never come.  65,536 itself is fine. */
static int
oversized(struct hl_decoder *d)
{
	uint8_t buf[2 * FRAME_MAX];
	size_t n;

	(void)mkgood(buf, HL_KMOD_WRITE, 9, P(""));
	hl_le32enc(buf + 6, HL_MAX_PAYLOAD + 1);
	memcpy(buf + HL_HDR_LEN, "junk", 4);
	n = HL_HDR_LEN + 4;
	n += mkgood(buf + n, HL_HELLO, 10, P("\x01\x01\x01\x01"));
	ST_ASSERT(hl_decoder_put(d, buf, n) == n);
	ST_ASSERT(next_is(d, HL_DEC_OVERSIZED));
	ST_ASSERT(next_is_frame(d, HL_HELLO, 10, P("\x01\x01\x01\x01")));
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(d->d_oversized == 1);

	(void)mkgood(buf, HL_KMOD_WRITE, 11, P(""));
	hl_le32enc(buf + 6, HL_MAX_PAYLOAD);
	ST_ASSERT(hl_decoder_put(d, buf, HL_HDR_LEN) == HL_HDR_LEN);
	ST_ASSERT(next_is(d, HL_DEC_MORE));	/* waits for 64 KiB */
	ST_ASSERT(hl_decoder_pending(d) == HL_HDR_LEN);
	return 0;
}

static int
test_hostlink_oversized(void)
{
	return with_decoder(oversized);
}
SELFTEST(hostlink_oversized, test_hostlink_oversized);

/*
 * A truncated frame waits for the rest; given up (after the link's
 * one-second silence), it loses its first byte and the rest is dropped
 * as garbage, and the next frame decodes.
 */
static int
truncated(struct hl_decoder *d)
{
	uint8_t buf[FRAME_MAX];
	size_t n = mkgood(buf, HL_MONITOR, 7, P("kextstat"));

	ST_ASSERT(hl_decoder_put(d, buf, n - 3) == n - 3);
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(hl_decoder_pending(d) == n - 3);
	ST_ASSERT(hl_decoder_put(d, buf + n - 3, 3) == 3);
	ST_ASSERT(next_is_frame(d, HL_MONITOR, 7, P("kextstat")));

	ST_ASSERT(hl_decoder_put(d, buf, n - 3) == n - 3);
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(hl_decoder_abandon(d) == HL_DEC_ABANDONED);
	ST_ASSERT(next_is(d, HL_DEC_BAD_MAGIC));
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(hl_decoder_pending(d) == 0);
	ST_ASSERT(hl_decoder_abandon(d) == HL_DEC_MORE);	/* none held */
	ST_ASSERT(d->d_abandoned == 1 && d->d_bad_magic == n - 4);

	n = mkgood(buf, HL_MONITOR, 8, P("uptime"));
	ST_ASSERT(hl_decoder_put(d, buf, n) == n);
	ST_ASSERT(next_is_frame(d, HL_MONITOR, 8, P("uptime")));
	return 0;
}

static int
test_hostlink_truncated(void)
{
	return with_decoder(truncated);
}
SELFTEST(hostlink_truncated, test_hostlink_truncated);

/* A frame of another version has a good CRC: skipped whole. */
static int
bad_version(struct hl_decoder *d)
{
	uint8_t buf[2 * FRAME_MAX];
	size_t n;

	n = mkframe(buf, 2, HL_HELLO, 4, P("\x00\x00\x00\x00"));
	n += mkgood(buf + n, HL_HELLO, 5, P("\x01\x00\x00\x00"));
	ST_ASSERT(hl_decoder_put(d, buf, n) == n);
	ST_ASSERT(next_is(d, HL_DEC_BAD_VERSION));
	ST_ASSERT(next_is_frame(d, HL_HELLO, 5, P("\x01\x00\x00\x00")));
	ST_ASSERT(d->d_bad_version == 1 && d->d_bad_magic == 0);
	return 0;
}

static int
test_hostlink_bad_version(void)
{
	return with_decoder(bad_version);
}
SELFTEST(hostlink_bad_version, test_hostlink_bad_version);

/*
 * A frame left half-sent (a tool killed in the middle of a KMOD_WRITE)
 * would make the decoder wait for bytes that never come; a whole HELLO
 * behind it ends the wait at once, byte by byte as the link thread
 * feeds it, and nothing is reported as damage.
 */
static int
hello_resyncs(struct hl_decoder *d)
{
	uint8_t buf[2 * FRAME_MAX], hello[FRAME_MAX];
	size_t n, h, i;

	n = mkgood(buf, HL_KMOD_WRITE, 9, P("\x00\x10\x00\x00 some code"));
	hl_le32enc(buf + HL_OFF_LEN, 1000);	/* claims far more */
	n -= 8;					/* and stops early */
	h = mkgood(hello, HL_HELLO, 1, P("\x00\x00\x00\x00"));
	memcpy(buf + n, hello, h);
	for (i = 0; i < n + h; i++) {
		ST_ASSERT(hl_decoder_put(d, buf + i, 1) == 1);
		if (i < n + h - 1)
			ST_ASSERT(next_is(d, HL_DEC_MORE));
	}
	ST_ASSERT(next_is(d, HL_DEC_RESYNC));
	ST_ASSERT(next_is_frame(d, HL_HELLO, 1, P("\x00\x00\x00\x00")));
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(hl_decoder_pending(d) == 0);
	ST_ASSERT(d->d_resyncs == 1 && d->d_bad_crc == 0 &&
	    d->d_bad_magic == 0 && d->d_abandoned == 0);
	return 0;
}

static int
test_hostlink_hello_resyncs(void)
{
	return with_decoder(hello_resyncs);
}
SELFTEST(hostlink_hello_resyncs, test_hostlink_hello_resyncs);

/*
 * Only a whole, good HELLO ends the wait: a damaged one, another
 * request, or a HELLO of the wrong size inside a partial frame do not.
 */
static int
only_hello_resyncs(struct hl_decoder *d)
{
	uint8_t buf[3 * FRAME_MAX];
	size_t n;

	n = mkgood(buf, HL_KMOD_WRITE, 9, P(""));
	hl_le32enc(buf + HL_OFF_LEN, 1000);
	n += mkgood(buf + n, HL_KMOD_LIST, 2, P(""));
	n += mkgood(buf + n, HL_HELLO, 3, P("\x00\x00\x00\x00\x00"));
	n += mkgood(buf + n, HL_HELLO, 4, P("\x00\x00\x00\x00"));
	buf[n - 6] ^= 0x01;			/* its flags damaged */
	ST_ASSERT(hl_decoder_put(d, buf, n) == n);
	ST_ASSERT(next_is(d, HL_DEC_MORE));
	ST_ASSERT(hl_decoder_pending(d) == n);
	ST_ASSERT(d->d_resyncs == 0);
	return 0;
}

static int
test_hostlink_only_hello_resyncs(void)
{
	return with_decoder(only_hello_resyncs);
}
SELFTEST(hostlink_only_hello_resyncs, test_hostlink_only_hello_resyncs);
