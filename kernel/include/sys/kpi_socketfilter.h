/*
 * <sys/kpi_socketfilter.h> -- socket filters: a kext sees (and may
 * change, hold back, refuse or re-inject) what sockets of one protocol
 * send and receive, and hears their binds, connects, options, ioctls and
 * state changes.  A filter sits between the socket and its protocol:
 * data in after UDP or TCP and before the receive buffer, data out after
 * the sender and before UDP or TCP.  Names, values and field order are
 * Mac OS X 10.4's (NKE source fills struct sflt_filter positionally);
 * the code is bsd/kern/kpi_socketfilter.c, called from the socket layer
 * (bsd/kern/uipc_socket.c, uipc_socket2.c).
 */
#ifndef __KPI_SOCKETFILTER__
#define __KPI_SOCKETFILTER__

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kpi_socket.h>

struct sockaddr;

/* sockopt_t (a socket option request) is in <sys/kernel_types.h>. */

/* sf_flags. */
#define SFLT_GLOBAL	0x01	/* attach to every new socket of the domain,
				   type and protocol given to sflt_register */
#define SFLT_PROG	0x02	/* attached one socket at a time: sflt_attach,
				   or setsockopt(SOL_SOCKET, SO_NKE) */
#define SFLT_EXTENDED	0x04	/* sf_ext is filled in (later Mac OS X) */

/* A filter's identity: non-zero, unique, chosen by its author (often four
 * letters, 'ROT1'); it is also the nke_handle of SO_NKE. */
typedef u_int32_t	sflt_handle;

/* What sf_notify reports (param is NULL unless said). */
typedef u_int32_t	sflt_event_t;
enum {
	sock_evt_connecting	= 1,
	sock_evt_connected	= 2,
	sock_evt_disconnecting	= 3,
	sock_evt_disconnected	= 4,
	sock_evt_flush_read	= 5,	/* the receive buffer is dropped */
	sock_evt_shutdown	= 6,	/* param: int *, shutdown's how */
	sock_evt_cantrecvmore	= 7,
	sock_evt_cantsendmore	= 8,
	sock_evt_closing	= 9,	/* the owner closes it; sf_detach next */
	sock_evt_bound		= 10	/* bound (later Mac OS X's event) */
};

/* sf_data_in / sf_data_out flags. */
typedef u_int32_t	sflt_data_flag_t;
enum {
	sock_data_filt_flag_oob		= 1,	/* urgent data */
	sock_data_filt_flag_record	= 2	/* a whole record */
};

/* sockopt_direction's answers. */
typedef u_int8_t	sockopt_dir;
#define sockopt_get	1
#define sockopt_set	2

__BEGIN_DECLS

/*
 * --- When the callbacks run, and what they return ---
 * In thread context, with the socket UNLOCKED and no kernel lock held:
 * a callback may call any sock_* function on the socket (sock_getsockname,
 * sock_inject_data_in, ...) and sflt_attach/sflt_detach.  Several run at
 * once -- the DLIL input thread delivers data while the owner sends --
 * so guard your state with your own lock, and hold none of your locks
 * across a call into the stack.  Never sleep in sf_data_in (the input
 * thread): hand slow work to a thread call and return EJUSTRETURN.
 * A callback that returns with a lock it took, or interrupts off, panics
 * at once, naming itself.  Exceptions: sf_detach must not call into
 * the socket (it may be freed right after); the sf_attach of a
 * connection arriving on a listening socket runs with the listener
 * locked (don't call sock_* on the listener from it).
 *
 * Several filters on one socket: the one attached LAST runs FIRST, in
 * both directions (global filters attach in registration order when the
 * socket is made; sflt_attach and SO_NKE put theirs in front).  The
 * first answer other than 0 stops the walk.
 *
 * What they return, those that return errno_t: 0 goes on (to the next filter, then the
 * stack).  EJUSTRETURN stops without an error: for data, the filter now
 * owns the mbufs (the stack forgets them; put them back later with
 * sock_inject_data_in / sock_inject_data_out, or free them); for bind,
 * connect_out, listen, setoption, getoption, ioctl and getpeername/
 * getsockname, the caller sees success and the stack does nothing.  Any
 * other errno stops: data is freed by the stack, and a request returns
 * that errno to its caller.
 */

/* The last call of a filter: after sflt_unregister, once every socket has
 * had its sf_detach and no callback runs.  The kext may unload after it. */
typedef void	(*sf_unregistered_func)(sflt_handle handle);
/* A socket gets the filter: store per-socket state in *cookie.  Non-zero
 * refuses the attachment (and sf_detach is not called for it).  On a
 * connection a listener accepts (TCP), it runs when the SYN comes, before
 * the socket has its addresses: ask for them at sock_evt_connected. */
typedef errno_t	(*sf_attach_func)(void **cookie, socket_t so);
/* The filter leaves the socket (sflt_detach, the socket's close,
 * sflt_unregister): free the cookie.  No callback for it follows; don't
 * call sock_* on so here. */
typedef void	(*sf_detach_func)(void *cookie, socket_t so);
/* An event (sflt_event_t) on the socket. */
typedef void	(*sf_notify_func)(void *cookie, socket_t so,
	    sflt_event_t event, void *param);
/* The peer's or local address the socket's owner asks for.  As on Mac
 * OS X, *sa is the kernel's (MALLOC, M_SONAME; room for a struct
 * sockaddr_storage): rewrite it in place, or FREE it and point *sa at a
 * sockaddr of your own from MALLOC, which the kernel copies and frees. */
typedef int	(*sf_getpeername_func)(void *cookie, socket_t so,
	    struct sockaddr **sa);
typedef int	(*sf_getsockname_func)(void *cookie, socket_t so,
	    struct sockaddr **sa);
/* Data for the receive buffer, from `from` (NULL on a connected stream).
 * *data (and *control, may be NULL) may be changed or replaced; call
 * mbuf_inbound_modified after changing data.  Runs in the DLIL input
 * thread, never in the owner's. */
typedef errno_t	(*sf_data_in_func)(void *cookie, socket_t so,
	    const struct sockaddr *from, mbuf_t *data, mbuf_t *control,
	    sflt_data_flag_t flags);
/* Data the owner sends to `to` (NULL: the connected peer), in the
 * sender's thread. */
typedef errno_t	(*sf_data_out_func)(void *cookie, socket_t so,
	    const struct sockaddr *to, mbuf_t *data, mbuf_t *control,
	    sflt_data_flag_t flags);
/* A connection request from `from` reaches the listening socket so;
 * non-zero refuses it. */
typedef errno_t	(*sf_connect_in_func)(void *cookie, socket_t so,
	    const struct sockaddr *from);
/* The owner connects so to `to`. */
typedef errno_t	(*sf_connect_out_func)(void *cookie, socket_t so,
	    const struct sockaddr *to);
/* The owner binds so to `to`. */
typedef errno_t	(*sf_bind_func)(void *cookie, socket_t so,
	    const struct sockaddr *to);
/* setsockopt and getsockopt, any level, before the stack sees them:
 * read the request with the sockopt_* functions below. */
typedef errno_t	(*sf_setoption_func)(void *cookie, socket_t so,
	    sockopt_t opt);
typedef errno_t	(*sf_getoption_func)(void *cookie, socket_t so,
	    sockopt_t opt);
/* The owner makes so listen. */
typedef errno_t	(*sf_listen_func)(void *cookie, socket_t so);
/* An ioctl on so, before the stack sees it; argp is the ioctl's data. */
typedef errno_t	(*sf_ioctl_func)(void *cookie, socket_t so,
	    u_int32_t request, const char *argp);
/*
 * (SFLT_EXTENDED) A connection leaves the listener so_listen's queue to
 * be handed to the one who accepts it (sock_accept), with its local and
 * remote addresses; cookie is the filter's on the new socket so.
 * 0: accept goes on.  EJUSTRETURN: accept hands so over, but
 * disconnected -- the peer gets a FIN, a read of so sees end of file, a
 * send fails (EPIPE); the filter may have copied what it needed.  Any
 * other errno: so is closed and accept returns that errno.  Runs in the
 * accepting thread, no lock held.
 */
typedef errno_t	(*sf_accept_func)(void *cookie, socket_t so_listen,
	    socket_t so, const struct sockaddr *local,
	    const struct sockaddr *remote);

/* A filter, copied by sflt_register (sf_name too).  sf_handle, sf_name,
 * sf_attach and sf_detach are required; any other callback may be NULL.
 * The first eighteen members are Mac OS X 10.4's, which NKE sources fill
 * positionally (sf_ext is then zero); later releases appended sf_ext,
 * read only when sf_flags has SFLT_EXTENDED and sf_len says how many of
 * its bytes the kext filled in (sizeof(struct sflt_filter_ext)). */
struct sflt_filter {
	sflt_handle		sf_handle;
	int			sf_flags;	/* SFLT_* */
	char			*sf_name;

	sf_unregistered_func	sf_unregistered;
	sf_attach_func		sf_attach;
	sf_detach_func		sf_detach;

	sf_notify_func		sf_notify;
	sf_getpeername_func	sf_getpeername;
	sf_getsockname_func	sf_getsockname;
	sf_data_in_func		sf_data_in;
	sf_data_out_func	sf_data_out;
	sf_connect_in_func	sf_connect_in;
	sf_connect_out_func	sf_connect_out;
	sf_bind_func		sf_bind;
	sf_setoption_func	sf_setoption;
	sf_getoption_func	sf_getoption;
	sf_listen_func		sf_listen;
	sf_ioctl_func		sf_ioctl;
	struct sflt_filter_ext {
		unsigned int	sf_ext_len;	/* bytes of sf_ext filled in */
		sf_accept_func	sf_ext_accept;
		void		*sf_ext_rsvd[5];	/* reserved: zero */
	} sf_ext;
#define sf_len		sf_ext.sf_ext_len
#define sf_accept	sf_ext.sf_ext_accept
};

/*
 * Register a filter for the sockets of (domain, type, protocol), e.g.
 * (PF_INET, SOCK_DGRAM, IPPROTO_UDP).  With SFLT_GLOBAL it attaches to
 * every socket of that protocol made from now on (not to those already
 * open).  EINVAL if filter, sf_attach, sf_detach or sf_name is NULL or
 * sf_handle is 0; EEXIST if another filter has the handle; ENOENT if no
 * protocol matches (filters sit on PF_INET's: UDP, TCP; PF_INET6's TCP
 * and UDP register, as on a Mac, but never attach: Finch has no IPv6);
 * ENOMEM.  sf_ext is read only with SFLT_EXTENDED, and only its first
 * sf_len bytes (at most sizeof(sf_ext)): a callback they do not cover
 * is NULL.  May sleep.  Until sf_unregistered has returned, kextunload
 * keeps the stopped kext in memory ("pinned").
 */
errno_t	sflt_register(const struct sflt_filter *filter, int domain, int type,
	    int protocol);
/*
 * Stop the filter: no new attachments; sf_detach for each socket it is
 * attached to -- at once, or, on a socket where one of its callbacks is
 * running, when that callback returns -- then sf_unregistered, last, in
 * the thread that finishes the last detach (maybe before this returns).
 * ENOENT for an unknown handle (or one already unregistering).  May
 * sleep for a socket's lock: call it holding none of your locks.  Stop
 * routine: call it, then sleep (bounded) until sf_unregistered came, and
 * return KERN_FAILURE if it has not (kextunload -w tries again).
 */
errno_t	sflt_unregister(sflt_handle handle);
/*
 * Attach the registered filter `handle` to the socket now (in front of
 * the filters already there), calling its sf_attach.  A filter attached
 * to a listening socket is not passed on to the connections it accepts
 * (a global filter is on them: each is a new socket).  EINVAL for a NULL
 * socket, a 0 or unknown handle, a filter unregistering or a socket
 * being closed; EEXIST if it is attached already; ENOMEM; or what
 * sf_attach answered.  May sleep.
 */
errno_t	sflt_attach(socket_t so, sflt_handle handle);
/*
 * Detach the filter from the socket: its sf_detach runs now, or when its
 * callback running on the socket returns.  EINVAL for a NULL socket or a
 * 0 handle; 0 even if the filter is not attached.  May sleep.
 */
errno_t	sflt_detach(socket_t so, sflt_handle handle);

/*
 * Put data into the socket's receive buffer as if it came from the
 * network -- no filter sees it again -- and wake the reader.  from is the
 * sender (a datagram socket needs one); flags sock_data_filt_flag_record
 * makes it a record of its own.  Data injected by successive calls is
 * read in that order.  On error nothing was consumed: the caller frees
 * data and control.  EINVAL (NULL socket or data, a datagram without
 * from), ENOBUFS when a datagram does not fit.  Stream data held across
 * the peer's FIN (sock_evt_cantrecvmore) still goes in, but a reader who
 * saw end of file already will not read it.  Any thread; never sleeps.
 */
errno_t	sock_inject_data_in(socket_t so, const struct sockaddr *from,
	    mbuf_t data, mbuf_t control, sflt_data_flag_t flags);
/*
 * Send data as if the socket's owner had sent it, to `to` (NULL: the
 * connected peer).  It goes through the socket filters again, yours
 * included: mark what you re-inject (an mbuf tag) to let it pass.
 * Called from inside sf_data_out on the same socket, it is sent within
 * the send that called the filter (it does not wait for that one to
 * end).  Always consumes data and control.  The errnos of
 * sock_sendmbuf; may sleep for send-buffer space unless the socket is
 * non-blocking.
 */
errno_t	sock_inject_data_out(socket_t so, const struct sockaddr *to,
	    mbuf_t data, mbuf_t control, sflt_data_flag_t flags);

/* Inside sf_setoption and sf_getoption: the request's direction
 * (sockopt_get or sockopt_set), level, option name and value size. */
sockopt_dir	sockopt_direction(sockopt_t sopt);
int	sockopt_level(sockopt_t sopt);
int	sockopt_name(sockopt_t sopt);
size_t	sockopt_valsize(sockopt_t sopt);
/* Copy the value being set into data (exactly len bytes: EINVAL if the
 * request carries fewer). */
errno_t	sockopt_copyin(sockopt_t sopt, void *data, size_t length);
/* Answer a get with len bytes of data (cut to the caller's room); return
 * EJUSTRETURN from sf_getoption so that the stack does not answer too. */
errno_t	sockopt_copyout(sockopt_t sopt, void *data, size_t length);

__END_DECLS

#endif /* __KPI_SOCKETFILTER__ */
