/*
 * <sys/systm.h> -- the BSD kernel's everyday services for kexts: console
 * output, panic, sleeping and waking, timeouts, and the clock.
 */
#ifndef _SYS_SYSTM_H_
#define _SYS_SYSTM_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/errno.h>
#include <stdarg.h>
#include <string.h>
#include <libkern/libkern.h>
#include <kern/locks.h>

__BEGIN_DECLS

/* Clock ticks per second: the resolution of timeout() and msleep(). */
extern int hz;

/* Formatted console output.  Never sleeps; safe with interrupts off. */
int	printf(const char *fmt, ...) __printflike(1, 2);

/* Stop the machine: prints the message, registers and a backtrace. */
void	panic(const char *fmt, ...) __printflike(1, 2) __dead2;

/*
 * Sleep on `chan` until wakeup(chan) or the timeout `ts` (relative; NULL
 * waits forever).  If `mtx` is not NULL it must be held: it is released
 * while asleep and re-taken before return (unless pri has PDROP).
 * Returns 0 when woken, EWOULDBLOCK on timeout.  Never call it with a
 * spin lock held or from an interrupt.
 */
int	msleep(void *chan, lck_mtx_t *mtx, int pri, const char *wmesg,
	    struct timespec *ts);
#define PDROP	0x200	/* msleep: do not re-take the mutex */
#define PCATCH	0x100	/* accepted and ignored: no signals in Finch */

/* Wake every thread / the longest sleeper asleep on chan. */
void	wakeup(void *chan);
void	wakeup_one(caddr_t chan);

/*
 * Call fn(arg) once, `ticks` clock ticks (1/hz s) from now, in the
 * thread_call thread (so fn may take mutexes, but should be brief).
 * untimeout() cancels the first pending (fn, arg) pair, if any.
 */
typedef void timeout_fcn_t(void *);
void	timeout(timeout_fcn_t *fn, void *arg, int ticks);
void	untimeout(timeout_fcn_t *fn, void *arg);
void	bsd_timeout(timeout_fcn_t *fn, void *arg, struct timespec *ts);
void	bsd_untimeout(timeout_fcn_t *fn, void *arg);

/* Time of day and time since boot.  Finch's wall clock starts at boot. */
void	microtime(struct timeval *tv);
void	nanotime(struct timespec *ts);
void	microuptime(struct timeval *tv);
void	nanouptime(struct timespec *ts);

__END_DECLS

#endif /* _SYS_SYSTM_H_ */
