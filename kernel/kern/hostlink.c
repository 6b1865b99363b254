/*
 * The kernel's end of the host link (docs/hostlink.md).  The "hostlink"
 * thread owns COM2: it feeds the bytes it receives to the frame decoder
 * (hostlink_codec.c), has hostlink_requests.c act on each new request,
 * sends the reply, and answers a retransmission from memory.  Also the
 * EVENT frames and the `hostlink` command.
 */
#include <sys/systm.h>
#include <i386/pio.h>
#include <i386/serial.h>
#include <kern/hostlink_var.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/thread.h>
#include <kern/thread_var.h>
#include <libkern/crc32.h>
#include <bsd/kern/kern_event_var.h>

#define HL_PARTIAL_TIMEOUT_MS	1000	/* then give up on a partial frame */

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

/*
 * The host link listens to kernel events like any other listener
 * (kern_event.c calls it in its thread call, for each event posted) and
 * sends each as an EVENT KEV frame: vendor, class, subclass, code, then
 * the data.  Only to a host that asked for events (hostlink_post_event).
 */
static void
hl_kev_listener(const struct kern_event_msg *msg, void *arg)
{
	struct hostlink *hl = arg;
	uint8_t frame[KEV_MSG_MAX];
	size_t datalen = msg->total_size - KEV_MSG_HEADER_SIZE;

	hl_le32enc(frame, msg->vendor_code);
	hl_le32enc(frame + 4, msg->kev_class);
	hl_le32enc(frame + 8, msg->kev_subclass);
	hl_le32enc(frame + 12, msg->event_code);
	memcpy(frame + 16, msg->event_data, datalen);
	if (hostlink_post_event(HL_EVENT_KEV, frame, 16 + datalen) == 0)
		hl->hl_kevs_out++;
}

static struct kev_listener hl_kev = {
	.kl_func = hl_kev_listener, .kl_arg = &hostlink
};

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
	case HL_DEC_RESYNC:
		return "dropped a partial frame for a new HELLO";
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

/*
 * A request before any HELLO since this boot comes from a host whose
 * session began before the guest rebooted: what it asks about (a block
 * from KMOD_ALLOC, a kmod id) is gone.  Refuse it with ENOTCONN, so that
 * the host learns of the reboot instead of getting a puzzling refusal.
 */
static void
hl_refuse_unhelloed(struct hostlink *hl, const struct hl_frame *f)
{
	uint8_t buf[128];
	struct hl_out out = { buf, 0, sizeof(buf), false };

	hl->hl_unhelloed++;
	hl_put_error(&out, ENOTCONN, f->f_type, "the kernel has booted since "
	    "this host's HELLO: say HELLO again");
	hl_send_frame(hl, HL_ERROR, f->f_seq, out.o_buf, out.o_len, NULL, 0);
	hl->hl_errors_out++;
}

/* A good frame: answer a retransmission from memory, act on the rest. */
static void
hl_input(struct hostlink *hl, const struct hl_frame *f)
{
	hl->hl_eio_sent = false;
	if (f->f_type != HL_HELLO && hl->hl_hellos == 0) {
		hl_refuse_unhelloed(hl, f);
		return;
	}
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
		else if (r != HL_DEC_RESYNC)	/* an earlier session's
						   leftovers: nobody to tell */
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

/*
 * The boot id: new at every boot, so that a host tool can tell that the
 * guest rebooted between or during its requests.  It mixes the
 * time-stamp counter (under QEMU's TCG, the host's cycle counter) with
 * the CMOS clock's date and time: two boots would have to agree on both.
 */
static void
hl_make_boot_id(struct hostlink *hl)
{
	static const uint8_t rtc_regs[] = { 0x00, 0x02, 0x04, 0x07, 0x08,
	    0x09 };		/* seconds, minutes, hours, day, month, year */
	uint8_t rtc[sizeof(rtc_regs)];
	uint32_t lo, hi;
	size_t i;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	for (i = 0; i < sizeof(rtc_regs); i++) {
		outb(0x70, rtc_regs[i]);
		rtc[i] = inb(0x71);
	}
	snprintf(hl->hl_boot_id, sizeof(hl->hl_boot_id), "%08x%08x",
	    crc32(hi, rtc, sizeof(rtc)), lo);
}

void
hostlink_start(void)
{
	struct hostlink *hl = &hostlink;
	thread_t t;

	hl_make_boot_id(hl);
	lck_mtx_init(&hl->hl_tx_lock, NULL, NULL);
	hl_decoder_init(&hl->hl_dec, hl_rxbuf, sizeof(hl_rxbuf));
	hl->hl_reply = hl_replybuf;
	kev_listener_add(&hl_kev);	/* sends only once a HELLO asks */
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

static void
hl_print_session(struct hostlink *hl)
{
	struct timespec *ts = &hl->hl_session_start;

	printf("kernel state: %s; boot id %s\n", hl->hl_booted ? "ready" :
	    "booting", hl->hl_boot_id);
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
	printf("kernel events: %u sent to the host\n", hl->hl_kevs_out);
	printf("dropped: %u bytes outside frames, %u bad CRC, "
	    "%u oversized, %u bad version, %u abandoned partial, "
	    "%u partial ended by a HELLO\n",
	    d->d_bad_magic, d->d_bad_crc, d->d_oversized, d->d_bad_version,
	    d->d_abandoned, d->d_resyncs);
	if (hl->hl_unhelloed != 0)
		printf("refused: %u requests sent before a HELLO since boot\n",
		    hl->hl_unhelloed);
	printf("com2: %u bytes received, ring full %u times, "
	    "%u line errors\n", hl->hl_uart.u_rx_bytes,
	    hl->hl_uart.u_rx_pauses, hl->hl_uart.u_rx_errors);
	return 0;
}
MONITOR_COMMAND(hostlink, mon_hostlink, "hostlink",
    "the host link on COM2: session, frames, errors dropped");
