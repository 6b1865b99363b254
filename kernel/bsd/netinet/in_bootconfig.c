/*
 * The addresses IPv4 gives itself at boot: 127.0.0.1 on lo0, and on en0
 * QEMU's user networking defaults, 10.0.2.15/24 via 10.0.2.2.  en0 is
 * configured when in_init runs or, if it attaches later, when its
 * KEV_DL_IF_ATTACHED event reaches our kernel-event listener.
 */
#include <sys/systm.h>
#include <sys/kern_event.h>
#include <netinet/in.h>
#include <bsd/kern/kern_event_var.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_route_var.h>

/* QEMU's user networking: the guest is 10.0.2.15, the gateway 10.0.2.2. */
#define IN_DEFAULT_ADDR		0x0a00020f	/* 10.0.2.15 */
#define IN_DEFAULT_MASK		0xffffff00	/* /24 */
#define IN_DEFAULT_GATEWAY	0x0a000202	/* 10.0.2.2 */

static bool in_lo0_done, in_en0_done;	/* atomic: set once */

/* 127.0.0.1 on lo0; QEMU's defaults on en0.  Once per boot each, the
 * first time the interface is seen. */
static void
in_configure_default(ifnet_t ifp)
{
	struct in_addr addr, mask, gw, any = { INADDR_ANY };

	if (ifp == lo_ifp) {
		if (__atomic_exchange_n(&in_lo0_done, true, __ATOMIC_SEQ_CST))
			return;
		addr.s_addr = htonl(INADDR_LOOPBACK);
		mask.s_addr = htonl(IN_CLASSA_NET);
		in_ifaddr_set(ifp, addr, mask);
		return;
	}
	if (strcmp(ifnet_name(ifp), "en") != 0 || ifnet_unit(ifp) != 0 ||
	    __atomic_exchange_n(&in_en0_done, true, __ATOMIC_SEQ_CST))
		return;
	addr.s_addr = htonl(IN_DEFAULT_ADDR);
	mask.s_addr = htonl(IN_DEFAULT_MASK);
	gw.s_addr = htonl(IN_DEFAULT_GATEWAY);
	if (in_ifaddr_set(ifp, addr, mask) == 0 &&
	    in_route_add(any, any, gw, NULL, IN_RTF_STATIC) == 0)
		printf("inet: en0 " IN_ADDR_FMT "/24, default route via "
		    IN_ADDR_FMT "\n", IN_ADDR_ARGS(addr), IN_ADDR_ARGS(gw));
}

/* An interface attached after boot (KEV_DL_IF_ATTACHED). */
static void
in_kev_listener(const struct kern_event_msg *msg, void *arg)
{
	const struct net_event_data *nd;
	char name[IFNAMSIZ + 12];
	ifnet_t ifp;

	if (msg->vendor_code != KEV_VENDOR_APPLE ||
	    msg->kev_class != KEV_NETWORK_CLASS ||
	    msg->kev_subclass != KEV_DL_SUBCLASS ||
	    msg->event_code != KEV_DL_IF_ATTACHED ||
	    msg->total_size < KEV_MSG_HEADER_SIZE + sizeof(*nd))
		return;
	nd = (const struct net_event_data *)msg->event_data;
	snprintf(name, sizeof(name), "%.*s%u", IFNAMSIZ, nd->if_name,
	    nd->if_unit);
	if (ifnet_find_by_name(name, &ifp) != 0)
		return;
	in_configure_default(ifp);
	ifnet_release(ifp);
}

static struct kev_listener in_kev = { .kl_func = in_kev_listener };

/* At boot, from in_init: listen for interfaces to come, then configure
 * those already here. */
void
in_bootconfig_init(void)
{
	ifnet_t ifp;

	kev_listener_add(&in_kev);
	if (lo_ifp != NULL)
		in_configure_default(lo_ifp);
	if (ifnet_find_by_name("en0", &ifp) == 0) {
		in_configure_default(ifp);
		ifnet_release(ifp);
	}
}
