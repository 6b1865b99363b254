/*
 * <netinet/tcp.h> -- the TCP header (RFC 9293, section 3.1), its flags
 * and options, and the IPPROTO_TCP socket options.  Fields are in
 * network byte order, on the wire and in Finch's stack alike.
 */
#ifndef _NETINET_TCP_H_
#define _NETINET_TCP_H_

#include <sys/types.h>

typedef u_int32_t tcp_seq;	/* a sequence number: arithmetic mod 2^32 */
typedef u_int32_t tcp_cc;	/* connection count (T/TCP; unused) */

/* The fixed part of the header, 20 bytes; options follow, th_off counts
 * 32-bit words of header and options together. */
struct tcphdr {
	u_short	th_sport;		/* source port */
	u_short	th_dport;		/* destination port */
	tcp_seq	th_seq;			/* sequence number */
	tcp_seq	th_ack;			/* acknowledgement number */
	u_int	th_x2:4,		/* (unused) */
		th_off:4;		/* data offset (i386 bit order) */
	u_char	th_flags;
#define TH_FIN	0x01			/* no more data from the sender */
#define TH_SYN	0x02			/* synchronize sequence numbers */
#define TH_RST	0x04			/* reset the connection */
#define TH_PUSH	0x08			/* push */
#define TH_ACK	0x10			/* the acknowledgement field counts */
#define TH_URG	0x20			/* the urgent pointer counts */
#define TH_ECE	0x40			/* ECN echo (RFC 3168) */
#define TH_CWR	0x80			/* congestion window reduced */
#define TH_FLAGS (TH_FIN | TH_SYN | TH_RST | TH_ACK | TH_URG | TH_ECE | TH_CWR)
	u_short	th_win;			/* window */
	u_short	th_sum;			/* checksum, with the pseudo header */
	u_short	th_urp;			/* urgent pointer */
};

/* Options (RFC 9293, RFC 7323). */
#define TCPOPT_EOL		0	/* end of option list */
#define TCPOPT_NOP		1	/* no operation (padding) */
#define TCPOPT_MAXSEG		2	/* maximum segment size */
#define    TCPOLEN_MAXSEG		4
#define TCPOPT_WINDOW		3	/* window scale */
#define    TCPOLEN_WINDOW		3
#define TCPOPT_SACK_PERMITTED	4	/* (not offered by Finch) */
#define    TCPOLEN_SACK_PERMITTED	2
#define TCPOPT_SACK		5
#define TCPOPT_TIMESTAMP	8	/* timestamps */
#define    TCPOLEN_TIMESTAMP		10
#define    TCPOLEN_TSTAMP_APPA		(TCPOLEN_TIMESTAMP + 2)
#define    TCPOPT_TSTAMP_HDR		\
    (TCPOPT_NOP << 24 | TCPOPT_NOP << 16 | TCPOPT_TIMESTAMP << 8 | \
    TCPOLEN_TIMESTAMP)

#define TCP_MSS		512	/* the default maximum segment size */
#define TCP_MAXWIN	65535	/* the largest window without scaling */
#define TCP_MAX_WINSHIFT 14	/* the largest window scale (RFC 7323) */
#define TCP_MAXHLEN	(0xf << 2)	/* the largest header, options included */
#define TCP_MAXOLEN	(TCP_MAXHLEN - sizeof(struct tcphdr))

/* Socket options at level IPPROTO_TCP (sock_setsockopt), int values. */
#define TCP_NODELAY	0x01	/* send at once: no Nagle algorithm */
#define TCP_MAXSEG	0x02	/* the maximum segment size (get; set lowers) */
#define TCP_NOPUSH	0x04	/* (accepted, no effect) */
#define TCP_NOOPT	0x08	/* send no options in the SYN */
#define TCP_KEEPALIVE	0x10	/* idle seconds before keepalive probes */

#endif /* _NETINET_TCP_H_ */
