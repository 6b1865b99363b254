/*
 * The host link (docs/hostlink.md): the frames the host tools and the
 * kernel exchange over COM2, the decoder that finds them in the byte
 * stream and the payload readers and writers (hostlink_codec.c, shared
 * with its unit tests in hostlink_selftest.c), the link's state, and its
 * entry points.  The host's side is tools/finch/hostlink/.
 */
#ifndef _KERN_HOSTLINK_VAR_H_
#define _KERN_HOSTLINK_VAR_H_

#include <sys/types.h>
#include <i386/serial.h>
#include <kern/locks_var.h>
#include <kern/linker_set.h>

/* A frame: magic, version, type, seq, length, payload, CRC-32. */
#define HL_MAGIC0		'F'
#define HL_MAGIC1		'N'
#define HL_VERSION		1
#define HL_HDR_LEN		10	/* magic 2, version 1, type 1, seq 2,
					   length 4 */
#define HL_CRC_LEN		4
#define HL_OVERHEAD		(HL_HDR_LEN + HL_CRC_LEN)
#define HL_MAX_PAYLOAD		65536	/* both sides' limit in version 1 */
#define HL_MAX_FRAME		(HL_OVERHEAD + HL_MAX_PAYLOAD)
#define HL_HELLO_LEN		(HL_OVERHEAD + 4)	/* a HELLO: its payload is
					   the u32 flags */

/* Offsets inside the header. */
#define HL_OFF_VERSION		2
#define HL_OFF_TYPE		3
#define HL_OFF_SEQ		4
#define HL_OFF_LEN		6

/* Frame types.  A reply's type is its request's | HL_REPLY. */
#define HL_HELLO		0x01
#define HL_KMOD_ALLOC		0x02
#define HL_KMOD_WRITE		0x03
#define HL_KMOD_LOAD		0x04
#define HL_KMOD_UNLOAD		0x05
#define HL_KMOD_LIST		0x06
#define HL_KMOD_FREE		0x07
#define HL_MONITOR		0x08
#define HL_SYS_OPEN		0x09	/* PF_SYSTEM sockets: bsd/kern/ */
#define HL_SYS_CLOSE		0x0a	/*   sys_hostlink.c */
#define HL_SYS_IOCTL		0x0b
#define HL_SYS_CONNECT		0x0c
#define HL_SYS_SEND		0x0d
#define HL_SYS_RECV		0x0e
#define HL_SYS_SETOPT		0x0f
#define HL_SYS_GETOPT		0x10
#define HL_EVENT		0x40
#define HL_REPLY		0x80
#define HL_ERROR		0xff

#define HL_PROTOCOL		1	/* HELLO reply: protocol */
#define HL_HELLO_EVENTS		0x1	/* HELLO flags: send EVENT frames */
#define HL_STATE_BOOTING	0	/* HELLO reply: state */
#define HL_STATE_READY		1
#define HL_NO_PHYS		0xffffffffu	/* KMOD_ALLOC reply: phys */
#define HL_KMOD_COMPONENT	0x1	/* KMOD_LIST flags: kernel part */

/* EVENT kinds. */
#define HL_EVENT_READY		1	/* the link is up */
#define HL_EVENT_LOG		2	/* one console line */
#define HL_EVENT_KEV		3	/* a kernel event */
#define HL_EVENT_PANIC		4	/* the panic report */

/* Little-endian fields at any alignment. */
static inline uint16_t
hl_le16dec(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static inline uint32_t
hl_le32dec(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void
hl_le16enc(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void
hl_le32enc(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* A good frame, as the decoder hands it on. */
struct hl_frame {
	uint8_t		f_type;
	uint16_t	f_seq;
	uint32_t	f_len;		/* payload bytes */
	const uint8_t	*f_payload;	/* inside the decoder's buffer */
	uint32_t	f_crc;		/* as received: names the request */
};

/* What one call to hl_decode() found. */
enum hl_decode {
	HL_DEC_MORE,		/* nothing complete yet: feed more bytes */
	HL_DEC_FRAME,		/* a good frame: *f describes it */
	HL_DEC_BAD_MAGIC,	/* bytes before a magic were dropped */
	HL_DEC_OVERSIZED,	/* a length over the limit: header dropped */
	HL_DEC_BAD_CRC,		/* a CRC mismatch: its first byte dropped */
	HL_DEC_BAD_VERSION,	/* a good frame of another version: skipped */
	HL_DEC_ABANDONED,	/* a partial frame given up: 1 byte dropped */
	HL_DEC_RESYNC,		/* a HELLO ended a partial frame's wait: the
				   bytes before the HELLO dropped */
};

/*
 * The receiver of docs/hostlink.md, section 1.  Bytes go in with
 * hl_decoder_put(); hl_decode() reports one frame or one error at a
 * time.  The bytes held are d_buf[d_head .. d_head + d_len).  While a
 * frame is incomplete, a whole HELLO behind its first byte ends the wait
 * (HL_DEC_RESYNC): a new host session gets through whatever an earlier
 * one left half-sent.  Only one thread uses a decoder, so it has no lock.
 */
struct hl_decoder {
	uint8_t		*d_buf;
	uint32_t	d_size;		/* bytes d_buf holds */
	uint32_t	d_max_payload;	/* d_size - HL_OVERHEAD */
	uint32_t	d_head;		/* first byte held */
	uint32_t	d_len;		/* bytes held */
	uint32_t	d_done;		/* the frame last returned: dropped
					   at the next call */
	uint32_t	d_scan;		/* where the search for a HELLO
					   inside a partial frame goes on */
	/* What it found, for the `hostlink` command. */
	uint32_t	d_frames;
	uint32_t	d_bad_magic;	/* bytes dropped outside frames */
	uint32_t	d_bad_crc;
	uint32_t	d_oversized;
	uint32_t	d_bad_version;
	uint32_t	d_abandoned;	/* partial frames given up */
	uint32_t	d_resyncs;	/* partial frames a HELLO ended */
};

/* Use buf (size bytes) to hold a frame: payloads up to size - 14. */
void		hl_decoder_init(struct hl_decoder *d, uint8_t *buf,
		    uint32_t size);
/* Add bytes; returns how many fit (all, once hl_decode said MORE). */
size_t		hl_decoder_put(struct hl_decoder *d, const void *p, size_t n);
/*
 * The next frame or error in the bytes held.  A frame's payload stays
 * valid until the next call to hl_decode() or hl_decoder_put().
 */
enum hl_decode	hl_decode(struct hl_decoder *d, struct hl_frame *f);
/* Bytes held back waiting for the rest of a frame. */
uint32_t	hl_decoder_pending(const struct hl_decoder *d);
/*
 * Nothing came for a while: drop the first byte of a partial frame (its
 * length was probably damaged).  HL_DEC_ABANDONED, or HL_DEC_MORE if no
 * byte was held.  Then call hl_decode() for what follows that byte.
 */
enum hl_decode	hl_decoder_abandon(struct hl_decoder *d);

/*
 * Reading a payload (hostlink_codec.c): each field in turn, then
 * hl_in_ok().  The first fault found is kept in i_error; from then on
 * every field reads as 0 or "".
 */
struct hl_in {
	const uint8_t	*i_p;
	uint32_t	i_len;
	uint32_t	i_pos;		/* the next field */
	const char	*i_error;	/* the first thing wrong, or NULL */
};
uint16_t	hl_get16(struct hl_in *in);
uint32_t	hl_get32(struct hl_in *in);
/* A str field, copied with a NUL into dst, which must hold it whole. */
void		hl_get_str(struct hl_in *in, char *dst, size_t size);
/* A rest field: everything left (*n bytes). */
const uint8_t	*hl_get_rest(struct hl_in *in, uint32_t *n);
/* Was every field there, and nothing after them? */
bool		hl_in_ok(struct hl_in *in);
/* Is there a NUL among the n bytes at p? */
bool		hl_has_nul(const uint8_t *p, uint32_t n);

/* Writing a payload (hostlink_codec.c): what does not fit is left out. */
struct hl_out {
	uint8_t		*o_buf;
	uint32_t	o_len;		/* bytes written */
	uint32_t	o_size;
	bool		o_overflow;	/* something did not fit */
};
/* Room for the next n bytes, or NULL (and o_overflow). */
uint8_t	*hl_room(struct hl_out *out, uint32_t n);
void	hl_put8(struct hl_out *out, uint8_t v);
void	hl_put16(struct hl_out *out, uint16_t v);
void	hl_put32(struct hl_out *out, uint32_t v);
void	hl_put_bytes(struct hl_out *out, const void *src, uint32_t n);
/* A str field: a u16 count, then the bytes. */
void	hl_put_str(struct hl_out *out, const char *s);
/* An ERROR payload: status, request type, reserved, message. */
void	hl_put_error(struct hl_out *out, errno_t status, uint8_t type,
	    const char *message);

/*
 * The link.  Only the link thread receives, acts and touches the last
 * reply; hl_tx_lock keeps each frame whole on the wire when another
 * thread posts an event (kernel events come from kern_event.c's thread
 * call, whose listeners' mutex is taken before hl_tx_lock).  The
 * `hostlink` command reads the counters without a lock: each is one
 * aligned word that one thread writes.
 */
struct hostlink {
	struct uart		hl_uart;	/* COM2 */
	lck_mtx_t		hl_tx_lock;
	struct hl_decoder	hl_dec;
	bool			hl_up;		/* COM2 set up, READY sent */
	bool			hl_no_uart;	/* QEMU was given no COM2 */
	bool			hl_booted;	/* HELLO says "ready" */
	bool			hl_events;	/* the host asked for EVENTs */
	bool			hl_eio_sent;	/* damage reported since the
						   last good frame */
	char			hl_boot_id[17];	/* 16 hex digits, new every
						   boot: the HELLO reply's */

	/* The last request and its reply, for retransmissions. */
	bool			hl_have_reply;
	uint8_t			hl_req_type;
	uint16_t		hl_req_seq;
	uint32_t		hl_req_crc;
	uint8_t			hl_reply_type;	/* type | HL_REPLY, or ERROR */
	uint32_t		hl_reply_len;
	uint8_t			*hl_reply;	/* its payload */

	/* Statistics. */
	uint32_t		hl_frames_out;	/* hl_tx_lock */
	uint32_t		hl_events_out;	/* hl_tx_lock */
	uint32_t		hl_errors_out;	/* ERROR frames */
	uint32_t		hl_retransmits;	/* replies sent again */
	uint32_t		hl_requests;	/* requests acted on */
	uint32_t		hl_hellos;
	uint32_t		hl_unhelloed;	/* requests refused: no HELLO
						   since boot */
	uint32_t		hl_kevs_out;	/* kernel events sent */
	struct timespec		hl_session_start;	/* the last HELLO */
};

/*
 * A request's handler: parse the whole payload, then act.  It returns
 * EINVAL, before acting, when the payload is malformed (hl_act answers
 * with an ERROR); otherwise 0, with its reply written to out.  It runs in
 * the link thread: while it waits, no other request is answered.
 */
typedef errno_t hl_handler_t(struct hostlink *hl, struct hl_in *in,
    struct hl_out *out);

struct hl_request {
	uint8_t		rq_type;
	const char	*rq_name;
	hl_handler_t	*rq_handler;
};

/*
 * Requests of other subsystems register beside their code, so that the
 * link knows none of them by name:
 *
 *	static const struct hl_request hl_sys_open_rq =
 *	    { HL_SYS_OPEN, "SYS_OPEN", hl_sys_open };
 *	HL_REQUEST_SET(hl_sys_open_rq);
 */
#define HL_REQUEST_SET(rq)	LINKER_SET_ENTRY(hlrequest, rq)

/*
 * The requests (hostlink_requests.c).  hl_act() acts on a new request
 * and leaves its reply, or an ERROR, in hl_reply, hl_reply_type and
 * hl_reply_len for the link thread to send.
 */
void		hl_act(struct hostlink *hl, const struct hl_frame *f);
/* A request type's name ("KMOD_LOAD"), or "an unknown type". */
const char	*hl_type_name(uint8_t type);

/* Start the link thread (boot, once threads and interrupts run). */
void		hostlink_start(void);
/* The kernel finished booting: HELLO replies say "ready" from now on. */
void		hostlink_kernel_ready(void);
/*
 * Send an EVENT frame (kind HL_EVENT_*, then data) if the host asked for
 * events in its HELLO.  Returns 0 when sent; ENOTCONN when the link is
 * not up or the host did not ask; EMSGSIZE when data is too large.
 * Thread context: it may sleep while a reply is being written.
 */
errno_t		hostlink_post_event(uint16_t kind, const void *data,
		    size_t len);

#endif /* _KERN_HOSTLINK_VAR_H_ */
