/*
 * <sys/mbuf.h> -- mbufs for NKE source written for Darwin: the mbuf KPI
 * (<sys/kpi_mbuf.h>) with the BSD size constants and allocation flags.
 * The mbuf structure itself stays private to the kernel: use the mbuf_*
 * accessors.
 */
#ifndef _SYS_MBUF_H_
#define _SYS_MBUF_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <sys/queue.h>

#ifndef MSIZE
#define MSIZE		256	/* bytes in an mbuf, header included */
#endif
#ifndef MCLBYTES
#define MCLSHIFT	11
#define MCLBYTES	2048	/* bytes in a cluster */
#endif
#ifndef MBIGCLBYTES
#define MBIGCLBYTES	4096	/* bytes in a big cluster */
#endif

/* BSD's names for mbuf_how_t. */
#define M_WAIT		MBUF_WAITOK
#define M_DONTWAIT	MBUF_DONTWAIT

#endif /* _SYS_MBUF_H_ */
