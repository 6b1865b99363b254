/*
 * <sys/protosw.h> -- in Darwin, the protocol switch: private to the
 * kernel.  Kexts reach protocols through the socket, socket filter and
 * protocol KPIs; this header only brings <sys/socket.h>, so that Darwin
 * sources that include it build.
 */
#ifndef _SYS_PROTOSW_H_
#define _SYS_PROTOSW_H_

#include <sys/socket.h>

#endif /* _SYS_PROTOSW_H_ */
