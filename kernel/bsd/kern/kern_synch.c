/*
 * BSD sleep and wakeup: msleep() sleeps on any address (a "channel")
 * with an optional mutex released while asleep and an optional timeout;
 * wakeup() wakes every sleeper on the channel.  Built on the Mach
 * assert_wait/thread_block pair, so no wakeup is ever lost.
 */
#include <sys/systm.h>
#include <kern/clock.h>
#include <kern/sched_prim.h>

int
msleep(void *chan, lck_mtx_t *mtx, int pri, const char *wmesg,
    struct timespec *ts)
{
	thread_t self = current_thread();
	wait_result_t wr;
	uint64_t deadline;

	self->th_wmesg = wmesg;
	if (ts != NULL && (ts->tv_sec != 0 || ts->tv_nsec != 0)) {
		clock_absolutetime_interval_to_deadline(
		    (uint64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec,
		    &deadline);
		assert_wait_deadline(chan, THREAD_UNINT, deadline);
	} else {
		assert_wait(chan, THREAD_UNINT);
	}
	if (mtx != NULL)
		lck_mtx_unlock(mtx);
	wr = thread_block();
	self->th_wmesg = NULL;
	if (mtx != NULL && (pri & PDROP) == 0)
		lck_mtx_lock(mtx);
	return wr == THREAD_TIMED_OUT ? EWOULDBLOCK : 0;
}

void
wakeup(void *chan)
{
	thread_wakeup(chan);
}

void
wakeup_one(caddr_t chan)
{
	thread_wakeup_one(chan);
}
