/*
 * lo0, the loopback interface, attached at boot: a packet sent to it
 * comes straight back in through ifnet_input, like a frame from a wire.
 * Its link header is DLT_NULL's: the protocol family, 4 bytes in host
 * order.  Protocols get onto lo0 through the plumbers registered here.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <sys/sockio.h>
#include <net/kpi_protocol.h>
#include <bsd/net/if_var.h>

#define LOMTU		16384
#define LO_HDRLEN	sizeof(protocol_family_t)

ifnet_t	lo_ifp;		/* set once at boot, never detached */

/*
 * Output: the frame is back on the input path.  The receive convention
 * applies: the pkthdr header points at the 4-byte family, the data
 * starts after it.
 */
static errno_t
lo_output(ifnet_t ifp, mbuf_t m)
{
	struct ifnet_stat_increment_param in = { 0 };
	size_t len = mbuf_pkthdr_len(m);
	char *data = mbuf_data(m);

	if (mbuf_len(m) < LO_HDRLEN) {	/* the framer put it in front */
		mbuf_freem(m);
		ifnet_stat_increment_out(ifp, 0, 0, 1);
		return EINVAL;
	}
	ifnet_stat_increment_out(ifp, 1, (u_int32_t)len, 0);
	mbuf_pkthdr_setheader(m, data);
	mbuf_setdata(m, data + LO_HDRLEN, mbuf_len(m) - LO_HDRLEN);
	mbuf_pkthdr_adjustlen(m, -(int)LO_HDRLEN);
	mbuf_setflags_mask(m, MBUF_LOOP, MBUF_LOOP);
	in.packets_in = 1;
	in.bytes_in = (u_int32_t)len;
	return ifnet_input(ifp, m, &in);
}

static errno_t
lo_demux(ifnet_t ifp, mbuf_t m, char *frame_header,
    protocol_family_t *protocol_family)
{
	memcpy(protocol_family, frame_header, LO_HDRLEN);
	return 0;
}

/* The protocol's pre_output left its family in frame_type. */
static errno_t
lo_framer(ifnet_t ifp, mbuf_t *m, const struct sockaddr *dest,
    const char *dest_linkaddr, const char *frame_type)
{
	errno_t error;

	if ((error = mbuf_prepend(m, LO_HDRLEN, MBUF_DONTWAIT)) != 0)
		return error;
	memcpy(mbuf_data(*m), frame_type, LO_HDRLEN);
	return 0;
}

/* Any protocol may attach: demux needs no descriptors. */
static errno_t
lo_add_proto(ifnet_t ifp, protocol_family_t pf,
    const struct ifnet_demux_desc *demux_array, u_int32_t demux_count)
{
	return 0;
}

static errno_t
lo_del_proto(ifnet_t ifp, protocol_family_t pf)
{
	return 0;
}

static errno_t
lo_check_multi(ifnet_t ifp, const struct sockaddr *mcast)
{
	return 0;
}

static errno_t
lo_ioctl(ifnet_t ifp, u_int32_t cmd, void *data)
{
	struct ifreq *ifr = data;

	switch (cmd) {
	case SIOCSIFADDR:
	case SIOCAIFADDR:
		return ifnet_set_flags(ifp, IFF_UP | IFF_RUNNING,
		    IFF_UP | IFF_RUNNING);
	case SIOCSIFMTU:
		if (ifr == NULL || ifr->ifr_mtu < 64 || ifr->ifr_mtu > LOMTU)
			return EINVAL;
		return ifnet_set_mtu(ifp, ifr->ifr_mtu);
	case SIOCSIFFLAGS:
		return 0;
	default:
		return EOPNOTSUPP;
	}
}

/*
 * What a protocol plumbed onto lo0 looks like to the DLIL: its packets
 * go to the protocol's registered input handler (proto_input), and its
 * pre_output only records the family for lo_framer.
 */
static errno_t
lo_proto_input(ifnet_t ifp, protocol_family_t pf, mbuf_t m, char *header)
{
	return proto_input(pf, m) == 0 ? 0 : ENOENT;
}

static errno_t
lo_proto_preout(ifnet_t ifp, protocol_family_t pf, mbuf_t *m,
    const struct sockaddr *dest, void *route, char *frame_type,
    char *link_layer_dest)
{
	memcpy(frame_type, &pf, LO_HDRLEN);
	return 0;
}

errno_t
lo_attach_proto(ifnet_t ifp, protocol_family_t pf)
{
	struct ifnet_attach_proto_param param = { 0 };

	param.input = lo_proto_input;
	param.pre_output = lo_proto_preout;
	return ifnet_attach_protocol(ifp, pf, &param);
}

void
loopattach(void)
{
	struct ifnet_init_params init = { 0 };
	errno_t error;

	init.name = "lo";
	init.unit = 0;
	init.family = IFNET_FAMILY_LOOPBACK;
	init.type = IFT_LOOP;
	init.output = lo_output;
	init.demux = lo_demux;
	init.add_proto = lo_add_proto;
	init.del_proto = lo_del_proto;
	init.check_multi = lo_check_multi;
	init.framer = lo_framer;
	init.ioctl = lo_ioctl;
	if ((error = ifnet_allocate(&init, &lo_ifp)) != 0)
		panic("loopattach: ifnet_allocate: %d", error);
	ifnet_set_mtu(lo_ifp, LOMTU);
	ifnet_set_hdrlen(lo_ifp, LO_HDRLEN);
	ifnet_set_flags(lo_ifp, IFF_UP | IFF_RUNNING | IFF_LOOPBACK |
	    IFF_MULTICAST, 0xffff);
	if ((error = ifnet_attach(lo_ifp, NULL)) != 0)
		panic("loopattach: ifnet_attach: %d", error);
	/* IP (and later IPv6) attach to lo0 through these plumbers. */
	proto_register_plumber(PF_INET, IFNET_FAMILY_LOOPBACK,
	    lo_attach_proto, NULL);
	proto_register_plumber(PF_INET6, IFNET_FAMILY_LOOPBACK,
	    lo_attach_proto, NULL);
}
