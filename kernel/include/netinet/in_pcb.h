/*
 * <netinet/in_pcb.h> -- in Darwin, the Internet protocol control blocks:
 * private to the kernel.  A kext asks a socket its addresses
 * (sock_getsockname, sock_getpeername); this header only brings
 * <netinet/in.h>, so that Darwin sources that include it build.
 */
#ifndef _NETINET_IN_PCB_H_
#define _NETINET_IN_PCB_H_

#include <netinet/in.h>

#endif /* _NETINET_IN_PCB_H_ */
