/*
 * TCP's connection states (RFC 9293, section 3.3.2, figure 5), with
 * BSD's numbers: the states at and past ESTABLISHED are "synchronized",
 * those past CLOSE_WAIT have sent their FIN.
 */
#ifndef _BSD_NETINET_TCP_FSM_H_
#define _BSD_NETINET_TCP_FSM_H_

#define TCPS_CLOSED		0	/* closed */
#define TCPS_LISTEN		1	/* listening for connection */
#define TCPS_SYN_SENT		2	/* active, have sent syn */
#define TCPS_SYN_RECEIVED	3	/* have sent and received syn */
#define TCPS_ESTABLISHED	4	/* established */
#define TCPS_CLOSE_WAIT		5	/* rcvd fin, waiting for close */
#define TCPS_FIN_WAIT_1		6	/* have closed, sent fin */
#define TCPS_CLOSING		7	/* closed xchd FIN; await FIN ACK */
#define TCPS_LAST_ACK		8	/* had fin and close; await FIN ACK */
#define TCPS_FIN_WAIT_2		9	/* have closed, fin is acked */
#define TCPS_TIME_WAIT		10	/* in 2*msl quiet wait after close */
#define TCP_NSTATES		11

#define TCPS_HAVERCVDSYN(s)	((s) >= TCPS_SYN_RECEIVED)
#define TCPS_HAVEESTABLISHED(s)	((s) >= TCPS_ESTABLISHED)
#define TCPS_HAVERCVDFIN(s)						\
	((s) == TCPS_CLOSE_WAIT || (s) == TCPS_CLOSING ||		\
	(s) == TCPS_LAST_ACK || (s) == TCPS_TIME_WAIT)

/* "ESTABLISHED", ... for netstat -a and the tcp command. */
extern const char *const tcpstates[TCP_NSTATES];

#endif /* _BSD_NETINET_TCP_FSM_H_ */
