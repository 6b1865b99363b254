/*
 * ICMP's private interface (ip_icmp.c): input (echo reply, errors
 * received), error generation with a rate limit, and the echo requests
 * of the monitor's `ping`.  Counters: `netstat -s` group "icmp".
 */
#ifndef _BSD_NETINET_ICMP_VAR_H_
#define _BSD_NETINET_ICMP_VAR_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>

#define ICMP_ERRORS_PER_SEC	100	/* rate limit on errors we send */

/* A packet from IP: data at the IP header, hlen its length.  Consumes. */
void	icmp_input(mbuf_t m, int hlen);
/*
 * Tell m's sender about a problem with m (type and code, e.g.
 * ICMP_UNREACH, ICMP_UNREACH_PORT), unless RFC 1122 forbids it (m was a
 * broadcast, a non-first fragment, an ICMP error, from no one) or the
 * rate limit says no.  m is NOT consumed: the caller still frees it.
 */
void	icmp_error(mbuf_t m, int type, int code);

/* One echo reply, as `ping` prints it. */
struct icmp_ping_reply {
	struct in_addr	pr_from;
	u_int32_t	pr_bytes;	/* ICMP bytes received */
	u_int8_t	pr_ttl;
	u_int32_t	pr_rtt_us;	/* round trip, microseconds */
};

/*
 * Send one echo request to dst (seq, datalen bytes of data) and wait up
 * to timeout_ms for its reply.  0 and *reply filled, ETIMEDOUT, or the
 * error ip_output gave.  One ping at a time (the monitor's); sleeps.
 */
errno_t	icmp_ping(struct in_addr dst, u_int16_t seq, size_t datalen,
	    u_int32_t timeout_ms, struct icmp_ping_reply *reply);

#endif /* _BSD_NETINET_ICMP_VAR_H_ */
