/*
 * IPv4 addresses on interfaces, any number per interface (the first is
 * its primary address; the others are aliases), set at boot or through
 * the address ioctls of a PF_INET socket (in_control, at the bottom:
 * SIOCAIFADDR, SIOCDIFADDR, ...), which the monitor's `ifconfig` uses.
 * Adding one attaches IPv4 to the interface, adds the route to its
 * network, posts KEV_INET_NEW_ADDR and announces the address with a
 * gratuitous ARP.  The packet paths ask here whether an address is ours
 * or a broadcast, and which of ours to send from.
 */
#include <sys/systm.h>
#include <sys/sockio.h>
#include <sys/kern_event.h>
#include <kern/kalloc.h>
#include <netinet/in.h>
#include <netinet/in_var.h>
#include <bsd/kern/kern_event_var.h>
#include <bsd/net/if_detach_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_route_var.h>

/* Every configured address, (A) in_ifaddr_lock: a spin lock, because
 * the input path reads the list and must not sleep. */
static simple_lock_data_t in_ifaddr_lock = SIMPLE_LOCK_INITIALIZER("in_ifaddr");
static TAILQ_HEAD(, in_ifaddr) in_ifaddrhead =
    TAILQ_HEAD_INITIALIZER(in_ifaddrhead);

static OSMallocTag in_tag;

void
in_ifaddr_init(void)
{
	in_tag = kalloc_tag_create("inet", 0);
}

/* ---- Parsing ---- */

/* "a.b.c.d", each part 0 to 255 in decimal; nothing else. */
int
inet_aton(const char *cp, struct in_addr *addr)
{
	u_int32_t parts[4], val;
	int i, digits;

	for (i = 0; i < 4; i++) {
		val = 0;
		for (digits = 0; *cp >= '0' && *cp <= '9'; digits++, cp++) {
			val = val * 10 + (u_int32_t)(*cp - '0');
			if (digits == 3 || val > 255)
				return 0;
		}
		if (digits == 0)
			return 0;
		parts[i] = val;
		if (i < 3 && *cp++ != '.')
			return 0;
	}
	if (*cp != '\0')
		return 0;
	addr->s_addr = htonl(parts[0] << 24 | parts[1] << 16 | parts[2] << 8 |
	    parts[3]);
	return 1;
}

/* ---- The address list ---- */

static void
in_sockaddr(struct sockaddr_in *sin, struct in_addr a)
{
	bzero(sin, sizeof(*sin));
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr = a;
}

/* The last reference (ours or the DLIL's list's) frees it. */
static void
in_ifaddr_free(struct ifaddr *ifa)
{
	kfree_tag(ifa, sizeof(struct in_ifaddr), in_tag);
}

static struct in_ifaddr *
in_ifaddr_alloc(struct in_addr addr, struct in_addr mask)
{
	struct in_ifaddr *ia;
	struct in_addr bcast;

	ia = kalloc_tag(sizeof(*ia), in_tag);
	if (ia == NULL)
		return NULL;
	bzero(ia, sizeof(*ia));
	bcast.s_addr = addr.s_addr | ~mask.s_addr;
	in_sockaddr(&ia->ia_addr, addr);
	in_sockaddr(&ia->ia_netmask, mask);
	in_sockaddr(&ia->ia_broadaddr, bcast);
	ia->ia_ifa.ifa_addr = (struct sockaddr *)&ia->ia_addr;
	ia->ia_ifa.ifa_netmask = (struct sockaddr *)&ia->ia_netmask;
	ia->ia_ifa.ifa_dstaddr = (struct sockaddr *)&ia->ia_broadaddr;
	ia->ia_ifa.ifa_refcnt = 1;		/* in_ifaddrhead's */
	ia->ia_ifa.ifa_free = in_ifaddr_free;
	return ia;
}

/* ifp's address addr, or its first one (addr 0).  (A) held. */
static struct in_ifaddr *
in_ifaddr_find_locked(ifnet_t ifp, struct in_addr addr)
{
	struct in_ifaddr *ia;

	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link)
		if (ia->ia_ifa.ifa_ifp == ifp &&
		    (addr.s_addr == INADDR_ANY ||
		    ia->ia_addr.sin_addr.s_addr == addr.s_addr))
			return ia;
	return NULL;
}

/* The interface that has addr, or NULL.  (A) held. */
static ifnet_t
in_ifaddr_owner_locked(struct in_addr addr)
{
	struct in_ifaddr *ia;

	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link)
		if (ia->ia_addr.sin_addr.s_addr == addr.s_addr)
			return ia->ia_ifa.ifa_ifp;
	return NULL;
}

bool
in_ifaddr_get(ifnet_t ifp, struct in_addr *addr, struct in_addr *mask)
{
	struct in_addr any = { INADDR_ANY };
	struct in_ifaddr *ia;

	simple_lock(&in_ifaddr_lock);
	ia = in_ifaddr_find_locked(ifp, any);
	if (ia != NULL && addr != NULL)
		*addr = ia->ia_addr.sin_addr;
	if (ia != NULL && mask != NULL)
		*mask = ia->ia_netmask.sin_addr;
	simple_unlock(&in_ifaddr_lock);
	return ia != NULL;
}

bool
in_ifaddr_src(ifnet_t ifp, struct in_addr dst, struct in_addr *src)
{
	struct in_ifaddr *ia, *first = NULL;
	u_int32_t mask;

	simple_lock(&in_ifaddr_lock);
	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link) {
		if (ia->ia_ifa.ifa_ifp != ifp)
			continue;
		if (first == NULL)
			first = ia;
		mask = ia->ia_netmask.sin_addr.s_addr;
		if ((ia->ia_addr.sin_addr.s_addr & mask) == (dst.s_addr & mask)) {
			first = ia;
			break;
		}
	}
	if (first != NULL)
		*src = first->ia_addr.sin_addr;
	simple_unlock(&in_ifaddr_lock);
	return first != NULL;
}

int
in_ifaddr_addrs(ifnet_t ifp, struct in_addr *out, int max)
{
	struct in_ifaddr *ia;
	int n = 0;

	simple_lock(&in_ifaddr_lock);
	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link)
		if (ia->ia_ifa.ifa_ifp == ifp) {
			if (n < max)
				out[n] = ia->ia_addr.sin_addr;
			n++;
		}
	simple_unlock(&in_ifaddr_lock);
	return n;
}

bool
in_ifaddr_has(ifnet_t ifp, struct in_addr addr)
{
	bool found;

	if (addr.s_addr == INADDR_ANY)
		return false;
	simple_lock(&in_ifaddr_lock);
	found = in_ifaddr_find_locked(ifp, addr) != NULL;
	simple_unlock(&in_ifaddr_lock);
	return found;
}

bool
in_is_local(struct in_addr a)
{
	struct in_ifaddr *ia;
	bool found = false;

	simple_lock(&in_ifaddr_lock);
	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link)
		if (ia->ia_addr.sin_addr.s_addr == a.s_addr) {
			found = true;
			break;
		}
	simple_unlock(&in_ifaddr_lock);
	return found;
}

/* A /31 or /32 has no broadcast address (RFC 3021). */
static bool
in_ifaddr_has_broadcast(const struct in_ifaddr *ia)
{
	return (ntohl(ia->ia_netmask.sin_addr.s_addr) & 0x3) == 0;
}

bool
in_is_broadcast(struct in_addr a, ifnet_t ifp)
{
	struct in_ifaddr *ia;
	bool found = false;

	if (a.s_addr == htonl(INADDR_BROADCAST))
		return true;
	simple_lock(&in_ifaddr_lock);
	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link)
		if ((ifp == NULL || ia->ia_ifa.ifa_ifp == ifp) &&
		    in_ifaddr_has_broadcast(ia) &&
		    ia->ia_broadaddr.sin_addr.s_addr == a.s_addr) {
			found = true;
			break;
		}
	simple_unlock(&in_ifaddr_lock);
	return found;
}

ifnet_t
in_ifaddr_first(struct in_addr *addr)
{
	struct in_ifaddr *ia;
	ifnet_t ifp = NULL;

	simple_lock(&in_ifaddr_lock);
	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link)
		if (ifnet_family(ia->ia_ifa.ifa_ifp) != IFNET_FAMILY_LOOPBACK) {
			ifp = ia->ia_ifa.ifa_ifp;
			*addr = ia->ia_addr.sin_addr;
			ifnet_reference(ifp);
			break;
		}
	simple_unlock(&in_ifaddr_lock);
	return ifp;
}

int
in_ifaddr_list(struct in_ifaddr_info *out, int max)
{
	struct in_ifaddr *ia;
	ifnet_t ifp;
	int n = 0;

	simple_lock(&in_ifaddr_lock);
	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link) {
		if (n < max) {
			ifp = ia->ia_ifa.ifa_ifp;
			snprintf(out[n].ii_name, sizeof(out[n].ii_name), "%s%u",
			    ifnet_name(ifp), ifnet_unit(ifp));
			out[n].ii_addr = ia->ia_addr.sin_addr;
			out[n].ii_mask = ia->ia_netmask.sin_addr;
			out[n].ii_broadcast = ia->ia_broadaddr.sin_addr;
		}
		n++;
	}
	simple_unlock(&in_ifaddr_lock);
	return n;
}

/* ---- Events ---- */

/*
 * KEV_INET_NEW_ADDR, KEV_INET_CHANGED_ADDR, KEV_INET_ADDR_DELETED, with
 * Darwin's struct kev_in_data.  The addresses are in network order,
 * ia_net and friends in host order, as XNU fills them.  They go straight
 * to the kernel-event listeners: unlike the DLIL's own events, the
 * interface's filters, protocols and driver do not hear them.
 */
static void
in_post_event(ifnet_t ifp, const struct in_ifaddr *ia, u_int32_t code)
{
	struct kev_in_data data;
	struct kev_msg msg;
	u_int32_t addr = ntohl(ia->ia_addr.sin_addr.s_addr);
	u_int32_t mask = ntohl(ia->ia_netmask.sin_addr.s_addr);

	bzero(&data, sizeof(data));
	data.ia_addr = ia->ia_addr.sin_addr;
	data.ia_net = addr & mask;
	data.ia_netmask = mask;
	data.ia_subnet = addr & mask;
	data.ia_subnetmask = mask;
	data.ia_netbroadcast = ia->ia_broadaddr.sin_addr;
	dlil_event_msg_init(&msg, ifp, KEV_INET_SUBCLASS, code, &data.link_data,
	    sizeof(data));
	kev_post_kernel(&msg);
}

/* ---- Setting and deleting ---- */

/* A usable host address with a contiguous mask, not a network's own
 * address or broadcast (except in a /31 or /32). */
static bool
in_addr_valid(struct in_addr addr, struct in_addr mask)
{
	u_int32_t a = ntohl(addr.s_addr), m = ntohl(mask.s_addr);
	int len = in_mask_len(mask);

	if (len < 1 || a == INADDR_ANY || a == INADDR_BROADCAST ||
	    IN_MULTICAST(a) || IN_BADCLASS(a))
		return false;
	if (len <= 30 && ((a & ~m) == 0 || (a & ~m) == ~m))
		return false;
	return true;
}

/*
 * Tell the layers below, as XNU's in_ifinit does: ifnet_ioctl hands
 * SIOCAIFADDR to the interface filters, to IPv4's own protocol callback
 * (in_ether.c announces the address with a gratuitous ARP) and to the
 * driver (an Ethernet driver brings the interface up).
 */
static void
in_ifaddr_tell_below(ifnet_t ifp, const struct in_ifaddr *ia)
{
	struct ifaliasreq ifra;

	bzero(&ifra, sizeof(ifra));
	snprintf(ifra.ifra_name, sizeof(ifra.ifra_name), "%s%u",
	    ifnet_name(ifp), ifnet_unit(ifp));
	memcpy(&ifra.ifra_addr, &ia->ia_addr, sizeof(ifra.ifra_addr));
	memcpy(&ifra.ifra_broadaddr, &ia->ia_broadaddr,
	    sizeof(ifra.ifra_broadaddr));
	memcpy(&ifra.ifra_mask, &ia->ia_netmask, sizeof(ifra.ifra_mask));
	(void)ifnet_ioctl(ifp, PF_INET, SIOCAIFADDR, &ifra);
}

/* The network of ia, and whether another address of ifp (not ia) is on
 * the same network -- then that network's route is still needed. */
static bool
in_ifaddr_net_in_use(ifnet_t ifp, const struct in_ifaddr *gone)
{
	u_int32_t mask = gone->ia_netmask.sin_addr.s_addr;
	u_int32_t net = gone->ia_addr.sin_addr.s_addr & mask;
	struct in_ifaddr *ia;
	bool used = false;

	simple_lock(&in_ifaddr_lock);
	TAILQ_FOREACH(ia, &in_ifaddrhead, ia_link)
		if (ia != gone && ia->ia_ifa.ifa_ifp == ifp &&
		    ia->ia_netmask.sin_addr.s_addr == mask &&
		    (ia->ia_addr.sin_addr.s_addr & mask) == net) {
			used = true;
			break;
		}
	simple_unlock(&in_ifaddr_lock);
	return used;
}

/* The interface route to ia's network. */
static void
in_ifaddr_route_add(ifnet_t ifp, const struct in_ifaddr *ia)
{
	struct in_addr net, none = { INADDR_ANY };
	struct in_addr mask = ia->ia_netmask.sin_addr;
	errno_t error;

	net.s_addr = ia->ia_addr.sin_addr.s_addr & mask.s_addr;
	error = in_route_add(net, mask, none, ifp,
	    in_mask_len(mask) == 32 ? IN_RTF_HOST : 0);
	if (error != 0 && error != EEXIST)	/* EEXIST: an alias's */
		printf("inet: %s%u: no interface route: error %d\n",
		    ifnet_name(ifp), ifnet_unit(ifp), error);
}

/* ia is off in_ifaddrhead: drop its route (unless another address of
 * ifp still needs it), take it off the DLIL's list, drop our reference. */
static void
in_ifaddr_unlink(ifnet_t ifp, struct in_ifaddr *ia)
{
	struct in_addr net, mask = ia->ia_netmask.sin_addr;

	if (!in_ifaddr_net_in_use(ifp, ia)) {
		net.s_addr = ia->ia_addr.sin_addr.s_addr & mask.s_addr;
		in_route_delete_if(net, mask, ifp);
	}
	if_detach_ifaddr(ifp, &ia->ia_ifa);
	ifaddr_release(&ia->ia_ifa);
}

/*
 * Put ia on the list (in old's place if old is not NULL: the same
 * address with a new mask or broadcast) and announce it.
 */
static void
in_ifaddr_link(ifnet_t ifp, struct in_ifaddr *ia, struct in_ifaddr *old,
    u_int32_t event)
{
	if (old != NULL)
		in_ifaddr_unlink(ifp, old);	/* old may be freed now */
	if_attach_ifaddr(ifp, &ia->ia_ifa);
	in_ifaddr_route_add(ifp, ia);
	in_ifaddr_tell_below(ifp, ia);
	in_post_event(ifp, ia, event);
}

errno_t
in_ifaddr_add(ifnet_t ifp, struct in_addr addr, struct in_addr mask,
    struct in_addr bcast, u_int32_t event)
{
	struct in_ifaddr *ia, *old;
	ifnet_t owner;
	errno_t error;

	if (!in_addr_valid(addr, mask))
		return EINVAL;
	if ((error = in_plumb(ifp)) != 0)
		return error;
	if ((ia = in_ifaddr_alloc(addr, mask)) == NULL)
		return ENOMEM;
	if (bcast.s_addr != INADDR_ANY)
		ia->ia_broadaddr.sin_addr = bcast;
	ia->ia_ifa.ifa_ifp = ifp;

	simple_lock(&in_ifaddr_lock);
	owner = in_ifaddr_owner_locked(addr);
	old = owner == ifp ? in_ifaddr_find_locked(ifp, addr) : NULL;
	if (owner != NULL && owner != ifp) {
		simple_unlock(&in_ifaddr_lock);
		ifaddr_release(&ia->ia_ifa);
		return EEXIST;			/* another interface's */
	}
	if (old != NULL) {
		TAILQ_INSERT_BEFORE(old, ia, ia_link);
		TAILQ_REMOVE(&in_ifaddrhead, old, ia_link);
	} else {
		TAILQ_INSERT_TAIL(&in_ifaddrhead, ia, ia_link);
	}
	simple_unlock(&in_ifaddr_lock);

	if (event == 0)
		event = old != NULL ? KEV_INET_CHANGED_ADDR : KEV_INET_NEW_ADDR;
	in_ifaddr_link(ifp, ia, old, event);
	in_route_changed();		/* sources by route may change */
	return 0;
}

/* Off the list: ifp's address addr (0: its first), or NULL. */
static struct in_ifaddr *
in_ifaddr_remove(ifnet_t ifp, struct in_addr addr)
{
	struct in_ifaddr *ia;

	simple_lock(&in_ifaddr_lock);
	ia = in_ifaddr_find_locked(ifp, addr);
	if (ia != NULL)
		TAILQ_REMOVE(&in_ifaddrhead, ia, ia_link);
	simple_unlock(&in_ifaddr_lock);
	return ia;
}

errno_t
in_ifaddr_del(ifnet_t ifp, struct in_addr addr)
{
	struct in_ifaddr *ia = in_ifaddr_remove(ifp, addr);

	if (ia == NULL)
		return EADDRNOTAVAIL;
	in_post_event(ifp, ia, KEV_INET_ADDR_DELETED);
	in_ifaddr_unlink(ifp, ia);
	in_route_changed();
	return 0;
}

errno_t
in_ifaddr_set(ifnet_t ifp, struct in_addr addr, struct in_addr mask)
{
	struct in_addr first, any = { INADDR_ANY };

	if (!in_addr_valid(addr, mask))
		return EINVAL;
	if (in_ifaddr_get(ifp, &first, NULL) && first.s_addr != addr.s_addr)
		in_ifaddr_del(ifp, first);
	return in_ifaddr_add(ifp, addr, mask, any, 0);
}

void
in_ifaddr_purge(ifnet_t ifp)
{
	struct in_addr any = { INADDR_ANY };
	struct in_ifaddr *ia;

	while ((ia = in_ifaddr_remove(ifp, any)) != NULL) {
		if_detach_ifaddr(ifp, &ia->ia_ifa);
		ifaddr_release(&ia->ia_ifa);
	}
	in_route_purge(ifp);
}

/*
 * The interface is detaching: forget its addresses and routes now, not
 * when IPv4's `detached` comes (in_ether.c).  A driver that attached
 * PF_INET with callbacks of its own (a tun) never calls that, and the
 * addresses would name a freed interface.
 */
static void
in_ifdetach(ifnet_t ifp)
{
	in_ifaddr_purge(ifp);
}
IF_DETACH_HANDLER(inet, in_ifdetach);

/* ---- in_control: the address ioctls of a PF_INET socket ---- */

/* A struct sockaddr_in the caller gave: EINVAL unless it is one. */
static errno_t
in_sin_get(const struct sockaddr *sa, struct in_addr *addr)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	if (sa->sa_family != AF_INET || sa->sa_len != sizeof(*sin))
		return EINVAL;
	*addr = sin->sin_addr;
	return 0;
}

/* The mask an address had before CIDR: for an address given without
 * one. */
struct in_addr
in_classful_mask(struct in_addr a)
{
	u_int32_t h = ntohl(a.s_addr);
	struct in_addr m;

	m.s_addr = htonl(IN_CLASSA(h) ? IN_CLASSA_NET :
	    IN_CLASSB(h) ? IN_CLASSB_NET : IN_CLASSC_NET);
	return m;
}

/* A copy of ifp's address addr (0: its first).  (A) taken inside. */
static bool
in_ifaddr_copy(ifnet_t ifp, struct in_addr addr, struct in_ifaddr_info *ii)
{
	struct in_ifaddr *ia;

	simple_lock(&in_ifaddr_lock);
	ia = in_ifaddr_find_locked(ifp, addr);
	if (ia != NULL) {
		ii->ii_addr = ia->ia_addr.sin_addr;
		ii->ii_mask = ia->ia_netmask.sin_addr;
		ii->ii_broadcast = ia->ia_broadaddr.sin_addr;
	}
	simple_unlock(&in_ifaddr_lock);
	return ia != NULL;
}

/* SIOCAIFADDR: add an address, or change the mask and broadcast of one
 * ifp has. */
static errno_t
in_control_aifaddr(ifnet_t ifp, struct ifaliasreq *ifra)
{
	struct in_addr addr, mask, bcast = { INADDR_ANY };
	struct in_ifaddr_info cur;
	errno_t error;

	if ((error = in_sin_get(&ifra->ifra_addr, &addr)) != 0)
		return error;
	if (ifra->ifra_mask.sa_len != 0) {
		if ((error = in_sin_get(&ifra->ifra_mask, &mask)) != 0)
			return error;
	} else if (in_ifaddr_copy(ifp, addr, &cur) &&
	    cur.ii_addr.s_addr == addr.s_addr) {
		mask = cur.ii_mask;		/* keep the mask it has */
	} else {
		mask = in_classful_mask(addr);
	}
	if (ifra->ifra_broadaddr.sa_len != 0 &&
	    (error = in_sin_get(&ifra->ifra_broadaddr, &bcast)) != 0)
		return error;
	return in_ifaddr_add(ifp, addr, mask, bcast, 0);
}

/* SIOCSIFNETMASK, SIOCSIFBRDADDR: change ifp's first address. */
static errno_t
in_control_change(ifnet_t ifp, u_long cmd, struct ifreq *ifr)
{
	struct in_addr value, any = { INADDR_ANY };
	struct in_ifaddr_info cur;
	errno_t error;

	if ((error = in_sin_get(&ifr->ifr_addr, &value)) != 0)
		return error;
	if (!in_ifaddr_copy(ifp, any, &cur))
		return EADDRNOTAVAIL;
	if (cmd == SIOCSIFNETMASK)
		return in_ifaddr_add(ifp, cur.ii_addr, value, any,
		    KEV_INET_SIFNETMASK);
	return in_ifaddr_add(ifp, cur.ii_addr, cur.ii_mask, value,
	    KEV_INET_SIFBRDADDR);
}

errno_t
in_control(struct socket *so, u_long cmd, caddr_t data, ifnet_t ifp)
{
	struct ifreq *ifr = (struct ifreq *)data;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;
	struct in_addr addr = { INADDR_ANY }, any = { INADDR_ANY };
	struct in_ifaddr_info cur;
	errno_t error;

	if (ifp == NULL || data == NULL)
		return EOPNOTSUPP;	/* Finch has no other inet ioctls */
	switch (cmd) {
	case SIOCAIFADDR:
		return in_control_aifaddr(ifp, (struct ifaliasreq *)data);
	case SIOCDIFADDR:
		/* An address, or (none given) the interface's first. */
		if (ifr->ifr_addr.sa_family != AF_UNSPEC &&
		    (error = in_sin_get(&ifr->ifr_addr, &addr)) != 0)
			return error;
		return in_ifaddr_del(ifp, addr);
	case SIOCSIFADDR:
		/* Replace the first address, keeping its mask. */
		if ((error = in_sin_get(&ifr->ifr_addr, &addr)) != 0)
			return error;
		return in_ifaddr_set(ifp, addr, in_ifaddr_copy(ifp, any, &cur) ?
		    cur.ii_mask : in_classful_mask(addr));
	case SIOCSIFNETMASK:
	case SIOCSIFBRDADDR:
		return in_control_change(ifp, cmd, ifr);
	case SIOCGIFADDR:
	case SIOCGIFNETMASK:
	case SIOCGIFBRDADDR:
		/* An address named in ifr_addr, else the first. */
		if (ifr->ifr_addr.sa_family == AF_INET &&
		    ifr->ifr_addr.sa_len == sizeof(*sin))
			addr = sin->sin_addr;
		if (!in_ifaddr_copy(ifp, addr, &cur))
			return EADDRNOTAVAIL;
		bzero(sin, sizeof(*sin));
		sin->sin_len = sizeof(*sin);
		sin->sin_family = AF_INET;
		sin->sin_addr = cmd == SIOCGIFADDR ? cur.ii_addr :
		    cmd == SIOCGIFNETMASK ? cur.ii_mask : cur.ii_broadcast;
		return 0;
	default:
		return EOPNOTSUPP;
	}
}
