/*
 * A uio: where the bytes of a read or a write are, as a list of pieces
 * (struct iovec) and a count still to move (XNU: sys/uio_internal.h).
 * sosend copies from one, soreceive into one, with uiomove (kern_subr.c).
 * Today every piece is in the kernel (sock_send, sock_receive); the
 * system calls will add user-space pieces (uio_segflg).
 */
#ifndef _BSD_KERN_UIO_VAR_H_
#define _BSD_KERN_UIO_VAR_H_

#include <sys/types.h>
#include <sys/socket.h>

enum uio_seg {
	UIO_SYSSPACE,		/* kernel addresses */
};

enum uio_rw {
	UIO_READ,		/* uiomove copies into the pieces */
	UIO_WRITE,		/* uiomove copies out of the pieces */
};

struct uio {
	struct iovec	*uio_iov;	/* the pieces not yet (fully) moved */
	int		uio_iovcnt;	/* how many */
	size_t		uio_resid;	/* bytes still to move */
	enum uio_seg	uio_segflg;
	enum uio_rw	uio_rw;
};

/*
 * Set uio up over iovcnt pieces of kernel memory.  EINVAL if there are
 * more than UIO_MAXIOV or their lengths overflow.
 */
#define UIO_MAXIOV	1024
errno_t	uio_init_kernel(struct uio *uio, struct iovec *iov, int iovcnt,
	    enum uio_rw rw);
/* Move up to n bytes between cp and the uio (direction: uio_rw),
 * advancing both; the uio's resid and pieces shrink by what moved. */
errno_t	uiomove(void *cp, size_t n, struct uio *uio);

#endif /* _BSD_KERN_UIO_VAR_H_ */
