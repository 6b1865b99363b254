/*
 * tcplog.h -- what a client of the tcplog sample's kernel control
 * (com.finch.sample.tcplog) reads and sets.  The control is privileged
 * (CTL_FLAG_PRIVILEGED): a connection log is for root.
 *
 * Two ways to read the log:
 *   - getsockopt(SYSPROTO_CONTROL, TCPLOG_TABLE): the ring of the last
 *     TCPLOG_RING connections that closed, oldest first, as an array of
 *     struct tcplog_record;
 *   - setsockopt(TCPLOG_FOLLOW, 1), then recv: one struct tcplog_record
 *     per record, for each connection that closes from then on.
 * Any record sent to the control is answered with the log as text.
 */
#ifndef _TCPLOG_H_
#define _TCPLOG_H_

#include <sys/types.h>

#define TCPLOG_NAME	"com.finch.sample.tcplog"
#define TCPLOG_RING	64	/* closed connections kept */
#define TCPLOG_FOLLOWERS 4	/* clients following at once */

/* Socket options, level SYSPROTO_CONTROL. */
#define TCPLOG_TABLE	1	/* get: struct tcplog_record[], oldest first */
#define TCPLOG_STATS	2	/* get: struct tcplog_stats */
#define TCPLOG_CLEAR	3	/* set, value ignored: empty the ring */
#define TCPLOG_PERIOD	4	/* int, seconds between console summaries
				   (0: none); set and get */
#define TCPLOG_FOLLOW	5	/* int, set: 1 sends this client each record
				   as its connection closes, 0 stops;
				   ENOBUFS past TCPLOG_FOLLOWERS clients */

/* tr_dir: who opened the connection. */
#define TCPLOG_OUT	1	/* this host connected (sf_connect_out) */
#define TCPLOG_IN	2	/* a listener here accepted it */

/* tr_end: how it ended, as the filter saw it. */
#define TCPLOG_END_LOCAL	1	/* this side finished first (shutdown
					   or close), the peer's FIN later */
#define TCPLOG_END_PEER		2	/* the peer's FIN came first */
#define TCPLOG_END_RESET	3	/* dropped with no FIN either way: a
					   reset, or TCP gave up */
#define TCPLOG_END_FAILED	4	/* a connect that never connected */
#define TCPLOG_END_UNLOADED	5	/* still open when tcplog stopped */

/*
 * One connection.  Addresses and ports in network byte order, as in a
 * struct sockaddr_in; local is this host's side, foreign the peer's.
 * Bytes count the stream's payload, not headers; packets are the calls
 * of sf_data_in (data appended to the receive buffer: a segment, or the
 * run of segments reassembly released) and of sf_data_out (the owner's
 * sends, before TCP cuts them into segments).  tr_start is the time of
 * day the connection was established (for TCPLOG_END_FAILED: when the
 * connect began); tr_msecs how long it lasted until the socket closed.
 * 56 bytes, no holes.
 */
struct tcplog_record {
	u_int32_t	tr_id;		/* 1, 2, ... since tcplog started */
	u_int8_t	tr_dir;		/* TCPLOG_OUT or TCPLOG_IN */
	u_int8_t	tr_end;		/* TCPLOG_END_* */
	u_int16_t	tr_pad;
	u_int32_t	tr_laddr;	/* struct in_addr's s_addr */
	u_int32_t	tr_faddr;
	u_int16_t	tr_lport;
	u_int16_t	tr_fport;
	u_int64_t	tr_bytes_in;
	u_int64_t	tr_bytes_out;
	u_int32_t	tr_packets_in;
	u_int32_t	tr_packets_out;
	u_int32_t	tr_start_sec;	/* microtime(): on Finch, since boot */
	u_int32_t	tr_start_usec;
	u_int32_t	tr_msecs;
};

struct tcplog_stats {
	u_int32_t	ts_sockets;	/* TCP sockets the filter is on */
	u_int32_t	ts_open;	/* connections being logged */
	u_int32_t	ts_logged;	/* records made since start */
	u_int32_t	ts_in_ring;	/* of them, in the ring now */
	u_int32_t	ts_overwritten;	/* pushed out of the full ring */
	u_int32_t	ts_unsent;	/* a follower had no room for */
	u_int32_t	ts_nomem;	/* sockets not logged: no memory */
	u_int32_t	ts_period;	/* TCPLOG_PERIOD */
};

#endif /* _TCPLOG_H_ */
