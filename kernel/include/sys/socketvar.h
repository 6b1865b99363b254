/*
 * <sys/socketvar.h> -- in Darwin, struct socket and the socket buffers:
 * private to the kernel (Finch's are in bsd/kern/socketvar.h).  A kext
 * works on a socket_t through <sys/kpi_socket.h>, which this brings, so
 * that Darwin sources that include this header build.
 */
#ifndef _SYS_SOCKETVAR_H_
#define _SYS_SOCKETVAR_H_

#include <sys/socket.h>
#include <sys/kpi_socket.h>

#endif /* _SYS_SOCKETVAR_H_ */
