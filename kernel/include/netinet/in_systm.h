/*
 * <netinet/in_systm.h> -- the "network" integer types that the IP and
 * ICMP headers use for fields kept in network byte order.
 */
#ifndef _NETINET_IN_SYSTM_H_
#define _NETINET_IN_SYSTM_H_

#include <sys/types.h>

typedef u_int16_t	n_short;	/* short as received from the net */
typedef u_int32_t	n_long;		/* long as received from the net */
typedef u_int32_t	n_time;		/* ms since 00:00 GMT, byte rev */

#endif /* _NETINET_IN_SYSTM_H_ */
