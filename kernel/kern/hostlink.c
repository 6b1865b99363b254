/*
 * The kernel's end of the host link (docs/hostlink.md).  The "hostlink"
 * thread owns COM2: it feeds the bytes it receives to the frame decoder
 * (hostlink_codec.c), acts on each request from the host tools (HELLO,
 * KMOD_*, MONITOR) and writes the reply; the kmod table (kmod.c) and
 * the monitor (monitor.c) do the actual work.
 */
#include <sys/systm.h>
#include <i386/serial.h>
#include <kern/console.h>
#include <kern/hostlink_var.h>
#include <kern/kmod_var.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/monitor_var.h>
#include <kern/thread.h>
#include <kern/thread_var.h>
#include <kern/version.h>
#include <libkern/crc32.h>

#define HL_PARTIAL_TIMEOUT_MS	1000	/* then give up on a partial frame */
#define HL_LIST_MAX		128	/* KMOD_LIST rows: under 40 KiB */
#define HL_WHY_MAX		256	/* a refusal's explanation */

/*
 * The link.  Only the link thread receives, acts and touches the last
 * reply; hl_tx_lock keeps each frame whole on the wire when another
 * thread posts an event.  The `hostlink` command reads the counters
 * without a lock: each is one aligned word that one thread writes.
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
	struct timespec		hl_session_start;	/* the last HELLO */
};

static struct hostlink hostlink;
static uint8_t hl_rxbuf[HL_MAX_FRAME];		/* the decoder's bytes */
static uint8_t hl_replybuf[HL_MAX_PAYLOAD];	/* the last reply */

/* ---- sending ---- */

static void
hl_write(struct hostlink *hl, const void *p, uint32_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		uart_putc(&hl->hl_uart, *b++);
}

/*
 * Send one frame whose payload is a then b (either may be empty).  The
 * CRC is computed as the bytes go, so no copy of the frame is needed.
 */
static void
hl_send_frame(struct hostlink *hl, uint8_t type, uint16_t seq,
    const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	uint8_t hdr[HL_HDR_LEN], trailer[HL_CRC_LEN];
	uint32_t crc;

	hdr[0] = HL_MAGIC0;
	hdr[1] = HL_MAGIC1;
	hdr[HL_OFF_VERSION] = HL_VERSION;
	hdr[HL_OFF_TYPE] = type;
	hl_le16enc(hdr + HL_OFF_SEQ, seq);
	hl_le32enc(hdr + HL_OFF_LEN, alen + blen);
	crc = crc32(0, hdr, sizeof(hdr));
	crc = crc32(crc, a, alen);
	crc = crc32(crc, b, blen);
	hl_le32enc(trailer, crc);

	lck_mtx_lock(&hl->hl_tx_lock);
	hl_write(hl, hdr, sizeof(hdr));
	hl_write(hl, a, alen);
	hl_write(hl, b, blen);
	hl_write(hl, trailer, sizeof(trailer));
	hl->hl_frames_out++;
	if (type == HL_EVENT)
		hl->hl_events_out++;
	lck_mtx_unlock(&hl->hl_tx_lock);
}

static void
hl_send_event(struct hostlink *hl, uint16_t kind, const void *data,
    uint32_t len)
{
	uint8_t k[2];

	hl_le16enc(k, kind);
	hl_send_frame(hl, HL_EVENT, 0, k, sizeof(k), data, len);
}

errno_t
hostlink_post_event(uint16_t kind, const void *data, size_t len)
{
	struct hostlink *hl = &hostlink;

	if (!hl->hl_up || !hl->hl_events)
		return ENOTCONN;
	if (len > HL_MAX_PAYLOAD - 2)
		return EMSGSIZE;
	hl_send_event(hl, kind, data, len);
	return 0;
}

static const char *
hl_damage_message(enum hl_decode what)
{
	switch (what) {
	case HL_DEC_BAD_MAGIC:
		return "dropped bytes that were not in a frame";
	case HL_DEC_OVERSIZED:
		return "dropped a frame header with an oversized length";
	case HL_DEC_BAD_CRC:
		return "dropped a frame with a bad CRC";
	case HL_DEC_BAD_VERSION:
		return "dropped a frame of another protocol version";
	case HL_DEC_ABANDONED:
		return "gave up on a frame that never completed";
	default:
		return "dropped a damaged frame";
	}
}

/*
 * Tell the host that a damaged frame was dropped (ERROR, seq 0, EIO), so
 * that it retransmits now rather than after its timeout.  Only once
 * until the next good frame: one damaged request often makes several
 * errors here, and the host retransmits only once per request -- a
 * second EIO would make it give up on the retransmission too.
 */
static void
hl_report_damage(struct hostlink *hl, enum hl_decode what)
{
	uint8_t buf[96];
	struct hl_out out = { buf, 0, sizeof(buf), false };

	if (hl->hl_eio_sent)
		return;
	hl->hl_eio_sent = true;
	hl_put_error(&out, EIO, 0, hl_damage_message(what));
	hl_send_frame(hl, HL_ERROR, 0, out.o_buf, out.o_len, NULL, 0);
	hl->hl_errors_out++;
}

/* ---- the requests (section 6) ---- */

/*
 * A HELLO starts a new host session: blocks an earlier session reserved
 * and never loaded (a kextload that died half-way) are freed.
 */
static errno_t
hl_hello(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t flags = hl_get32(in);

	if (!hl_in_ok(in))
		return EINVAL;
	kmod_free_orphans();
	hl->hl_events = (flags & HL_HELLO_EVENTS) != 0;
	hl->hl_hellos++;
	nanouptime(&hl->hl_session_start);
	hl_put8(out, HL_PROTOCOL);
	hl_put8(out, hl->hl_booted ? HL_STATE_READY : HL_STATE_BOOTING);
	hl_put16(out, 0);
	hl_put32(out, HL_MAX_PAYLOAD);
	hl_put_str(out, finch_build_id);
	hl_put_str(out, finch_version);
	return 0;
}

static errno_t
hl_kmod_alloc(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t size = hl_get32(in), addr = 0;
	errno_t status;

	if (!hl_in_ok(in))
		return EINVAL;
	status = kmod_alloc(size, &addr);
	hl_put32(out, status);
	hl_put32(out, addr);
	/* Finch maps RAM one to one: a block's physical address is its
	 * virtual one, and kmod_alloc's blocks are contiguous. */
	hl_put32(out, status == 0 ? addr : HL_NO_PHYS);
	return 0;
}

static errno_t
hl_kmod_write(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t addr = hl_get32(in), n;
	const uint8_t *data = hl_get_rest(in, &n);

	if (!hl_in_ok(in))
		return EINVAL;
	hl_put32(out, kmod_write(addr, data, n));
	return 0;
}

static errno_t
hl_kmod_load(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	struct kmod_load_req req;
	char why[HL_WHY_MAX];
	kern_return_t start_result;
	uint32_t i, id;
	errno_t status;

	bzero(&req, sizeof(req));
	req.kl_addr = hl_get32(in);
	req.kl_size = hl_get32(in);
	req.kl_info = hl_get32(in);
	req.kl_crc = hl_get32(in);
	req.kl_ndeps = hl_get16(in);
	for (i = 0; i < req.kl_ndeps; i++) {
		id = hl_get32(in);
		if (i < KMOD_MAX_DEPS)
			req.kl_deps[i] = id;	/* kmod_load refuses more */
	}
	hl_get_str(in, req.kl_compat, sizeof(req.kl_compat));
	if (!hl_in_ok(in))
		return EINVAL;
	status = kmod_load(&req, &id, &start_result, why, sizeof(why));
	hl_put32(out, status);
	hl_put32(out, start_result);
	hl_put32(out, id);
	hl_put_str(out, why);
	return 0;
}

static errno_t
hl_kmod_unload(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t id = hl_get32(in);
	char why[HL_WHY_MAX];
	kern_return_t stop_result;
	errno_t status;

	if (!hl_in_ok(in))
		return EINVAL;
	status = kmod_unload(id, &stop_result, why, sizeof(why));
	hl_put32(out, status);
	hl_put32(out, stop_result);
	hl_put_str(out, why);
	return 0;
}

static errno_t
hl_kmod_free(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t addr = hl_get32(in);

	if (!hl_in_ok(in))
		return EINVAL;
	hl_put32(out, kmod_free(addr));
	return 0;
}

/* One KMOD_LIST entry. */
static void
hl_put_kmod(struct hl_out *out, const struct kmod_stat *ks)
{
	uint32_t d;

	hl_put32(out, ks->ks_id);
	hl_put32(out, ks->ks_refs);
	hl_put32(out, ks->ks_address);
	hl_put32(out, ks->ks_size);
	hl_put32(out, ks->ks_wired);
	hl_put32(out, ks->ks_crc);
	hl_put16(out, ks->ks_component ? HL_KMOD_COMPONENT : 0);
	hl_put16(out, ks->ks_ndeps);
	for (d = 0; d < ks->ks_ndeps; d++)
		hl_put32(out, ks->ks_deps[d]);
	hl_put_str(out, ks->ks_name);
	hl_put_str(out, ks->ks_version);
	hl_put_str(out, ks->ks_compat);
}

static errno_t
hl_kmod_list(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	static struct kmod_stat rows[HL_LIST_MAX];	/* link thread only */
	int n, i;

	if (!hl_in_ok(in))
		return EINVAL;
	n = kmod_list(rows, HL_LIST_MAX);
	if (n == HL_LIST_MAX)
		printf("hostlink: KMOD_LIST shows only the first %d kmods\n",
		    HL_LIST_MAX);
	hl_put16(out, n);
	for (i = 0; i < n; i++)
		hl_put_kmod(out, &rows[i]);
	return 0;
}

/*
 * Run `line` as the monitor would, with everything this thread prints
 * going into the reply (the rest of out) instead of onto COM1: the host
 * asked, so the host gets the output.
 */
static errno_t
hl_monitor_run(char *line, struct hl_out *out)
{
	size_t n;
	errno_t err;

	err = monitor_execute_captured(line, (char *)out->o_buf + out->o_len,
	    out->o_size - out->o_len, &n);
	out->o_len += n;
	return err;
}

/* A line the monitor cannot take: say why, as the monitor would. */
static errno_t __printflike(2, 3)
hl_monitor_refuse(struct hl_out *out, const char *fmt, ...)
{
	char msg[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hl_put_bytes(out, msg, imin(n, sizeof(msg) - 1));
	return EINVAL;
}

static errno_t
hl_monitor(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	char line[MONITOR_LINE_MAX + 1];
	const uint8_t *text;
	uint8_t *status;
	uint32_t n;
	errno_t err;

	text = hl_get_rest(in, &n);
	if (!hl_in_ok(in))
		return EINVAL;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;			/* a line as typed, Enter included */
	status = hl_room(out, 4);	/* filled in once the command ran */
	if (n > MONITOR_LINE_MAX) {
		err = hl_monitor_refuse(out, "monitor: line too long (more "
		    "than %d characters); ignored\n", MONITOR_LINE_MAX);
	} else if (hl_has_nul(text, n)) {
		err = hl_monitor_refuse(out, "monitor: the line holds a NUL "
		    "byte; ignored\n");
	} else {
		memcpy(line, text, n);
		line[n] = '\0';
		err = hl_monitor_run(line, out);
	}
	hl_le32enc(status, err);
	return 0;
}

/* Each request's handler: parse the whole payload, then act.  A handler
 * returns EINVAL, before acting, when the payload is malformed. */
typedef errno_t hl_handler_t(struct hostlink *hl, struct hl_in *in,
    struct hl_out *out);

static const struct hl_request {
	uint8_t		rq_type;
	const char	*rq_name;
	hl_handler_t	*rq_handler;
} hl_requests[] = {
	{ HL_HELLO,		"HELLO",	hl_hello },
	{ HL_KMOD_ALLOC,	"KMOD_ALLOC",	hl_kmod_alloc },
	{ HL_KMOD_WRITE,	"KMOD_WRITE",	hl_kmod_write },
	{ HL_KMOD_LOAD,		"KMOD_LOAD",	hl_kmod_load },
	{ HL_KMOD_UNLOAD,	"KMOD_UNLOAD",	hl_kmod_unload },
	{ HL_KMOD_LIST,		"KMOD_LIST",	hl_kmod_list },
	{ HL_KMOD_FREE,		"KMOD_FREE",	hl_kmod_free },
	{ HL_MONITOR,		"MONITOR",	hl_monitor },
};

static const struct hl_request *
hl_find_request(uint8_t type)
{
	size_t i;

	for (i = 0; i < sizeof(hl_requests) / sizeof(hl_requests[0]); i++)
		if (hl_requests[i].rq_type == type)
			return &hl_requests[i];
	return NULL;
}

/* Replace whatever the handler wrote with an ERROR payload. */
static void
hl_reply_error(struct hostlink *hl, struct hl_out *out, errno_t status,
    uint8_t type, const char *message)
{
	out->o_len = 0;
	out->o_overflow = false;
	hl_put_error(out, status, type, message);
	hl->hl_reply_type = HL_ERROR;
	hl->hl_errors_out++;
}

/* Act on a new request; its reply (or an ERROR) goes to hl_reply. */
static void
hl_act(struct hostlink *hl, const struct hl_frame *f)
{
	const struct hl_request *rq = hl_find_request(f->f_type);
	struct hl_in in = { f->f_payload, f->f_len, 0, NULL };
	struct hl_out out = { hl->hl_reply, 0, HL_MAX_PAYLOAD, false };
	char msg[128];

	hl->hl_reply_type = f->f_type | HL_REPLY;
	if (rq == NULL) {
		snprintf(msg, sizeof(msg), "the kernel knows no request of "
		    "type 0x%02x", f->f_type);
		hl_reply_error(hl, &out, ENOSYS, f->f_type, msg);
	} else if (rq->rq_handler(hl, &in, &out) != 0) {
		snprintf(msg, sizeof(msg), "the %s payload of %u bytes %s",
		    rq->rq_name, f->f_len, in.i_error);
		hl_reply_error(hl, &out, EINVAL, f->f_type, msg);
	} else if (out.o_overflow) {
		snprintf(msg, sizeof(msg), "the %s reply would be over %u "
		    "bytes", rq->rq_name, HL_MAX_PAYLOAD);
		hl_reply_error(hl, &out, EMSGSIZE, f->f_type, msg);
	}
	hl->hl_reply_len = out.o_len;
}

/*
 * Is f the request we answered last, sent again because our reply got
 * lost or damaged?  Section 5 says "the same seq"; we also want the same
 * bytes (CRC), so that a new request that happens to reuse the seq is
 * not answered from memory.  HELLO is always acted on: a new host
 * session numbers from 1 again and must not get the last session's
 * reply, and acting twice on a HELLO does no harm.
 */
static bool
hl_is_retransmission(struct hostlink *hl, const struct hl_frame *f)
{
	return hl->hl_have_reply && f->f_type != HL_HELLO &&
	    f->f_type == hl->hl_req_type && f->f_seq == hl->hl_req_seq &&
	    f->f_crc == hl->hl_req_crc;
}

/* A good frame: answer a retransmission from memory, act on the rest. */
static void
hl_input(struct hostlink *hl, const struct hl_frame *f)
{
	hl->hl_eio_sent = false;
	if (hl_is_retransmission(hl, f)) {
		hl->hl_retransmits++;
	} else {
		hl->hl_have_reply = false;
		hl->hl_req_type = f->f_type;
		hl->hl_req_seq = f->f_seq;
		hl->hl_req_crc = f->f_crc;
		hl->hl_requests++;
		hl_act(hl, f);
		hl->hl_have_reply = true;
	}
	hl_send_frame(hl, hl->hl_reply_type, hl->hl_req_seq, hl->hl_reply,
	    hl->hl_reply_len, NULL, 0);
}

/* ---- the link thread ---- */

/* The next byte: wait for ever between frames, a second inside one. */
static int
hl_getc(struct hostlink *hl)
{
	if (hl_decoder_pending(&hl->hl_dec) == 0)
		return uart_getc(&hl->hl_uart);
	return uart_getc_timeout(&hl->hl_uart, HL_PARTIAL_TIMEOUT_MS);
}

/* Act on every frame and error the bytes received so far make. */
static void
hl_drain(struct hostlink *hl)
{
	struct hl_frame f;
	enum hl_decode r;

	while ((r = hl_decode(&hl->hl_dec, &f)) != HL_DEC_MORE) {
		if (r == HL_DEC_FRAME)
			hl_input(hl, &f);
		else
			hl_report_damage(hl, r);
	}
}

static void
hostlink_thread(void *parameter, wait_result_t wait_result)
{
	struct hostlink *hl = &hostlink;
	enum hl_decode r;
	uint8_t byte;
	int c;

	if (!uart_present(COM2_BASE)) {
		printf("hostlink: no UART at COM2 (0x%x): the host link is "
		    "off\n", COM2_BASE);
		hl->hl_no_uart = true;
		return;			/* the thread ends */
	}
	uart_init(&hl->hl_uart, COM2_BASE, COM2_IRQ, "com2");
	uart_enable_rx_intr(&hl->hl_uart);
	hl->hl_up = true;
	/* What the host sent before now is lost: say we hear it now. */
	hl_send_event(hl, HL_EVENT_READY, NULL, 0);
	for (;;) {
		c = hl_getc(hl);
		if (c >= 0) {
			/* Always fits: hl_decode said MORE, so a frame
			 * is incomplete and its bytes fit the buffer. */
			byte = c;
			(void)hl_decoder_put(&hl->hl_dec, &byte, 1);
		} else if ((r = hl_decoder_abandon(&hl->hl_dec)) !=
		    HL_DEC_MORE) {
			hl_report_damage(hl, r);
		}
		hl_drain(hl);
	}
}

void
hostlink_start(void)
{
	struct hostlink *hl = &hostlink;
	thread_t t;

	lck_mtx_init(&hl->hl_tx_lock, NULL, NULL);
	hl_decoder_init(&hl->hl_dec, hl_rxbuf, sizeof(hl_rxbuf));
	hl->hl_reply = hl_replybuf;
	if (kernel_thread_start(hostlink_thread, NULL, &t) != KERN_SUCCESS)
		panic("hostlink: cannot start the link thread");
	thread_set_name(t, "hostlink");
	thread_deallocate(t);
}

void
hostlink_kernel_ready(void)
{
	hostlink.hl_booted = true;
}

/* ---- the `hostlink` command ---- */

static const char *
hl_type_name(uint8_t type)
{
	const struct hl_request *rq = hl_find_request(type);

	return rq != NULL ? rq->rq_name : "an unknown type";
}

static void
hl_print_session(struct hostlink *hl)
{
	struct timespec *ts = &hl->hl_session_start;

	printf("kernel state: %s\n", hl->hl_booted ? "ready" : "booting");
	if (hl->hl_hellos == 0) {
		printf("host session: none (no HELLO received yet)\n");
		return;
	}
	printf("host session: active, HELLO at %ld.%03ld s of uptime; "
	    "events %s\n", (long)ts->tv_sec, ts->tv_nsec / 1000000,
	    hl->hl_events ? "on" : "off");
}

static void
hl_print_requests(struct hostlink *hl)
{
	if (hl->hl_requests == 0) {
		printf("requests: none yet\n");
		return;
	}
	printf("requests: %u acted on; the last: seq %u, %s (0x%02x)\n",
	    hl->hl_requests, hl->hl_req_seq, hl_type_name(hl->hl_req_type),
	    hl->hl_req_type);
}

static int
mon_hostlink(int argc, char **argv)
{
	struct hostlink *hl = &hostlink;
	struct hl_decoder *d = &hl->hl_dec;

	if (argc != 1)
		return monitor_usage(argc, argv);
	if (!hl->hl_up) {
		printf("host link: %s\n", hl->hl_no_uart ?
		    "off: the machine has no COM2" : "COM2 is not set up yet");
		return 0;
	}
	hl_print_session(hl);
	hl_print_requests(hl);
	printf("frames: %u received, %u sent (%u events, %u errors, "
	    "%u replies sent again)\n", d->d_frames, hl->hl_frames_out,
	    hl->hl_events_out, hl->hl_errors_out, hl->hl_retransmits);
	printf("dropped: %u bytes outside frames, %u bad CRC, "
	    "%u oversized, %u bad version, %u abandoned partial\n",
	    d->d_bad_magic, d->d_bad_crc, d->d_oversized, d->d_bad_version,
	    d->d_abandoned);
	printf("com2: %u bytes received, ring full %u times, "
	    "%u line errors\n", hl->hl_uart.u_rx_bytes,
	    hl->hl_uart.u_rx_pauses, hl->hl_uart.u_rx_errors);
	return 0;
}
MONITOR_COMMAND(hostlink, mon_hostlink, "hostlink",
    "the host link on COM2: session, frames, errors dropped");
