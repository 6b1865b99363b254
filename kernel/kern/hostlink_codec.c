/*
 * The host link's frames (docs/hostlink.md), the kernel's side of the
 * host's codec.py and messages.py: the decoder that finds frames in the
 * bytes COM2 delivers, and the readers and writers of payload fields.
 * hostlink.c runs the link; hostlink_requests.c acts on the requests.
 */
#include <sys/systm.h>
#include <kern/hostlink_var.h>
#include <libkern/crc32.h>

/* ---- the decoder (section 1, "Receiving") ---- */

void
hl_decoder_init(struct hl_decoder *d, uint8_t *buf, uint32_t size)
{
	bzero(d, sizeof(*d));
	d->d_buf = buf;
	d->d_size = size;
	d->d_max_payload = size - HL_OVERHEAD;
}

/* Forget the first n bytes held. */
static void
hl_drop(struct hl_decoder *d, uint32_t n)
{
	d->d_head += n;
	d->d_len -= n;
	d->d_scan = d->d_scan > n ? d->d_scan - n : 0;
	if (d->d_len == 0)
		d->d_head = 0;
}

/* The frame handed out last has been dealt with: drop its bytes. */
static void
hl_settle(struct hl_decoder *d)
{
	hl_drop(d, d->d_done);
	d->d_done = 0;
}

/*
 * Drop the bytes before the next magic at or after offset `from`; a
 * last lone 'F' stays, as it may be the first half of one.  Returns how
 * many bytes went.
 */
static uint32_t
hl_skip_to_magic(struct hl_decoder *d, uint32_t from)
{
	const uint8_t *p = d->d_buf + d->d_head;
	uint32_t i;

	for (i = from; i < d->d_len; i++) {
		if (p[i] != HL_MAGIC0)
			continue;
		if (i + 1 == d->d_len || p[i + 1] == HL_MAGIC1)
			break;
	}
	hl_drop(d, i);
	return i;
}

size_t
hl_decoder_put(struct hl_decoder *d, const void *p, size_t n)
{
	hl_settle(d);
	if (n > d->d_size - d->d_len)
		n = d->d_size - d->d_len;
	if (d->d_head + d->d_len + n > d->d_size) {	/* slide to the front */
		memmove(d->d_buf, d->d_buf + d->d_head, d->d_len);
		d->d_head = 0;
	}
	memcpy(d->d_buf + d->d_head + d->d_len, p, n);
	d->d_len += n;
	return n;
}

uint32_t
hl_decoder_pending(const struct hl_decoder *d)
{
	return d->d_len - d->d_done;
}

enum hl_decode
hl_decoder_abandon(struct hl_decoder *d)
{
	hl_settle(d);
	if (d->d_len == 0)
		return HL_DEC_MORE;
	hl_drop(d, 1);
	d->d_abandoned++;
	return HL_DEC_ABANDONED;
}

/* Are the HL_HELLO_LEN bytes at p a whole, good HELLO? */
static bool
hl_is_hello(const uint8_t *p)
{
	const uint32_t body = HL_HELLO_LEN - HL_CRC_LEN;

	return p[0] == HL_MAGIC0 && p[1] == HL_MAGIC1 &&
	    p[HL_OFF_VERSION] == HL_VERSION && p[HL_OFF_TYPE] == HL_HELLO &&
	    hl_le32dec(p + HL_OFF_LEN) == HL_HELLO_LEN - HL_OVERHEAD &&
	    crc32(0, p, body) == hl_le32dec(p + body);
}

/*
 * Step 4: the frame at the head is incomplete.  Is there a whole HELLO
 * after its first byte?  Its offset, or 0.  The host never puts a whole
 * HELLO inside another frame, so one found here is a new session's, and
 * the frame it interrupted will never complete.  d_scan remembers how
 * far the search got, so that each byte is looked at once however long
 * the frame takes to arrive.
 */
static uint32_t
hl_find_hello(struct hl_decoder *d)
{
	const uint8_t *p = d->d_buf + d->d_head;
	uint32_t i;

	for (i = d->d_scan > 1 ? d->d_scan : 1; i + HL_HELLO_LEN <= d->d_len;
	    i++)
		if (p[i] == HL_MAGIC0 && hl_is_hello(p + i))
			return i;
	d->d_scan = i;
	return 0;
}

/*
 * Steps 1 to 7 of section 1.  After a bad CRC or an oversized length
 * only the first byte is known to be bad: the frame's length may be
 * what was damaged, and a good frame may start inside it.  The bytes up
 * to the next magic go with the same error, so that one damaged frame
 * is one error.
 */
enum hl_decode
hl_decode(struct hl_decoder *d, struct hl_frame *f)
{
	const uint8_t *p;
	uint32_t length, total, skip;

	hl_settle(d);
	if (d->d_len == 0)
		return HL_DEC_MORE;
	p = d->d_buf + d->d_head;
	if (p[0] != HL_MAGIC0 || (d->d_len > 1 && p[1] != HL_MAGIC1)) {
		d->d_bad_magic += hl_skip_to_magic(d, 0);
		return HL_DEC_BAD_MAGIC;
	}
	if (d->d_len < HL_HDR_LEN)
		return HL_DEC_MORE;
	length = hl_le32dec(p + HL_OFF_LEN);
	if (length > d->d_max_payload) {
		d->d_oversized++;
		hl_skip_to_magic(d, 1);
		return HL_DEC_OVERSIZED;
	}
	total = HL_OVERHEAD + length;
	if (d->d_len < total) {
		if ((skip = hl_find_hello(d)) == 0)
			return HL_DEC_MORE;
		d->d_resyncs++;
		hl_drop(d, skip);
		return HL_DEC_RESYNC;
	}
	f->f_crc = hl_le32dec(p + HL_HDR_LEN + length);
	if (crc32(0, p, HL_HDR_LEN + length) != f->f_crc) {
		d->d_bad_crc++;
		hl_skip_to_magic(d, 1);
		return HL_DEC_BAD_CRC;
	}
	if (p[HL_OFF_VERSION] != HL_VERSION) {
		d->d_bad_version++;
		hl_drop(d, total);
		return HL_DEC_BAD_VERSION;
	}
	f->f_type = p[HL_OFF_TYPE];
	f->f_seq = hl_le16dec(p + HL_OFF_SEQ);
	f->f_len = length;
	f->f_payload = p + HL_HDR_LEN;
	d->d_done = total;
	d->d_frames++;
	return HL_DEC_FRAME;
}

/* ---- reading a request's payload: each field in turn, then the end ---- */

/* The next n bytes, or NULL (and i_error) if the payload ends first. */
static const uint8_t *
hl_get(struct hl_in *in, uint32_t n)
{
	const uint8_t *p;

	if (in->i_error != NULL)
		return NULL;
	if (n > in->i_len - in->i_pos) {
		in->i_error = "ends before its last field";
		return NULL;
	}
	p = in->i_p + in->i_pos;
	in->i_pos += n;
	return p;
}

uint16_t
hl_get16(struct hl_in *in)
{
	const uint8_t *p = hl_get(in, 2);

	return p != NULL ? hl_le16dec(p) : 0;
}

uint32_t
hl_get32(struct hl_in *in)
{
	const uint8_t *p = hl_get(in, 4);

	return p != NULL ? hl_le32dec(p) : 0;
}

bool
hl_has_nul(const uint8_t *p, uint32_t n)
{
	while (n-- > 0)
		if (*p++ == '\0')
			return true;
	return false;
}

/* A str field, copied with a NUL into dst, which must hold it whole. */
void
hl_get_str(struct hl_in *in, char *dst, size_t size)
{
	uint16_t n = hl_get16(in);
	const uint8_t *p = hl_get(in, n);

	dst[0] = '\0';
	if (p == NULL)
		return;
	if (n >= size || hl_has_nul(p, n)) {
		in->i_error = "has a string that is too long or holds a NUL";
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* A rest field: everything left. */
const uint8_t *
hl_get_rest(struct hl_in *in, uint32_t *n)
{
	*n = in->i_len - in->i_pos;
	return hl_get(in, *n);
}

/* Was every field there, and nothing after them? */
bool
hl_in_ok(struct hl_in *in)
{
	if (in->i_error == NULL && in->i_pos != in->i_len)
		in->i_error = "has bytes after its last field";
	return in->i_error == NULL;
}

/* ---- writing a reply's payload ---- */

/* Room for the next n bytes, or NULL (and o_overflow). */
uint8_t *
hl_room(struct hl_out *out, uint32_t n)
{
	uint8_t *p;

	if (n > out->o_size - out->o_len) {
		out->o_overflow = true;
		return NULL;
	}
	p = out->o_buf + out->o_len;
	out->o_len += n;
	return p;
}

void
hl_put8(struct hl_out *out, uint8_t v)
{
	uint8_t *p = hl_room(out, 1);

	if (p != NULL)
		*p = v;
}

void
hl_put16(struct hl_out *out, uint16_t v)
{
	uint8_t *p = hl_room(out, 2);

	if (p != NULL)
		hl_le16enc(p, v);
}

void
hl_put32(struct hl_out *out, uint32_t v)
{
	uint8_t *p = hl_room(out, 4);

	if (p != NULL)
		hl_le32enc(p, v);
}

void
hl_put_bytes(struct hl_out *out, const void *src, uint32_t n)
{
	uint8_t *p = hl_room(out, n);

	if (p != NULL)
		memcpy(p, src, n);
}

/* A str field.  Our strings are short: a u16 count always holds them. */
void
hl_put_str(struct hl_out *out, const char *s)
{
	uint32_t n = strlen(s);

	hl_put16(out, n);
	hl_put_bytes(out, s, n);
}

/* An ERROR payload: status, request type, reserved, message. */
void
hl_put_error(struct hl_out *out, errno_t status, uint8_t type,
    const char *message)
{
	hl_put32(out, status);
	hl_put8(out, type);
	hl_put8(out, 0);
	hl_put16(out, 0);
	hl_put_str(out, message);
}
