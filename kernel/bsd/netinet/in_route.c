/*
 * The IPv4 routing table: a small fixed array searched for the longest
 * matching prefix.  Interface routes ("10.0.2.0/24 is on en0") come and
 * go with addresses (in.c); gateway routes ("default via 10.0.2.2") are
 * added with `route add`.  ip_output asks in_route_lookup() where each
 * datagram goes: which interface, which next hop, which source address.
 */
#include <sys/systm.h>
#include <netinet/in.h>
#include <bsd/net/if_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_route_var.h>

/*
 * One route.  rt_ifp (interface routes only) is referenced.  A gateway
 * route names no interface: its gateway is looked up among the interface
 * routes each time, so it survives a change of address.
 */
struct rtentry {
	bool		rt_used;
	struct in_addr	rt_dst;		/* network order, dst & mask */
	struct in_addr	rt_mask;
	struct in_addr	rt_gateway;	/* 0: an interface route */
	ifnet_t		rt_ifp;
	u_int32_t	rt_flags;	/* IN_RTF_* */
	u_int32_t	rt_use;
};

/* The table, (r) rt_lock: a spin lock, as output never sleeps. */
static simple_lock_data_t rt_lock = SIMPLE_LOCK_INITIALIZER("in_route");
static struct rtentry rt_table[RT_TABLE_SIZE];

volatile u_int32_t in_route_gen = 1;	/* atomic; 0: never valid */

void
in_route_init(void)
{
	bzero(rt_table, sizeof(rt_table));
}

void
in_route_changed(void)
{
	if (__atomic_add_fetch(&in_route_gen, 1, __ATOMIC_RELAXED) == 0)
		__atomic_add_fetch(&in_route_gen, 1, __ATOMIC_RELAXED);
}

/* ---- Masks ---- */

int
in_mask_len(struct in_addr mask)
{
	u_int32_t m = ntohl(mask.s_addr);
	int len = 0;

	while (len < 32 && (m & (0x80000000u >> len)))
		len++;
	if (len < 32 && (m << len) != 0)
		return -1;		/* a hole: not contiguous */
	return len;
}

struct in_addr
in_len_mask(int len)
{
	struct in_addr mask;

	mask.s_addr = htonl(len <= 0 ? 0 : 0xffffffffu << (32 - len));
	return mask;
}

/* ---- Lookup ---- */

/*
 * The most specific route that covers dst; with direct_only, interface
 * routes only (where a gateway must be).  (r) held.
 */
static struct rtentry *
rt_match_locked(struct in_addr dst, bool direct_only)
{
	struct rtentry *rt, *best = NULL;
	int i, len, bestlen = -1;

	for (i = 0; i < RT_TABLE_SIZE; i++) {
		rt = &rt_table[i];
		if (!rt->rt_used || (dst.s_addr & rt->rt_mask.s_addr) !=
		    rt->rt_dst.s_addr)
			continue;
		if (direct_only && (rt->rt_flags & IN_RTF_GATEWAY))
			continue;
		len = in_mask_len(rt->rt_mask);
		if (len > bestlen) {
			best = rt;
			bestlen = len;
		}
	}
	return best;
}

/* One of our own addresses, or 127/8: through lo0. */
static errno_t
in_route_local(struct in_addr dst, struct in_route *ro)
{
	if (lo_ifp == NULL)
		return ENETUNREACH;
	ifnet_reference(lo_ifp);
	ro->ro_ifp = lo_ifp;
	ro->ro_nexthop = dst;
	ro->ro_src = dst;
	ro->ro_flags = IN_RTF_UP | IN_RTF_HOST | IN_RTF_LOCAL;
	if (IN_LOOPBACK(ntohl(dst.s_addr)))
		ro->ro_src.s_addr = htonl(INADDR_LOOPBACK);
	return 0;
}

/* 255.255.255.255: out of the first interface that has an address. */
static errno_t
in_route_broadcast(struct in_addr dst, struct in_route *ro)
{
	ro->ro_ifp = in_ifaddr_first(&ro->ro_src);
	if (ro->ro_ifp == NULL)
		return ENETUNREACH;
	ro->ro_nexthop = dst;
	ro->ro_flags = IN_RTF_UP | IN_RTF_BROADCAST;
	return 0;
}

errno_t
in_route_lookup(struct in_addr dst, struct in_route *ro)
{
	struct rtentry *rt;
	struct in_addr nexthop = dst;
	u_int32_t flags;
	errno_t error;
	ifnet_t ifp;

	bzero(ro, sizeof(*ro));
	if (in_is_local(dst) || IN_LOOPBACK(ntohl(dst.s_addr))) {
		error = in_route_local(dst, ro);
		if (error == 0 && in_is_broadcast(dst, ro->ro_ifp))
			ro->ro_flags |= IN_RTF_BROADCAST;  /* 127.255.255.255 */
		return error;
	}
	if (dst.s_addr == htonl(INADDR_BROADCAST))
		return in_route_broadcast(dst, ro);

	simple_lock(&rt_lock);
	rt = rt_match_locked(dst, false);
	if (rt == NULL) {
		simple_unlock(&rt_lock);
		return ENETUNREACH;
	}
	rt->rt_use++;
	flags = rt->rt_flags;
	if (flags & IN_RTF_GATEWAY) {
		nexthop = rt->rt_gateway;
		rt = rt_match_locked(nexthop, true);
		if (rt == NULL) {
			simple_unlock(&rt_lock);
			return EHOSTUNREACH;
		}
	}
	ifp = rt->rt_ifp;
	ifnet_reference(ifp);
	simple_unlock(&rt_lock);

	ro->ro_ifp = ifp;
	ro->ro_nexthop = nexthop;
	ro->ro_flags = flags;
	if (!in_ifaddr_src(ifp, nexthop, &ro->ro_src)) {
		in_route_release(ro);
		return ENETUNREACH;	/* the address went away meanwhile */
	}
	if (in_is_broadcast(dst, ifp))
		ro->ro_flags |= IN_RTF_BROADCAST;
	return 0;
}

void
in_route_release(struct in_route *ro)
{
	if (ro->ro_ifp != NULL)
		ifnet_release(ro->ro_ifp);
	ro->ro_ifp = NULL;
}

/* ---- Changes ---- */

/* (r) held. */
static struct rtentry *
rt_find_locked(struct in_addr dst, struct in_addr mask)
{
	int i;

	for (i = 0; i < RT_TABLE_SIZE; i++)
		if (rt_table[i].rt_used &&
		    rt_table[i].rt_dst.s_addr == dst.s_addr &&
		    rt_table[i].rt_mask.s_addr == mask.s_addr)
			return &rt_table[i];
	return NULL;
}

/* (r) held. */
static struct rtentry *
rt_free_slot_locked(void)
{
	int i;

	for (i = 0; i < RT_TABLE_SIZE; i++)
		if (!rt_table[i].rt_used)
			return &rt_table[i];
	return NULL;
}

errno_t
in_route_add(struct in_addr dst, struct in_addr mask, struct in_addr gateway,
    ifnet_t ifp, u_int32_t flags)
{
	struct rtentry *rt;
	errno_t error = 0;

	if (in_mask_len(mask) < 0 || (dst.s_addr & ~mask.s_addr) != 0 ||
	    (gateway.s_addr == INADDR_ANY && ifp == NULL))
		return EINVAL;
	if (gateway.s_addr != INADDR_ANY) {
		flags |= IN_RTF_GATEWAY;
		ifp = NULL;
	}
	if (in_mask_len(mask) == 32)
		flags |= IN_RTF_HOST;
	if (ifp != NULL)
		ifnet_reference(ifp);		/* the route's */

	simple_lock(&rt_lock);
	if (rt_find_locked(dst, mask) != NULL)
		error = EEXIST;
	else if ((flags & IN_RTF_GATEWAY) &&
	    rt_match_locked(gateway, true) == NULL)
		error = ENETUNREACH;
	else if ((rt = rt_free_slot_locked()) == NULL)
		error = ENOSPC;
	else {
		rt->rt_used = true;
		rt->rt_dst = dst;
		rt->rt_mask = mask;
		rt->rt_gateway = gateway;
		rt->rt_ifp = ifp;
		rt->rt_flags = flags | IN_RTF_UP;
		rt->rt_use = 0;
	}
	simple_unlock(&rt_lock);
	if (error != 0 && ifp != NULL)
		ifnet_release(ifp);
	if (error == 0)
		in_route_changed();
	return error;
}

/* Empty the slot; returns the interface reference to drop. (r) held. */
static ifnet_t
rt_clear_locked(struct rtentry *rt)
{
	ifnet_t ifp = rt->rt_ifp;

	bzero(rt, sizeof(*rt));
	return ifp;
}

errno_t
in_route_delete(struct in_addr dst, struct in_addr mask)
{
	struct rtentry *rt;
	ifnet_t ifp = NULL;

	simple_lock(&rt_lock);
	rt = rt_find_locked(dst, mask);
	if (rt != NULL)
		ifp = rt_clear_locked(rt);
	simple_unlock(&rt_lock);
	if (ifp != NULL)
		ifnet_release(ifp);
	in_route_changed();
	return rt != NULL ? 0 : ESRCH;
}

errno_t
in_route_delete_if(struct in_addr dst, struct in_addr mask, ifnet_t ifp)
{
	struct rtentry *rt;
	ifnet_t gone = NULL;

	simple_lock(&rt_lock);
	rt = rt_find_locked(dst, mask);
	if (rt != NULL && rt->rt_ifp == ifp &&
	    !(rt->rt_flags & IN_RTF_GATEWAY))
		gone = rt_clear_locked(rt);
	simple_unlock(&rt_lock);
	if (gone != NULL)
		ifnet_release(gone);
	in_route_changed();
	return gone != NULL ? 0 : ESRCH;
}

void
in_route_purge(ifnet_t ifp)
{
	ifnet_t gone[RT_TABLE_SIZE];
	int i, n = 0;

	simple_lock(&rt_lock);
	for (i = 0; i < RT_TABLE_SIZE; i++)
		if (rt_table[i].rt_used && rt_table[i].rt_ifp == ifp)
			gone[n++] = rt_clear_locked(&rt_table[i]);
	simple_unlock(&rt_lock);
	for (i = 0; i < n; i++)
		ifnet_release(gone[i]);
	in_route_changed();
}

int
in_route_list(struct in_route_info *out, int max)
{
	struct rtentry *rt;
	int i, n = 0;

	simple_lock(&rt_lock);
	for (i = 0; i < RT_TABLE_SIZE; i++) {
		rt = &rt_table[i];
		if (!rt->rt_used)
			continue;
		if (n < max) {
			out[n].ri_dst = rt->rt_dst;
			out[n].ri_mask = rt->rt_mask;
			out[n].ri_gateway = rt->rt_gateway;
			out[n].ri_ifname[0] = '\0';
			out[n].ri_ifindex = rt->rt_ifp != NULL ?
			    ifnet_index(rt->rt_ifp) : 0;
			if (rt->rt_ifp != NULL)
				snprintf(out[n].ri_ifname,
				    sizeof(out[n].ri_ifname), "%s%u",
				    ifnet_name(rt->rt_ifp),
				    ifnet_unit(rt->rt_ifp));
			out[n].ri_flags = rt->rt_flags;
			out[n].ri_use = rt->rt_use;
		}
		n++;
	}
	simple_unlock(&rt_lock);
	return n;
}
