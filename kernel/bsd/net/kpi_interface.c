/*
 * The interface KPI (<net/kpi_interface.h>): what drivers and kexts call.
 * A thin layer over the DLIL (dlil*.c): check the arguments, take the
 * interface's lock, read or write a field, or hand over to the DLIL.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_event.h>
#include <sys/sockio.h>
#include <net/route.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <bsd/net/if_var.h>

/* ---- Life cycle ---- */

errno_t
ifnet_allocate(const struct ifnet_init_params *init, ifnet_t *interface)
{
	return dlil_if_allocate(init, interface);
}

errno_t
ifnet_reference(ifnet_t ifp)
{
	if (ifp == NULL)
		return EINVAL;
	dlil_ifnet_reference(ifp);
	return 0;
}

errno_t
ifnet_release(ifnet_t ifp)
{
	if (ifp == NULL)
		return EINVAL;
	dlil_ifnet_release(ifp);
	return 0;
}

errno_t
ifnet_attach(ifnet_t ifp, const struct sockaddr_dl *ll_addr)
{
	return dlil_if_attach(ifp, ll_addr);
}

errno_t
ifnet_detach(ifnet_t ifp)
{
	return dlil_if_detach(ifp);
}

/* ---- Identity: constant, no lock ---- */

void *
ifnet_softc(ifnet_t ifp)
{
	return ifp == NULL ? NULL : ifp->if_softc;
}

const char *
ifnet_name(ifnet_t ifp)
{
	return ifp == NULL ? NULL : ifp->if_name;
}

ifnet_family_t
ifnet_family(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_family;
}

u_int32_t
ifnet_unit(ifnet_t ifp)
{
	return ifp == NULL ? (u_int32_t)-1 : ifp->if_unit;
}

u_int32_t
ifnet_index(ifnet_t ifp)
{
	return ifp == NULL ? (u_int32_t)-1 : ifp->if_index;
}

u_int8_t
ifnet_type(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_type;
}

/* ---- Settings: under if_lock ---- */

errno_t
ifnet_set_flags(ifnet_t ifp, u_int16_t new_flags, u_int16_t mask)
{
	if (ifp == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	ifp->if_flags = (ifp->if_flags & ~mask) | (new_flags & mask);
	simple_unlock(&ifp->if_lock);
	return 0;
}

u_int16_t
ifnet_flags(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_flags;
}

/*
 * The simple numeric settings share one shape: write under the lock.
 * (Reads of one aligned word need no lock.)
 */
#define IFNET_SETTER(fn, type, field)					\
errno_t									\
fn(ifnet_t ifp, type value)						\
{									\
	if (ifp == NULL)						\
		return EINVAL;						\
	simple_lock(&ifp->if_lock);					\
	ifp->field = value;						\
	simple_unlock(&ifp->if_lock);					\
	return 0;							\
}

IFNET_SETTER(ifnet_set_mtu, u_int32_t, if_mtu)
IFNET_SETTER(ifnet_set_hdrlen, u_int8_t, if_hdrlen)
IFNET_SETTER(ifnet_set_metric, u_int32_t, if_metric)
IFNET_SETTER(ifnet_set_baudrate, u_int64_t, if_baudrate)
IFNET_SETTER(ifnet_set_offload, ifnet_offload_t, if_offload)

errno_t
ifnet_set_addrlen(ifnet_t ifp, u_int8_t addrlen)
{
	if (ifp == NULL || addrlen > IF_LLADDR_MAX)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	ifp->if_addrlen = addrlen;
	simple_unlock(&ifp->if_lock);
	return 0;
}

u_int32_t
ifnet_mtu(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_mtu;
}

u_int8_t
ifnet_addrlen(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_addrlen;
}

u_int8_t
ifnet_hdrlen(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_hdrlen;
}

u_int32_t
ifnet_metric(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_metric;
}

u_int64_t
ifnet_baudrate(ifnet_t ifp)
{
	u_int64_t rate;

	if (ifp == NULL)
		return 0;
	simple_lock(&ifp->if_lock);	/* 64 bits: two words on i386 */
	rate = ifp->if_baudrate;
	simple_unlock(&ifp->if_lock);
	return rate;
}

ifnet_offload_t
ifnet_offload(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_offload;
}

/* ---- Protocols and the data path ---- */

errno_t
ifnet_attach_protocol(ifnet_t ifp, protocol_family_t protocol_family,
    const struct ifnet_attach_proto_param *proto_details)
{
	return dlil_attach_protocol(ifp, protocol_family, proto_details);
}

errno_t
ifnet_detach_protocol(ifnet_t ifp, protocol_family_t protocol_family)
{
	return dlil_detach_protocol(ifp, protocol_family);
}

errno_t
ifnet_output(ifnet_t ifp, protocol_family_t protocol_family, mbuf_t packet,
    void *route, const struct sockaddr *dest)
{
	return dlil_output(ifp, protocol_family, packet, route, dest, false);
}

errno_t
ifnet_output_raw(ifnet_t ifp, protocol_family_t protocol_family,
    mbuf_t packet)
{
	return dlil_output(ifp, protocol_family, packet, NULL, NULL, true);
}

errno_t
ifnet_input(ifnet_t ifp, mbuf_t first_packet,
    const struct ifnet_stat_increment_param *stats)
{
	return dlil_input(ifp, first_packet, stats);
}

errno_t
ifnet_ioctl(ifnet_t ifp, protocol_family_t protocol, u_int32_t ioctl_code,
    void *ioctl_arg)
{
	return dlil_ioctl(ifp, protocol, ioctl_code, ioctl_arg);
}

/*
 * A driver's (or kext's) event: the payload after the 24-byte header
 * travels as the kev_msg's single data vector.
 */
errno_t
ifnet_event(ifnet_t ifp, struct kern_event_msg *event_ptr)
{
	struct kev_msg msg;

	if (ifp == NULL || event_ptr == NULL ||
	    event_ptr->total_size < KEV_MSG_HEADER_SIZE)
		return EINVAL;
	bzero(&msg, sizeof(msg));
	msg.vendor_code = event_ptr->vendor_code;
	msg.kev_class = event_ptr->kev_class;
	msg.kev_subclass = event_ptr->kev_subclass;
	msg.event_code = event_ptr->event_code;
	msg.dv[0].data_length = event_ptr->total_size - KEV_MSG_HEADER_SIZE;
	msg.dv[0].data_ptr = event_ptr->event_data;
	return dlil_event(ifp, &msg);
}

errno_t
ifnet_link_event(ifnet_t ifp, int link_up)
{
	if (ifp == NULL)
		return EINVAL;
	dlil_link_event(ifp, link_up != 0);
	return 0;
}

/* ---- Statistics ---- */

errno_t
ifnet_stat_increment(ifnet_t ifp,
    const struct ifnet_stat_increment_param *counts)
{
	if (ifp == NULL || counts == NULL)
		return EINVAL;
	if_stat_add(ifp, counts);
	return 0;
}

errno_t
ifnet_stat_increment_in(ifnet_t ifp, u_int32_t packets_in,
    u_int32_t bytes_in, u_int32_t errors_in)
{
	struct ifnet_stat_increment_param s = { 0 };

	s.packets_in = packets_in;
	s.bytes_in = bytes_in;
	s.errors_in = errors_in;
	return ifnet_stat_increment(ifp, &s);
}

errno_t
ifnet_stat_increment_out(ifnet_t ifp, u_int32_t packets_out,
    u_int32_t bytes_out, u_int32_t errors_out)
{
	struct ifnet_stat_increment_param s = { 0 };

	s.packets_out = packets_out;
	s.bytes_out = bytes_out;
	s.errors_out = errors_out;
	return ifnet_stat_increment(ifp, &s);
}

errno_t
ifnet_set_stat(ifnet_t ifp, const struct ifnet_stats_param *stats)
{
	if (ifp == NULL || stats == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	ifp->if_stats = *stats;
	simple_unlock(&ifp->if_lock);
	return 0;
}

errno_t
ifnet_stat(ifnet_t ifp, struct ifnet_stats_param *out_stats)
{
	if (ifp == NULL || out_stats == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	*out_stats = ifp->if_stats;
	simple_unlock(&ifp->if_lock);
	return 0;
}

/*
 * Promiscuous mode is counted: IFF_PROMISC is on while at least one
 * caller wants it, and the driver of an attached interface hears
 * SIOCSIFFLAGS when it changes (holding a use: never after `detached`).
 */
errno_t
ifnet_set_promiscuous(ifnet_t ifp, int on)
{
	struct kext_call kc;
	struct ifreq ifr;
	bool changed;

	if (ifp == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	if (!on && ifp->if_promisc == 0) {
		simple_unlock(&ifp->if_lock);
		return EINVAL;
	}
	ifp->if_promisc += on ? 1 : -1;
	changed = ifp->if_promisc == (on ? 1 : 0);
	if (changed)
		ifp->if_flags ^= IFF_PROMISC;
	simple_unlock(&ifp->if_lock);
	if (!changed || ifp->if_ioctl == NULL || !dlil_ifnet_use(ifp))
		return 0;
	bzero(&ifr, sizeof(ifr));
	strlcpy(ifr.ifr_name, ifp->if_xname, sizeof(ifr.ifr_name));
	ifr.ifr_flags = (short)ifp->if_flags;
	kext_call_begin(&kc);
	ifp->if_ioctl(ifp, SIOCSIFFLAGS, &ifr);
	kext_call_end(&kc, ifp->if_ioctl);
	dlil_ifnet_unuse(ifp);
	return 0;
}

errno_t
ifnet_touch_lastchange(ifnet_t ifp)
{
	struct timeval now;

	if (ifp == NULL)
		return EINVAL;
	microtime(&now);
	simple_lock(&ifp->if_lock);
	ifp->if_lastchange = now;
	simple_unlock(&ifp->if_lock);
	return 0;
}

errno_t
ifnet_lastchange(ifnet_t ifp, struct timeval *last_change)
{
	if (ifp == NULL || last_change == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	*last_change = ifp->if_lastchange;
	simple_unlock(&ifp->if_lock);
	return 0;
}

/*
 * The link's MIB data (IFMIB_IFDATA's per-type part, in BSD): the driver
 * keeps the memory, the ifnet only points at it.
 */
errno_t
ifnet_set_link_mib_data(ifnet_t ifp, void *mibData, u_int32_t mibLen)
{
	if (ifp == NULL || (mibData == NULL && mibLen != 0))
		return EINVAL;
	simple_lock(&ifp->if_lock);
	ifp->if_linkmib = mibData;
	ifp->if_linkmiblen = mibData == NULL ? 0 : mibLen;
	simple_unlock(&ifp->if_lock);
	return 0;
}

errno_t
ifnet_get_link_mib_data(ifnet_t ifp, void *mibData, u_int32_t *mibLen)
{
	errno_t error = 0;

	if (ifp == NULL || mibLen == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	if (ifp->if_linkmib == NULL)
		error = ENOTSUP;
	else if (*mibLen < ifp->if_linkmiblen || mibData == NULL)
		error = EMSGSIZE;
	else {
		*mibLen = ifp->if_linkmiblen;
		bcopy(ifp->if_linkmib, mibData, *mibLen);
	}
	simple_unlock(&ifp->if_lock);
	return error;
}

u_int32_t
ifnet_get_link_mib_data_length(ifnet_t ifp)
{
	return ifp == NULL ? 0 : ifp->if_linkmiblen;
}

/* ---- Link-layer address ---- */

errno_t
ifnet_set_lladdr(ifnet_t ifp, const void *lladdr, size_t lladdr_len)
{
	if (ifp == NULL || (lladdr == NULL && lladdr_len != 0))
		return EINVAL;
	simple_lock(&ifp->if_lock);
	if (lladdr_len != ifp->if_addrlen) {
		simple_unlock(&ifp->if_lock);
		return EINVAL;
	}
	memcpy(ifp->if_lladdr, lladdr, lladdr_len);
	dlil_set_lladdr_locked(ifp);
	simple_unlock(&ifp->if_lock);
	dlil_post_msg(ifp, KEV_DL_LINK_ADDRESS_CHANGED);
	return 0;
}

errno_t
ifnet_lladdr_copy_bytes(ifnet_t ifp, void *lladdr, size_t length)
{
	errno_t error = 0;

	if (ifp == NULL || lladdr == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	if (length != ifp->if_addrlen)
		error = EINVAL;
	else
		memcpy(lladdr, ifp->if_lladdr, length);
	simple_unlock(&ifp->if_lock);
	return error;
}

errno_t
ifnet_llbroadcast_copy_bytes(ifnet_t ifp, void *addr, size_t bufferlen,
    size_t *addr_len)
{
	if (ifp == NULL || addr == NULL || addr_len == NULL)
		return EINVAL;
	*addr_len = ifp->if_broadcast_len;
	if (bufferlen < ifp->if_broadcast_len)
		return EMSGSIZE;
	memcpy(addr, ifp->if_broadcast, ifp->if_broadcast_len);
	return 0;
}

void *
ifnet_lladdr(ifnet_t ifp)
{
	return ifp == NULL ? NULL : ifp->if_lladdr;
}

/* ---- Finding interfaces ---- */

struct ifnet_find_arg {
	const char	*name;
	ifnet_t		found;
};

static void
ifnet_find_one(ifnet_t ifp, void *arg)
{
	struct ifnet_find_arg *fa = arg;

	if (fa->found == NULL && strcmp(ifp->if_xname, fa->name) == 0) {
		dlil_ifnet_reference(ifp);
		fa->found = ifp;
	}
}

errno_t
ifnet_find_by_name(const char *ifname, ifnet_t *interface)
{
	struct ifnet_find_arg fa = { ifname, NULL };

	if (ifname == NULL || interface == NULL)
		return EINVAL;
	dlil_ifnet_foreach(ifnet_find_one, &fa);
	*interface = fa.found;
	return fa.found == NULL ? ENXIO : 0;
}

struct ifnet_list_arg {
	ifnet_family_t	family;
	ifnet_t		*list;		/* NULL: only count */
	u_int32_t	max;
	u_int32_t	count;
};

static void
ifnet_list_one(ifnet_t ifp, void *arg)
{
	struct ifnet_list_arg *la = arg;

	if (la->family != IFNET_FAMILY_ANY && ifp->if_family != la->family)
		return;
	if (la->list != NULL && la->count < la->max) {
		dlil_ifnet_reference(ifp);
		la->list[la->count] = ifp;
	}
	la->count++;
}

/*
 * The lists handed out (interfaces, addresses) are NULL-terminated arrays
 * of pointers; the slot before the first remembers the array's size so
 * that the free function knows it.
 */
static void **
kpi_array_alloc(u_int32_t n)
{
	size_t size = (n + 2) * sizeof(void *);
	void **a = kalloc(size);

	if (a == NULL)
		return NULL;
	bzero(a, size);
	a[0] = (void *)size;
	return a + 1;
}

static void
kpi_array_free(void **array)
{
	void **a = array - 1;

	kfree(a, (size_t)a[0]);
}

/*
 * A NULL-terminated array of referenced interfaces.  The list may grow
 * between counting and filling: count, allocate with room to spare, and
 * fill what fits.
 */
errno_t
ifnet_list_get(ifnet_family_t family, ifnet_t **list, u_int32_t *count)
{
	struct ifnet_list_arg la = { family, NULL, 0, 0 };

	if (list == NULL || count == NULL)
		return EINVAL;
	dlil_ifnet_foreach(ifnet_list_one, &la);
	la.max = la.count + 4;
	la.list = (ifnet_t *)kpi_array_alloc(la.max);
	if (la.list == NULL)
		return ENOMEM;
	la.count = 0;
	dlil_ifnet_foreach(ifnet_list_one, &la);
	*list = la.list;
	*count = la.count < la.max ? la.count : la.max;
	return 0;
}

void
ifnet_list_free(ifnet_t *interfaces)
{
	u_int32_t n;

	if (interfaces == NULL)
		return;
	for (n = 0; interfaces[n] != NULL; n++)
		dlil_ifnet_release(interfaces[n]);
	kpi_array_free((void **)interfaces);
}

/* ---- Interface addresses ---- */

errno_t
ifaddr_reference(ifaddr_t ifa)
{
	if (ifa == NULL)
		return EINVAL;
	OSIncrementAtomic(&ifa->ifa_refcnt);
	return 0;
}

/* The last release hands the address back to its owner (ifa_free). */
errno_t
ifaddr_release(ifaddr_t ifa)
{
	if (ifa == NULL)
		return EINVAL;
	if (OSDecrementAtomic(&ifa->ifa_refcnt) == 1 && ifa->ifa_free != NULL)
		ifa->ifa_free(ifa);
	return 0;
}

/* Copy one of the address's sockaddrs out; the lladdr may change under
 * us (ifnet_set_lladdr), hence the interface's lock. */
static errno_t
ifaddr_copy_sa(ifaddr_t ifa, const struct sockaddr *sa, struct sockaddr *out,
    u_int32_t size)
{
	errno_t error = 0;

	if (ifa == NULL || out == NULL)
		return EINVAL;
	if (sa == NULL)
		return ENOTSUP;
	if (ifa->ifa_ifp != NULL)
		simple_lock(&ifa->ifa_ifp->if_lock);
	if (sa->sa_len > size)
		error = EMSGSIZE;
	else
		memcpy(out, sa, sa->sa_len);
	if (ifa->ifa_ifp != NULL)
		simple_unlock(&ifa->ifa_ifp->if_lock);
	return error;
}

errno_t
ifaddr_address(ifaddr_t ifa, struct sockaddr *out_addr, u_int32_t addr_size)
{
	return ifaddr_copy_sa(ifa, ifa == NULL ? NULL : ifa->ifa_addr,
	    out_addr, addr_size);
}

errno_t
ifaddr_dstaddress(ifaddr_t ifa, struct sockaddr *out_dstaddr,
    u_int32_t dstaddr_size)
{
	return ifaddr_copy_sa(ifa, ifa == NULL ? NULL : ifa->ifa_dstaddr,
	    out_dstaddr, dstaddr_size);
}

errno_t
ifaddr_netmask(ifaddr_t ifa, struct sockaddr *out_netmask,
    u_int32_t netmask_size)
{
	return ifaddr_copy_sa(ifa, ifa == NULL ? NULL : ifa->ifa_netmask,
	    out_netmask, netmask_size);
}

sa_family_t
ifaddr_address_family(ifaddr_t ifa)
{
	if (ifa == NULL || ifa->ifa_addr == NULL)
		return 0;
	return ifa->ifa_addr->sa_family;
}

ifnet_t
ifaddr_ifnet(ifaddr_t ifa)
{
	return ifa == NULL ? NULL : ifa->ifa_ifp;
}

/* family 0: every address.  The array holds a reference on each. */
static errno_t
ifnet_addresses(ifnet_t ifp, ifaddr_t **addresses, sa_family_t family)
{
	struct ifaddr *ifa;
	ifaddr_t *list;
	u_int32_t n = 0, max;

	if (ifp == NULL || addresses == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(ifa, &ifp->if_addrs, ifa_link)
		n++;
	simple_unlock(&ifp->if_lock);
	max = n + 4;	/* addresses may be added meanwhile */
	if ((list = (ifaddr_t *)kpi_array_alloc(max)) == NULL)
		return ENOMEM;
	n = 0;
	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(ifa, &ifp->if_addrs, ifa_link) {
		if (n == max)
			break;
		if (family != 0 && ifaddr_address_family(ifa) != family)
			continue;
		OSIncrementAtomic(&ifa->ifa_refcnt);
		list[n++] = ifa;
	}
	simple_unlock(&ifp->if_lock);
	*addresses = list;
	return 0;
}

errno_t
ifnet_get_address_list(ifnet_t ifp, ifaddr_t **addresses)
{
	return ifnet_addresses(ifp, addresses, 0);
}

errno_t
ifnet_get_address_list_family(ifnet_t ifp, ifaddr_t **addresses,
    sa_family_t family)
{
	return ifnet_addresses(ifp, addresses, family);
}

void
ifnet_free_address_list(ifaddr_t *addresses)
{
	u_int32_t n;

	if (addresses == NULL)
		return;
	for (n = 0; addresses[n] != NULL; n++)
		ifaddr_release(addresses[n]);
	kpi_array_free((void **)addresses);
}

/*
 * Address lookups over every attached interface.  As in BSD, two
 * addresses are equal when all sa_len bytes are (so the owner keeps the
 * padding, e.g. sin_zero, zeroed); a network match compares the bytes
 * the netmask selects.
 */
static bool
sa_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	return a != NULL && b != NULL && a->sa_len == b->sa_len &&
	    memcmp(a, b, a->sa_len) == 0;
}

static bool
sa_on_net(const struct sockaddr *addr, const struct ifaddr *ifa)
{
	const struct sockaddr *mine = ifa->ifa_addr, *mask = ifa->ifa_netmask;
	const u_char *a, *b, *m;
	size_t i, len;

	if (mine == NULL || mask == NULL || mine->sa_family != addr->sa_family)
		return false;
	a = (const u_char *)addr->sa_data;
	b = (const u_char *)mine->sa_data;
	m = (const u_char *)mask->sa_data;
	len = mask->sa_len - offsetof(struct sockaddr, sa_data);
	for (i = 0; i < len; i++)
		if ((a[i] ^ b[i]) & m[i])
			return false;
	return true;
}

enum ifa_match { IFA_MATCH_ADDR, IFA_MATCH_DSTADDR, IFA_MATCH_NET };

struct ifa_lookup {
	const struct sockaddr	*sa;
	enum ifa_match		how;
	ifnet_t			only;	/* NULL: any interface */
	struct ifaddr		*found;	/* referenced */
};

static void
ifa_lookup_one(ifnet_t ifp, void *arg)
{
	struct ifa_lookup *fl = arg;
	struct ifaddr *ifa;
	bool hit;

	if (fl->found != NULL || (fl->only != NULL && fl->only != ifp))
		return;
	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(ifa, &ifp->if_addrs, ifa_link) {
		if (fl->how == IFA_MATCH_ADDR)
			hit = sa_equal(ifa->ifa_addr, fl->sa);
		else if (fl->how == IFA_MATCH_DSTADDR)
			hit = (ifp->if_flags & IFF_POINTOPOINT) &&
			    sa_equal(ifa->ifa_dstaddr, fl->sa);
		else
			hit = sa_on_net(fl->sa, ifa);
		if (hit) {
			OSIncrementAtomic(&ifa->ifa_refcnt);
			fl->found = ifa;
			break;
		}
	}
	simple_unlock(&ifp->if_lock);
}

static ifaddr_t
ifa_lookup(const struct sockaddr *sa, enum ifa_match how, ifnet_t only)
{
	struct ifa_lookup fl = { sa, how, only, NULL };

	if (sa == NULL)
		return NULL;
	dlil_ifnet_foreach(ifa_lookup_one, &fl);
	return fl.found;
}

ifaddr_t
ifaddr_withaddr(const struct sockaddr *address)
{
	return ifa_lookup(address, IFA_MATCH_ADDR, NULL);
}

ifaddr_t
ifaddr_withdstaddr(const struct sockaddr *destination)
{
	return ifa_lookup(destination, IFA_MATCH_DSTADDR, NULL);
}

ifaddr_t
ifaddr_withnet(const struct sockaddr *net)
{
	return ifa_lookup(net, IFA_MATCH_NET, NULL);
}

/*
 * The address a route through `gateway` leaves by, as BSD's
 * ifa_ifwithroute picks it: for a host route that is not through a
 * gateway, the point-to-point link whose peer is the destination; else
 * the interface that owns the gateway's address, else the one on its
 * network.
 */
ifaddr_t
ifaddr_withroute(int flags, const struct sockaddr *destination,
    const struct sockaddr *gateway)
{
	ifaddr_t ifa = NULL;

	if (destination == NULL || gateway == NULL)
		return NULL;
	if ((flags & (RTF_GATEWAY | RTF_HOST)) == RTF_HOST)
		ifa = ifaddr_withdstaddr(destination);
	if (ifa == NULL)
		ifa = ifaddr_withaddr(gateway);
	if (ifa == NULL)
		ifa = ifaddr_withnet(gateway);
	return ifa;
}

/* On `interface`: the address itself, else one on its network, else the
 * first address of the same family. */
ifaddr_t
ifaddr_findbestforaddr(const struct sockaddr *addr, ifnet_t interface)
{
	ifaddr_t *list, best = NULL;
	ifaddr_t ifa;
	u_int32_t i;

	if (addr == NULL || interface == NULL)
		return NULL;
	if ((ifa = ifa_lookup(addr, IFA_MATCH_ADDR, interface)) != NULL)
		return ifa;
	if ((ifa = ifa_lookup(addr, IFA_MATCH_NET, interface)) != NULL)
		return ifa;
	if (ifnet_get_address_list_family(interface, &list,
	    addr->sa_family) != 0)
		return NULL;
	for (i = 0; list[i] != NULL && best == NULL; i++)
		best = list[i];
	if (best != NULL)
		ifaddr_reference(best);
	ifnet_free_address_list(list);
	return best;
}

/*
 * ---- Multicast memberships ----
 *
 * Finch keeps none: its Ethernet driver takes in every multicast frame
 * (e1000: RCTL.MPE), so there is nothing to program, and IP answers only
 * all-hosts.  Joining is refused (EOPNOTSUPP), the list of an interface
 * is empty, and since no ifmultiaddr_t is ever handed out, the accessors
 * find none valid.
 */
errno_t
ifnet_add_multicast(ifnet_t ifp, const struct sockaddr *maddr,
    ifmultiaddr_t *multicast)
{
	if (multicast != NULL)
		*multicast = NULL;
	if (ifp == NULL || maddr == NULL || multicast == NULL)
		return EINVAL;
	return EOPNOTSUPP;
}

errno_t
ifnet_remove_multicast(ifmultiaddr_t multicast)
{
	return EINVAL;
}

errno_t
ifnet_get_multicast_list(ifnet_t ifp, ifmultiaddr_t **addresses)
{
	if (ifp == NULL || addresses == NULL)
		return EINVAL;
	*addresses = (ifmultiaddr_t *)kpi_array_alloc(0);
	return *addresses == NULL ? ENOMEM : 0;
}

void
ifnet_free_multicast_list(ifmultiaddr_t *multicasts)
{
	if (multicasts != NULL)
		kpi_array_free((void **)multicasts);
}

errno_t
ifmaddr_reference(ifmultiaddr_t ifma)
{
	return EINVAL;
}

errno_t
ifmaddr_release(ifmultiaddr_t ifma)
{
	return EINVAL;
}

errno_t
ifmaddr_address(ifmultiaddr_t ifma, struct sockaddr *out_multicast,
    u_int32_t addr_size)
{
	return EINVAL;
}

errno_t
ifmaddr_lladdress(ifmultiaddr_t ifma,
    struct sockaddr *out_link_layer_multicast, u_int32_t addr_size)
{
	return EINVAL;
}

ifnet_t
ifmaddr_ifnet(ifmultiaddr_t ifma)
{
	return NULL;
}
