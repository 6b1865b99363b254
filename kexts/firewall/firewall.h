/*
 * firewall.h -- what a client of the firewall sample's kernel control
 * (com.finch.sample.firewall) sends and reads: the socket options at
 * level SYSPROTO_CONTROL and the rule they carry.  The host side,
 * tools/finch/firewall.py, packs the same bytes (little-endian i386).
 */
#ifndef _FIREWALL_H_
#define _FIREWALL_H_

#include <sys/types.h>
#include <netinet/in.h>

#define FIREWALL_NAME		"com.finch.sample.firewall"
#define FIREWALL_MAXRULES	32

/* Socket options (setsockopt unless said). */
#define FW_ADD		1	/* struct fw_rule; fr_num 0: last + 100 */
#define FW_DELETE	2	/* u_int32_t: the rule number */
#define FW_FLUSH	3	/* no data: delete every rule */
#define FW_LIST		4	/* getsockopt: the rules, in order */
#define FW_STATS	5	/* getsockopt: struct fw_stats */

#define FW_ALLOW	0	/* fr_action */
#define FW_DROP		1

#define FW_IN		0x1	/* fr_flags: match inbound datagrams */
#define FW_OUT		0x2	/*   ... outbound ones (both: either) */
#define FW_LOG		0x4	/*   print each match on the console */

/* One rule.  A datagram matches when every field set matches; the
 * first rule matched, lowest number first, decides; none: allowed. */
struct fw_rule {
	u_int16_t	fr_num;		/* 1 to 65535 */
	u_int8_t	fr_action;	/* FW_ALLOW or FW_DROP */
	u_int8_t	fr_flags;	/* FW_IN, FW_OUT, FW_LOG */
	u_int8_t	fr_proto;	/* IPPROTO_*; 0: any */
	u_int8_t	fr_pad[3];
	struct in_addr	fr_src;		/* network order; mask 0: any */
	struct in_addr	fr_srcmask;
	struct in_addr	fr_dst;
	struct in_addr	fr_dstmask;
	u_int16_t	fr_sport;	/* UDP/TCP ports, host order; 0: any */
	u_int16_t	fr_dport;
	u_int32_t	fr_packets;	/* FW_LIST: datagrams matched */
	u_int32_t	fr_bytes;	/*   and their bytes */
};

struct fw_stats {
	u_int32_t	fs_in;		/* inbound datagrams seen */
	u_int32_t	fs_out;		/* outbound datagrams seen */
	u_int32_t	fs_dropped;	/* by a rule */
	u_int32_t	fs_allowed;	/* by a rule */
	u_int32_t	fs_default;	/* no rule matched: allowed */
};

#endif /* _FIREWALL_H_ */
