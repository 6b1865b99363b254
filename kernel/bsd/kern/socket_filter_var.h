/*
 * Where the socket layer calls the socket filters (<sys/kpi_socketfilter.h>,
 * bsd/kern/kpi_socketfilter.c): one hook per sf_* callback, at its place
 * in the data flow of docs/design.md (data in: between UDP/TCP and the
 * socket's receive buffer; data out: between the socket's send and the
 * protocol).
 *
 * Every hook is called with the socket locked and returns with it
 * locked -- but a hook that finds a filter attached RELEASES THE LOCK
 * around each call into the filter (so that the filter may call sock_*
 * on the socket), as XNU does.  So after any hook, a caller re-reads the
 * socket state it needs (so_pcb, so_state, the buffers): the owner may
 * have closed the socket, or the peer's data arrived, meanwhile.  A
 * socket with no filter (so_filt NULL) is never unlocked: the hook
 * returns at once.  The caller holds a reference on the socket (every
 * holder of the lock does), which keeps it alive across the hook.
 *
 * Hooks that return errno_t follow the three-way rule of every filter
 * callback in the KPI: 0 go on; EJUSTRETURN the filter took over (data:
 * it owns the mbufs, the caller forgets them; a control operation: the
 * caller reports success without doing it); another errno stops (data:
 * the caller frees it; a control operation: the error is returned).
 */
#ifndef _BSD_KERN_SOCKET_FILTER_VAR_H_
#define _BSD_KERN_SOCKET_FILTER_VAR_H_

#include <sys/types.h>
#include <bsd/kern/socketvar.h>

/* sf_notify's events (sflt_event_t), with Mac OS X's values. */
#define SFLT_EV_CONNECTING	1
#define SFLT_EV_CONNECTED	2
#define SFLT_EV_DISCONNECTING	3
#define SFLT_EV_DISCONNECTED	4
#define SFLT_EV_FLUSH_READ	5
#define SFLT_EV_SHUTDOWN	6	/* param: int *how */
#define SFLT_EV_CANTRECVMORE	7
#define SFLT_EV_CANTSENDMORE	8
#define SFLT_EV_CLOSING		9
#define SFLT_EV_BOUND		10

/* sf_data_in/sf_data_out's flags (sflt_data_flag_t). */
#define SFLT_DATA_OOB		1
#define SFLT_DATA_RECORD	2

/* Boot, from soinit: the filters' lock. */
void	sflt_init(void);

/* A new socket (socreate, sonewconn): sf_attach of every SFLT_GLOBAL
 * filter for its protocol, in registration order. */
void	sflt_initsock(struct socket *so);
/* The owner closes the socket: sf_detach of each filter attached to it
 * (deferred for one whose callback runs); none attaches any more. */
void	sflt_termsock(struct socket *so);
/* The last reference went (sofree, socket unlocked): sf_detach of the
 * filters of a socket that was never closed (a connection its listener
 * dropped before accept). */
void	sflt_sofree(struct socket *so);
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
/* sf_accept (SFLT_EXTENDED filters): the connection so, with these
 * addresses, leaves head's queue for the one who accepts it.  The walk
 * is over so's filters. */
errno_t	sflt_accept(struct socket *head, struct socket *so,
	    const struct sockaddr *local, const struct sockaddr *remote);
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
 * for a sockaddr_storage), which a filter may change: the filters see a
 * MALLOC'd copy, copied back.  ENOMEM if there is no memory for it. */
errno_t	sflt_getpeername(struct socket *so, struct sockaddr *nam);
errno_t	sflt_getsockname(struct socket *so, struct sockaddr *nam);
/* setsockopt(SO_NKE): attach the filter `handle` to the socket.  ENOENT
 * when no filter has that handle. */
errno_t	sflt_attach_handle(struct socket *so, u_int32_t handle);

#endif /* _BSD_KERN_SOCKET_FILTER_VAR_H_ */
