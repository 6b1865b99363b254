/*
 * Sequence number arithmetic (RFC 9293, section 3.4): sequence numbers
 * live on a circle of 2^32, so "a before b" means the signed distance
 * from b to a is negative.  Every comparison of two tcp_seq in TCP goes
 * through these; `a < b` on raw numbers is a bug at the wrap.
 */
#ifndef _BSD_NETINET_TCP_SEQ_H_
#define _BSD_NETINET_TCP_SEQ_H_

#include <netinet/tcp.h>

#define SEQ_LT(a, b)	((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b)	((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)	((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b)	((int32_t)((a) - (b)) >= 0)
#define SEQ_MIN(a, b)	(SEQ_LT(a, b) ? (a) : (b))
#define SEQ_MAX(a, b)	(SEQ_GT(a, b) ? (a) : (b))

/* Timestamps compare the same way (RFC 7323, section 5.2). */
#define TSTMP_LT(a, b)	((int32_t)((a) - (b)) < 0)
#define TSTMP_GEQ(a, b)	((int32_t)((a) - (b)) >= 0)

#endif /* _BSD_NETINET_TCP_SEQ_H_ */
