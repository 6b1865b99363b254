/*
 * ethlog.h -- what a client of the ethlog sample's kernel control
 * (com.finch.sample.ethlog) reads and sets: socket options at level
 * SYSPROTO_CONTROL.  Any record sent to the control is answered with
 * the table as text, one record (`finch kctl ... --send show --recv`).
 */
#ifndef _ETHLOG_H_
#define _ETHLOG_H_

#include <sys/types.h>

#define ETHLOG_NAME	"com.finch.sample.ethlog"
#define ETHLOG_TYPES	15	/* ethertypes counted one by one; then "other" */

#define ETHLOG_TABLE	1	/* getsockopt: struct ethlog_count[], in use */
#define ETHLOG_RESET	2	/* setsockopt, value ignored: zero the table */
#define ETHLOG_PERIOD	3	/* int, seconds between console summaries
				   (0: none); set and get */

/* The counts of one ethertype since start (or the last reset).  Bytes
 * are whole frames: the 14-byte Ethernet header, no CRC. */
struct ethlog_count {
	u_int16_t	ec_type;	/* host order; 0: other (802.3 lengths,
					   and types past ETHLOG_TYPES) */
	u_int16_t	ec_pad;
	u_int32_t	ec_in_frames;
	u_int32_t	ec_in_bytes;
	u_int32_t	ec_out_frames;
	u_int32_t	ec_out_bytes;
};

#endif /* _ETHLOG_H_ */
