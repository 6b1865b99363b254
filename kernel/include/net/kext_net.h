/*
 * <net/kext_net.h> -- what a program hands setsockopt(SO_NKE) to attach
 * a socket filter registered with SFLT_PROG (<sys/kpi_socketfilter.h>)
 * to one socket.  Darwin's layout; nke_where and nke_flags are kept for
 * compatibility and ignored, as on Mac OS X 10.4.
 */
#ifndef _NET_KEXT_NET_H_
#define _NET_KEXT_NET_H_

#include <sys/types.h>

#define NFF_BEFORE		0x01	/* nke_flags: before nke_where */
#define NFF_AFTER		0x02	/* nke_flags: after nke_where */

#pragma pack(4)
struct so_nke {
	unsigned int	nke_handle;	/* the filter's sf_handle */
	unsigned int	nke_where;	/* ignored */
	int		nke_flags;	/* NFF_BEFORE, NFF_AFTER: ignored */
	u_int32_t	reserved[4];	/* for future use */
};
#pragma pack()

#endif /* _NET_KEXT_NET_H_ */
