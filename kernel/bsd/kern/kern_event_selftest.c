/*
 * Unit tests of kernel events (kern_event.c), run by `selftest kev`:
 * vendor codes, kev_msg_post's refusals, the ring and its increasing
 * ids, posting with interrupts off, and delivery to listeners.  Tests
 * post under their own vendor code, so live events do not disturb them.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <i386/cpu.h>
#include <kern/clock.h>
#include <kern/selftest.h>
#include <bsd/kern/kern_event_var.h>

#define ST_VENDOR	"org.finch.selftest.kev"

/* A vendor event with one data vector. */
static struct kev_msg
st_event(uint32_t vendor, uint32_t code, void *data, uint32_t len)
{
	struct kev_msg msg;

	bzero(&msg, sizeof(msg));
	msg.vendor_code = vendor;
	msg.kev_class = 77;
	msg.kev_subclass = 5;
	msg.event_code = code;
	msg.dv[0].data_length = len;
	msg.dv[0].data_ptr = data;
	return msg;
}

static int
test_kev_vendor_code(void)
{
	char name[201];
	u_int32_t a, b, again;

	ST_ASSERT(kev_vendor_code_find(ST_VENDOR, &a) == 0);
	ST_ASSERT(kev_vendor_code_find(ST_VENDOR ".other", &b) == 0);
	ST_ASSERT(kev_vendor_code_find(ST_VENDOR, &again) == 0);
	ST_ASSERT(a == again && a != b);
	ST_ASSERT(a != KEV_VENDOR_APPLE && b != KEV_VENDOR_APPLE);
	ST_ASSERT(kev_vendor_code_find(NULL, &a) == EINVAL);
	ST_ASSERT(kev_vendor_code_find("", &a) == EINVAL);
	memset(name, 'v', 200);
	name[200] = '\0';			/* 200 characters: too long */
	ST_ASSERT(kev_vendor_code_find(name, &a) == EINVAL);
	name[199] = '\0';			/* 199: fine */
	ST_ASSERT(kev_vendor_code_find(name, &a) == 0);
	return 0;
}
SELFTEST(kev_vendor_code, test_kev_vendor_code);

static int
test_kev_msg_post(void)
{
	union {
		struct kern_event_msg	msg;
		uint8_t			bytes[KEV_MSG_MAX];
	} got;
	uint8_t big[KEV_MSG_MAX], two[2] = { 0xab, 0xcd };
	struct kev_msg msg;
	u_int32_t vendor;
	uint32_t id;

	ST_ASSERT(kev_vendor_code_find(ST_VENDOR, &vendor) == 0);
	/* Only codes handed out by kev_vendor_code_find: not Apple's. */
	msg = st_event(KEV_VENDOR_APPLE, 1, "x", 1);
	ST_ASSERT(kev_msg_post(&msg) == EINVAL);
	msg = st_event(vendor + 5000, 1, "x", 1);
	ST_ASSERT(kev_msg_post(&msg) == EINVAL);
	ST_ASSERT(kev_msg_post(NULL) == EINVAL);
	/* Larger than one small mbuf. */
	msg = st_event(vendor, 1, big,
	    KEV_MSG_MAX - KEV_MSG_HEADER_SIZE + 1);
	ST_ASSERT(kev_msg_post(&msg) == EMSGSIZE);
	/* Two vectors end up one after the other, under a new id. */
	msg = st_event(vendor, 9, "hello", 5);
	msg.dv[1].data_length = 2;
	msg.dv[1].data_ptr = two;
	id = kev_last_id();
	ST_ASSERT(kev_msg_post(&msg) == 0);
	ST_ASSERT(kev_last_id() > id);
	for (id++; id <= kev_last_id(); id++) {
		ST_ASSERT(kev_copy_recent(id, &got, sizeof(got)) == 0);
		if (got.msg.vendor_code == vendor)
			break;
	}
	ST_ASSERT(got.msg.vendor_code == vendor && got.msg.id == id);
	ST_ASSERT(got.msg.total_size == KEV_MSG_HEADER_SIZE + 7);
	ST_ASSERT(got.msg.kev_class == 77 && got.msg.kev_subclass == 5);
	ST_ASSERT(got.msg.event_code == 9);
	ST_ASSERT(memcmp(got.msg.event_data, "hello\xab\xcd", 7) == 0);
	/* The kernel may post Apple's events. */
	msg = st_event(KEV_VENDOR_APPLE, 99, NULL, 0);
	ST_ASSERT(kev_post_kernel(&msg) == 0);
	return 0;
}
SELFTEST(kev_msg_post, test_kev_msg_post);

static int
test_kev_ring(void)
{
	struct kern_event_msg got;
	struct kev_msg msg;
	u_int32_t vendor;
	uint32_t first, i, prev = 0;
	boolean_t intr;

	ST_ASSERT(kev_vendor_code_find(ST_VENDOR, &vendor) == 0);
	first = kev_last_id() + 1;
	/* As an interrupt handler would: interrupts off, no sleeping. */
	intr = ml_set_interrupts_enabled(FALSE);
	for (i = 0; i < KEV_RING_SIZE + 6; i++) {
		msg = st_event(vendor, i, NULL, 0);
		if (kev_msg_post(&msg) != 0)
			break;
	}
	ml_set_interrupts_enabled(intr);
	ST_ASSERT(i == KEV_RING_SIZE + 6);
	/* The oldest fell out of the ring; the others are in order. */
	ST_ASSERT(kev_copy_recent(first, &got, sizeof(got)) == ENOENT);
	for (i = kev_last_id() - KEV_RING_SIZE + 1; i <= kev_last_id(); i++) {
		ST_ASSERT(kev_copy_recent(i, &got, sizeof(got)) == 0);
		ST_ASSERT(got.id == i && got.id > prev);
		prev = got.id;
	}
	return 0;
}
SELFTEST(kev_ring, test_kev_ring);

/* The listener's view: how many of our events it saw, the last code. */
struct st_heard {
	u_int32_t	vendor;
	volatile int	count;
	uint32_t	last_code;
};

static void
st_listen(const struct kern_event_msg *msg, void *arg)
{
	struct st_heard *h = arg;

	if (msg->vendor_code != h->vendor)
		return;
	h->last_code = msg->event_code;
	h->count++;
	wakeup(h);
}

static int
test_kev_listener(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	struct st_heard heard = { 0, 0, 0 };
	struct kev_listener l = { .kl_func = st_listen, .kl_arg = &heard };
	struct kev_msg msg;
	int i;

	ST_ASSERT(kev_vendor_code_find(ST_VENDOR, &heard.vendor) == 0);
	kev_listener_add(&l);
	for (i = 1; i <= 3; i++) {
		msg = st_event(heard.vendor, 100 + i, "z", 1);
		ST_ASSERT(kev_msg_post(&msg) == 0);
	}
	for (i = 0; i < 200 && heard.count < 3; i++)	/* up to 1 s */
		msleep(&heard, NULL, 0, "st_kev", &ts);
	kev_listener_remove(&l);
	ST_ASSERT(heard.count == 3 && heard.last_code == 103);
	/* Removed: no more calls. */
	msg = st_event(heard.vendor, 200, "z", 1);
	ST_ASSERT(kev_msg_post(&msg) == 0);
	msleep(&heard, NULL, 0, "st_kev", &ts);
	ST_ASSERT(heard.count == 3);
	return 0;
}
SELFTEST(kev_listener, test_kev_listener);
