/*
 * <sys/param.h> -- the BSD kernel's everyday constants and macros: the
 * system's limits, sleep priorities, bit-array and rounding macros, MIN
 * and MAX.  As on Darwin it brings in the basic types, <sys/cdefs.h>,
 * errno values, the integer ranges and the machine's page size, so that
 * most kernel sources need little else.
 */
#ifndef _SYS_PARAM_H_
#define _SYS_PARAM_H_

#define BSD		199506	/* the 4.4BSD-Lite2 release Darwin grew from */
#define BSD4_3		1
#define BSD4_4		1

#ifndef NULL
#define NULL		((void *)0)
#endif

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/errno.h>
#include <sys/syslimits.h>
#include <machine/param.h>
#include <machine/limits.h>

#define MAXCOMLEN	16		/* bytes in a command name (p_comm) */
#define MAXINTERP	64		/* bytes in an interpreter's name */
#define MAXLOGNAME	255		/* bytes in a login name */
#define MAXUPRC		CHILD_MAX	/* processes per user */
#define NCARGS		ARG_MAX		/* bytes of exec arguments */
#define NGROUPS		NGROUPS_MAX	/* supplemental groups */
#define NOFILE		256		/* default open files per process */
#define NOGROUP		65535		/* the "nobody" group */
#define MAXHOSTNAMELEN	256		/* bytes in a host name */
#define MAXDOMNAMELEN	256		/* bytes in a domain name */
#define MAXPATHLEN	PATH_MAX	/* bytes in a path, NUL included */
#define MAXSYMLINKS	32		/* symbolic links followed in a path */
#define MAXBSIZE	1048576		/* the largest file system block */
#define NBPW		sizeof(int)	/* bytes per word */
#define CMASK		022		/* default file creation mask */
#define NODEV		(dev_t)(-1)	/* no device */

/*
 * Sleep priorities, msleep's `pri`: which queue a sleeper waits on in
 * BSD.  Finch accepts them and schedules every sleeper alike; only the
 * flags PCATCH (ignored: Finch has no signals) and PDROP (<sys/systm.h>)
 * change what msleep does.
 */
#define PSWP		0
#define PVM		4
#define PINOD		8
#define PRIBIO		16
#define PVFS		20
#define PZERO		22	/* below this, sleeps are not interruptible */
#define PSOCK		24
#define PWAIT		32
#define PLOCK		36
#define PPAUSE		40
#define PUSER		50
#define MAXPRI		127
#define PRIMASK		0x0ff
#ifndef PCATCH
#define PCATCH		0x100	/* accepted and ignored: no signals in Finch */
#endif
#define PTTYBLOCK	0x200
#ifndef PDROP
#define PDROP		0x400	/* msleep: do not re-take the mutex */
#endif

/* Bit arrays of chars: bit i of the array at a. */
#define setbit(a, i)	(((char *)(a))[(i) / NBBY] |= 1 << ((i) % NBBY))
#define clrbit(a, i)	(((char *)(a))[(i) / NBBY] &= ~(1 << ((i) % NBBY)))
#define isset(a, i)	(((char *)(a))[(i) / NBBY] & (1 << ((i) % NBBY)))
#define isclr(a, i)	((((char *)(a))[(i) / NBBY] & (1 << ((i) % NBBY))) == 0)

/* How many y's hold x; x rounded down or up to a multiple of y. */
#define howmany(x, y)	((((u_int32_t)(x)) + ((u_int32_t)(y)) - 1) / \
			    ((u_int32_t)(y)))
#define rounddown(x, y)	(((x) / (y)) * (y))
#define roundup(x, y)	((((x) + ((y) - 1)) / (y)) * (y))
#define powerof2(x)	((((x) - 1) & (x)) == 0)

/* Evaluate their arguments twice: no side effects in a or b. */
#define MIN(a, b)	(((a) < (b)) ? (a) : (b))
#define MAX(a, b)	(((a) > (b)) ? (a) : (b))

/* Fixed-point load averages. */
#define FSHIFT		11
#define FSCALE		(1 << FSHIFT)

#endif /* _SYS_PARAM_H_ */
