/*
 * Unit tests of thread_call_cancel_wait (thread_call.c), run by the
 * monitor's `selftest thread_call_cancel_wait`: a running call is waited
 * for, a pending one is cancelled at once, an idle one is left alone.
 * The waits it refuses (from the call's own function, on a mutex the
 * function waits for) panic, so the guest tests show those.
 */
#include <sys/systm.h>
#include <kern/clock.h>
#include <kern/locks.h>
#include <kern/selftest.h>
#include <kern/thread_call.h>

#define MS		(1000 * 1000ull)	/* nanoseconds */

/* What the test call did: 1 when it started, 2 when it returned. */
static volatile int tcw_state;

/* Run for `p1` ms, sleeping, so that a cancel_wait finds it running. */
static void
tcw_slow(thread_call_param_t p0, thread_call_param_t p1)
{
	struct timespec ts = { 0, (long)(uint32_t)p1 * MS };
	int chan;

	tcw_state = 1;
	wakeup(__DEVOLATILE(void *, &tcw_state));
	msleep(&chan, NULL, 0, "tcw_slow", &ts);
	tcw_state = 2;
}

/* Sleep until tcw_state reaches `want`, at most a second. */
static bool
tcw_wait_for(int want)
{
	uint64_t end = mach_absolute_time() + 1000 * MS;
	struct timespec ts = { 0, 2 * MS };

	while (tcw_state < want) {
		if (mach_absolute_time() > end)
			return false;
		msleep(__DEVOLATILE(void *, &tcw_state), NULL, 0, "tcw_wait",
		    &ts);
	}
	return true;
}

/*
 * Running: cancel_wait returns FALSE (nothing was pending) only once the
 * function has returned, so the call can be freed at once.  Holding a
 * mutex the function does not want is fine, though the wait outlasts
 * the deadlock check's interval.
 */
static int
test_cancel_wait_running(void)
{
	thread_call_t call = thread_call_allocate(tcw_slow, NULL);
	lck_grp_t *grp = lck_grp_alloc_init("tcw", LCK_GRP_ATTR_NULL);
	lck_mtx_t *mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL);
	uint64_t start;

	ST_ASSERT(call != NULL && grp != NULL && mtx != NULL);
	tcw_state = 0;
	thread_call_enter1(call, (void *)250);
	ST_ASSERT(tcw_wait_for(1));
	lck_mtx_lock(mtx);
	start = mach_absolute_time();
	ST_ASSERT(!thread_call_cancel_wait(call));
	ST_ASSERT(tcw_state == 2);
	ST_ASSERT(mach_absolute_time() - start >= 100 * MS);
	lck_mtx_unlock(mtx);
	ST_ASSERT(thread_call_free(call));
	lck_mtx_free(mtx, grp);
	lck_grp_free(grp);
	return 0;
}
SELFTEST(thread_call_cancel_wait_running, test_cancel_wait_running);

/* Delayed, then pending behind a running call: TRUE at once, never run. */
static int
test_cancel_wait_pending(void)
{
	thread_call_t slow = thread_call_allocate(tcw_slow, NULL);
	thread_call_t call = thread_call_allocate(tcw_slow, NULL);
	uint64_t deadline, start;

	ST_ASSERT(slow != NULL && call != NULL);
	tcw_state = 0;
	clock_interval_to_deadline(1, kSecondScale, &deadline);
	thread_call_enter_delayed(call, deadline);
	start = mach_absolute_time();
	ST_ASSERT(thread_call_cancel_wait(call));
	ST_ASSERT(mach_absolute_time() - start < 50 * MS);

	thread_call_enter1(slow, (void *)300);	/* runs; `call` queues behind */
	ST_ASSERT(tcw_wait_for(1));
	thread_call_enter1(call, (void *)100);
	ST_ASSERT(thread_call_cancel_wait(call));
	ST_ASSERT(tcw_state == 1);		/* still `slow`'s run */
	ST_ASSERT(thread_call_cancel_wait(slow) == FALSE);
	ST_ASSERT(tcw_state == 2);
	ST_ASSERT(thread_call_free(call));
	ST_ASSERT(thread_call_free(slow));
	return 0;
}
SELFTEST(thread_call_cancel_wait_pending, test_cancel_wait_pending);

/* Never entered: FALSE at once, as thread_call_cancel says. */
static int
test_cancel_wait_idle(void)
{
	thread_call_t call = thread_call_allocate(tcw_slow, NULL);

	ST_ASSERT(call != NULL);
	ST_ASSERT(!thread_call_cancel_wait(call));
	ST_ASSERT(thread_call_free(call));
	return 0;
}
SELFTEST(thread_call_cancel_wait_idle, test_cancel_wait_idle);
