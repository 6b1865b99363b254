/*
 * The interface ioctls a socket receives (XNU: bsd/net/if.c's ifioctl):
 * sock_ioctl(so, SIOC..., struct ifreq *) on any socket names an
 * interface.  Its flags, MTU and metric are the interface's own
 * business, done here (each change posts its KEV_DL_SIF* event); its
 * addresses are its protocol's (the socket's pru_control: in_control
 * for a PF_INET socket); whatever nobody here knows goes to ifnet_ioctl
 * (filters, the attached protocol, the driver).  The
 * monitor's ifconfig comes this way, as user space will.
 */
#include <sys/systm.h>
#include <sys/sockio.h>
#include <sys/kern_event.h>
#include <bsd/net/if_var.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/domain.h>

/* Flags only the driver and the stack set; SIOCSIFFLAGS keeps them. */
#define IFF_CANTCHANGE	(IFF_BROADCAST | IFF_POINTOPOINT | IFF_RUNNING | \
			 IFF_OACTIVE | IFF_SIMPLEX | IFF_MULTICAST | \
			 IFF_ALLMULTI | IFF_LOOPBACK | IFF_PROMISC)

/* SIOCSIFFLAGS: change what may change, tell the driver, post
 * KEV_DL_SIFFLAGS. */
static errno_t
if_setflags(ifnet_t ifp, struct ifreq *ifr)
{
	u_int16_t mask = (u_int16_t)~IFF_CANTCHANGE;
	errno_t error;

	ifnet_set_flags(ifp, (u_int16_t)ifr->ifr_flags & mask, mask);
	ifr->ifr_flags = (short)ifnet_flags(ifp);
	error = ifnet_ioctl(ifp, 0, SIOCSIFFLAGS, ifr);
	if (error != 0 && error != EOPNOTSUPP)
		return error;
	ifnet_touch_lastchange(ifp);
	dlil_post_msg(ifp, KEV_DL_SIFFLAGS);
	return 0;
}

/* The MTUs any interface may be given (BSD's); the driver narrows them. */
#define IF_MINMTU	72
#define IF_MAXMTU	65535

/* SIOCSIFMTU: the driver decides (filters and protocol may refuse
 * first); post KEV_DL_SIFMTU if the MTU was set. */
static errno_t
if_setmtu(struct socket *so, ifnet_t ifp, struct ifreq *ifr)
{
	errno_t error;

	if (ifr->ifr_mtu < IF_MINMTU || ifr->ifr_mtu > IF_MAXMTU)
		return EINVAL;
	error = ifnet_ioctl(ifp, so->so_proto->pr_domain->dom_family,
	    SIOCSIFMTU, ifr);
	if (error != 0)
		return error;
	ifnet_touch_lastchange(ifp);
	dlil_post_msg(ifp, KEV_DL_SIFMTU);
	return 0;
}

/* SIOCSIFMETRIC: the routing metric is the stack's own; post
 * KEV_DL_SIFMETRICS. */
static errno_t
if_setmetric(ifnet_t ifp, struct ifreq *ifr)
{
	if (ifr->ifr_metric < 0)
		return EINVAL;
	ifnet_set_metric(ifp, (u_int32_t)ifr->ifr_metric);
	ifnet_touch_lastchange(ifp);
	dlil_post_msg(ifp, KEV_DL_SIFMETRICS);
	return 0;
}

errno_t
ifioctl(struct socket *so, u_long cmd, caddr_t data)
{
	struct ifreq *ifr = (struct ifreq *)data;
	char name[IFNAMSIZ];
	ifnet_t ifp;
	errno_t error = EOPNOTSUPP;

	memcpy(name, ifr->ifr_name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	if (ifnet_find_by_name(name, &ifp) != 0)
		return ENXIO;
	switch (cmd) {
	case SIOCGIFFLAGS:
		ifr->ifr_flags = (short)ifnet_flags(ifp);
		error = 0;
		break;
	case SIOCSIFFLAGS:
		error = if_setflags(ifp, ifr);
		break;
	case SIOCGIFMTU:
		ifr->ifr_mtu = (int)ifnet_mtu(ifp);
		error = 0;
		break;
	case SIOCSIFMTU:
		error = if_setmtu(so, ifp, ifr);
		break;
	case SIOCGIFMETRIC:
		ifr->ifr_metric = (int)ifnet_metric(ifp);
		error = 0;
		break;
	case SIOCSIFMETRIC:
		error = if_setmetric(ifp, ifr);
		break;
	default:
		if (so->so_proto->pr_usrreqs->pru_control != NULL)
			error = so->so_proto->pr_usrreqs->pru_control(so, cmd,
			    data, ifp);
		if (error == EOPNOTSUPP)
			error = ifnet_ioctl(ifp,
			    so->so_proto->pr_domain->dom_family,
			    (u_int32_t)cmd, data);
		break;
	}
	ifnet_release(ifp);
	return error;
}
