/*
 * inetd -- the classic small services (echo, discard, chargen) on TCP
 * and UDP, and an HTTP status page, written on the public socket KPI
 * (<sys/kpi_socket.h>) alone.  The pieces shared by its three files:
 *
 *	inetd.c		start and stop, the worker thread, the upcall,
 *			opening, accepting and closing sockets
 *	inetd_services.c  what each service does with its socket's news
 *	inetd_http.c	the status page on TCP port 80
 *
 * How it runs (why this way: docs/samples.md, "Sample: inetd"): every
 * socket's upcall only puts the socket on a queue and wakes one worker
 * thread; the worker does all the socket calls, never blocking in them
 * (MSG_DONTWAIT), so that one thread serves every connection and stop
 * can end it at once.  Only the worker touches a socket, a connection
 * or a counter, so they need no lock; the queue and the flags the
 * upcall and stop share with it are guarded by inetd_lock.
 */
#ifndef INETD_H
#define INETD_H

#include <mach/mach_types.h>
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/kpi_socket.h>
#include <libkern/OSMalloc.h>

#define INETD_NAME	"com.finch.sample.inetd"

/* What a socket of ours is. */
enum inetd_role {
	INETD_LISTENER,		/* a TCP service's listening socket */
	INETD_STREAM,		/* one accepted TCP connection */
	INETD_DGRAM		/* a UDP service's socket */
};

struct inetd_conn;

/*
 * One service on one transport ("echo" on TCP port 7).  The counters
 * are the worker's (no lock); stop prints them once the worker ended.
 */
struct inetd_service {
	const char	*is_name;	/* "echo" */
	int		is_type;	/* SOCK_STREAM or SOCK_DGRAM */
	u_int16_t	is_port;	/* host byte order */
	/* Serve a connection (TCP) or the service's socket (UDP) that has
	 * news: read what came, send what can go, without blocking.
	 * Returns 0 to keep the connection, else the reason it ends
	 * (an errno, or INETD_DONE: it ended normally). */
	int		(*is_serve)(struct inetd_conn *ic);
	/* Free what the service hung on a connection (may be NULL). */
	void		(*is_done)(struct inetd_conn *ic);

	struct inetd_conn *is_socket;	/* listening or datagram socket */
	errno_t		is_error;	/* why it is not offered (0: it is) */
	u_int32_t	is_served;	/* connections accepted, or datagrams */
	u_int32_t	is_errors;	/* connections ended by an error */
	u_int64_t	is_bytes_in;
	u_int64_t	is_bytes_out;
};

/* A service's verdict: the connection ended as it should. */
#define INETD_DONE	(-1)

/*
 * One socket of ours: a listener, a connection, or a UDP socket.
 * ic_flags' INETD_QUEUED and ic_queue are inetd_lock's; the rest is
 * the worker's.
 */
struct inetd_conn {
	TAILQ_ENTRY(inetd_conn)	ic_queue;	/* on inetd_ready */
	TAILQ_ENTRY(inetd_conn)	ic_all;		/* every socket of ours */
	socket_t		ic_so;
	struct inetd_service	*ic_service;
	enum inetd_role		ic_role;
	int			ic_flags;
	u_int64_t		ic_in;		/* bytes received */
	u_int64_t		ic_out;		/* bytes sent */
	void			*ic_state;	/* the service's (HTTP's reply) */
};
#define INETD_QUEUED	0x1	/* on inetd_ready: news to look at */

/* The service table (inetd_services.c), INETD_NSERVICES entries. */
extern struct inetd_service inetd_services[];
extern const int inetd_nservices;

/* Make and free what the services keep between connections: start
 * makes it before any socket is open; the worker frees it at its end
 * (or start, if it fails before the worker runs). */
errno_t	inetd_services_init(void);
void	inetd_services_fini(void);

/* The tag of every allocation of inetd's (inetd.c). */
extern OSMallocTag inetd_tag;

/* Scratch room for the worker alone, for copies that do not outlive one
 * call of a service (inetd.c). */
#define INETD_SCRATCH	16384
extern char inetd_scratch[INETD_SCRATCH];

/* Look at ic again soon: it has more to do than one turn allows. */
void	inetd_requeue(struct inetd_conn *ic);
/* The connections and sockets of ours, for the status page. */
struct inetd_conn *inetd_first(void);
struct inetd_conn *inetd_next(struct inetd_conn *ic);
u_int32_t inetd_connections(void);
/* Seconds since inetd started. */
u_int32_t inetd_uptime(void);

/* The status page: write it into buf (at most len bytes, NUL ended);
 * returns its length (inetd_http.c). */
size_t	inetd_status_page(char *buf, size_t len);
/* The HTTP service's serve and done routines (inetd_http.c). */
int	inetd_http_serve(struct inetd_conn *ic);
void	inetd_http_done(struct inetd_conn *ic);

#endif /* INETD_H */
