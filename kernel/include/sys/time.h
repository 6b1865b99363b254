/*
 * <sys/time.h> -- time of day and time since boot for the kernel and
 * kexts (microtime, nanouptime, ...), arithmetic on struct timeval, and
 * the BSD macros on it (timercmp, timeradd, ...).  struct timeval and
 * struct timespec are in <sys/types.h>.  The code is kern/clock.c and
 * bsd/kern/kern_time.c.
 */
#ifndef _SYS_TIME_H_
#define _SYS_TIME_H_

#include <sys/cdefs.h>
#include <sys/types.h>

/* The time zone of gettimeofday(2); the kernel keeps none. */
struct timezone {
	int	tz_minuteswest;	/* minutes west of Greenwich */
	int	tz_dsttime;	/* type of daylight saving correction */
};

/* Interval timers: ITIMER_REAL counts real time. */
#define ITIMER_REAL	0
#define ITIMER_VIRTUAL	1
#define ITIMER_PROF	2

struct itimerval {
	struct timeval	it_interval;	/* timer interval */
	struct timeval	it_value;	/* current value */
};

/* Convert between the two time structures. */
#define TIMEVAL_TO_TIMESPEC(tv, ts) do {				\
	(ts)->tv_sec = (tv)->tv_sec;					\
	(ts)->tv_nsec = (tv)->tv_usec * 1000;				\
} while (0)
#define TIMESPEC_TO_TIMEVAL(tv, ts) do {				\
	(tv)->tv_sec = (ts)->tv_sec;					\
	(tv)->tv_usec = (ts)->tv_nsec / 1000;				\
} while (0)

/* Operations on timevals: cmp is a C comparison operator (<, ==, >=). */
#define timerclear(tvp)		((tvp)->tv_sec = (tvp)->tv_usec = 0)
#define timerisset(tvp)		((tvp)->tv_sec || (tvp)->tv_usec)
#define timercmp(tvp, uvp, cmp)						\
	(((tvp)->tv_sec == (uvp)->tv_sec) ?				\
	    ((tvp)->tv_usec cmp (uvp)->tv_usec) :			\
	    ((tvp)->tv_sec cmp (uvp)->tv_sec))
#define timeradd(tvp, uvp, vvp) do {					\
	(vvp)->tv_sec = (tvp)->tv_sec + (uvp)->tv_sec;			\
	(vvp)->tv_usec = (tvp)->tv_usec + (uvp)->tv_usec;		\
	if ((vvp)->tv_usec >= 1000000) {				\
		(vvp)->tv_sec++;					\
		(vvp)->tv_usec -= 1000000;				\
	}								\
} while (0)
#define timersub(tvp, uvp, vvp) do {					\
	(vvp)->tv_sec = (tvp)->tv_sec - (uvp)->tv_sec;			\
	(vvp)->tv_usec = (tvp)->tv_usec - (uvp)->tv_usec;		\
	if ((vvp)->tv_usec < 0) {					\
		(vvp)->tv_sec--;					\
		(vvp)->tv_usec += 1000000;				\
	}								\
} while (0)

/* The same on timespecs (vvp = tvp + uvp, vvp = tvp - uvp). */
#define timespecclear(tsp)	((tsp)->tv_sec = (tsp)->tv_nsec = 0)
#define timespecisset(tsp)	((tsp)->tv_sec || (tsp)->tv_nsec)
#define timespeccmp(tsp, usp, cmp)					\
	(((tsp)->tv_sec == (usp)->tv_sec) ?				\
	    ((tsp)->tv_nsec cmp (usp)->tv_nsec) :			\
	    ((tsp)->tv_sec cmp (usp)->tv_sec))

__BEGIN_DECLS

/* Time of day and time since boot.  Finch's wall clock starts at boot,
 * so both are the same.  Any context may call them. */
void	microtime(struct timeval *tv);
void	nanotime(struct timespec *ts);
void	microuptime(struct timeval *tv);
void	nanouptime(struct timespec *ts);

/* The "get" forms: BSD's cheaper, coarser reads; here the same calls. */
#define getmicrotime(tv)	microtime(tv)
#define getmicrouptime(tv)	microuptime(tv)
#define getnanotime(ts)		nanotime(ts)
#define getnanouptime(ts)	nanouptime(ts)

/* *t1 += *t2 and *t1 -= *t2, leaving tv_usec in [0, 1000000) (timevalfix
 * brings a result with tv_usec out of range back into it).  Any context. */
void	timevaladd(struct timeval *t1, const struct timeval *t2);
void	timevalsub(struct timeval *t1, const struct timeval *t2);
void	timevalfix(struct timeval *t1);

/* The number of clock ticks (1/hz s) until the relative time tv, rounded
 * up, at least 1 and at most INT_MAX: the `ticks` of timeout(). */
int	tvtohz(struct timeval *tv);

__END_DECLS

#endif /* _SYS_TIME_H_ */
