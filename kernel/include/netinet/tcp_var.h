/*
 * <netinet/tcp_var.h> -- in Darwin, TCP's control block and counters:
 * private to the kernel.  This header brings the TCP header and options of
 * <netinet/tcp.h>, so that Darwin sources that include it build.
 */
#ifndef _NETINET_TCP_VAR_H_
#define _NETINET_TCP_VAR_H_

#include <netinet/in.h>
#include <netinet/tcp.h>

#endif /* _NETINET_TCP_VAR_H_ */
