/*
 * Interface-detach handlers: how a protocol that keeps its own state
 * about interfaces (IPv4's addresses and routes) hears that one is going.
 * The DLIL calls every handler in the set when ifnet_detach starts, so
 * the protocol forgets the interface at once -- no new packet is routed
 * to it -- whether the protocol is attached to it through the DLIL or
 * not (a tun driver may attach PF_INET with callbacks of its own, which
 * then never reach IPv4's `detached`).  The DLIL knows no protocol by
 * name; each registers beside its code:
 *
 *	static void
 *	in_ifdetach(ifnet_t ifp)
 *	{
 *		in_ifaddr_purge(ifp);
 *	}
 *	IF_DETACH_HANDLER(inet, in_ifdetach);
 *
 * A handler runs in the thread that called ifnet_detach (thread context,
 * no DLIL lock held; it may take sleeping locks), once per interface,
 * after the interface left the list and before KEV_DL_IF_DETACHING.
 */
#ifndef _BSD_NET_IF_DETACH_VAR_H_
#define _BSD_NET_IF_DETACH_VAR_H_

#include <kern/linker_set.h>
#include <net/kpi_interface.h>

struct if_detach_handler {
	const char	*ifd_name;		/* "inet" */
	void		(*ifd_func)(ifnet_t ifp);
};

#define IF_DETACH_HANDLER(name, func)					\
	static const struct if_detach_handler __if_detach_##name =	\
	    { #name, func };						\
	LINKER_SET_ENTRY(if_detach, __if_detach_##name)

#endif /* _BSD_NET_IF_DETACH_VAR_H_ */
