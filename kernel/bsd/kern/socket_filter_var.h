/*
 * Where the socket layer calls the socket filters (<sys/kpi_socketfilter.h>
 * to come): one hook per sf_* callback, at its place in the data flow of
 * docs/design.md (data in: between UDP/TCP and the socket's receive
 * buffer; data out: between the socket's send and the protocol).  Until
 * the socket filter KPI exists, every hook is a no-op
 * (kpi_socketfilter_hooks.c); that issue replaces that one file with the
 * real kpi_socketfilter.c and changes no call site.
 *
 * Every hook is called with the socket locked.  An implementation that
 * calls out to a kext may release the lock around the call (XNU does),
 * so a call site uses no socket state it read before the hook.
 *
 * Hooks that return errno_t follow the three-way rule of every filter
 * callback in the KPI (<net/kpi_interfacefilter.h>'s too): 0 go on;
 * EJUSTRETURN the filter took over (data: it owns the mbufs, the caller
 * forgets them; a control operation: the caller reports success without
 * doing it); another errno stops (data: the caller frees it; a control
 * operation: the error is returned).
 */
#ifndef _BSD_KERN_SOCKET_FILTER_VAR_H_
#define _BSD_KERN_SOCKET_FILTER_VAR_H_

#include <sys/types.h>
#include <bsd/kern/socketvar.h>

/* sf_notify's events (sflt_event_t), with Mac OS X 10.4's values. */
#define SFLT_EV_CONNECTING	1
#define SFLT_EV_CONNECTED	2
#define SFLT_EV_DISCONNECTING	3
#define SFLT_EV_DISCONNECTED	4
#define SFLT_EV_FLUSH_READ	5
#define SFLT_EV_SHUTDOWN	6	/* param: int *how */
#define SFLT_EV_CANTRECVMORE	7
#define SFLT_EV_CANTSENDMORE	8
#define SFLT_EV_CLOSING		9

/* sf_data_in/sf_data_out's flags (sflt_data_flag_t). */
#define SFLT_DATA_OOB		1
#define SFLT_DATA_RECORD	2

/* A new socket (socreate, sonewconn): sf_attach of every SFLT_GLOBAL
 * filter for its domain, type and protocol. */
void	sflt_initsock(struct socket *so);
/* The socket closes: sf_detach of each filter attached to it. */
void	sflt_termsock(struct socket *so);
/* sf_notify(event, param) of each attached filter. */
void	sflt_notify(struct socket *so, int event, void *param);
/* sf_data_in: data (and control) from `from`, before it is appended to
 * the receive buffer. */
errno_t	sflt_data_in(struct socket *so, const struct sockaddr *from,
	    struct mbuf **data, struct mbuf **control, int flags);
/* sf_data_out: data the socket sends to `to` (NULL: the peer), before
 * the protocol gets it. */
errno_t	sflt_data_out(struct socket *so, const struct sockaddr *to,
	    struct mbuf **data, struct mbuf **control, int flags);
/* sf_connect_in: a connection from `from` for the listener head. */
errno_t	sflt_connect_in(struct socket *head, const struct sockaddr *from);
/* sf_connect_out: the socket connects to `to`. */
errno_t	sflt_connect_out(struct socket *so, const struct sockaddr *to);
/* sf_bind: the socket binds to `to`. */
errno_t	sflt_bind(struct socket *so, const struct sockaddr *to);
/* sf_listen: the socket starts listening. */
errno_t	sflt_listen(struct socket *so);
/* sf_setoption / sf_getoption: before the socket layer sees the option. */
errno_t	sflt_setoption(struct socket *so, struct sockopt *sopt);
errno_t	sflt_getoption(struct socket *so, struct sockopt *sopt);
/* sf_ioctl: before the socket layer sees the ioctl. */
errno_t	sflt_ioctl(struct socket *so, u_long cmd, caddr_t data);
/* sf_getpeername / sf_getsockname: after the protocol filled nam (room
 * for a sockaddr_storage), which a filter may change. */
errno_t	sflt_getpeername(struct socket *so, struct sockaddr *nam);
errno_t	sflt_getsockname(struct socket *so, struct sockaddr *nam);
/* setsockopt(SO_NKE): attach the SFLT_PROG filter `handle` to the
 * socket.  ENOENT when no filter has that handle. */
errno_t	sflt_attach_handle(struct socket *so, u_int32_t handle);

#endif /* _BSD_KERN_SOCKET_FILTER_VAR_H_ */
