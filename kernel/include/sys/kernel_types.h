/*
 * <sys/kernel_types.h> -- the opaque handles of the BSD KPI, in one place
 * as on Mac OS X (NKE headers include just this one to declare their
 * functions): errno_t, a process, a credential, and the network KPI's
 * mbuf_t, socket_t, sockopt_t, ifnet_t, ifaddr_t, ifmultiaddr_t,
 * interface_filter_t and route_t.  Each KPI header includes this file.
 * Kexts never see inside them.
 */
#ifndef _SYS_KERNEL_TYPES_H_
#define _SYS_KERNEL_TYPES_H_

#include <sys/types.h>

typedef struct proc	*proc_t;
typedef struct ucred	*kauth_cred_t;

typedef struct mbuf		*mbuf_t;	/* <sys/kpi_mbuf.h> */
typedef struct socket		*socket_t;	/* <sys/kpi_socket.h> */
typedef struct sockopt		*sockopt_t;	/* <sys/kpi_socketfilter.h> */
typedef struct ifnet		*ifnet_t;	/* <net/kpi_interface.h> */
typedef struct ifaddr		*ifaddr_t;
typedef struct ifmultiaddr	*ifmultiaddr_t;
typedef struct ifnet_filter	*interface_filter_t; /* <net/kpi_interfacefilter.h> */
typedef struct rtentry		*route_t;	/* a route: no KPI takes one yet */

#define PROC_NULL	((proc_t)0)
#define NOCRED		((kauth_cred_t)0)

#endif /* _SYS_KERNEL_TYPES_H_ */
