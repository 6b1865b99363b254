/*
 * <sys/sys_domain.h> -- the PF_SYSTEM domain: the sockets through which
 * a client reaches the kernel itself rather than the network.  Its
 * protocols are kernel events (SYSPROTO_EVENT, <sys/kern_event.h>) and
 * kernel controls (SYSPROTO_CONTROL, <sys/kern_control.h>).  Names and
 * values are Mac OS X 10.4's; the code is in bsd/kern/sys_domain.c.
 */
#ifndef _SYSTEM_DOMAIN_H_
#define _SYSTEM_DOMAIN_H_

#include <sys/types.h>
#include <sys/socket.h>		/* AF_SYSTEM, PF_SYSTEM */

/* PF_SYSTEM protocols. */
#define SYSPROTO_EVENT		1	/* kernel events: SOCK_RAW */
#define SYSPROTO_CONTROL	2	/* kernel controls: SOCK_DGRAM/STREAM */

/* ss_sysaddr: which kind of system address follows. */
#define AF_SYS_CONTROL		2	/* struct sockaddr_ctl */

/* A system socket address, of any kind. */
struct sockaddr_sys {
	u_char		ss_len;		/* sizeof(struct sockaddr_sys) */
	u_char		ss_family;	/* AF_SYSTEM */
	u_int16_t	ss_sysaddr;	/* AF_SYS_CONTROL, ... */
	u_int32_t	ss_reserved[7];	/* zero */
};

#endif /* _SYSTEM_DOMAIN_H_ */
