/*
 * <sys/sockio.h> -- the socket and interface ioctls, with Darwin's
 * numbers.  Group 's' is the socket's own; group 'i' names an interface
 * (struct ifreq or struct ifaliasreq from <net/if.h>): sock_ioctl on a
 * PF_INET socket hands the address ones to IPv4 (in_control) and the
 * rest to the interface (ifnet_ioctl, a driver's ioctl callback,
 * ether_ioctl).
 */
#ifndef _SYS_SOCKIO_H_
#define _SYS_SOCKIO_H_

#include <sys/ioccom.h>
#include <net/if.h>

/* The socket's own. */
#define SIOCSHIWAT	_IOW('s', 0, int)		/* set high watermark */
#define SIOCGHIWAT	_IOR('s', 1, int)		/* get high watermark */
#define SIOCSLOWAT	_IOW('s', 2, int)		/* set low watermark */
#define SIOCGLOWAT	_IOR('s', 3, int)		/* get low watermark */
#define SIOCATMARK	_IOR('s', 7, int)		/* at oob mark? */
#define SIOCSPGRP	_IOW('s', 8, int)		/* set process group */
#define SIOCGPGRP	_IOR('s', 9, int)		/* get process group */

/* An interface's (struct ifreq, or struct ifaliasreq for SIOCAIFADDR). */
#define SIOCSIFADDR	_IOW('i', 12, struct ifreq)	/* set address */
#define SIOCSIFDSTADDR	_IOW('i', 14, struct ifreq)	/* set p-p address */
#define SIOCSIFFLAGS	_IOW('i', 16, struct ifreq)	/* flags changed */
#define SIOCGIFFLAGS	_IOWR('i', 17, struct ifreq)	/* get flags */
#define SIOCSIFBRDADDR	_IOW('i', 19, struct ifreq)	/* set broadcast */
#define SIOCSIFNETMASK	_IOW('i', 22, struct ifreq)	/* set netmask */
#define SIOCGIFMETRIC	_IOWR('i', 23, struct ifreq)	/* get metric */
#define SIOCSIFMETRIC	_IOW('i', 24, struct ifreq)	/* set metric */
#define SIOCDIFADDR	_IOW('i', 25, struct ifreq)	/* delete address */
#define SIOCAIFADDR	_IOW('i', 26, struct ifaliasreq) /* add/change alias */
#define SIOCGIFADDR	_IOWR('i', 33, struct ifreq)	/* get address */
#define SIOCGIFDSTADDR	_IOWR('i', 34, struct ifreq)	/* get p-p address */
#define SIOCGIFBRDADDR	_IOWR('i', 35, struct ifreq)	/* get broadcast */
#define SIOCGIFNETMASK	_IOWR('i', 37, struct ifreq)	/* get netmask */
#define SIOCADDMULTI	_IOW('i', 49, struct ifreq)	/* add multicast */
#define SIOCDELMULTI	_IOW('i', 50, struct ifreq)	/* delete multicast */
#define SIOCGIFMTU	_IOWR('i', 51, struct ifreq)	/* get MTU */
#define SIOCSIFMTU	_IOW('i', 52, struct ifreq)	/* set MTU */
#define SIOCSIFLLADDR	_IOW('i', 60, struct ifreq)	/* set link address */

#endif /* _SYS_SOCKIO_H_ */
