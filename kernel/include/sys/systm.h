/*
 * <sys/systm.h> -- the BSD kernel's everyday services for kexts: console
 * output, sleeping and waking, and timeouts; with it come panic
 * (<kern/debug.h>), log (<sys/syslog.h>), the clock (<sys/time.h>)
 * and the list macros (<sys/queue.h>), as Darwin's brings them.
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
#include <kern/debug.h>
#include <sys/time.h>
#include <sys/syslog.h>
#include <sys/queue.h>

__BEGIN_DECLS

/* Clock ticks per second: the resolution of timeout() and msleep(). */
extern int hz;

/* Formatted console output (<libkern/libkern.h> says which formats);
 * returns the number of characters.  Never sleeps; safe with interrupts
 * off. */
int	printf(const char *fmt, ...) __printflike(1, 2);

/*
 * Sleep on `chan` until wakeup(chan) or the timeout `ts` (relative; NULL
 * or zero waits forever).  If `mtx` is not NULL it must be held: it is
 * released while asleep and re-taken before return (unless pri has
 * PDROP).  wmesg names the wait in `ps`.  Returns 0 when woken,
 * EWOULDBLOCK on timeout.  Never call it with a spin lock held or from
 * an interrupt.
 */
int	msleep(void *chan, lck_mtx_t *mtx, int pri, const char *wmesg,
	    struct timespec *ts);
#ifndef PDROP
#define PDROP	0x400	/* msleep: do not re-take the mutex */
#endif
#ifndef PCATCH
#define PCATCH	0x100	/* accepted and ignored: no signals in Finch */
#endif

/* Wake every thread / the longest sleeper asleep on chan (msleep,
 * lck_mtx_sleep); nobody asleep is fine.  Never sleeps: interrupt
 * handlers may call them. */
void	wakeup(void *chan);
void	wakeup_one(caddr_t chan);

/*
 * Call fn(arg) once, `ticks` clock ticks (1/hz s; 0 or less: one) from
 * now, in the thread_call thread (<kern/thread_call.h>): thread context,
 * no kernel lock held, one at a time with every thread call, so fn may
 * take mutexes but should be brief.  bsd_timeout takes a relative
 * timespec instead (NULL or zero: as soon as possible; an invalid one
 * panics).  untimeout() cancels the first pending (fn, arg) pair, if
 * any; it does not wait: fn may be running when it returns, and may arm
 * itself again.  None of them sleeps: interrupt handlers may call them;
 * out of memory panics.  Cancel every timeout in your stop routine:
 * while one is pending or running, kextunload leaves the stopped kext in
 * memory.  A timer that stop must end for sure is easier as a thread
 * call: thread_call_cancel_wait waits for it.
 */
typedef void timeout_fcn_t(void *);
void	timeout(timeout_fcn_t *fn, void *arg, int ticks);
void	untimeout(timeout_fcn_t *fn, void *arg);
void	bsd_timeout(timeout_fcn_t *fn, void *arg, struct timespec *ts);
void	bsd_untimeout(timeout_fcn_t *fn, void *arg);

__END_DECLS

#endif /* _SYS_SYSTM_H_ */
