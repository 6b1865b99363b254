/*
 * The socket filter hooks while there is no socket filter KPI: nothing
 * can attach a filter, so every hook lets everything through.  The
 * socket filter issue replaces this file with kpi_socketfilter.c, which
 * implements the same hooks (socket_filter_var.h) over registered
 * filters; the call sites in the socket layer stay as they are.
 */
#include <sys/systm.h>
#include <bsd/kern/socket_filter_var.h>

void
sflt_initsock(struct socket *so)
{
}

void
sflt_termsock(struct socket *so)
{
}

void
sflt_notify(struct socket *so, int event, void *param)
{
}

errno_t
sflt_data_in(struct socket *so, const struct sockaddr *from,
    struct mbuf **data, struct mbuf **control, int flags)
{
	return 0;
}

errno_t
sflt_data_out(struct socket *so, const struct sockaddr *to,
    struct mbuf **data, struct mbuf **control, int flags)
{
	return 0;
}

errno_t
sflt_connect_in(struct socket *head, const struct sockaddr *from)
{
	return 0;
}

errno_t
sflt_connect_out(struct socket *so, const struct sockaddr *to)
{
	return 0;
}

errno_t
sflt_bind(struct socket *so, const struct sockaddr *to)
{
	return 0;
}

errno_t
sflt_listen(struct socket *so)
{
	return 0;
}

errno_t
sflt_setoption(struct socket *so, struct sockopt *sopt)
{
	return 0;
}

errno_t
sflt_getoption(struct socket *so, struct sockopt *sopt)
{
	return 0;
}

errno_t
sflt_ioctl(struct socket *so, u_long cmd, caddr_t data)
{
	return 0;
}

errno_t
sflt_getpeername(struct socket *so, struct sockaddr *nam)
{
	return 0;
}

errno_t
sflt_getsockname(struct socket *so, struct sockaddr *nam)
{
	return 0;
}

errno_t
sflt_attach_handle(struct socket *so, u_int32_t handle)
{
	return ENOENT;		/* no filter is registered: none has it */
}
