/*
 * enetlog.h -- shared by the kext and its command-line client.
 */
#ifndef ENETLOG_H
#define ENETLOG_H

#include <sys/types.h>

#define ENETLOG_CONTROL_NAME	"com.example.tiger.enetlog"

/* getsockopt options of the control */
#define ENETLOG_GET_STATS	1	/* struct enetlog_stats */
#define ENETLOG_CLEAR_STATS	2	/* setsockopt, no data */

struct enetlog_stats {
	u_int32_t	es_in_frames;
	u_int32_t	es_in_bytes;
	u_int32_t	es_out_frames;
	u_int32_t	es_out_bytes;
	u_int32_t	es_in_ip;	/* ethertype 0x0800 */
	u_int32_t	es_in_arp;	/* ethertype 0x0806 */
};

#ifdef KERNEL
/* the kext's own globals, shared between its files */
__private_extern__ lck_mtx_t	*gEnetLogMutex;
__private_extern__ struct enetlog_stats gEnetLogStats;
#endif /* KERNEL */

#endif /* ENETLOG_H */
