/*
 * The Ethernet helpers of <net/if_ether.h>, which an Ethernet driver
 * plugs into its ifnet_init_params.  On input, ether_demux maps a frame's
 * ethertype (or 802.2 SAP/SNAP) to the protocol that registered it with
 * ether_add_proto; on output, ether_frameout prepends the 14-byte header.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <sys/sockio.h>
#include <net/if_ether.h>
#include <bsd/net/if_var.h>

#define ETHER_NTOHS(x)	__builtin_bswap16(x)	/* i386 is little-endian */

static const u_char ether_broadcast[ETHER_ADDR_LEN] =
    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- Protocol descriptors (the table lives in the ifnet, if_lock) ---- */

static bool
ether_desc_valid(const struct ifnet_demux_desc *d)
{
	switch (d->type) {
	case DLIL_DESC_ETYPE2:
		return d->datalen == 2;
	case DLIL_DESC_SAP:
		return d->datalen == 3;
	case DLIL_DESC_SNAP:
		return d->datalen == 5;
	default:
		return false;
	}
}

/* Another protocol already owns this descriptor?  if_lock held. */
static bool
ether_desc_taken(ifnet_t ifp, const struct ifnet_demux_desc *d)
{
	struct if_demux_entry *de;
	int i;

	for (i = 0; i < IF_DEMUX_MAX; i++) {
		de = &ifp->if_demux_table[i];
		if (de->de_family != 0 && de->de_type == d->type &&
		    de->de_len == d->datalen &&
		    memcmp(de->de_data, d->data, d->datalen) == 0)
			return true;
	}
	return false;
}

static int
ether_free_slots(ifnet_t ifp)
{
	int i, n = 0;

	for (i = 0; i < IF_DEMUX_MAX; i++)
		if (ifp->if_demux_table[i].de_family == 0)
			n++;
	return n;
}

/* Store one descriptor in a free slot (the caller checked there is one). */
static void
ether_desc_store(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_demux_desc *d)
{
	struct if_demux_entry *de;
	int i;

	for (i = 0; i < IF_DEMUX_MAX; i++) {
		de = &ifp->if_demux_table[i];
		if (de->de_family != 0)
			continue;
		de->de_family = pf;
		de->de_type = d->type;
		de->de_len = d->datalen;
		memcpy(de->de_data, d->data, d->datalen);
		return;
	}
}

errno_t
ether_add_proto(ifnet_t ifp, protocol_family_t protocol,
    const struct ifnet_demux_desc *demux_list, u_int32_t demux_count)
{
	errno_t error = 0;
	u_int32_t i;

	if (ifp == NULL || protocol == 0 ||
	    (demux_count != 0 && demux_list == NULL))
		return EINVAL;
	for (i = 0; i < demux_count; i++)
		if (!ether_desc_valid(&demux_list[i]))
			return EINVAL;
	simple_lock(&ifp->if_lock);
	if ((int)demux_count > ether_free_slots(ifp))
		error = ENOSPC;
	for (i = 0; i < demux_count && error == 0; i++)
		if (ether_desc_taken(ifp, &demux_list[i]))
			error = EADDRINUSE;
	for (i = 0; i < demux_count && error == 0; i++)
		ether_desc_store(ifp, protocol, &demux_list[i]);
	simple_unlock(&ifp->if_lock);
	return error;
}

errno_t
ether_del_proto(ifnet_t ifp, protocol_family_t protocol)
{
	int i;

	if (ifp == NULL)
		return EINVAL;
	simple_lock(&ifp->if_lock);
	for (i = 0; i < IF_DEMUX_MAX; i++)
		if (ifp->if_demux_table[i].de_family == protocol)
			bzero(&ifp->if_demux_table[i],
			    sizeof(ifp->if_demux_table[i]));
	simple_unlock(&ifp->if_lock);
	return 0;
}

/* ---- Input ---- */

/* The protocol whose descriptor of `type` matches `key`; 0 if none. */
static protocol_family_t
ether_desc_lookup(ifnet_t ifp, u_int32_t type, const u_char *key)
{
	struct if_demux_entry *de;
	protocol_family_t pf = 0;
	int i;

	simple_lock(&ifp->if_lock);
	for (i = 0; i < IF_DEMUX_MAX; i++) {
		de = &ifp->if_demux_table[i];
		if (de->de_family != 0 && de->de_type == type &&
		    memcmp(de->de_data, key, de->de_len) == 0) {
			pf = de->de_family;
			break;
		}
	}
	simple_unlock(&ifp->if_lock);
	return pf;
}

/*
 * An 802.3 frame (type field <= 1500 is a length): an 802.2 LLC header
 * follows in the data.  AA-AA-03 announces SNAP (OUI and type, 5 bytes
 * after the LLC); anything else is matched on DSAP, SSAP and control.
 */
static protocol_family_t
ether_demux_llc(ifnet_t ifp, mbuf_t m)
{
	u_char llc[8];

	if (mbuf_copydata(m, 0, sizeof(llc), llc) != 0)
		return 0;
	if (llc[0] == 0xaa && llc[1] == 0xaa && llc[2] == 0x03)
		return ether_desc_lookup(ifp, DLIL_DESC_SNAP, &llc[3]);
	return ether_desc_lookup(ifp, DLIL_DESC_SAP, llc);
}

/*
 * Mark broadcast, multicast, and frames heard only in promiscuous mode.
 * if_flags and if_lladdr are read without if_lock: a frame racing with
 * ifconfig may be judged by the old value, which is harmless.
 */
static void
ether_mark_dest(ifnet_t ifp, mbuf_t m, const struct ether_header *eh)
{
	if (memcmp(eh->ether_dhost, ether_broadcast, ETHER_ADDR_LEN) == 0)
		mbuf_setflags_mask(m, MBUF_BCAST, MBUF_BCAST);
	else if (eh->ether_dhost[0] & 0x01)
		mbuf_setflags_mask(m, MBUF_MCAST, MBUF_MCAST);
	else if ((ifp->if_flags & IFF_PROMISC) &&
	    memcmp(eh->ether_dhost, ifp->if_lladdr, ETHER_ADDR_LEN) != 0)
		mbuf_setflags_mask(m, MBUF_PROMISC, MBUF_PROMISC);
}

errno_t
ether_demux(ifnet_t ifp, mbuf_t m, char *header, protocol_family_t *protocol)
{
	const struct ether_header *eh = (const struct ether_header *)header;
	u_int16_t type;
	protocol_family_t pf;

	if (ifp == NULL || m == NULL || header == NULL || protocol == NULL)
		return EINVAL;
	ether_mark_dest(ifp, m, eh);
	type = ETHER_NTOHS(eh->ether_type);
	if (type <= ETHERMTU)
		pf = ether_demux_llc(ifp, m);
	else
		pf = ether_desc_lookup(ifp, DLIL_DESC_ETYPE2,
		    (const u_char *)&eh->ether_type);
	if (pf == 0)
		return ENOENT;
	*protocol = pf;
	return 0;
}

/* ---- Output ---- */

errno_t
ether_frameout(ifnet_t ifp, mbuf_t *m, const struct sockaddr *dest,
    const char *dest_lladdr, const char *frame_type)
{
	struct ether_header *eh;
	errno_t error;

	if (ifp == NULL || m == NULL || *m == NULL || dest_lladdr == NULL ||
	    frame_type == NULL)
		return EINVAL;
	/* On failure mbuf_prepend has freed the packet and cleared *m. */
	if ((error = mbuf_prepend(m, ETHER_HDR_LEN, MBUF_DONTWAIT)) != 0)
		return error;
	eh = mbuf_data(*m);
	memcpy(eh->ether_dhost, dest_lladdr, ETHER_ADDR_LEN);
	memcpy(eh->ether_shost, ifp->if_lladdr, ETHER_ADDR_LEN);
	memcpy(&eh->ether_type, frame_type, ETHER_TYPE_LEN);
	return 0;
}

/* ---- Control ---- */

errno_t
ether_check_multi(ifnet_t ifp, const struct sockaddr *multicast)
{
	const u_char *mac;

	if (ifp == NULL || multicast == NULL)
		return EINVAL;
	switch (multicast->sa_family) {
	case AF_UNSPEC:
		mac = (const u_char *)multicast->sa_data;
		break;
	case AF_LINK:
		mac = (const u_char *)LLADDR(
		    (const struct sockaddr_dl *)multicast);
		break;
	default:
		return EOPNOTSUPP;	/* the protocol maps its own */
	}
	return (mac[0] & 0x01) ? 0 : EADDRNOTAVAIL;
}

/*
 * The generic part of an Ethernet driver's ioctl.  Setting an address
 * brings the interface up, as in BSD; the protocol does the rest.
 */
errno_t
ether_ioctl(ifnet_t ifp, u_int32_t command, void *data)
{
	struct ifreq *ifr = data;

	if (ifp == NULL)
		return EINVAL;
	switch (command) {
	case SIOCSIFADDR:
	case SIOCAIFADDR:
		return ifnet_set_flags(ifp, IFF_UP, IFF_UP);
	case SIOCGIFADDR:
		if (ifr == NULL)
			return EINVAL;
		return ifnet_lladdr_copy_bytes(ifp, ifr->ifr_addr.sa_data,
		    ETHER_ADDR_LEN);
	case SIOCSIFMTU:
		if (ifr == NULL || ifr->ifr_mtu < ETHERMIN ||
		    ifr->ifr_mtu > ETHERMTU)
			return EINVAL;
		return ifnet_set_mtu(ifp, ifr->ifr_mtu);
	case SIOCSIFFLAGS:
		return 0;	/* the DLIL already changed the flags */
	default:
		return EOPNOTSUPP;
	}
}
