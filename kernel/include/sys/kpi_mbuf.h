/*
 * <sys/kpi_mbuf.h> -- the mbuf KPI: how drivers, the stack and kexts
 * allocate, read, reshape and free packets without seeing struct mbuf.
 * Names, signatures and values are Mac OS X 10.4's; the code behind them
 * is bsd/kern/kpi_mbuf.c over the allocator in bsd/kern/uipc_mbuf.c.
 */
#ifndef __KPI_MBUF__
#define __KPI_MBUF__

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kernel_types.h>	/* mbuf_t, ifnet_t */

#ifndef __ADDR64_T_DEFINED__
#define __ADDR64_T_DEFINED__
typedef u_int64_t	addr64_t;	/* a physical address */
#endif

/* mbuf_flags_t: the only flags mbuf_flags/mbuf_setflags see or change. */
enum {
	MBUF_EXT	= 0x0001,	/* data lives in an external cluster */
	MBUF_PKTHDR	= 0x0002,	/* first mbuf of a packet */
	MBUF_EOR	= 0x0004,	/* end of a record */
	MBUF_LOOP	= 0x0040,	/* packet was looped back */
	MBUF_BCAST	= 0x0100,	/* link-level broadcast */
	MBUF_MCAST	= 0x0200,	/* link-level multicast */
	MBUF_FRAG	= 0x0400,	/* a fragment of a larger packet */
	MBUF_FIRSTFRAG	= 0x0800,	/* the first fragment */
	MBUF_LASTFRAG	= 0x1000,	/* the last fragment */
	MBUF_PROMISC	= 0x2000,	/* received only in promiscuous mode */
	MBUF_HASFCS	= 0x4000	/* the frame still carries its FCS */
};
typedef u_int32_t mbuf_flags_t;

/* mbuf_type_t: what an mbuf holds; counted per type by mbuf_stats. */
enum {
	MBUF_TYPE_FREE		= 0,	/* on a free list: never yours */
	MBUF_TYPE_DATA		= 1,
	MBUF_TYPE_HEADER	= 2,
	MBUF_TYPE_SOCKET	= 3,
	MBUF_TYPE_PCB		= 4,
	MBUF_TYPE_RTABLE	= 5,
	MBUF_TYPE_HTABLE	= 6,
	MBUF_TYPE_ATABLE	= 7,
	MBUF_TYPE_SONAME	= 8,
	MBUF_TYPE_SOOPTS	= 10,
	MBUF_TYPE_FTABLE	= 11,
	MBUF_TYPE_RIGHTS	= 12,
	MBUF_TYPE_IFADDR	= 13,
	MBUF_TYPE_CONTROL	= 14,
	MBUF_TYPE_OOBDATA	= 15
};
typedef u_int32_t mbuf_type_t;

/* Checksums the stack asks the driver (or hardware) to compute. */
enum {
	MBUF_CSUM_REQ_IP	= 0x0001,
	MBUF_CSUM_REQ_TCP	= 0x0002,
	MBUF_CSUM_REQ_UDP	= 0x0004
};
typedef u_int32_t mbuf_csum_request_flags_t;

/* Checksums a driver reports as already verified on input. */
enum {
	MBUF_CSUM_DID_IP	= 0x0100,	/* IP header checksum checked */
	MBUF_CSUM_IP_GOOD	= 0x0200,	/* ... and it was right */
	MBUF_CSUM_DID_DATA	= 0x0400,	/* TCP/UDP sum is in `value` */
	MBUF_CSUM_PSEUDO_HDR	= 0x0800	/* value includes pseudo hdr */
};
typedef u_int32_t mbuf_csum_performed_flags_t;

/* mbuf_how_t: may an allocation sleep for memory? */
enum {
	MBUF_WAITOK	= 0,	/* may block; never from an interrupt */
	MBUF_DONTWAIT	= 1	/* fails at once: use it on every data path */
};
typedef u_int32_t mbuf_how_t;

typedef u_int32_t mbuf_tag_id_t;	/* from mbuf_tag_id_find */
typedef u_int16_t mbuf_tag_type_t;	/* chosen freely by the tag's owner */

/* What mbuf_stats reports. */
struct mbuf_stat {
	u_long		mbufs;		/* mbufs carved from pages */
	u_long		clusters;	/* 2 KB clusters carved from pages */
	u_long		clfree;		/* 2 KB clusters free */
	u_long		drops;		/* allocations that failed */
	u_long		wait;		/* allocations that slept */
	u_long		drain;		/* protocol drains (Finch: always 0) */
	u_short		mtypes[256];	/* mbufs in use, per mbuf_type_t */
	u_long		mcfail;		/* mbuf_copym failures */
	u_long		mpfail;		/* mbuf_pullup failures */
	u_long		msize;		/* size of an mbuf, header included */
	u_long		mclbytes;	/* size of a cluster */
	u_long		minclsize;	/* this much data or more: a cluster */
	u_long		mlen;		/* data space of a plain mbuf */
	u_long		mhlen;		/* data space of a packet-header mbuf */
	u_long		bigclusters;	/* 4 KB clusters carved from pages */
	u_long		bigclfree;	/* 4 KB clusters free */
	u_long		bigmclbytes;	/* size of a big cluster */
};

/* Length argument meaning "to the end of the chain". */
#define MBUF_COPYALL	1000000000

__BEGIN_DECLS

/*
 * Every function here is safe from an interrupt handler and with a spin
 * lock held, except that an MBUF_WAITOK allocation may sleep (see
 * below).  None of them locks the mbuf: a packet belongs to one thread
 * at a time, the one that holds it.
 */

/* --- Data ------------------------------------------------------------ */

/* The first byte of data in this one mbuf (more may follow in the chain). */
void	*mbuf_data(mbuf_t mbuf);
/* The first byte of the mbuf's storage: mbuf_data - mbuf_leadingspace. */
void	*mbuf_datastart(mbuf_t mbuf);
/* Point data and len elsewhere within the storage; EINVAL if outside it. */
errno_t	mbuf_setdata(mbuf_t mbuf, void *data, size_t len);
/* Move data so that len bytes end 32-bit aligned at the end of the
 * storage; ENOTSUP if the cluster is shared or len does not fit. */
errno_t	mbuf_align_32(mbuf_t mbuf, size_t len);
/* Physical address of a pointer into mbuf data, for DMA.  Finch maps
 * memory one to one, so it is the pointer's own value. */
addr64_t mbuf_data_to_physical(void *ptr);

/* --- Allocation and release -------------------------------------------
 * MBUF_DONTWAIT calls never sleep and fail at once with ENOMEM.
 * MBUF_WAITOK calls may sleep for memory, for a second at most, then
 * fail with ENOMEM too; from an interrupt handler or with interrupts
 * off they do not sleep (they act as MBUF_DONTWAIT).  A bad how or type,
 * or a NULL result pointer, is EINVAL.  Nothing is allocated on failure
 * and *mbuf is untouched unless a function says otherwise.  Each
 * allocation is charged to the calling kext in `netstat -m`. */

/* One plain mbuf (mbuf_get_mlen() bytes of data). */
errno_t	mbuf_get(mbuf_how_t how, mbuf_type_t type, mbuf_t *mbuf);

/* One packet-header mbuf (mbuf_get_mhlen() bytes of data). */
errno_t	mbuf_gethdr(mbuf_how_t how, mbuf_type_t type, mbuf_t *mbuf);

/* Attach a cluster of `size` (2048 or 4096, else EINVAL) to *mbuf, or to a
 * new plain mbuf when *mbuf is NULL.  On failure a new mbuf is freed and
 * a caller's mbuf is left as it was (never freed). */
errno_t	mbuf_getcluster(mbuf_how_t how, mbuf_type_t type, size_t size,
	    mbuf_t *mbuf);

/* Attach a 2 KB cluster to *mbuf, or to a new plain mbuf when *mbuf is
 * NULL; same failure rule as mbuf_getcluster. */
errno_t	mbuf_mclget(mbuf_how_t how, mbuf_type_t type, mbuf_t *mbuf);

/* A packet-header chain of packetlen bytes (EINVAL for 0), each mbuf's
 * length and the packet length already set.  If maxchunks is not NULL
 * and *maxchunks is not 0, it bounds the number of mbufs (ENOBUFS if too
 * few); on success it is set to the number used. */
errno_t	mbuf_allocpacket(mbuf_how_t how, size_t packetlen,
	    unsigned int *maxchunks, mbuf_t *mbuf);

/* A packet-header mbuf with a 2 KB cluster. */
errno_t	mbuf_getpacket(mbuf_how_t how, mbuf_t *mbuf);

/* Free one mbuf (and its tags, and its cluster reference); returns the
 * next mbuf of its chain.  Freeing an mbuf twice panics. */
mbuf_t	mbuf_free(mbuf_t mbuf);

/* Free a whole chain (m_next).  NULL is allowed. */
void	mbuf_freem(mbuf_t mbuf);

/* Free every chain of an m_nextpkt list; returns how many packets. */
int	mbuf_freem_list(mbuf_t mbuf);

/* --- Chains ------------------------------------------------------------
 * A function that must allocate takes `how` and follows the rules
 * above; the others never sleep.  EINVAL means a NULL argument or a
 * range outside the chain, and leaves the chain as it was. */

/* Free room before / after the data of this one mbuf (0 if the storage
 * is a shared cluster, which must not be written). */
size_t	mbuf_leadingspace(mbuf_t mbuf);
size_t	mbuf_trailingspace(mbuf_t mbuf);

/* Copy len bytes from offset (MBUF_COPYALL: to the end) into a new
 * chain; clusters are shared (read-only from then on), not copied.  A
 * copy from offset 0 gets the packet header, without its tags.
 * EINVAL (range), ENOMEM: nothing is made. */
errno_t	mbuf_copym(mbuf_t src, size_t offset, size_t len, mbuf_how_t how,
	    mbuf_t *new_mbuf);

/* A full, writable copy of a packet, header and tags included.  ENOMEM:
 * nothing is made. */
errno_t	mbuf_dup(mbuf_t src, mbuf_how_t how, mbuf_t *new_mbuf);

/* Make room for len bytes in front of the data (in the leading space or
 * a new first mbuf); the packet length grows by len.  ENOMEM: the chain
 * is FREED and *mbuf is NULL. */
errno_t	mbuf_prepend(mbuf_t *mbuf, size_t len, mbuf_how_t how);

/* Cut the chain at offset: src keeps the front, *new_mbuf gets the rest
 * (with a packet header if src has one).  EINVAL if offset is past the
 * end, ENOMEM; on failure src is left intact. */
errno_t	mbuf_split(mbuf_t src, size_t offset, mbuf_how_t how,
	    mbuf_t *new_mbuf);

/* Make the first len bytes contiguous in the first mbuf (*mbuf may
 * change).  ENOMEM, also when the chain is shorter than len or len is
 * over 4096: the chain is FREED and *mbuf is NULL.  Never sleeps. */
errno_t	mbuf_pullup(mbuf_t *mbuf, size_t len);

/* Make length bytes at *offset contiguous in one mbuf of the chain;
 * *location gets that mbuf, *offset the bytes' offset in it.  ENOMEM,
 * also for a range outside the chain: the chain is FREED.  Never
 * sleeps. */
errno_t	mbuf_pulldown(mbuf_t src, size_t *offset, size_t length,
	    mbuf_t *location);

/* Trim len bytes from the front (len > 0) or the tail (len < 0); adjusts
 * the packet header length.  Mbufs past a new tail are freed. */
void	mbuf_adj(mbuf_t mbuf, int len);

/* Copy length bytes from offset out of the chain; EINVAL if too short. */
errno_t	mbuf_copydata(mbuf_t mbuf, size_t offset, size_t length,
	    void *out_data);

/* Copy length bytes into the chain at offset, growing it with new mbufs
 * as needed (and a shared cluster is copied before it is written);
 * ENOBUFS if it could not grow or copy (what fitted is written). */
errno_t	mbuf_copyback(mbuf_t mbuf, size_t offset, size_t length,
	    const void *data, mbuf_how_t how);

/* Non-zero if this mbuf's cluster is shared with another mbuf. */
int	mbuf_mclhasreference(mbuf_t mbuf);

/* --- Fields ----------------------------------------------------------- */

/* The next mbuf of this packet's chain, and the first mbuf of the next
 * packet in a list of packets (NULL at the end).  The setters only
 * link: no length is updated.  mbuf_setnext: EINVAL if next is free. */
mbuf_t	mbuf_next(mbuf_t mbuf);
errno_t	mbuf_setnext(mbuf_t mbuf, mbuf_t next);
mbuf_t	mbuf_nextpkt(mbuf_t mbuf);
void	mbuf_setnextpkt(mbuf_t mbuf, mbuf_t nextpkt);

size_t	mbuf_len(mbuf_t mbuf);			/* bytes in this mbuf */
/* Set this mbuf's length (not the packet's).  len bytes from mbuf_data
 * must fit in the storage: a longer length panics. */
void	mbuf_setlen(mbuf_t mbuf, size_t len);
size_t	mbuf_maxlen(mbuf_t mbuf);		/* size of its storage */

/* What the mbuf holds (MBUF_TYPE_*).  mbuf_settype: EINVAL for
 * MBUF_TYPE_FREE or a value over 255. */
mbuf_type_t mbuf_type(mbuf_t mbuf);
errno_t	mbuf_settype(mbuf_t mbuf, mbuf_type_t new_type);

/* The flags listed above (MBUF_*); the kernel's others are hidden. */
mbuf_flags_t mbuf_flags(mbuf_t mbuf);

/* Set the flags (or, with a mask, only those in mask); EINVAL if that
 * would change MBUF_EXT or MBUF_PKTHDR (the kernel owns those) or set a
 * flag not listed above. */
errno_t	mbuf_setflags(mbuf_t mbuf, mbuf_flags_t flags);
errno_t	mbuf_setflags_mask(mbuf_t mbuf, mbuf_flags_t flags,
	    mbuf_flags_t mask);

/* Copy src's packet header and tags into dest, which gets a packet
 * header if it had none.  EINVAL if src has no packet header, or if
 * dest has none and holds data in its own small buffer (the header
 * would overlap it); ENOMEM if a tag could not be copied (dest is then
 * left with no tags).  Never sleeps. */
errno_t	mbuf_copy_pkthdr(mbuf_t dest, mbuf_t src);

/* --- Packet header (the first mbuf of a packet only) -------------------
 * The getters return 0 or NULL for an mbuf without a packet header;
 * mbuf_pkthdr_setrcvif returns EINVAL; the setters that return nothing
 * panic, since they would overwrite its data. */

size_t	mbuf_pkthdr_len(mbuf_t mbuf);		/* bytes in the whole chain */
/* Set or change the packet's length: keep it equal to the sum of the
 * chain's mbuf_len, which nothing checks. */
void	mbuf_pkthdr_setlen(mbuf_t mbuf, size_t len);
void	mbuf_pkthdr_adjustlen(mbuf_t mbuf, int amount);
ifnet_t	mbuf_pkthdr_rcvif(mbuf_t mbuf);		/* receiving interface */
/* Set the receiving interface; no reference is taken on it. */
errno_t	mbuf_pkthdr_setrcvif(mbuf_t mbuf, ifnet_t ifp);
void	*mbuf_pkthdr_header(mbuf_t mbuf);	/* link-level header */
/* Point at the packet's link-level header (a driver sets it before
 * ifnet_input; it may lie in front of the data). */
void	mbuf_pkthdr_setheader(mbuf_t mbuf, void *header);

/* --- Checksums and VLAN -----------------------------------------------
 * The rest of this section returns EINVAL for an mbuf without a packet
 * header. */

/* Forget what hardware verified: call after changing inbound data. */
void	mbuf_inbound_modified(mbuf_t mbuf);

/* Compute in software the checksums still requested on an outbound
 * packet whose IPv4 header starts at protocol_offset (PF_INET only):
 * for TCP/UDP the checksum field holds the pseudo-header sum and the
 * requested value the field's offset in the transport header.  Then
 * clears the requests.  Other families are left alone. */
void	mbuf_outbound_finalize(mbuf_t mbuf, u_long protocol_family,
	    size_t protocol_offset);

/* The 802.1Q tag that goes with the packet (the frame itself does not
 * carry it).  mbuf_get_vlan_tag: ENXIO if the packet has none. */
errno_t	mbuf_set_vlan_tag(mbuf_t mbuf, u_int16_t vlan);
errno_t	mbuf_get_vlan_tag(mbuf_t mbuf, u_int16_t *vlan);
errno_t	mbuf_clear_vlan_tag(mbuf_t mbuf);

/* Checksums the stack asks the driver to compute on output
 * (MBUF_CSUM_REQ_*), with their value (see mbuf_outbound_finalize).
 * value may be NULL when getting. */
errno_t	mbuf_set_csum_requested(mbuf_t mbuf,
	    mbuf_csum_request_flags_t request, u_int32_t value);
errno_t	mbuf_get_csum_requested(mbuf_t mbuf,
	    mbuf_csum_request_flags_t *request, u_int32_t *value);
errno_t	mbuf_clear_csum_requested(mbuf_t mbuf);

/* Checksums a driver verified on input (MBUF_CSUM_DID_*), with the
 * value it computed.  value may be NULL when getting.  Requested and
 * performed share one value: they are never used on the same packet. */
errno_t	mbuf_set_csum_performed(mbuf_t mbuf,
	    mbuf_csum_performed_flags_t performed, u_int32_t value);
errno_t	mbuf_get_csum_performed(mbuf_t mbuf,
	    mbuf_csum_performed_flags_t *performed, u_int32_t *value);
errno_t	mbuf_clear_csum_performed(mbuf_t mbuf);

/* --- Sizes and statistics --------------------------------------------- */

size_t	mbuf_get_mlen(void);		/* data space of a plain mbuf */
size_t	mbuf_get_mhlen(void);		/* data space of a header mbuf */
u_int32_t mbuf_get_minclsize(void);	/* use a cluster from this size */
/* Fill in *stats: the allocator's counters at this moment. */
void	mbuf_stats(struct mbuf_stat *stats);

/* --- Tags: per-packet data owned by a module -------------------------- */

/* A module id for a bundle id (the same string gets the same id); call
 * once at start.  EINVAL for NULL, "" or 256 characters or more; ENOMEM
 * when 64 ids are handed out.  Never sleeps in Finch, but may in Mac OS
 * X: call it in thread context. */
errno_t	mbuf_tag_id_find(const char *module_string, mbuf_tag_id_t *module_id);

/* Attach length bytes of zeroed tag data to a packet-header mbuf;
 * *data_p gets them.  EINVAL (no header, unknown id, length 0 or over
 * 1024), EEXIST (already there), ENOMEM.  The tag is freed with the
 * mbuf, by whoever frees it, perhaps after your kext has gone: nothing
 * of yours is called then, so keep no pointer into your kext in the
 * tag's data.  Never sleeps. */
errno_t	mbuf_tag_allocate(mbuf_t mbuf, mbuf_tag_id_t module_id,
	    mbuf_tag_type_t type, size_t length, mbuf_how_t how,
	    void **data_p);

/* Find a tag; ENOENT if the packet has none of that id and type. */
errno_t	mbuf_tag_find(mbuf_t mbuf, mbuf_tag_id_t module_id,
	    mbuf_tag_type_t type, size_t *length, void **data_p);

/* Remove and free a tag (nothing if absent). */
void	mbuf_tag_free(mbuf_t mbuf, mbuf_tag_id_t module_id,
	    mbuf_tag_type_t type);

__END_DECLS

/*
 * A driver's own packet queue (struct ifqueue, <net/if_var.h>), through
 * the mbuf KPI: put a packet at the tail or the head, take the one at
 * the head ((m) NULL when empty).  They do not lock and do not look at
 * ifq_maxlen: the driver does both.
 */
#define IF_ENQUEUE_MBUF(ifq, m) do {					\
	mbuf_setnextpkt((m), NULL);					\
	if ((ifq)->ifq_tail == NULL)					\
		(ifq)->ifq_head = (m);					\
	else								\
		mbuf_setnextpkt((mbuf_t)(ifq)->ifq_tail, (m));		\
	(ifq)->ifq_tail = (m);						\
	(ifq)->ifq_len++;						\
} while (0)
#define IF_PREPEND_MBUF(ifq, m) do {					\
	mbuf_setnextpkt((m), (mbuf_t)(ifq)->ifq_head);			\
	if ((ifq)->ifq_tail == NULL)					\
		(ifq)->ifq_tail = (m);					\
	(ifq)->ifq_head = (m);						\
	(ifq)->ifq_len++;						\
} while (0)
#define IF_DEQUEUE_MBUF(ifq, m) do {					\
	(m) = (mbuf_t)(ifq)->ifq_head;					\
	if ((m) != NULL) {						\
		if (((ifq)->ifq_head = mbuf_nextpkt(m)) == NULL)	\
			(ifq)->ifq_tail = NULL;				\
		mbuf_setnextpkt((m), NULL);				\
		(ifq)->ifq_len--;					\
	}								\
} while (0)


#endif /* __KPI_MBUF__ */
