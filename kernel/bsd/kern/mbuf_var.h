/*
 * Inside an mbuf: the layout kexts never see (they hold an opaque
 * mbuf_t), the allocator's entry points (uipc_mbuf.c), the chain
 * operations (uipc_mbuf2.c) and tags (uipc_mbuf_tags.c) that the KPI in
 * kpi_mbuf.c is built on.  Every packet the stack moves is one of these.
 */
#ifndef _BSD_KERN_MBUF_VAR_H_
#define _BSD_KERN_MBUF_VAR_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/kpi_mbuf.h>

/*
 * Sizes.  A small mbuf is MSIZE bytes, header included, as in BSD; data
 * that does not fit goes in an external cluster of 2 KB or 4 KB.
 */
#define MSIZE		256
#define MCLBYTES	2048
#define MBIGCLBYTES	4096

/* How many of each the pools may grow to (128 MB guests). */
#define NMBUFS		4096		/* 1 MB of small mbufs */
#define NMBCLUSTERS	2048		/* 4 MB of 2 KB clusters */
#define NMBIGCLUSTERS	512		/* 2 MB of 4 KB clusters */

/*
 * A cluster: its storage and how many mbufs point at it.  The storage of
 * a shared cluster (mc_refcnt > 1) must not be written: the other mbufs
 * see the same bytes.  Descriptors live in a static table, one per
 * cluster ever carved; fields are guarded by mbuf_lock.
 */
struct mcluster {
	struct mcluster	*mc_next;	/* free list */
	caddr_t		mc_buf;		/* MCLBYTES or MBIGCLBYTES bytes */
	uint16_t	mc_refcnt;	/* mbufs sharing it; 0 when free */
	uint8_t		mc_owner;	/* charged to (mbuf_owners index) */
	uint8_t		mc_big;		/* 1: a 4 KB cluster */
};

/*
 * Every mbuf begins with this header.  An mbuf belongs to whoever holds
 * it (one thread at a time, by passing it along), so it has no lock.
 */
struct m_hdr {
	struct mbuf	*mh_next;	/* next mbuf of this packet */
	struct mbuf	*mh_nextpkt;	/* next packet in a queue */
	caddr_t		mh_data;	/* first byte of data */
	int32_t		mh_len;		/* bytes of data in this mbuf */
	uint8_t		mh_type;	/* mbuf_type_t; MBUF_TYPE_FREE: free */
	uint8_t		mh_owner;	/* who allocated it (mbuf_owners) */
	uint16_t	mh_flags;	/* M_* below */
};

struct m_tag;

/* The packet header, in the first mbuf of a packet (M_PKTHDR). */
struct pkthdr {
	int32_t		len;		/* bytes in the whole chain */
	ifnet_t		rcvif;		/* receiving interface, or NULL */
	void		*header;	/* link-level header (input) */
	uint32_t	csum_flags;	/* CSUM_* below */
	uint32_t	csum_data;	/* checksum, or the offset to put it */
	uint16_t	vlan_tag;	/* valid with CSUM_VLAN_TAG_VALID */
	uint16_t	pad;
	SLIST_HEAD(, m_tag) tags;	/* uipc_mbuf_tags.c */
};

/* Where the data lives when M_EXT is set. */
struct m_ext {
	struct mcluster	*ext_cl;
	caddr_t		ext_buf;	/* == ext_cl->mc_buf */
	uint32_t	ext_size;	/* MCLBYTES or MBIGCLBYTES */
};

#define MLEN	(MSIZE - (int)sizeof(struct m_hdr))	/* plain: 236 */
#define MHLEN	(MLEN - (int)sizeof(struct pkthdr))	/* header: 208 */
#define MINCLSIZE (MHLEN + MLEN)	/* at least this much: use a cluster */

struct mbuf {
	struct m_hdr	m_hdr;
	union {
		struct {
			struct pkthdr	MH_pkthdr;
			union {
				struct m_ext	MH_ext;
				char		MH_databuf[MHLEN];
			} MH_dat;
		} MH;
		char	M_databuf[MLEN];
	} M_dat;
};

/* BSD's names for the fields. */
#define m_next		m_hdr.mh_next
#define m_nextpkt	m_hdr.mh_nextpkt
#define m_data		m_hdr.mh_data
#define m_len		m_hdr.mh_len
#define m_type		m_hdr.mh_type
#define m_owner		m_hdr.mh_owner
#define m_flags		m_hdr.mh_flags
#define m_pkthdr	M_dat.MH.MH_pkthdr
#define m_ext		M_dat.MH.MH_dat.MH_ext
#define m_pktdat	M_dat.MH.MH_dat.MH_databuf
#define m_dat		M_dat.M_databuf

/* m_flags: the KPI's MBUF_* values, plus none of the kernel's own. */
#define M_EXT		MBUF_EXT
#define M_PKTHDR	MBUF_PKTHDR
#define M_EOR		MBUF_EOR
#define M_LOOP		MBUF_LOOP
#define M_BCAST		MBUF_BCAST
#define M_MCAST		MBUF_MCAST
#define M_FRAG		MBUF_FRAG
#define M_FIRSTFRAG	MBUF_FIRSTFRAG
#define M_LASTFRAG	MBUF_LASTFRAG
#define M_PROMISC	MBUF_PROMISC
#define M_HASFCS	MBUF_HASFCS
/* What travels with the packet header when it moves to another mbuf. */
#define M_COPYFLAGS	(M_PKTHDR | M_EOR | M_LOOP | M_BCAST | M_MCAST | \
			 M_FRAG | M_FIRSTFRAG | M_LASTFRAG | M_PROMISC | \
			 M_HASFCS)

/* pkthdr.csum_flags: the KPI's request and performed bits, and ours. */
#define CSUM_IP			MBUF_CSUM_REQ_IP
#define CSUM_TCP		MBUF_CSUM_REQ_TCP
#define CSUM_UDP		MBUF_CSUM_REQ_UDP
#define CSUM_IP_CHECKED		MBUF_CSUM_DID_IP
#define CSUM_IP_VALID		MBUF_CSUM_IP_GOOD
#define CSUM_DATA_VALID		MBUF_CSUM_DID_DATA
#define CSUM_PSEUDO_HDR		MBUF_CSUM_PSEUDO_HDR
#define CSUM_VLAN_TAG_VALID	0x10000
#define CSUM_DELAY_DATA		(CSUM_TCP | CSUM_UDP)
#define CSUM_REQUEST_MASK	(CSUM_IP | CSUM_TCP | CSUM_UDP)
#define CSUM_PERFORMED_MASK	(CSUM_IP_CHECKED | CSUM_IP_VALID | \
				 CSUM_DATA_VALID | CSUM_PSEUDO_HDR)

/* The storage an mbuf's data lives in, and whether it may be written. */
#define M_STORAGE(m)	((m)->m_flags & M_EXT ? (m)->m_ext.ext_buf : \
			 (m)->m_flags & M_PKTHDR ? (m)->m_pktdat : (m)->m_dat)
#define M_STORAGE_SIZE(m) ((m)->m_flags & M_EXT ? (int)(m)->m_ext.ext_size : \
			 (m)->m_flags & M_PKTHDR ? MHLEN : MLEN)
#define M_WRITABLE(m)	(!((m)->m_flags & M_EXT) || \
			 (m)->m_ext.ext_cl->mc_refcnt == 1)

/* ---- Owners: who allocated what, for `netstat -m` (uipc_mbuf.c) ---- */

#define MBUF_OWNER_MAX		16	/* slots; the last one is "other" */
#define MBUF_OWNER_KERNEL	0
#define MBUF_OWNER_NAMELEN	64

/* The owner (mbuf_owners index) to charge for code at return address ra:
 * the kext holding it, else the kernel. */
uint8_t	mbuf_owner_of(const void *ra);
/* Charge what the calling thread allocates to `name` (NULL: stop).  The
 * selftests use it so that their leak checks ignore live traffic. */
void	mbuf_owner_bind_thread(const char *name);
/* What one owner holds now. */
struct mbuf_owner_usage {
	uint32_t	mo_mbufs;
	uint32_t	mo_clusters;
	uint32_t	mo_bigclusters;
};
void	mbuf_owner_usage(const char *name, struct mbuf_owner_usage *u);

/* ---- The allocator (uipc_mbuf.c).  how: MBUF_WAITOK / MBUF_DONTWAIT.
 * WAITOK sleeps (in steps, at most about a second) for memory to be
 * freed; from an interrupt it behaves as DONTWAIT.  NULL/ENOMEM when
 * nothing could be had; every failure is counted. ---- */

struct mbuf	*m_get(mbuf_how_t how, int type, uint8_t owner);
struct mbuf	*m_gethdr(mbuf_how_t how, int type, uint8_t owner);
/* Attach a cluster (MCLBYTES or MBIGCLBYTES) to m, emptying it: ENOMEM
 * leaves m as it was. */
errno_t		m_clattach(struct mbuf *m, mbuf_how_t how, uint32_t size);
/* Share n's cluster with m (m must have no storage of its own in use). */
void		m_clshare(struct mbuf *m, struct mbuf *n);
/* Give m a private copy of its shared cluster: ENOMEM leaves it shared. */
errno_t		m_unshare(struct mbuf *m, mbuf_how_t how);
/* Free one mbuf (tags, cluster reference); returns m->m_next. */
struct mbuf	*m_free(struct mbuf *m);
void		m_freem(struct mbuf *m);
/* Change m's type, keeping the per-type counts right. */
void		m_settype(struct mbuf *m, int type);
/* Set up m's packet header (M_PKTHDR, empty fields, data at m_pktdat). */
void		m_pkthdr_init(struct mbuf *m);
/* Move from's packet header and tags to `to` (from loses M_PKTHDR). */
void		m_move_pkthdr(struct mbuf *to, struct mbuf *from);
/* Copy from's header fields and flags, not its tags, to `to`, which has
 * a packet header and no tags. */
void		m_copy_pkthdr_fields(struct mbuf *to, struct mbuf *from);

/* ---- Fault injection: make DONTWAIT allocations fail on purpose ---- */

enum mbuf_fault_mode {
	MBUF_FAULT_OFF,
	MBUF_FAULT_EVERY,	/* every Nth DONTWAIT allocation fails */
	MBUF_FAULT_RATE,	/* each fails with probability N/1000000 */
};
#define MBUF_FAULT_PPM	1000000		/* a rate of 1: every allocation */
struct mbuf_fault {
	enum mbuf_fault_mode	mf_mode;
	uint32_t		mf_arg;		/* EVERY: N; RATE: parts per million */
	int			mf_owner;	/* only this owner; -1: all */
};
void	mbuf_fault_get(struct mbuf_fault *f);
void	mbuf_fault_set(const struct mbuf_fault *f);	/* resets counting */
/*
 * A rate as the `mbuf fail rate` command takes it: per mille with up to
 * three decimals ("5", "0.5", "0.125"), or percent with a '%' ("2%",
 * "0.5%").  EINVAL unless it is above 0 and at most 1000 per mille.
 */
errno_t	mbuf_fault_parse_rate(const char *s, uint32_t *ppm);
/* Should this allocation fail?  Counts it if so.  Any lock may be held. */
bool	mbuf_fault_hit(mbuf_how_t how, uint8_t owner);

/* ---- Counters and reports ---- */

/* Failures that are not allocations, counted as in struct mbuf_stat. */
void	mbuf_count_mcfail(void);
void	mbuf_count_mpfail(void);

/* What is in use right now, for leak checks. */
struct mbuf_usage {
	uint32_t	mu_mbufs;
	uint32_t	mu_clusters;
	uint32_t	mu_bigclusters;
	uint32_t	mu_tags;
};
void	mbuf_usage(struct mbuf_usage *u);
/* The `netstat -m` report: per type, per owner, pools, failures. */
void	mbuf_print_stats(void);
void	mbuf_fill_stat(struct mbuf_stat *st);

/* ---- Chains (uipc_mbuf2.c).  `owner` is charged for new mbufs. ---- */

int	m_length(struct mbuf *m);
/* Free room before / after the data: 0 in a shared cluster. */
int	m_leadingspace(struct mbuf *m);
int	m_trailingspace(struct mbuf *m);
errno_t	m_copydata(struct mbuf *m, size_t off, size_t len, void *out);
errno_t	m_copyback(struct mbuf *m, size_t off, size_t len, const void *in,
	    mbuf_how_t how, uint8_t owner);
/* On failure the chain is freed and NULL returned (BSD's rule). */
struct mbuf *m_pullup(struct mbuf *m, size_t len, uint8_t owner);
struct mbuf *m_prepend(struct mbuf *m, size_t len, mbuf_how_t how,
	    uint8_t owner);
struct mbuf *m_pulldown(struct mbuf *m, size_t off, size_t len,
	    size_t *offp, uint8_t owner);
/* On failure the chain is left as it was. */
errno_t	m_split(struct mbuf *m, size_t off, mbuf_how_t how, uint8_t owner,
	    struct mbuf **tail);
errno_t	m_copym(struct mbuf *m, size_t off, size_t len, mbuf_how_t how,
	    uint8_t owner, struct mbuf **copy);
errno_t	m_dup(struct mbuf *m, mbuf_how_t how, uint8_t owner,
	    struct mbuf **copy);
errno_t	m_allocpacket(size_t len, unsigned int *maxchunks, mbuf_how_t how,
	    uint8_t owner, struct mbuf **packet);
void	m_adj(struct mbuf *m, int len);

/* ---- Tags (uipc_mbuf_tags.c) ---- */

/*
 * A tag: module data riding on a packet.  Kept on its packet header's
 * list; belongs to whoever holds the packet, so it has no lock.
 */
struct m_tag {
	SLIST_ENTRY(m_tag)	mt_link;
	mbuf_tag_id_t		mt_id;
	mbuf_tag_type_t		mt_type;
	uint16_t		mt_len;		/* data bytes, after the tag */
};
#define KERNEL_MODULE_TAG_ID	0	/* the kernel's own tags */
#define MTAG_MAXLEN		1024	/* data bytes per tag at most */

/* DONTWAIT tags fail when fault injection says so for `owner`. */
struct m_tag *m_tag_alloc(mbuf_tag_id_t id, mbuf_tag_type_t type,
	    size_t len, mbuf_how_t how, uint8_t owner);
void	m_tag_free(struct m_tag *t);
struct m_tag *m_tag_locate(struct mbuf *m, mbuf_tag_id_t id,
	    mbuf_tag_type_t type);
void	m_tag_delete_chain(struct mbuf *m);
/* Copy every tag of from's header to to's (charged to to's owner):
 * ENOMEM copies none. */
errno_t	m_tag_copy_chain(struct mbuf *to, struct mbuf *from,
	    mbuf_how_t how);
/* Was this id handed out by mbuf_tag_id_find (or is it the kernel's)? */
bool	m_tag_id_valid(mbuf_tag_id_t id);
uint32_t m_tag_inuse(void);

#endif /* _BSD_KERN_MBUF_VAR_H_ */
