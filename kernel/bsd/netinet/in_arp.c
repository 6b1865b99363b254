/*
 * ARP (RFC 826): the MAC address of an IPv4 next hop on an Ethernet.
 * Outbound, pre_output calls arp_resolve(): an unknown address gets a
 * broadcast request while its packets wait in the cache entry (up to
 * ARP_MAXHOLD).  Inbound, arp_input() learns senders, answers requests
 * for our address, and sends the waiting packets in the order they
 * came; a timer retries and expires entries.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <net/if_ether.h>
#include <netinet/in.h>
#include <netinet/if_ether.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_arp_var.h>

/* Why ARP packets and held packets die; `netstat -s` group "arp". */
static struct arpstat {
	u_int32_t	received;	/* ARP packets received */
	u_int32_t	tooshort;
	u_int32_t	badhrd;
	u_int32_t	badpro;
	u_int32_t	badaddrlen;
	u_int32_t	badop;
	u_int32_t	badsender;
	u_int32_t	ours;
	u_int32_t	dupaddr;
	u_int32_t	notforus;
	u_int32_t	nomem;
	u_int32_t	requests_out;
	u_int32_t	replies_out;
	u_int32_t	gratuitous_out;
	u_int32_t	hold_overflow;
	u_int32_t	hold_evicted;
	u_int32_t	timeout;
	u_int32_t	purged;
} arpstat;

static const struct netstat_counter arp_counters[] = {
	{ "received", "ARP packets received", &arpstat.received },
	{ "tooshort", "dropped: shorter than an Ethernet/IPv4 ARP packet",
	    &arpstat.tooshort },
	{ "badhrd", "dropped: hardware type is not Ethernet",
	    &arpstat.badhrd },
	{ "badpro", "dropped: protocol type is not IPv4", &arpstat.badpro },
	{ "badaddrlen", "dropped: address lengths are not 6 and 4",
	    &arpstat.badaddrlen },
	{ "badop", "dropped: neither a request nor a reply", &arpstat.badop },
	{ "badsender", "dropped: sender is a broadcast or multicast address",
	    &arpstat.badsender },
	{ "ours", "dropped: sent with our own MAC address", &arpstat.ours },
	{ "dupaddr", "dropped: another host claims our IPv4 address",
	    &arpstat.dupaddr },
	{ "notforus", "dropped: about other hosts, nothing to learn",
	    &arpstat.notforus },
	{ "nomem", "dropped: out of mbufs (allocation failure)",
	    &arpstat.nomem },
	{ "requests_out", "requests sent", &arpstat.requests_out },
	{ "replies_out", "replies sent", &arpstat.replies_out },
	{ "gratuitous_out", "gratuitous ARPs sent (address announced)",
	    &arpstat.gratuitous_out },
	{ "hold_overflow", "dropped: waiting for a reply, with 16 newer "
	    "packets behind it (ARP_MAXHOLD)", &arpstat.hold_overflow },
	{ "hold_evicted", "dropped: waiting for a reply, its entry reused",
	    &arpstat.hold_evicted },
	{ "timeout", "dropped: waiting for a reply that never came",
	    &arpstat.timeout },
	{ "purged", "dropped: waiting when the entry was deleted",
	    &arpstat.purged },
};
NETSTAT_GROUP(arp, arp_counters);

static const u_char ether_broadcast[ETHER_ADDR_LEN] =
    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u_char ether_zero[ETHER_ADDR_LEN];

/* The stack's cache. */
static struct arp_cache arp_cache;

/* Count a dropped packet and put it on the list to free later. */
static void
arp_drop_later(mbuf_t m, volatile u_int32_t *reason, mbuf_t *freelist)
{
	NETSTAT_INC(*reason);
	mbuf_setnextpkt(m, *freelist);
	*freelist = m;
}

/* The same for every packet of a nextpkt list. */
static void
arp_drop_list_later(mbuf_t list, volatile u_int32_t *reason,
    mbuf_t *freelist)
{
	mbuf_t m, next;

	for (m = list; m != NULL; m = next) {
		next = mbuf_nextpkt(m);
		arp_drop_later(m, reason, freelist);
	}
}

/* ---- The cache ---- */

void
arp_cache_init(struct arp_cache *ac)
{
	bzero(ac, sizeof(*ac));
	simple_lock_init(&ac->ac_lock, "arp_cache");
}

/* (ac_lock) held. */
static struct llinfo_arp *
arp_find_locked(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip)
{
	struct llinfo_arp *la;
	int i;

	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		la = &ac->ac_entries[i];
		if (la->la_state != ARP_FREE && la->la_ifp == ifp &&
		    la->la_ip.s_addr == ip.s_addr)
			return la;
	}
	return NULL;
}

/* Empty a slot; the packets still waiting in it are dropped.  (ac_lock) */
static void
arp_clear_locked(struct llinfo_arp *la, volatile u_int32_t *reason,
    mbuf_t *freelist)
{
	arp_drop_list_later(la->la_hold, reason, freelist);
	bzero(la, sizeof(*la));
}

/*
 * m waits behind the packets already held; with ARP_MAXHOLD waiting, the
 * oldest makes room.  Sent in this order once the answer comes, the
 * fragments of a datagram leave as ip_output cut them.  (ac_lock)
 */
static void
arp_hold_locked(struct llinfo_arp *la, mbuf_t m, mbuf_t *freelist)
{
	mbuf_t last, oldest;

	if (la->la_numheld >= ARP_MAXHOLD) {
		oldest = la->la_hold;
		la->la_hold = mbuf_nextpkt(oldest);
		la->la_numheld--;
		arp_drop_later(oldest, &arpstat.hold_overflow, freelist);
	}
	mbuf_setnextpkt(m, NULL);
	if (la->la_hold == NULL) {
		la->la_hold = m;
	} else {
		for (last = la->la_hold; mbuf_nextpkt(last) != NULL;
		    last = mbuf_nextpkt(last))
			continue;
		mbuf_setnextpkt(last, m);
	}
	la->la_numheld++;
}

/* A slot for a new entry: a free one, else the least recently changed
 * one is reused (its waiting packets dropped).  (ac_lock) held. */
static struct llinfo_arp *
arp_alloc_locked(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip,
    u_int64_t now, mbuf_t *freelist)
{
	struct llinfo_arp *la, *oldest = NULL;
	int i;

	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		la = &ac->ac_entries[i];
		if (la->la_state == ARP_FREE) {
			oldest = la;
			break;
		}
		if (oldest == NULL || la->la_updated < oldest->la_updated)
			oldest = la;
	}
	arp_clear_locked(oldest, &arpstat.hold_evicted, freelist);
	oldest->la_state = ARP_INCOMPLETE;
	oldest->la_ifp = ifp;
	oldest->la_ip = ip;
	oldest->la_updated = now;
	return oldest;
}

bool
arp_cache_lookup(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip,
    u_char *mac, u_int64_t now)
{
	struct llinfo_arp *la;
	bool found;

	simple_lock(&ac->ac_lock);
	la = arp_find_locked(ac, ifp, ip);
	found = la != NULL && la->la_state == ARP_RESOLVED &&
	    now < la->la_expire;
	if (found && mac != NULL)
		memcpy(mac, la->la_mac, ETHER_ADDR_LEN);
	simple_unlock(&ac->ac_lock);
	return found;
}

errno_t
arp_cache_resolve(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip,
    mbuf_t m, u_int64_t now, u_char *mac, bool *send_request,
    mbuf_t *freelist)
{
	struct llinfo_arp *la;

	*send_request = false;
	simple_lock(&ac->ac_lock);
	la = arp_find_locked(ac, ifp, ip);
	if (la != NULL && la->la_state == ARP_RESOLVED && now < la->la_expire) {
		memcpy(mac, la->la_mac, ETHER_ADDR_LEN);
		simple_unlock(&ac->ac_lock);
		return 0;
	}
	if (la == NULL)
		la = arp_alloc_locked(ac, ifp, ip, now, freelist);
	else if (la->la_state == ARP_RESOLVED) {
		la->la_state = ARP_INCOMPLETE;	/* expired: ask again */
		la->la_asked = 0;
	}
	if (m != NULL)
		arp_hold_locked(la, m, freelist);
	if (la->la_asked == 0) {
		la->la_asked = 1;
		la->la_expire = now + ARP_RETRY_MS;
		*send_request = true;
	}
	simple_unlock(&ac->ac_lock);
	return EJUSTRETURN;
}

bool
arp_cache_update(struct arp_cache *ac, ifnet_t ifp, struct in_addr ip,
    const u_char *mac, bool create, u_int64_t now, mbuf_t *held,
    mbuf_t *freelist)
{
	struct llinfo_arp *la;

	*held = NULL;
	simple_lock(&ac->ac_lock);
	la = arp_find_locked(ac, ifp, ip);
	if (la == NULL && create)
		la = arp_alloc_locked(ac, ifp, ip, now, freelist);
	if (la != NULL) {
		memcpy(la->la_mac, mac, ETHER_ADDR_LEN);
		la->la_state = ARP_RESOLVED;
		la->la_asked = 0;
		la->la_expire = now + ARP_KEEP_MS;
		la->la_updated = now;
		*held = la->la_hold;
		la->la_hold = NULL;
		la->la_numheld = 0;
	}
	simple_unlock(&ac->ac_lock);
	return la != NULL;
}

/* One entry whose time has come: forget it, or ask once more.  (ac_lock) */
static void
arp_timer_one(struct llinfo_arp *la, u_int64_t now, struct arp_todo *todo)
{
	if (la->la_state == ARP_RESOLVED) {
		arp_clear_locked(la, &arpstat.timeout, &todo->at_free);
		return;
	}
	if (la->la_asked >= ARP_MAXTRIES) {
		arp_clear_locked(la, &arpstat.timeout, &todo->at_free);
		return;
	}
	la->la_asked++;
	la->la_expire = now + ARP_RETRY_MS;
	ifnet_reference(la->la_ifp);	/* dropped once the request is out */
	todo->at_req[todo->at_nreq].ifp = la->la_ifp;
	todo->at_req[todo->at_nreq].ip = la->la_ip;
	todo->at_nreq++;
}

void
arp_cache_timer(struct arp_cache *ac, u_int64_t now, struct arp_todo *todo)
{
	struct llinfo_arp *la;
	int i;

	todo->at_nreq = 0;
	todo->at_free = NULL;
	simple_lock(&ac->ac_lock);
	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		la = &ac->ac_entries[i];
		if (la->la_state != ARP_FREE && now >= la->la_expire)
			arp_timer_one(la, now, todo);
	}
	simple_unlock(&ac->ac_lock);
}

errno_t
arp_cache_delete(struct arp_cache *ac, struct in_addr ip, mbuf_t *freelist)
{
	struct llinfo_arp *la;
	bool found = false;
	int i;

	simple_lock(&ac->ac_lock);
	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		la = &ac->ac_entries[i];
		if (la->la_state != ARP_FREE && la->la_ip.s_addr == ip.s_addr) {
			arp_clear_locked(la, &arpstat.purged, freelist);
			found = true;
		}
	}
	simple_unlock(&ac->ac_lock);
	return found ? 0 : ESRCH;
}

void
arp_cache_purge(struct arp_cache *ac, ifnet_t ifp, mbuf_t *freelist)
{
	struct llinfo_arp *la;
	int i;

	simple_lock(&ac->ac_lock);
	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		la = &ac->ac_entries[i];
		if (la->la_state != ARP_FREE && (ifp == NULL || la->la_ifp == ifp))
			arp_clear_locked(la, &arpstat.purged, freelist);
	}
	simple_unlock(&ac->ac_lock);
}

int
arp_cache_list(struct arp_cache *ac, struct arp_info *out, int max,
    u_int64_t now)
{
	struct llinfo_arp *la;
	int i, n = 0;

	simple_lock(&ac->ac_lock);
	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		la = &ac->ac_entries[i];
		if (la->la_state == ARP_FREE)
			continue;
		if (n < max) {
			snprintf(out[n].ai_ifname, sizeof(out[n].ai_ifname),
			    "%s%u", ifnet_name(la->la_ifp),
			    ifnet_unit(la->la_ifp));
			out[n].ai_ip = la->la_ip;
			memcpy(out[n].ai_mac, la->la_mac, ETHER_ADDR_LEN);
			out[n].ai_state = la->la_state;
			out[n].ai_expire_s = la->la_expire > now ?
			    (u_int32_t)((la->la_expire - now) / 1000) : 0;
		}
		n++;
	}
	simple_unlock(&ac->ac_lock);
	return n;
}

/* ---- Sending ---- */

/*
 * Send one ARP packet out of ifp: op, the sender's and target's
 * addresses, to the Ethernet address dst.  The frame is built by the
 * DLIL: an AF_UNSPEC destination carries the Ethernet header that our
 * pre_output (in_ether.c) copies out.
 */
static void
arp_send(ifnet_t ifp, u_short op, struct in_addr spa, const u_char *tha,
    struct in_addr tpa, const u_char *dst)
{
	struct ether_header *eh;
	struct ether_arp *ea;
	struct sockaddr sa;
	mbuf_t m;

	if (mbuf_gethdr(MBUF_DONTWAIT, MBUF_TYPE_DATA, &m) != 0) {
		NETSTAT_INC(arpstat.nomem);
		return;
	}
	mbuf_setdata(m, (char *)mbuf_datastart(m) + IN_LINKHDR_RESERVE,
	    sizeof(*ea));
	mbuf_pkthdr_setlen(m, sizeof(*ea));
	ea = mbuf_data(m);
	ea->arp_hrd = htons(ARPHRD_ETHER);
	ea->arp_pro = htons(ETHERTYPE_IP);
	ea->arp_hln = ETHER_ADDR_LEN;
	ea->arp_pln = sizeof(struct in_addr);
	ea->arp_op = htons(op);
	ifnet_lladdr_copy_bytes(ifp, ea->arp_sha, ETHER_ADDR_LEN);
	memcpy(ea->arp_spa, &spa, sizeof(spa));
	memcpy(ea->arp_tha, tha, ETHER_ADDR_LEN);
	memcpy(ea->arp_tpa, &tpa, sizeof(tpa));

	bzero(&sa, sizeof(sa));
	sa.sa_len = sizeof(sa);
	sa.sa_family = AF_UNSPEC;
	eh = (struct ether_header *)sa.sa_data;
	memcpy(eh->ether_dhost, dst, ETHER_ADDR_LEN);
	eh->ether_type = htons(ETHERTYPE_ARP);
	ifnet_output(ifp, PF_INET, m, NULL, &sa);
}

/* Who has tpa?  Asked from our address on ifp for tpa's network (0.0.0.0
 * if ifp has none). */
static void
arp_request(ifnet_t ifp, struct in_addr tpa)
{
	struct in_addr spa = { INADDR_ANY };

	in_ifaddr_src(ifp, tpa, &spa);
	NETSTAT_INC(arpstat.requests_out);
	arp_send(ifp, ARPOP_REQUEST, spa, ether_zero, tpa, ether_broadcast);
}

void
arp_gratuitous_addr(ifnet_t ifp, struct in_addr addr)
{
	NETSTAT_INC(arpstat.gratuitous_out);
	arp_send(ifp, ARPOP_REQUEST, addr, ether_zero, addr, ether_broadcast);
}

void
arp_gratuitous(ifnet_t ifp)
{
	struct in_addr addrs[ARP_ANNOUNCE_MAX];
	int i, n;

	n = in_ifaddr_addrs(ifp, addrs, ARP_ANNOUNCE_MAX);
	for (i = 0; i < n && i < ARP_ANNOUNCE_MAX; i++)
		arp_gratuitous_addr(ifp, addrs[i]);
}

/* The packets that waited for ip's MAC can go now, oldest first: back
 * through the DLIL, whose pre_output will find the entry resolved. */
static void
arp_send_held(ifnet_t ifp, struct in_addr ip, mbuf_t list)
{
	struct sockaddr_in sin;
	mbuf_t m, next;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr = ip;
	for (m = list; m != NULL; m = next) {
		next = mbuf_nextpkt(m);
		mbuf_setnextpkt(m, NULL);
		ifnet_output(ifp, PF_INET, m, NULL, (struct sockaddr *)&sin);
	}
}

/* ---- Output: resolution ---- */

errno_t
arp_resolve(ifnet_t ifp, struct in_addr nexthop, mbuf_t m, u_char *mac)
{
	mbuf_t freelist = NULL;
	bool ask;
	errno_t error;

	if (in_is_broadcast(nexthop, ifp)) {
		memcpy(mac, ether_broadcast, ETHER_ADDR_LEN);
		return 0;
	}
	if (IN_MULTICAST(ntohl(nexthop.s_addr))) {
		ETHER_MAP_IP_MULTICAST(&nexthop, mac);
		return 0;
	}
	error = arp_cache_resolve(&arp_cache, ifp, nexthop, m, in_time_ms(),
	    mac, &ask, &freelist);
	if (freelist != NULL)
		mbuf_freem_list(freelist);
	if (ask)
		arp_request(ifp, nexthop);
	return error;
}

/* ---- Input ---- */

/*
 * Is this a well-formed Ethernet/IPv4 ARP packet, contiguous in the
 * first mbuf?  NULL if so, else the counter of the reason to drop it.
 */
static volatile u_int32_t *
arp_check(mbuf_t m)
{
	struct ether_arp *ea = mbuf_data(m);
	u_short op;

	if (ntohs(ea->arp_hrd) != ARPHRD_ETHER)
		return &arpstat.badhrd;
	if (ntohs(ea->arp_pro) != ETHERTYPE_IP)
		return &arpstat.badpro;
	if (ea->arp_hln != ETHER_ADDR_LEN || ea->arp_pln != 4)
		return &arpstat.badaddrlen;
	op = ntohs(ea->arp_op);
	if (op != ARPOP_REQUEST && op != ARPOP_REPLY)
		return &arpstat.badop;
	if (ea->arp_sha[0] & 0x01)	/* broadcast or multicast MAC */
		return &arpstat.badsender;
	return NULL;
}

/* Sender and target protocol addresses, and ours on ifp (or 0). */
struct arp_addrs {
	struct in_addr	spa, tpa;
};

/* Another host uses our address: say so on the console, at most once
 * every ten seconds (a flood of such packets must not flood COM1). */
static void
arp_report_duplicate(const struct ether_arp *ea)
{
	static u_int64_t last_report;	/* racy on purpose: only a rate */
	u_int64_t now = in_time_ms();
	struct in_addr ip;

	if (last_report != 0 && now - last_report < 10000)
		return;
	last_report = now;
	memcpy(&ip, ea->arp_spa, sizeof(ip));
	printf("arp: " IN_ADDR_FMT " is also claimed by "
	    "%02x:%02x:%02x:%02x:%02x:%02x\n", IN_ADDR_ARGS(ip),
	    ea->arp_sha[0], ea->arp_sha[1], ea->arp_sha[2], ea->arp_sha[3],
	    ea->arp_sha[4], ea->arp_sha[5]);
}

/* What the addresses say about the packet: NULL to go on, else why it
 * is dropped. */
static volatile u_int32_t *
arp_check_addrs(ifnet_t ifp, const struct ether_arp *ea, struct arp_addrs *a)
{
	u_char me[ETHER_ADDR_LEN];

	memcpy(&a->spa, ea->arp_spa, sizeof(a->spa));
	memcpy(&a->tpa, ea->arp_tpa, sizeof(a->tpa));
	if (ifnet_lladdr_copy_bytes(ifp, me, ETHER_ADDR_LEN) == 0 &&
	    memcmp(me, ea->arp_sha, ETHER_ADDR_LEN) == 0)
		return &arpstat.ours;
	if (a->spa.s_addr == htonl(INADDR_BROADCAST) ||
	    IN_MULTICAST(ntohl(a->spa.s_addr)))
		return &arpstat.badsender;
	if (in_ifaddr_has(ifp, a->spa)) {
		arp_report_duplicate(ea);
		return &arpstat.dupaddr;
	}
	return NULL;
}

/*
 * Learn the sender (RFC 826's merge: update an entry we have, add one if
 * the packet is for us) and send what waited for it.  Returns whether
 * the packet taught us anything.
 */
static bool
arp_learn(ifnet_t ifp, const struct ether_arp *ea, const struct arp_addrs *a,
    bool for_us)
{
	mbuf_t held, freelist = NULL;
	bool merged;

	if (a->spa.s_addr == INADDR_ANY)
		return false;		/* a probe (RFC 5227): nothing to learn */
	merged = arp_cache_update(&arp_cache, ifp, a->spa, ea->arp_sha, for_us,
	    in_time_ms(), &held, &freelist);
	if (freelist != NULL)
		mbuf_freem_list(freelist);
	if (held != NULL)
		arp_send_held(ifp, a->spa, held);
	return merged;
}

void
arp_input(ifnet_t ifp, mbuf_t m)
{
	volatile u_int32_t *reason;
	struct ether_arp *ea;
	struct arp_addrs a;
	bool for_us, merged;

	NETSTAT_INC(arpstat.received);
	if (mbuf_pkthdr_len(m) < sizeof(*ea)) {
		NETSTAT_INC(arpstat.tooshort);
		mbuf_freem(m);
		return;
	}
	if (mbuf_len(m) < sizeof(*ea) && mbuf_pullup(&m, sizeof(*ea)) != 0) {
		NETSTAT_INC(arpstat.nomem);	/* pullup freed it */
		return;
	}
	ea = mbuf_data(m);
	if ((reason = arp_check(m)) != NULL ||
	    (reason = arp_check_addrs(ifp, ea, &a)) != NULL) {
		NETSTAT_INC(*reason);
		mbuf_freem(m);
		return;
	}
	for_us = in_ifaddr_has(ifp, a.tpa);	/* any of ifp's addresses */
	merged = arp_learn(ifp, ea, &a, for_us);
	if (for_us && ntohs(ea->arp_op) == ARPOP_REQUEST) {
		NETSTAT_INC(arpstat.replies_out);
		arp_send(ifp, ARPOP_REPLY, a.tpa, ea->arp_sha, a.spa,
		    ea->arp_sha);
	}
	if (!for_us && !merged)
		NETSTAT_INC(arpstat.notforus);
	mbuf_freem(m);
}

/* ---- Timer, interfaces, monitor ---- */

void
arp_slowtimo(u_int64_t now)
{
	static struct arp_todo todo;	/* big; only the timer thread uses it */
	u_int32_t i;

	arp_cache_timer(&arp_cache, now, &todo);
	if (todo.at_free != NULL)
		mbuf_freem_list(todo.at_free);
	for (i = 0; i < todo.at_nreq; i++) {
		arp_request(todo.at_req[i].ifp, todo.at_req[i].ip);
		ifnet_release(todo.at_req[i].ifp);
	}
}

void
arp_ifdetach(ifnet_t ifp)
{
	mbuf_t freelist = NULL;

	arp_cache_purge(&arp_cache, ifp, &freelist);
	if (freelist != NULL)
		mbuf_freem_list(freelist);
}

int
arp_list(struct arp_info *out, int max)
{
	return arp_cache_list(&arp_cache, out, max, in_time_ms());
}

errno_t
arp_delete(struct in_addr ip)
{
	mbuf_t freelist = NULL;
	errno_t error;

	error = arp_cache_delete(&arp_cache, ip, &freelist);
	if (freelist != NULL)
		mbuf_freem_list(freelist);
	return error;
}

void
arp_init(void)
{
	arp_cache_init(&arp_cache);
}
