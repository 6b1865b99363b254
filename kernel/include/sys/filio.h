/*
 * <sys/filio.h> -- the generic ioctls of an open file, which sockets
 * answer too (sock_ioctl): FIONBIO turns blocking off and on, FIONREAD
 * says how many bytes wait to be read.  Darwin's numbers.
 */
#ifndef _SYS_FILIO_H_
#define _SYS_FILIO_H_

#include <sys/ioccom.h>

#define FIOCLEX		_IO('f', 1)		/* set close on exec on fd */
#define FIONCLEX	_IO('f', 2)		/* remove close on exec */
#define FIONREAD	_IOR('f', 127, int)	/* get # bytes to read */
#define FIONBIO		_IOW('f', 126, int)	/* set/clear non-blocking i/o */
#define FIOASYNC	_IOW('f', 125, int)	/* set/clear async i/o */
#define FIOSETOWN	_IOW('f', 124, int)	/* set owner */
#define FIOGETOWN	_IOR('f', 123, int)	/* get owner */
#define FIODTYPE	_IOR('f', 122, int)	/* get d_type */

#endif /* _SYS_FILIO_H_ */
