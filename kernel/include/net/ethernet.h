/*
 * <net/ethernet.h> -- the Ethernet frame header (struct ether_header),
 * addresses and ethertypes, where Darwin sources look for them.  Finch
 * keeps them, with the ether_* helpers, in <net/if_ether.h>.
 */
#ifndef _NET_ETHERNET_H_
#define _NET_ETHERNET_H_

#include <net/if_ether.h>

#endif /* _NET_ETHERNET_H_ */
