/*
 * uiomove: copying between a buffer and the pieces a uio describes, as
 * sosend and soreceive need it (uio_var.h).  Kernel memory only, for
 * now; user space will add copyin and copyout here.
 */
#include <sys/systm.h>
#include <bsd/kern/uio_var.h>

errno_t
uio_init_kernel(struct uio *uio, struct iovec *iov, int iovcnt,
    enum uio_rw rw)
{
	size_t resid = 0;
	int i;

	if (iovcnt < 0 || iovcnt > UIO_MAXIOV || (iovcnt > 0 && iov == NULL))
		return EINVAL;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX / 2 - resid)
			return EINVAL;
		resid += iov[i].iov_len;
	}
	uio->uio_iov = iov;
	uio->uio_iovcnt = iovcnt;
	uio->uio_resid = resid;
	uio->uio_segflg = UIO_SYSSPACE;
	uio->uio_rw = rw;
	return 0;
}

errno_t
uiomove(void *cp, size_t n, struct uio *uio)
{
	struct iovec *iov;
	size_t cnt;

	while (n > 0 && uio->uio_resid > 0 && uio->uio_iovcnt > 0) {
		iov = uio->uio_iov;
		cnt = iov->iov_len < n ? iov->iov_len : n;
		if (cnt == 0) {
			uio->uio_iov++;
			uio->uio_iovcnt--;
			continue;
		}
		if (uio->uio_rw == UIO_READ)
			memcpy(iov->iov_base, cp, cnt);
		else
			memcpy(cp, iov->iov_base, cnt);
		iov->iov_base = (char *)iov->iov_base + cnt;
		iov->iov_len -= cnt;
		uio->uio_resid -= cnt;
		cp = (char *)cp + cnt;
		n -= cnt;
	}
	return 0;
}
