/*
 * <sys/ioctl.h> -- every ioctl a socket or an interface answers: the
 * generic file ones (<sys/filio.h>) and the socket and interface ones
 * (<sys/sockio.h>), as NKE sources written for Darwin include them.
 */
#ifndef _SYS_IOCTL_H_
#define _SYS_IOCTL_H_

#include <sys/ioccom.h>
#include <sys/filio.h>
#include <sys/sockio.h>

#endif /* _SYS_IOCTL_H_ */
