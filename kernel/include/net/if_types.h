/*
 * <net/if_types.h> -- interface types (IFT_*), the SNMP ifType numbers
 * that ifnet_init_params.type and sockaddr_dl.sdl_type carry.
 */
#ifndef _NET_IF_TYPES_H_
#define _NET_IF_TYPES_H_

#define IFT_OTHER	0x1	/* none of the following */
#define IFT_ETHER	0x6	/* Ethernet CSMA/CD */
#define IFT_ISO88023	0x7	/* CSMA/CD */
#define IFT_PPP		0x17	/* RFC 1331 */
#define IFT_LOOP	0x18	/* loopback */
#define IFT_SLIP	0x1c	/* IP over generic TTY */
#define IFT_GIF		0x37	/* generic tunnel */
#define IFT_FAITH	0x38	/* IPv6-to-IPv4 TCP relay */
#define IFT_STF		0x39	/* 6to4 */
#define IFT_L2VLAN	0x87	/* 802.1Q VLAN */
#define IFT_IEEE8023ADLAG 0x88	/* 802.3ad link aggregate */
#define IFT_IEEE1394	0x90	/* FireWire */

#endif /* _NET_IF_TYPES_H_ */
