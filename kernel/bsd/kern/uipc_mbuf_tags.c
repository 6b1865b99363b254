/*
 * Mbuf tags: a kext's private data riding on a packet (say, "I have
 * seen this one already") on the packet header's tag list, freed with
 * the packet.  Module ids come from mbuf_tag_id_find(), one per bundle
 * id string.  The KPI wrappers are in kpi_mbuf.c.
 */
#include <sys/systm.h>
#include <kern/kalloc.h>
#include <kern/simple_lock.h>
#include <bsd/kern/mbuf_var.h>

#define MTAG_MAX_IDS	64	/* module ids that can be handed out */
#define MTAG_ID_MAXLEN	256	/* bytes of a module string, NUL included */

/*
 * mtag_lock guards the id table and the counters.  Ids are 1 + the
 * index of their string; 0 is the kernel's own (KERNEL_MODULE_TAG_ID).
 * Strings are never freed: an id stays valid for the kernel's life.
 */
static simple_lock_data_t mtag_lock = SIMPLE_LOCK_INITIALIZER("mbuf tags");
static char *mtag_ids[MTAG_MAX_IDS];
static uint32_t mtag_nids;
static uint32_t mtag_inuse;	/* tags allocated and not yet freed */

bool
m_tag_id_valid(mbuf_tag_id_t id)
{
	bool valid;

	simple_lock(&mtag_lock);
	valid = id == KERNEL_MODULE_TAG_ID || id <= mtag_nids;
	simple_unlock(&mtag_lock);
	return valid;
}

uint32_t
m_tag_inuse(void)
{
	return mtag_inuse;
}

/* The id of string s, or 0 if it has none yet.  Locked. */
static mbuf_tag_id_t
mtag_id_lookup_locked(const char *s)
{
	uint32_t i;

	for (i = 0; i < mtag_nids; i++)
		if (strcmp(mtag_ids[i], s) == 0)
			return i + 1;
	return 0;
}

/*
 * The kernel keeps its own copy of the string, never the caller's
 * pointer: it is usually the kext's bundle id, in the kext's image, and
 * the id outlives the kext (tags on packets still in flight, the same id
 * for a reloaded kext).  So a tag id pins nothing.  The copy is made
 * before taking the lock (kalloc must not run under a spin lock we hold)
 * and given back if another thread registered the same string meanwhile.
 */
errno_t
mbuf_tag_id_find(const char *string, mbuf_tag_id_t *id)
{
	size_t len;
	char *copy;

	if (string == NULL || id == NULL)
		return EINVAL;
	len = strlen(string) + 1;
	if (len == 1 || len > MTAG_ID_MAXLEN)
		return EINVAL;
	copy = kalloc(len);
	if (copy == NULL)
		return ENOMEM;
	strlcpy(copy, string, len);
	simple_lock(&mtag_lock);
	*id = mtag_id_lookup_locked(string);
	if (*id == 0 && mtag_nids < MTAG_MAX_IDS) {
		mtag_ids[mtag_nids++] = copy;
		*id = mtag_nids;
		copy = NULL;
	}
	simple_unlock(&mtag_lock);
	if (copy != NULL)
		kfree(copy, len);
	return *id == 0 ? ENOMEM : 0;
}

/* Never sleeps (kalloc does not); DONTWAIT may fail by fault injection. */
struct m_tag *
m_tag_alloc(mbuf_tag_id_t id, mbuf_tag_type_t type, size_t len,
    mbuf_how_t how, uint8_t owner)
{
	struct m_tag *t;

	if (mbuf_fault_hit(how, owner))
		return NULL;
	t = kalloc(sizeof(*t) + len);
	if (t == NULL)
		return NULL;
	bzero(t + 1, len);
	t->mt_id = id;
	t->mt_type = type;
	t->mt_len = len;
	simple_lock(&mtag_lock);
	mtag_inuse++;
	simple_unlock(&mtag_lock);
	return t;
}

void
m_tag_free(struct m_tag *t)
{
	simple_lock(&mtag_lock);
	mtag_inuse--;
	simple_unlock(&mtag_lock);
	kfree(t, sizeof(*t) + t->mt_len);
}

struct m_tag *
m_tag_locate(struct mbuf *m, mbuf_tag_id_t id, mbuf_tag_type_t type)
{
	struct m_tag *t;

	SLIST_FOREACH(t, &m->m_pkthdr.tags, mt_link)
		if (t->mt_id == id && t->mt_type == type)
			return t;
	return NULL;
}

void
m_tag_delete_chain(struct mbuf *m)
{
	struct m_tag *t;

	while ((t = SLIST_FIRST(&m->m_pkthdr.tags)) != NULL) {
		SLIST_REMOVE_HEAD(&m->m_pkthdr.tags, mt_link);
		m_tag_free(t);
	}
}

/* Copies keep their order; on failure `to` is left with no tags. */
errno_t
m_tag_copy_chain(struct mbuf *to, struct mbuf *from, mbuf_how_t how)
{
	struct m_tag *t, *copy, **tailp = &SLIST_FIRST(&to->m_pkthdr.tags);

	SLIST_FOREACH(t, &from->m_pkthdr.tags, mt_link) {
		copy = m_tag_alloc(t->mt_id, t->mt_type, t->mt_len, how,
		    to->m_owner);
		if (copy == NULL) {
			m_tag_delete_chain(to);
			return ENOMEM;
		}
		memcpy(copy + 1, t + 1, t->mt_len);
		SLIST_NEXT(copy, mt_link) = *tailp;
		*tailp = copy;
		tailp = &SLIST_NEXT(copy, mt_link);
	}
	return 0;
}

/* ---- The KPI (<sys/kpi_mbuf.h>) ---- */

/* EINVAL unless m is a packet header and id was handed out. */
static errno_t
mtag_check(mbuf_t m, mbuf_tag_id_t id)
{
	if (m == NULL || !(m->m_flags & M_PKTHDR) || !m_tag_id_valid(id))
		return EINVAL;
	return 0;
}

errno_t
mbuf_tag_allocate(mbuf_t m, mbuf_tag_id_t id, mbuf_tag_type_t type,
    size_t length, mbuf_how_t how, void **data_p)
{
	struct m_tag *t;

	if (mtag_check(m, id) != 0 || data_p == NULL || length == 0 ||
	    length > MTAG_MAXLEN)
		return EINVAL;
	if (m_tag_locate(m, id, type) != NULL)
		return EEXIST;
	t = m_tag_alloc(id, type, length, how,
	    mbuf_owner_of(__builtin_return_address(0)));
	if (t == NULL)
		return ENOMEM;
	SLIST_INSERT_HEAD(&m->m_pkthdr.tags, t, mt_link);
	*data_p = t + 1;
	return 0;
}

errno_t
mbuf_tag_find(mbuf_t m, mbuf_tag_id_t id, mbuf_tag_type_t type,
    size_t *length, void **data_p)
{
	struct m_tag *t;

	if (mtag_check(m, id) != 0 || length == NULL || data_p == NULL)
		return EINVAL;
	t = m_tag_locate(m, id, type);
	if (t == NULL)
		return ENOENT;
	*length = t->mt_len;
	*data_p = t + 1;
	return 0;
}

void
mbuf_tag_free(mbuf_t m, mbuf_tag_id_t id, mbuf_tag_type_t type)
{
	struct m_tag **tp, *t;

	if (mtag_check(m, id) != 0)
		return;
	for (tp = &SLIST_FIRST(&m->m_pkthdr.tags); *tp != NULL;
	    tp = &SLIST_NEXT(*tp, mt_link)) {
		t = *tp;
		if (t->mt_id == id && t->mt_type == type) {
			*tp = SLIST_NEXT(t, mt_link);
			m_tag_free(t);
			return;
		}
	}
}
