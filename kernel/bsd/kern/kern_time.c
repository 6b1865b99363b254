/*
 * Arithmetic on struct timeval (<sys/time.h>): adding, subtracting and
 * normalizing, and turning a relative time into clock ticks for
 * timeout().  Reading the clock is kern/clock.c.
 */
#include <sys/systm.h>
#include <sys/time.h>
#include <limits.h>

#define USEC_PER_SEC	1000000

void
timevalfix(struct timeval *t1)
{
	while (t1->tv_usec < 0) {
		t1->tv_sec--;
		t1->tv_usec += USEC_PER_SEC;
	}
	while (t1->tv_usec >= USEC_PER_SEC) {
		t1->tv_sec++;
		t1->tv_usec -= USEC_PER_SEC;
	}
}

void
timevaladd(struct timeval *t1, const struct timeval *t2)
{
	t1->tv_sec += t2->tv_sec;
	t1->tv_usec += t2->tv_usec;
	timevalfix(t1);
}

void
timevalsub(struct timeval *t1, const struct timeval *t2)
{
	t1->tv_sec -= t2->tv_sec;
	t1->tv_usec -= t2->tv_usec;
	timevalfix(t1);
}

int
tvtohz(struct timeval *tv)
{
	int64_t usec, ticks;

	usec = (int64_t)tv->tv_sec * USEC_PER_SEC + tv->tv_usec;
	if (usec <= 0)
		return 1;
	/* Round up: a timeout never fires early. */
	ticks = (usec * hz + USEC_PER_SEC - 1) / USEC_PER_SEC;
	return ticks > INT_MAX ? INT_MAX : (int)ticks;
}
