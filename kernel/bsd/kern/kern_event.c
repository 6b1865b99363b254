/*
 * Kernel events.  A post copies the event into a ring of the last 64
 * (no allocation, so interrupt handlers may post: the e1000's link
 * interrupt does) and pokes the kernel-event thread call, which hands
 * each event to every listener (kev_listener_add).  The `kevents`
 * command prints the ring.
 */
#include <sys/systm.h>
#include <kern/kalloc.h>
#include <kern/locks_var.h>
#include <kern/monitor.h>
#include <kern/simple_lock.h>
#include <kern/thread_call_var.h>
#include <bsd/kern/kern_event_var.h>

#define KEV_MAX_VENDORS		32

/* One posted event, as listeners see it. */
union kev_record {
	struct kern_event_msg	msg;
	uint8_t			bytes[KEV_MSG_MAX];
};

/*
 * kev_lock, a spin lock since interrupt handlers post, guards the ring,
 * the ids, the counters and the vendor table.  Event `id` lives in
 * kev_ring[id % KEV_RING_SIZE] until KEV_RING_SIZE newer ones arrive.
 */
static simple_lock_data_t kev_lock = SIMPLE_LOCK_INITIALIZER("kern_event");
static union kev_record kev_ring[KEV_RING_SIZE];
static uint32_t kev_next_id = 1;	/* ids start at 1 and only grow */
static uint32_t kev_delivered;		/* last id handed to listeners */
static uint32_t kev_lost;		/* overwritten before delivery */
static uint32_t kev_refused;		/* kev_msg_post errors */
static char *kev_vendors[KEV_MAX_VENDORS];	/* code - KEV_FIRST_VENDOR */
static uint32_t kev_nvendors;
static struct call_entry kev_call;	/* runs kev_deliver() */
static bool kev_call_ready;

/*
 * The listeners.  A mutex, since listeners may sleep, set up on first
 * use (there is no boot hook for this file); kev_deliver() holds it
 * while it calls them, so removal waits for a call in progress, and a
 * listener's own locks come after it.
 */
static TAILQ_HEAD(, kev_listener) kev_listeners =
    TAILQ_HEAD_INITIALIZER(kev_listeners);
static lck_mtx_t kev_listener_mtx;
static bool kev_mtx_ready;

static void kev_deliver(thread_call_param_t p0, thread_call_param_t p1);

/* ---- Vendor codes ---- */

/* The code of vendor string s, or 0.  Locked. */
static uint32_t
kev_vendor_lookup_locked(const char *s)
{
	uint32_t i;

	for (i = 0; i < kev_nvendors; i++)
		if (strcmp(kev_vendors[i], s) == 0)
			return KEV_FIRST_VENDOR + i;
	return 0;
}

/*
 * The kernel keeps its own copy of the string, never the caller's
 * pointer: the string is usually the kext's bundle id, in the kext's
 * image, and the code must outlive the kext (`kevents` names the vendor
 * of old events, and a reloaded kext gets the same code back).  So a
 * vendor code pins nothing.  The copy is made before taking the spin
 * lock and dropped if another thread registered the same string
 * meanwhile.
 */
errno_t
kev_vendor_code_find(const char *string, u_int32_t *code)
{
	size_t len;
	char *copy;

	if (string == NULL || code == NULL)
		return EINVAL;
	len = strlen(string) + 1;
	if (len == 1 || len > KEV_VENDOR_MAXLEN)
		return EINVAL;
	copy = kalloc(len);
	if (copy == NULL)
		return ENOMEM;
	strlcpy(copy, string, len);
	simple_lock(&kev_lock);
	*code = kev_vendor_lookup_locked(string);
	if (*code == 0 && kev_nvendors < KEV_MAX_VENDORS) {
		kev_vendors[kev_nvendors] = copy;
		*code = KEV_FIRST_VENDOR + kev_nvendors++;
		copy = NULL;
	}
	simple_unlock(&kev_lock);
	if (copy != NULL)
		kfree(copy, len);
	return *code == 0 ? ENOMEM : 0;
}

/* ---- Posting ---- */

/* Header and data size, or 0 if over KEV_MSG_MAX. */
static size_t
kev_msg_size(const struct kev_msg *msg)
{
	size_t total = KEV_MSG_HEADER_SIZE;
	int i;

	for (i = 0; i < 5 && msg->dv[i].data_length != 0; i++) {
		if (msg->dv[i].data_length > KEV_MSG_MAX)
			return 0;
		total += msg->dv[i].data_length;
	}
	return total <= KEV_MSG_MAX ? total : 0;
}

/* Fill the record for the next id.  Locked. */
static void
kev_record_locked(const struct kev_msg *msg, size_t total)
{
	union kev_record *rec = &kev_ring[kev_next_id % KEV_RING_SIZE];
	uint8_t *p = (uint8_t *)rec->msg.event_data;
	int i;

	rec->msg.total_size = total;
	rec->msg.vendor_code = msg->vendor_code;
	rec->msg.kev_class = msg->kev_class;
	rec->msg.kev_subclass = msg->kev_subclass;
	rec->msg.id = kev_next_id++;
	rec->msg.event_code = msg->event_code;
	for (i = 0; i < 5 && msg->dv[i].data_length != 0; i++) {
		memcpy(p, msg->dv[i].data_ptr, msg->dv[i].data_length);
		p += msg->dv[i].data_length;
	}
}

errno_t
kev_post_kernel(struct kev_msg *msg)
{
	size_t total;

	if (msg == NULL)
		return EINVAL;
	total = kev_msg_size(msg);
	if (total == 0)
		return EMSGSIZE;
	simple_lock(&kev_lock);
	if (!kev_call_ready) {
		thread_call_setup(&kev_call, kev_deliver, NULL);
		kev_call_ready = true;
	}
	kev_record_locked(msg, total);
	simple_unlock(&kev_lock);
	thread_call_enter(&kev_call);
	return 0;
}

/* ENOMEM is never returned: the ring needs no allocation. */
errno_t
kev_msg_post(struct kev_msg *msg)
{
	errno_t error = 0;

	simple_lock(&kev_lock);
	if (msg == NULL || msg->vendor_code < KEV_FIRST_VENDOR ||
	    msg->vendor_code >= KEV_FIRST_VENDOR + kev_nvendors)
		error = EINVAL;
	simple_unlock(&kev_lock);
	if (error == 0)
		error = kev_post_kernel(msg);
	if (error != 0) {
		simple_lock(&kev_lock);
		kev_refused++;
		simple_unlock(&kev_lock);
	}
	return error;
}

/* ---- Delivery ---- */

/* Copy the oldest undelivered event; false if none.  Events the ring
 * overwrote before we got to them are counted as lost. */
static bool
kev_take_next(union kev_record *rec)
{
	uint32_t last;
	bool any;

	simple_lock(&kev_lock);
	last = kev_next_id - 1;
	if (last - kev_delivered > KEV_RING_SIZE) {
		kev_lost += last - kev_delivered - KEV_RING_SIZE;
		kev_delivered = last - KEV_RING_SIZE;
	}
	any = kev_delivered != last;
	if (any) {
		kev_delivered++;
		*rec = kev_ring[kev_delivered % KEV_RING_SIZE];
	}
	simple_unlock(&kev_lock);
	return any;
}

/* Set up the listeners' mutex the first time; thread context. */
static void
kev_listeners_lock(void)
{
	lck_grp_t *grp;

	if (!kev_mtx_ready) {
		grp = lck_grp_alloc_init("kern_event", LCK_GRP_ATTR_NULL);
		simple_lock(&kev_lock);
		if (!kev_mtx_ready) {
			lck_mtx_init(&kev_listener_mtx, grp, LCK_ATTR_NULL);
			kev_mtx_ready = true;
			grp = NULL;
		}
		simple_unlock(&kev_lock);
		if (grp != NULL)
			lck_grp_free(grp);
	}
	lck_mtx_lock(&kev_listener_mtx);
}

static void
kev_deliver(thread_call_param_t p0, thread_call_param_t p1)
{
	union kev_record rec;
	struct kev_listener *l;

	while (kev_take_next(&rec)) {
		kev_listeners_lock();
		TAILQ_FOREACH(l, &kev_listeners, kl_link)
			l->kl_func(&rec.msg, l->kl_arg);
		lck_mtx_unlock(&kev_listener_mtx);
	}
}

void
kev_listener_add(struct kev_listener *l)
{
	kev_listeners_lock();
	TAILQ_INSERT_TAIL(&kev_listeners, l, kl_link);
	lck_mtx_unlock(&kev_listener_mtx);
}

void
kev_listener_remove(struct kev_listener *l)
{
	kev_listeners_lock();
	TAILQ_REMOVE(&kev_listeners, l, kl_link);
	lck_mtx_unlock(&kev_listener_mtx);
}

/* ---- The ring, for the monitor and the selftests ---- */

uint32_t
kev_last_id(void)
{
	uint32_t id;

	simple_lock(&kev_lock);
	id = kev_next_id - 1;
	simple_unlock(&kev_lock);
	return id;
}

errno_t
kev_copy_recent(uint32_t id, void *buf, size_t len)
{
	const union kev_record *rec = &kev_ring[id % KEV_RING_SIZE];
	errno_t error = ENOENT;

	simple_lock(&kev_lock);
	if (id != 0 && rec->msg.id == id && id < kev_next_id) {
		memcpy(buf, rec, min(len, rec->msg.total_size));
		error = 0;
	}
	simple_unlock(&kev_lock);
	return error;
}

/* ---- The `kevents` monitor command ---- */

static const char *const kev_dl_names[] = {
	NULL, "KEV_DL_SIFFLAGS", "KEV_DL_SIFMETRICS", "KEV_DL_SIFMTU",
	"KEV_DL_SIFPHYS", "KEV_DL_SIFMEDIA", "KEV_DL_SIFGENERIC",
	"KEV_DL_ADDMULTI", "KEV_DL_DELMULTI", "KEV_DL_IF_ATTACHED",
	"KEV_DL_IF_DETACHING", "KEV_DL_IF_DETACHED", "KEV_DL_LINK_OFF",
	"KEV_DL_LINK_ON", "KEV_DL_PROTO_ATTACHED", "KEV_DL_PROTO_DETACHED",
	"KEV_DL_LINK_ADDRESS_CHANGED",
};

static const char *const kev_inet_names[] = {
	NULL, "KEV_INET_NEW_ADDR", "KEV_INET_CHANGED_ADDR",
	"KEV_INET_ADDR_DELETED", "KEV_INET_SIFDSTADDR", "KEV_INET_SIFBRDADDR",
	"KEV_INET_SIFNETMASK", "KEV_INET_ARPCOLLISION",
};

static const char *const kev_ctl_names[] = {
	NULL, "KEV_CTL_REGISTERED", "KEV_CTL_DEREGISTERED",
};

#define KEV_NAME(table, code)						\
	((code) < sizeof(table) / sizeof(table[0]) ? (table)[code] : NULL)

/* The name of an Apple event, or NULL. */
static const char *
kev_apple_name(const struct kern_event_msg *msg)
{
	uint32_t code = msg->event_code;

	if (msg->kev_class == KEV_NETWORK_CLASS &&
	    msg->kev_subclass == KEV_DL_SUBCLASS)
		return KEV_NAME(kev_dl_names, code);
	if (msg->kev_class == KEV_NETWORK_CLASS &&
	    msg->kev_subclass == KEV_INET_SUBCLASS)
		return KEV_NAME(kev_inet_names, code);
	if (msg->kev_class == KEV_SYSTEM_CLASS &&
	    msg->kev_subclass == KEV_CTL_SUBCLASS)
		return KEV_NAME(kev_ctl_names, code);
	return NULL;
}

/* "apple", the vendor's string, or its number. */
static void
kev_vendor_name(uint32_t code, char *buf, size_t len)
{
	if (code == KEV_VENDOR_APPLE) {
		strlcpy(buf, "apple", len);
		return;
	}
	simple_lock(&kev_lock);
	if (code >= KEV_FIRST_VENDOR && code < KEV_FIRST_VENDOR + kev_nvendors)
		strlcpy(buf, kev_vendors[code - KEV_FIRST_VENDOR], len);
	else
		snprintf(buf, len, "%u", code);
	simple_unlock(&kev_lock);
}

/* Network events start with struct net_event_data: print "en0"; an
 * address event then has the IPv4 address (struct kev_in_data). */
static void
kev_print_data(const struct kern_event_msg *msg, bool apple_net)
{
	size_t len = msg->total_size - KEV_MSG_HEADER_SIZE, i;
	const uint8_t *p = (const uint8_t *)msg->event_data;
	const struct net_event_data *nd = (const void *)p;

	if (apple_net && len >= sizeof(*nd)) {
		printf(" %.*s%u", IFNAMSIZ, nd->if_name, nd->if_unit);
		if (msg->kev_subclass == KEV_INET_SUBCLASS &&
		    len >= sizeof(*nd) + 4)
			printf(" %u.%u.%u.%u", p[sizeof(*nd)],
			    p[sizeof(*nd) + 1], p[sizeof(*nd) + 2],
			    p[sizeof(*nd) + 3]);
		if (msg->event_code == KEV_DL_PROTO_ATTACHED &&
		    msg->kev_subclass == KEV_DL_SUBCLASS &&
		    len >= sizeof(struct kev_dl_proto_data))
			printf(" family %u", ((const struct kev_dl_proto_data *)
			    (const void *)p)->proto_family);
		return;
	}
	printf(" %u bytes", len);
	for (i = 0; i < len && i < 16; i++)
		printf(" %02x", p[i]);
	printf("%s", len > 16 ? " ..." : "");
}

static void
kev_print_one(const struct kern_event_msg *msg)
{
	bool apple = msg->vendor_code == KEV_VENDOR_APPLE;
	const char *name = apple ? kev_apple_name(msg) : NULL;
	char vendor[40];

	kev_vendor_name(msg->vendor_code, vendor, sizeof(vendor));
	printf("%6u  %-16.16s %2u/%-2u ", msg->id, vendor, msg->kev_class,
	    msg->kev_subclass);
	if (name != NULL)
		printf("%-28s", name);
	else
		printf("code %-23u", msg->event_code);
	kev_print_data(msg, apple && msg->kev_class == KEV_NETWORK_CLASS);
	printf("\n");
}

static int
mon_kevents(int argc, char **argv)
{
	uint32_t last = kev_last_id(), first = 1, id, lost, refused;
	union kev_record rec;
	char *end;

	if (argc > 2)
		return monitor_usage(argc, argv);
	if (argc == 2) {
		first = strtoul(argv[1], &end, 0);
		if (*end != '\0' || first == 0)
			return monitor_usage(argc, argv);
		first = first > last ? 1 : last - first + 1;
	}
	if (last >= KEV_RING_SIZE && first <= last - KEV_RING_SIZE)
		first = last - KEV_RING_SIZE + 1;
	printf("%6s  %-16s %5s %-28s %s\n", "id", "vendor", "class",
	    "event", "data");
	for (id = first; id <= last && id != 0; id++)
		if (kev_copy_recent(id, &rec, sizeof(rec)) == 0)
			kev_print_one(&rec.msg);
	simple_lock(&kev_lock);
	lost = kev_lost;
	refused = kev_refused;
	simple_unlock(&kev_lock);
	printf("%u events posted, %u lost before delivery, %u posts "
	    "refused\n", last, lost, refused);
	return 0;
}
MONITOR_COMMAND(kevents, mon_kevents, "kevents [N]",
    "the last N (at most 64) kernel events, with names and data");
