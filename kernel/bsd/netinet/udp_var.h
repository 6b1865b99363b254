/*
 * UDP's private interface (udp_usrreq.c): input with checksums and
 * delivery to in-kernel receivers bound to ports (until sockets come),
 * output, and the echo service on port 7.  Counters: group "udp".
 *
 * Locks: udp_lock (a spin lock) guards the receiver table.
 */
#ifndef _BSD_NETINET_UDP_VAR_H_
#define _BSD_NETINET_UDP_VAR_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>

#define UDP_RECEIVERS_MAX	16	/* ports bound at once */
#define UDP_ECHO_PORT		7	/* RFC 862 */

/*
 * A receiver: called in the DLIL input thread (never sleep) with the
 * datagram's data (the UDP header stripped; mbuf_pkthdr_len() bytes, may
 * be 0), who sent it and to which of our addresses.  It owns data.
 */
typedef void (*udp_receiver_func)(void *cookie, mbuf_t data,
    const struct sockaddr_in *from, const struct sockaddr_in *to);

void	udp_init(void);
/* A packet from IP: data at the IP header, hlen its length.  Consumes. */
void	udp_input(mbuf_t m, int hlen);
/* Bind fn to port (host order).  EADDRINUSE, ENOSPC, EINVAL. */
errno_t	udp_receiver_register(u_int16_t port, udp_receiver_func fn,
	    void *cookie);
/* Unbind; on return fn is not running and will not be called again.
 * ENOENT if nothing is bound.  Thread context: may sleep. */
errno_t	udp_receiver_unregister(u_int16_t port);
/*
 * Send data (a packet-header chain, may be 0 bytes) from `from` (port;
 * address or INADDR_ANY) to `to`.  Always consumes data.  Never sleeps.
 */
errno_t	udp_output(mbuf_t data, const struct sockaddr_in *from,
	    const struct sockaddr_in *to);

#endif /* _BSD_NETINET_UDP_VAR_H_ */
