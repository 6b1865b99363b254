/*
 * The socket layer's private view (XNU: sys/socketvar.h): struct socket,
 * its two socket buffers, the state flags, and the functions protocols
 * and the KPI build on.  uipc_socket.c holds the requests (socreate,
 * sosend, soreceive, soclose, options, ioctls), uipc_socket2.c the
 * buffers, the state transitions and the wakeups, kpi_socket.c the
 * sock_* KPI over them.  One layer serves in-kernel sockets now and the
 * socket system calls later.
 *
 * LOCKING -- one rule:
 *
 *	A socket's fields, its two buffers and its protocol control block
 *	are protected by the socket's lock: socket_lock(so, ...) and
 *	socket_unlock(so, ...), a mutex.  Whoever holds the lock holds a
 *	reference (so_usecount) too, so the socket cannot go away under it.
 *
 * and what follows from it:
 *
 *  - socket_lock(so, 1) takes the lock and a reference, socket_unlock(so,
 *    1) drops both; the last reference frees the socket.  Pass 0 when you
 *    hold a reference already (the owner's from socreate, or one a lookup
 *    took).  so_usecount changes atomically, so a lookup may take a
 *    reference under its own table lock without the socket's.
 *  - socket_unlock runs the socket's pending upcall after releasing the
 *    lock: unlock a socket with no other lock held.
 *  - The input path finds a socket through its protocol's pcb table (one
 *    spin lock per table, in_pcb.c), takes a reference there, drops the
 *    table lock, then takes the socket's lock -- never the other way.
 *  - A listening socket's lock comes before the locks of the sockets on
 *    its queues.  A queued socket's so_list is protected by the
 *    listener's lock, marked (h); its so_head and SS_INCOMP/SS_COMP
 *    change only with both locks held, marked (hs), so either lock
 *    suffices to read them.
 *  - Nothing sleeps with a socket locked except msleep on that lock
 *    (sbwait, connect, accept, linger), which releases it.  Code on the
 *    input path takes socket locks but never sleeps; it allocates
 *    MBUF_DONTWAIT.
 *  - Each socket has a mutex of its own today (so_mtx points at so_lck):
 *    fine-grained locking.  The network funnel of Mac OS X 10.0 would
 *    point every so_mtx at one recursive mutex; code that follows the
 *    rule above works unchanged under either.
 *
 * How a protocol plugs in (UDP now, TCP next) -- see protosw.h for the
 * switch itself:
 *
 *  - pru_attach makes the pcb (in_pcballoc) and calls soreserve; every
 *    later request comes with the socket locked.
 *  - Input: find the pcb (in_pcblookup_hash: returns it with its socket
 *    referenced), socket_lock(so, 0), check so->so_pcb is still that pcb,
 *    append (sbappendaddr for datagrams, sbappendstream for a byte
 *    stream), sorwakeup(so), socket_unlock(so, 1).
 *  - Output: pru_send gets the data sosend gathered; a stream protocol
 *    keeps it in so_snd (sbappendstream), sends from there and sbdrop()s
 *    what was acknowledged, then sowwakeup(so).
 *  - Connections: soisconnecting, soisconnected (which moves a socket made
 *    by sonewconn from its listener's incomplete queue to the completed
 *    one), soisdisconnecting, soisdisconnected, socantsendmore,
 *    socantrcvmore; errors go into so_error, then sorwakeup/sowwakeup.
 *  - A listener's protocol calls sonewconn(head, 0, from) for each
 *    connection request: the new socket comes back referenced (NULL when
 *    the backlog is full); release the listener with socket_unlock(head,
 *    0), then socket_lock(so, 0) the new one, check so_pcb, go on, and
 *    finish with socket_unlock(so, 1).
 *  - Lifetime: the pcb holds a reference on its socket from in_pcballoc
 *    to in_pcbdetach, so a protocol that outlives the close (TCP's
 *    FIN_WAIT and TIME_WAIT) keeps the socket by keeping the pcb:
 *    pru_detach may leave so_pcb set, and the socket is freed after the
 *    protocol's in_pcbdetach and the owner's close.
 *  - Timers (pr_slowtimo, pr_fasttimo, in the thread_call thread) reach
 *    a socket as the input path does: a reference under the pcb table's
 *    lock (soreference), then the socket's lock.
 *  - Output along the pcb's cached route: in_pcbroute, ip_output_route.
 *    ICMP errors come back through pr_ctlinput; in_pcbnotify sets
 *    so_error on the connected socket and wakes it.
 *  - The upcall runs when the socket is unlocked: call sorwakeup or
 *    sowwakeup with the lock held and carry on; never call it directly.
 */
#ifndef _BSD_KERN_SOCKETVAR_H_
#define _BSD_KERN_SOCKETVAR_H_

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/kpi_socket.h>
#include <kern/locks_var.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/kern/protosw.h>

struct uio;
struct socket_filter_entry;

/*
 * A socket buffer: a queue of records, linked by m_nextpkt; the mbufs of
 * one record are linked by m_next.  A datagram is one record (its
 * sender's address first, in an MBUF_TYPE_SONAME mbuf, then any control
 * mbufs, then the data); a byte stream is one long record.  Two limits:
 * sb_hiwat bytes of data, and sb_mbmax bytes of storage (each mbuf counts
 * MSIZE, each cluster its size), so that many tiny packets cannot pin
 * all the clusters.
 */
struct sockbuf {
	u_int32_t	sb_cc;		/* bytes queued, addresses included */
	u_int32_t	sb_ctl;		/* ... of which addresses and control */
	u_int32_t	sb_hiwat;	/* limit of sb_cc */
	u_int32_t	sb_mbcnt;	/* storage the queued mbufs use */
	u_int32_t	sb_mbmax;	/* limit of sb_mbcnt */
	int32_t		sb_lowat;	/* low-water mark */
	struct mbuf	*sb_mb;		/* the first record */
	struct mbuf	*sb_lastrecord;	/* the last record */
	struct mbuf	*sb_mbtail;	/* the last mbuf of the last record */
	struct socket	*sb_so;		/* (c) the socket it belongs to */
	int		sb_flags;	/* SB_* */
	struct timeval	sb_timeo;	/* SO_RCVTIMEO/SO_SNDTIMEO; 0: for ever */
};

#define SB_MAX		(256 * 1024)	/* default for max chars in sockbuf */
#define SB_EFFICIENCY	8		/* sb_mbmax = sb_hiwat * this */

#define SB_LOCK		0x01	/* a reader or writer holds it (sblock) */
#define SB_WANT		0x02	/* someone waits for SB_LOCK */
#define SB_WAIT		0x04	/* someone waits for data or space */
#define SB_UPCALL	0x20	/* the socket's upcall wants to hear */
#define SB_NOINTR	0x40	/* operations not interruptible */
#define SB_RECV		0x8000	/* this is so_rcv */

/*
 * A socket.  (c): set at creation, then constant; (h), (hs): the
 * listener's lock, and both (see LOCKING above); (a) atomic; (g) the
 * socket list's spin lock; everything else: the socket's lock.
 */
struct socket {
	short		so_type;	/* (c) SOCK_DGRAM, SOCK_STREAM */
	short		so_linger;	/* time to linger in close, ticks */
	int		so_options;	/* SO_* bits of <sys/socket.h> */
	int		so_state;	/* SS_* below */
	void		*so_pcb;	/* the protocol's control block; NULL
					   once the protocol let go */
	struct protosw	*so_proto;	/* (c) */

	/* Listening: the queues of connections not yet accepted. */
	struct socket	*so_head;	/* (hs) the listener we are queued on;
					   it holds a reference on it */
	TAILQ_HEAD(, socket) so_incomp;	/* connections not yet complete */
	TAILQ_HEAD(, socket) so_comp;	/* complete, not yet accepted */
	TAILQ_ENTRY(socket) so_list;	/* (h) our place on so_head's queue */
	short		so_qlen;	/* so_incomp + so_comp */
	short		so_incqlen;	/* so_incomp */
	short		so_qlimit;	/* the backlog listen() gave */
	short		so_timeo;	/* its address: the channel connect,
					   accept and linger sleep on */
	u_short		so_error;	/* an error to report, then clear */
	u_int32_t	so_oobmark;	/* bytes before the urgent mark */

	struct sockbuf	so_rcv, so_snd;

	sock_upcall	so_upcall;	/* the KPI's upcall, or NULL */
	void		*so_upcallarg;	/* its cookie */
	volatile u_int32_t so_upcallstate; /* (a) SOU_* below */
	thread_t	so_upcallthread; /* the thread in the upcall, if any */
	thread_t	so_send_filt_thread; /* the sender whose sf_data_out
					   runs: its sock_inject_data_out
					   goes on under its SB_LOCK */
	u_int32_t	so_flags;	/* SOF_* below */

	volatile int	so_usecount;	/* (a) references (see LOCKING) */
	int		so_retaincnt;	/* sock_retain()s not released */
	lck_mtx_t	*so_mtx;	/* (c) the socket's lock */
	lck_mtx_t	so_lck;		/* so_mtx's storage, when its own */

	struct socket_filter_entry *so_filt; /* socket filters, in the order
					   they run (kpi_socketfilter.c) */
	u_int32_t	so_creator;	/* (c) return address of the kext call
					   that made it; 0: the kernel */
	TAILQ_ENTRY(socket) so_all;	/* (g) every socket: socket_list_lock */
};

/* so_state. */
#define SS_NOFDREF		0x0001	/* the owner closed it (or has not
					   accepted it yet) */
#define SS_ISCONNECTED		0x0002	/* connected to a peer */
#define SS_ISCONNECTING		0x0004	/* connecting */
#define SS_ISDISCONNECTING	0x0008	/* disconnecting */
#define SS_CANTSENDMORE		0x0010	/* can't send more data to peer */
#define SS_CANTRCVMORE		0x0020	/* can't receive more data */
#define SS_RCVATMARK		0x0040	/* at mark on input */
#define SS_PRIV			0x0080	/* privileged (sock_setpriv) */
#define SS_NBIO			0x0100	/* non-blocking (FIONBIO) */
#define SS_ASYNC		0x0200	/* async i/o notify */
#define SS_ISCONFIRMING		0x0400	/* deciding to accept connection */
#define SS_INCOMP		0x0800	/* (hs) on so_head's so_incomp */
#define SS_COMP			0x1000	/* (hs) on so_head's so_comp */
#define SS_ISDISCONNECTED	0x2000	/* disconnected from peer */

/* so_flags. */
#define SOF_NOSIGPIPE		0x0001	/* SO_NOSIGPIPE */
#define SOF_NOADDRAVAIL		0x0002	/* SO_NOADDRERR */
#define SOF_KPI			0x0010	/* made by sock_socket/sock_accept */
#define SOF_CLOSEWAIT		0x0020	/* closed while retained: the last
					   sock_release closes it */
#define SOF_NOFILTER		0x0040	/* closed: its filters are detached
					   and no other attaches */

/* so_upcallstate: set under the socket's lock; the thread in the upcall
 * clears SOU_RUNNING without it. */
#define SOU_PENDING		0x1	/* an event: socket_unlock runs it */
#define SOU_RUNNING		0x2	/* so_upcallthread is in the upcall */
#define SOU_WAIT		0x4	/* soclose waits for it to return */

/* The argument of sosetopt/sogetopt and pr_ctloutput (XNU's layout). */
enum sopt_dir { SOPT_GET, SOPT_SET };
struct sockopt {
	enum sopt_dir	sopt_dir;	/* get or set */
	int		sopt_level;	/* SOL_SOCKET, IPPROTO_IP, ... */
	int		sopt_name;	/* the option */
	void		*sopt_val;	/* the value (kernel memory) */
	size_t		sopt_valsize;	/* its size; on get, what was set */
	void		*sopt_p;	/* the calling process: NULL, the kernel */
};

/* Default receive and send buffer limits are the protocol's (soreserve). */
extern u_int32_t sb_max;

/* ---- Locks and references (uipc_socket2.c) ---- */

/* Take so's lock; with refcount, a reference too. */
void	socket_lock(struct socket *so, int refcount);
/* Run a pending upcall (lock released meanwhile), release the lock; with
 * refcount drop a reference -- the last one frees the socket. */
void	socket_unlock(struct socket *so, int refcount);
/* A reference taken without the lock (a lookup under its table's lock,
 * which guarantees the socket is alive). */
void	soreference(struct socket *so);
/* Drop a reference that cannot be the last: the caller holds another. */
void	sorelease_notlast(struct socket *so);

/* ---- Socket buffers (uipc_socket2.c): socket locked ---- */

/* Reserve the buffers' limits: sndcc and rcvcc bytes.  ENOBUFS if either
 * is over sb_max. */
errno_t	soreserve(struct socket *so, u_int32_t sndcc, u_int32_t rcvcc);
/* Set one buffer's limit (sb_hiwat; sb_mbmax follows).  ENOBUFS over
 * sb_max. */
errno_t	sbreserve(struct sockbuf *sb, u_int32_t cc);
/* Room left: the smaller of bytes and storage, possibly negative. */
long	sbspace(struct sockbuf *sb);
/*
 * Append to a receive buffer, after the socket filters' sf_data_in (a
 * send buffer has none).  Each consumes m and control whatever it
 * returns: 0 appended; ENOBUFS no room (the caller counts the drop);
 * ENOMEM no mbuf for the address; EJUSTRETURN a filter kept the data;
 * another errno a filter refused it.
 *
 * sbappendaddr: a datagram from asa, with control (may be NULL), as a
 * new record -- if it all fits.  sbappendrecord: m as a new record, if it
 * fits.  sbappendstream: m at the end of the last record, a byte stream;
 * no room check (the protocol's window is the limit).  sbappend: a
 * record for atomic protocols, the stream otherwise.
 */
errno_t	sbappendaddr(struct sockbuf *sb, const struct sockaddr *asa,
	    struct mbuf *m, struct mbuf *control);
errno_t	sbappendrecord(struct sockbuf *sb, struct mbuf *m);
errno_t	sbappendstream(struct sockbuf *sb, struct mbuf *m);
errno_t	sbappend(struct sockbuf *sb, struct mbuf *m);
/* The same without the socket filters: for sock_inject_data_in, and for
 * send buffers. */
errno_t	sbappendaddr_nofilter(struct sockbuf *sb, const struct sockaddr *asa,
	    struct mbuf *m, struct mbuf *control);
errno_t	sbappendrecord_nofilter(struct sockbuf *sb, struct mbuf *m);
errno_t	sbappendstream_nofilter(struct sockbuf *sb, struct mbuf *m);
/* Count m into (sballoc) or out of (sbfree) sb's totals. */
void	sballoc(struct sockbuf *sb, struct mbuf *m);
void	sbfree(struct sockbuf *sb, struct mbuf *m);
/* After a reader took mbufs off the front: fix sb_lastrecord and
 * sb_mbtail. */
void	sbfixup(struct sockbuf *sb);
/* Drop len bytes from the front (a stream's acknowledged data). */
void	sbdrop(struct sockbuf *sb, int len);
/* Drop the first record. */
void	sbdroprecord(struct sockbuf *sb);
/* Drop everything queued. */
void	sbflush(struct sockbuf *sb);
/* sbflush, and the limits go to 0. */
void	sbrelease(struct sockbuf *sb);
/*
 * Sleep until sorwakeup/sowwakeup (so_rcv or so_snd): releases the
 * socket's lock while asleep.  EWOULDBLOCK after sb_timeo.
 */
errno_t	sbwait(struct sockbuf *sb);
/* Serialize readers (or writers) of sb: 0 with SB_LOCK taken;
 * EWOULDBLOCK if busy and !wait. */
errno_t	sblock(struct sockbuf *sb, bool wait);
void	sbunlock(struct sockbuf *sb);

/* ---- Wakeups and state transitions (uipc_socket2.c): socket locked ---- */

/* Data or space arrived: wake sleepers, mark the upcall due. */
void	sorwakeup(struct socket *so);
void	sowwakeup(struct socket *so);
void	sowakeup(struct socket *so, struct sockbuf *sb);
/* A connection is under way (TCP's SYN sent). */
void	soisconnecting(struct socket *so);
/*
 * It is established.  For a socket on a listener's incomplete queue it
 * moves to the completed one and wakes the listener; that needs the
 * listener's lock, so so's is released and taken back meanwhile:
 * re-check so's state afterwards.
 */
void	soisconnected(struct socket *so);
/* The close handshake began (TCP's FIN sent): no more sending. */
void	soisdisconnecting(struct socket *so);
/* The connection is gone: no more sending or receiving. */
void	soisdisconnected(struct socket *so);
/* The peer will send no more (TCP's FIN received): readers see EOF. */
void	socantrcvmore(struct socket *so);
/* We will send no more. */
void	socantsendmore(struct socket *so);
/* Urgent data is coming (TCP). */
void	sohasoutofband(struct socket *so);
/*
 * The protocol let go of so (in_pcbdetach: so_pcb is NULL now): drop the
 * protocol's reference and, for a connection never completed, take it
 * off its listener's queue (releasing so's lock meanwhile).
 */
void	sodetached(struct socket *so);
/*
 * A connection request for the listener head (locked; `from` the peer):
 * a new socket like head on head's incomplete queue (connected: on its
 * completed queue), returned unlocked with a reference for the caller
 * (see "How a protocol plugs in" above).  NULL if the backlog is full
 * (counted), a socket filter refused (sf_connect_in), or memory ran
 * out.
 */
struct socket *sonewconn(struct socket *head, int connected,
	    const struct sockaddr *from);
/* Drop the connection at once (pru_abort).  so locked; it may be freed
 * at the caller's socket_unlock(so, 1). */
void	soabort(struct socket *so);
/* Take so off the listener head's queue, both locked: the owner's
 * reference the queue held becomes the caller's. */
void	so_unqueue(struct socket *head, struct socket *so);

/* ---- Lifetime (uipc_socket.c) ---- */

/* Boot, from domaininit: the socket lock group and memory tag. */
void	soinit(void);

/* A zeroed socket of protocol prp, its lock and buffers set up, with one
 * reference (the owner's), on the socket list; NULL out of memory. */
struct socket *soalloc(struct protosw *prp, int type);
/* The last reference is gone (socket_unlock): free it. */
void	sofree(struct socket *so);

/* ---- Requests (uipc_socket.c) ---- */

/* A new socket with the owner's reference (release: soclose).  The
 * errnos of sock_socket.  kext_ra: the kext's return address, or 0. */
errno_t	socreate(int dom, struct socket **aso, int type, int proto,
	    u_int32_t kext_ra);
errno_t	sobind(struct socket *so, struct sockaddr *nam);
errno_t	solisten(struct socket *so, int backlog);
errno_t	soconnect(struct socket *so, struct sockaddr *nam);
errno_t	sodisconnect(struct socket *so);
/*
 * Send: from uio, or the chain top (consumed), to addr (NULL: the peer),
 * with control (consumed).  Blocks for space unless MSG_DONTWAIT or
 * SS_NBIO.  *sent (may be NULL) gets the bytes the protocol took.
 */
errno_t	sosend(struct socket *so, struct sockaddr *addr, struct uio *uio,
	    struct mbuf *top, struct mbuf *control, int flags, size_t *sent);
/*
 * Receive into uio, or (mp0 != NULL) as a chain of at most
 * uio->uio_resid bytes in *mp0.  *paddr (may be NULL) gets the sender's
 * MBUF_TYPE_SONAME mbuf, *controlp the control mbufs: the caller frees
 * both.  *flagsp is in (MSG_*) and out (MSG_TRUNC, MSG_EOR, ...).
 */
errno_t	soreceive(struct socket *so, struct mbuf **paddr, struct uio *uio,
	    struct mbuf **mp0, struct mbuf **controlp, int *flagsp);
errno_t	soshutdown(struct socket *so, int how);
/* Drop the owner's reference, after disconnecting (lingering with
 * SO_LINGER) and detaching the protocol -- unless sock_retain()ed: then
 * the last sock_release closes it, with soclose_deferred (locked). */
errno_t	soclose(struct socket *so);
errno_t	soclose_deferred(struct socket *so);
errno_t	sosetopt(struct socket *so, struct sockopt *sopt);
errno_t	sogetopt(struct socket *so, struct sockopt *sopt);
errno_t	soioctl(struct socket *so, u_long cmd, caddr_t data);
/* The local (peer false) or remote address into nam, room for a
 * sockaddr_storage.  ENOTCONN for the peer of an unconnected socket. */
errno_t	sogetaddr(struct socket *so, struct sockaddr *nam, bool peer);
/* Take the first completed connection off head's queue (head locked,
 * released meanwhile); the errnos of sock_accept.  The new socket comes
 * unlocked, with the owner's reference. */
errno_t	soaccept(struct socket *head, bool nonblocking, struct socket **aso);

/* Copy an option's value in (at least minlen, at most len bytes) or out. */
errno_t	sooptcopyin(struct sockopt *sopt, void *buf, size_t len,
	    size_t minlen);
errno_t	sooptcopyout(struct sockopt *sopt, const void *buf, size_t len);

/* Walk every socket with the socket list's spin lock held: fn must not
 * sleep or take a socket's lock except with lck_mtx_try_lock. */
void	soall_foreach(void (*fn)(struct socket *so, void *arg), void *arg);

/* Socket-layer counters: `netstat -s`, group "socket". */
struct sockstat {
	u_int32_t	sos_created;	/* sockets made */
	u_int32_t	sos_freed;	/* sockets freed */
	u_int32_t	sos_nomem;	/* not made: out of memory */
	u_int32_t	sos_listenfull;	/* connection requests refused: backlog full */
	u_int32_t	sos_filtered_in; /* datagrams a socket filter refused */
	u_int32_t	sos_upcalls;	/* upcalls made */
	u_int32_t	sos_wakeups;	/* sleeping readers or writers woken */
};
extern struct sockstat sockstat;

#endif /* _BSD_KERN_SOCKETVAR_H_ */
