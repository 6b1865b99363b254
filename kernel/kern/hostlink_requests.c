/*
 * The host's requests (docs/hostlink.md, section 6): HELLO, KMOD_* and
 * MONITOR.  Each handler parses the whole payload, asks the kmod table
 * (kmod.c) or the monitor (monitor.c) to act and writes the reply.  The
 * link thread (hostlink.c) calls hl_act() for each new request.
 */
#include <sys/systm.h>
#include <kern/hostlink_var.h>
#include <kern/kmod_var.h>
#include <kern/monitor_var.h>
#include <kern/version.h>

/*
 * KMOD_LIST rows.  A row is at most 494 bytes (16 dependencies, three
 * 63-byte strings, a 199-byte reason): 128 of them fit HL_MAX_PAYLOAD.
 */
#define HL_LIST_MAX		128
#define HL_WHY_MAX		KMOD_REFUSAL_MAX	/* a refusal's words */

/*
 * KMOD_LOAD and KMOD_UNLOAD wait for the kext's start or stop routine at
 * most KMOD_CALL_WAIT_MS (kmod_var.h), then answer EINPROGRESS: the link
 * thread never waits longer for a kext, so the host's other requests
 * (KMOD_LIST, MONITOR, the other kexts') are answered while a routine
 * runs on.
 */
_Static_assert(KMOD_CALL_WAIT_MS < 5000, "under the host's request timeout");

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
	hl_put_str(out, hl->hl_boot_id);
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
	uint32_t i, id, ran_ms;
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
	status = kmod_load(&req, &id, &start_result, &ran_ms, why,
	    sizeof(why));
	hl_put32(out, status);
	hl_put32(out, start_result);
	hl_put32(out, id);
	hl_put32(out, ran_ms);
	hl_put_str(out, why);
	return 0;
}

static errno_t
hl_kmod_unload(struct hostlink *hl, struct hl_in *in, struct hl_out *out)
{
	uint32_t id = hl_get32(in), ran_ms;
	char why[HL_WHY_MAX];
	kern_return_t stop_result;
	errno_t status;

	if (!hl_in_ok(in))
		return EINVAL;
	status = kmod_unload(id, &stop_result, &ran_ms, why, sizeof(why));
	hl_put32(out, status);
	hl_put32(out, stop_result);
	hl_put32(out, ran_ms);
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
	hl_put16(out, ks->ks_state);
	hl_put32(out, ks->ks_busy_ms);
	hl_put_str(out, ks->ks_why);	/* "" while running */
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

/* The link's own requests; other subsystems add theirs with
 * HL_REQUEST_SET. */
static const struct hl_request hl_requests[] = {
	{ HL_HELLO,		"HELLO",	hl_hello },
	{ HL_KMOD_ALLOC,	"KMOD_ALLOC",	hl_kmod_alloc },
	{ HL_KMOD_WRITE,	"KMOD_WRITE",	hl_kmod_write },
	{ HL_KMOD_LOAD,		"KMOD_LOAD",	hl_kmod_load },
	{ HL_KMOD_UNLOAD,	"KMOD_UNLOAD",	hl_kmod_unload },
	{ HL_KMOD_LIST,		"KMOD_LIST",	hl_kmod_list },
	{ HL_KMOD_FREE,		"KMOD_FREE",	hl_kmod_free },
	{ HL_MONITOR,		"MONITOR",	hl_monitor },
};

LINKER_SET_DECLARE(hlrequest, const struct hl_request);

static const struct hl_request *
hl_find_request(uint8_t type)
{
	const struct hl_request **rqp;
	size_t i;

	for (i = 0; i < sizeof(hl_requests) / sizeof(hl_requests[0]); i++)
		if (hl_requests[i].rq_type == type)
			return &hl_requests[i];
	LINKER_SET_FOREACH(hlrequest, rqp)
		if ((*rqp)->rq_type == type)
			return *rqp;
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
void
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

/* For the `hostlink` command. */
const char *
hl_type_name(uint8_t type)
{
	const struct hl_request *rq = hl_find_request(type);

	return rq != NULL ? rq->rq_name : "an unknown type";
}
