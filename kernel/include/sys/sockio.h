/*
 * <sys/sockio.h> -- the interface ioctls (ifnet_ioctl, a driver's ioctl
 * callback, ether_ioctl), with Darwin's numbers.  Arguments are struct
 * ifreq or struct ifaliasreq from <net/if.h>.
 */
#ifndef _SYS_SOCKIO_H_
#define _SYS_SOCKIO_H_

#include <sys/ioccom.h>
#include <net/if.h>

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
