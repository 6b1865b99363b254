/*
 * UDP's private interface (udp_usrreq.c): the protocol behind SOCK_DGRAM
 * sockets of PF_INET.  Input checks length and checksum and appends each
 * datagram to the receive buffer of the socket its pcb names (every
 * matching socket for a broadcast or multicast); output builds the
 * headers of what a socket sends.  Counters: `netstat -s`, group "udp".
 *
 * Locks: the rule of socketvar.h; udbinfo.ipi_lock guards UDP's pcb
 * table (in_pcb.h).
 */
#ifndef _BSD_NETINET_UDP_VAR_H_
#define _BSD_NETINET_UDP_VAR_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <bsd/netinet/in_pcb.h>

#define UDP_HASHSIZE	64	/* buckets in each of UDP's pcb hashes */
#define UDP_MULTI_MAX	16	/* sockets one broadcast is copied to */
#define UDP_ECHO_PORT	7	/* RFC 862 */

/* Default buffer limits (XNU's): a datagram is at most udp_sendspace
 * bytes; the receive buffer holds about 40 of 1 KB. */
extern u_int32_t udp_sendspace;
extern u_int32_t udp_recvspace;

/* UDP's pcbs. */
extern struct inpcbinfo udbinfo;

/* A packet from IP: data at the IP header, hlen its length.  Consumes.
 * The DLIL input thread; never sleeps. */
void	udp_input(mbuf_t m, int hlen);
/* An ICMP error about a datagram we sent (pr_ctlinput). */
void	udp_ctlinput(int cmd, const struct sockaddr *sa, void *vip);

/* --- udp_echo.c: the echo service, a client of the socket KPI -------- */

/* Open port 7 (in_init, at boot). */
void	udp_echo_init(void);

#endif /* _BSD_NETINET_UDP_VAR_H_ */
