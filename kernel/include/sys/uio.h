/*
 * <sys/uio.h> -- struct iovec, the piece of a scattered buffer that
 * struct msghdr (sock_send, sock_receive) points at, and the direction
 * of a transfer.  Finch has no uio_t KPI (uio_create and friends).
 */
#ifndef _SYS_UIO_H_
#define _SYS_UIO_H_

#include <sys/types.h>
#include <sys/socket.h>		/* struct iovec */

enum uio_rw {
	UIO_READ,
	UIO_WRITE
};

#define UIO_MAXIOV	1024	/* the most pieces in one transfer */

#endif /* _SYS_UIO_H_ */
