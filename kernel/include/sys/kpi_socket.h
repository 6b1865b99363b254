/*
 * <sys/kpi_socket.h> -- sockets for code in the kernel: the BSD socket
 * calls without file descriptors.  A kext opens a socket with
 * sock_socket, binds, connects or listens, and sends and receives
 * through msghdr or mbuf chains; instead of blocking it may give an
 * upcall, which the stack calls when the socket becomes readable or
 * writable or its connection changes state.  Names, signatures and
 * values are Mac OS X 10.4's; the code is bsd/kern/kpi_socket.c over the
 * socket layer (bsd/kern/uipc_socket.c), which system calls will share.
 *
 * Errors are errno values (0 is success); a NULL socket or a missing
 * out-parameter is EINVAL.  Every call may sleep unless told not to
 * (MSG_DONTWAIT, FIONBIO): call them from thread context, never from an
 * interrupt handler or with a spin lock held.  Don't call into one
 * socket from several threads at once: there is no file descriptor
 * layer to serialize you.
 */
#ifndef __KPI_SOCKET__
#define __KPI_SOCKET__

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kernel_types.h>	/* socket_t, mbuf_t */

struct sockaddr;
struct msghdr;
struct timeval;

__BEGIN_DECLS

/*
 * The upcall: called with the socket and the cookie given to sock_socket
 * or sock_accept when data arrives, when send space frees up, and when
 * a connection completes, fails or closes.  waitf is MBUF_DONTWAIT: it
 * runs on the network's fast path (often the DLIL input thread), so it
 * must never block -- receive with MSG_DONTWAIT and return.  It is called
 * with no lock held, may call any sock_* function, and is never entered
 * twice at once for one socket (an event during the upcall brings
 * another call after it returns).
 */
typedef void (*sock_upcall)(socket_t so, void *cookie, int waitf);

/* Take the first completed connection of the listening socket so as a
 * new socket *new_so (its peer copied into from, up to fromlen bytes;
 * from may be NULL).  callback and cookie are its upcall; with
 * MSG_USEUPCALL it inherits the listener's.  EINVAL if so does not
 * listen; MSG_DONTWAIT (or FIONBIO) with no connection: EWOULDBLOCK;
 * other flags ENOTSUP.  Blocks until a connection completes otherwise.
 * Close the new socket with sock_close. */
errno_t	sock_accept(socket_t so, struct sockaddr *from, int fromlen,
	    int flags, sock_upcall callback, void *cookie, socket_t *new_so);
/* Bind so to a local address (port 0: an ephemeral port).  EINVAL if
 * already bound or the address is malformed, EAFNOSUPPORT for another
 * family, EADDRNOTAVAIL if the address is not this host's, EADDRINUSE
 * if another socket holds it (see SO_REUSEADDR, SO_REUSEPORT). */
errno_t	sock_bind(socket_t so, const struct sockaddr *to);
/* Connect so to `to` (for a datagram socket: fix its peer and pick its
 * source address by route).  With MSG_DONTWAIT (or FIONBIO) a
 * connection that takes time returns EINPROGRESS and the upcall fires
 * when it completes; otherwise it blocks until then.  EALREADY if one
 * is in progress, EISCONN, ENETUNREACH, EADDRNOTAVAIL, ECONNREFUSED... */
errno_t	sock_connect(socket_t so, const struct sockaddr *to, int flags);
/* Wait up to tv for a connection started with MSG_DONTWAIT: 0 once
 * connected, EINPROGRESS if still connecting after tv, the connection's
 * error if it failed, EINVAL if none was started, EDOM for a bad tv. */
errno_t	sock_connectwait(socket_t so, const struct timeval *tv);
/* The peer's address of a connected socket, up to peernamelen bytes.
 * ENOTCONN if not connected. */
errno_t	sock_getpeername(socket_t so, struct sockaddr *peername,
	    int peernamelen);
/* The local address, up to socknamelen bytes (port 0 if unbound). */
errno_t	sock_getsockname(socket_t so, struct sockaddr *sockname,
	    int socknamelen);
/* Read option optname of level (SOL_SOCKET, IPPROTO_IP, IPPROTO_TCP, ...)
 * into optval; *optlen is its size on entry and the value's length on
 * return.  ENOPROTOOPT for an option the level does not know. */
errno_t	sock_getsockopt(socket_t so, int level, int optname, void *optval,
	    int *optlen);
/* An ioctl on the socket: FIONBIO (int: non-zero = non-blocking),
 * FIONREAD (int: bytes waiting), and on a PF_INET socket the interface
 * ioctls of <sys/sockio.h> (SIOCAIFADDR, SIOCGIFFLAGS, ...).  EINVAL,
 * ENXIO for an unknown interface, EOPNOTSUPP if nobody handles it. */
errno_t	sock_ioctl(socket_t so, unsigned long request, void *argp);
/* Set option optname of level to optlen bytes at optval.  EINVAL for a
 * short or bad value, ENOPROTOOPT for an unknown option, ENOBUFS when a
 * buffer size cannot be reserved. */
errno_t	sock_setsockopt(socket_t so, int level, int optname,
	    const void *optval, int optlen);
/* Accept connections on so, keeping at most backlog (0 to SOMAXCONN)
 * completed ones for sock_accept.  EOPNOTSUPP for a datagram socket. */
errno_t	sock_listen(socket_t so, int backlog);
/* Receive into msg's iovecs (msg_name, if set, gets the sender; msg_flags
 * gets MSG_TRUNC when a datagram did not fit); *recvdlen is the byte
 * count.  MSG_PEEK leaves the data queued, MSG_WAITALL waits for the whole
 * request.  EWOULDBLOCK when non-blocking (MSG_DONTWAIT, FIONBIO) or
 * after SO_RCVTIMEO with nothing to read; 0 bytes at end of stream. */
errno_t	sock_receive(socket_t so, struct msghdr *msg, int flags,
	    size_t *recvdlen);
/* As sock_receive, but the data comes as an mbuf chain in *data, not
 * copied: at most *recvlen bytes (in and out; the rest of a datagram is
 * dropped).  msg may be NULL; its iovecs are ignored.  The caller frees
 * *data. */
errno_t	sock_receivembuf(socket_t so, struct msghdr *msg, mbuf_t *data,
	    int flags, size_t *recvlen);
/* Send the bytes of msg's iovecs (to msg_name if set: a datagram socket
 * that is not connected needs one); *sentlen is what went (NULL: not
 * wanted).  EWOULDBLOCK when non-blocking and the send buffer is full,
 * EMSGSIZE for a datagram bigger than the send buffer, EDESTADDRREQ,
 * ENOTCONN, EISCONN, EPIPE after shutdown, EACCES for a broadcast
 * without SO_BROADCAST. */
errno_t	sock_send(socket_t so, const struct msghdr *msg, int flags,
	    size_t *sentlen);
/* As sock_send with the data in the chain `data` (msg may be NULL; its
 * iovecs are ignored).  Always frees the chain, whatever it returns. */
errno_t	sock_sendmbuf(socket_t so, const struct msghdr *msg, mbuf_t data,
	    int flags, size_t *sentlen);
/* Stop receiving (SHUT_RD: queued data is dropped), sending (SHUT_WR:
 * the peer is told), or both (SHUT_RDWR).  EINVAL for another how. */
errno_t	sock_shutdown(socket_t so, int how);
/* A new socket of domain (PF_INET), type (SOCK_DGRAM, SOCK_STREAM) and
 * protocol (0: the type's default), with callback (may be NULL) as its
 * upcall.  EAFNOSUPPORT, EPROTONOSUPPORT, EPROTOTYPE, ENOBUFS.  Close it
 * with sock_close before your kext's stop routine returns: kextunload
 * refuses to unload a kext whose sockets are still open. */
errno_t	sock_socket(int domain, int type, int protocol, sock_upcall callback,
	    void *cookie, socket_t *new_so);
/* Close a socket made by sock_socket or sock_accept (never another's):
 * its upcall is never called again once this returns.  With SO_LINGER
 * it may wait for queued data to go.  NULL is ignored. */
void	sock_close(socket_t so);
/* Keep a socket open across sock_close: a retained socket is closed by
 * the sock_release that drops the last retain, if sock_close was
 * called. */
void	sock_retain(socket_t so);
/* Drop a retain taken with sock_retain (see there); panics if none. */
void	sock_release(socket_t so);
/* Mark the socket privileged (on non-zero) or not.  EINVAL for NULL. */
errno_t	sock_setpriv(socket_t so, int on);
/* 1 if the socket is connected, else 0 (also for NULL). */
int	sock_isconnected(socket_t so);
/* 1 if the socket does not block (FIONBIO), else 0 (also for NULL). */
int	sock_isnonblocking(socket_t so);
/* The domain, type and protocol the socket was made with; any pointer
 * may be NULL.  EINVAL for a NULL socket. */
errno_t	sock_gettype(socket_t so, int *domain, int *type, int *protocol);
/* Mark the socket's buffers not interruptible (on non-zero) or
 * interruptible.  Finch has no signals: accepted, changes nothing else. */
errno_t	sock_nointerrupt(socket_t so, int on);

__END_DECLS

#endif /* __KPI_SOCKET__ */
