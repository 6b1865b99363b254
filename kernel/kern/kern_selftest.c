/*
 * Unit tests of the kernel core, run by the monitor's `selftest`: the
 * page allocator and heap, threads and the scheduler, sleep and wakeup,
 * every lock kind, timers and thread calls.  Each test cleans up after
 * itself and waits with a timeout, so a broken primitive fails a test
 * instead of hanging the monitor.
 */
#include <sys/systm.h>
#include <kern/clock.h>
#include <kern/clock_var.h>
#include <kern/kalloc.h>
#include <kern/locks_var.h>
#include <kern/selftest.h>
#include <kern/thread_call.h>
#include <kern/thread_var.h>
#include <kern/vm_page.h>
#include <i386/cpu.h>
#include <i386/pmap.h>

#define MS		(1000 * 1000ull)	/* nanoseconds */
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static void
st_sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * MS };
	int chan;

	msleep(&chan, NULL, 0, "st_sleep", &ts);
}

/* Sleep in small steps until *flag reaches `want` or `ms` pass. */
static bool
st_wait_for(volatile int *flag, int want, int ms)
{
	uint64_t end = mach_absolute_time() + ms * MS;
	struct timespec ts = { 0, 2 * MS };

	while (*flag < want) {
		if (mach_absolute_time() > end)
			return false;
		msleep(__DEVOLATILE(void *, flag), NULL, 0, "st_wait", &ts);
	}
	return true;
}

static thread_t
st_start(thread_continue_t fn, void *arg)
{
	thread_t th;

	if (kernel_thread_start(fn, arg, &th) != KERN_SUCCESS)
		return THREAD_NULL;
	thread_deallocate(th);
	return th;
}

/* ---- memory ---- */

static int
test_vm_page(void)
{
	struct vm_page_stats before, during, after;
	char *run, *one;

	vm_page_stats(&before);
	run = vm_page_alloc_contig(8);
	one = vm_page_alloc();
	ST_ASSERT(run != NULL && one != NULL);
	ST_ASSERT(((uint32_t)run & PAGE_MASK) == 0);
	ST_ASSERT(one < run || one >= run + 8 * PAGE_SIZE);
	memset(run, 0xa5, 8 * PAGE_SIZE);	/* all eight are mapped */
	vm_page_stats(&during);
	ST_ASSERT(during.vps_free == before.vps_free - 9);
	vm_page_free_contig(run, 8);
	vm_page_free(one);
	vm_page_stats(&after);
	ST_ASSERT(after.vps_free == before.vps_free);
	ST_ASSERT(vm_page_alloc_contig(after.vps_total + 1) == NULL);
	return 0;
}
SELFTEST(vm_page, test_vm_page);

static int
test_kalloc(void)
{
	static const size_t sizes[] = { 1, 15, 16, 100, 1000, 2032, 2033,
	    4080, 4081, 5000, 100000 };
	struct kalloc_stats before, after;
	void *p[nitems(sizes)];
	size_t i;

	kalloc_stats(&before);
	for (i = 0; i < nitems(sizes); i++) {
		p[i] = kalloc(sizes[i]);
		ST_ASSERT(p[i] != NULL);
		ST_ASSERT(((uint32_t)p[i] & 0xf) == 0);
		memset(p[i], (int)i, sizes[i]);
	}
	for (i = 0; i < nitems(sizes); i++)
		ST_ASSERT(((unsigned char *)p[i])[sizes[i] - 1] == i);
	for (i = 0; i < nitems(sizes); i++)
		kfree(p[i], sizes[i]);
	kalloc_stats(&after);
	ST_ASSERT(after.ks_blocks == before.ks_blocks);
	ST_ASSERT(after.ks_bytes == before.ks_bytes);
	ST_ASSERT(kalloc(0) == NULL);
	return 0;
}
SELFTEST(kalloc, test_kalloc);

static int
test_osmalloc_tag(void)
{
	OSMallocTag tag = OSMalloc_Tagalloc("com.finch.selftest", OSMT_DEFAULT);
	void *a, *b;

	ST_ASSERT(tag != NULL);
	a = OSMalloc(40, tag);
	b = OSMalloc_nowait(3000, tag);
	ST_ASSERT(a != NULL && b != NULL);
	ST_ASSERT(tag->ot_blocks == 2 && tag->ot_bytes == 3040);
	OSFree(a, 40, tag);
	ST_ASSERT(tag->ot_blocks == 1 && tag->ot_bytes == 3000);
	OSFree(b, 3000, tag);
	ST_ASSERT(tag->ot_blocks == 0 && tag->ot_total == 2);
	OSMalloc_Tagfree(tag);
	return 0;
}
SELFTEST(osmalloc_tag, test_osmalloc_tag);

/* ---- threads and the scheduler ---- */

static volatile int st_flag;

static void
st_set_flag(void *arg, wait_result_t wr)
{
	st_flag = (int)(uint32_t)arg;
	wakeup(__DEVOLATILE(void *, &st_flag));
}

static int
test_thread_start(void)
{
	st_flag = 0;
	ST_ASSERT(st_start(st_set_flag, (void *)7) != THREAD_NULL);
	ST_ASSERT(st_wait_for(&st_flag, 7, 1000));
	ST_ASSERT(kernel_thread_start(NULL, NULL, NULL) ==
	    KERN_INVALID_ARGUMENT);
	return 0;
}
SELFTEST(thread_start, test_thread_start);

static volatile int st_spin_stop;
static volatile int st_spinners_done;

/* Never yields: only preemption lets anyone else run. */
static void
st_spinner(void *arg, wait_result_t wr)
{
	uint64_t end = mach_absolute_time() + 2000 * MS;

	while (!st_spin_stop && mach_absolute_time() < end)
		continue;
	__atomic_add_fetch(&st_spinners_done, 1, __ATOMIC_SEQ_CST);
}

static int
test_sched_preemption(void)
{
	uint64_t start = mach_absolute_time(), waited;
	struct timespec ts = { 0, 30 * MS };

	st_spin_stop = 0;
	st_spinners_done = 0;
	ST_ASSERT(st_start(st_spinner, NULL) != THREAD_NULL);
	ST_ASSERT(st_start(st_spinner, NULL) != THREAD_NULL);
	/* We get the CPU back while both spin, long before they give up. */
	msleep(&ts, NULL, 0, "st_preempt", &ts);
	waited = mach_absolute_time() - start;
	st_spin_stop = 1;
	ST_ASSERT(waited < 1000 * MS);
	ST_ASSERT(st_wait_for(&st_spinners_done, 2, 3000));
	return 0;
}
SELFTEST(sched_preemption, test_sched_preemption);

static volatile int st_turns[2];

static void
st_yielder(void *arg, wait_result_t wr)
{
	int me = (int)(uint32_t)arg, i;

	for (i = 0; i < 50; i++) {
		st_turns[me]++;
		thread_yield();
	}
	st_flag++;
	wakeup(__DEVOLATILE(void *, &st_flag));
}

static int
test_sched_yield(void)
{
	st_flag = 0;
	st_turns[0] = st_turns[1] = 0;
	ST_ASSERT(st_start(st_yielder, (void *)0) != THREAD_NULL);
	ST_ASSERT(st_start(st_yielder, (void *)1) != THREAD_NULL);
	ST_ASSERT(st_wait_for(&st_flag, 2, 2000));
	ST_ASSERT(st_turns[0] == 50 && st_turns[1] == 50);
	return 0;
}
SELFTEST(sched_yield, test_sched_yield);

/* ---- sleep and wakeup ---- */

static int
test_msleep_timeout(void)
{
	struct timespec ts = { 0, 50 * MS };
	uint64_t start = mach_absolute_time(), took;
	int chan, err;

	err = msleep(&chan, NULL, 0, "st_timeout", &ts);
	took = mach_absolute_time() - start;
	ST_ASSERT(err == EWOULDBLOCK);
	ST_ASSERT(took >= 45 * MS);
	ST_ASSERT(took < 500 * MS);
	return 0;
}
SELFTEST(msleep_timeout, test_msleep_timeout);

static volatile int st_woken;
static int st_chan;

static void
st_sleeper(void *arg, wait_result_t wr)
{
	lck_mtx_t *mtx = arg;
	int err;

	lck_mtx_lock(mtx);
	st_flag = 1;				/* asleep from now on */
	err = msleep(&st_chan, mtx, 0, "st_chan", NULL);
	st_woken = err == 0 ? 1 : -1;
	lck_mtx_unlock(mtx);
}

static int
test_msleep_wakeup(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("st_msleep", LCK_GRP_ATTR_NULL);
	lck_mtx_t *mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL);

	st_flag = 0;
	st_woken = 0;
	ST_ASSERT(st_start(st_sleeper, mtx) != THREAD_NULL);
	ST_ASSERT(st_wait_for(&st_flag, 1, 1000));
	/* Holding the mutex proves the sleeper released it in msleep. */
	lck_mtx_lock(mtx);
	wakeup(&st_chan);
	lck_mtx_unlock(mtx);
	ST_ASSERT(st_wait_for(&st_woken, 1, 1000));
	lck_mtx_free(mtx, grp);
	lck_grp_free(grp);
	return 0;
}
SELFTEST(msleep_wakeup, test_msleep_wakeup);

/* ---- locks ---- */

#define MTX_THREADS	4
#define MTX_ROUNDS	200

struct st_mtx_arg {
	lck_mtx_t	*mtx;
	volatile int	inside;		/* threads in the critical section */
	volatile int	overlap;	/* times two were inside at once */
	volatile int	count;
	volatile int	done;
};

static void
st_mtx_worker(void *arg, wait_result_t wr)
{
	struct st_mtx_arg *a = arg;
	int i, v;

	for (i = 0; i < MTX_ROUNDS; i++) {
		lck_mtx_lock(a->mtx);
		if (a->inside++ != 0)
			a->overlap++;
		v = a->count;
		if (i % 16 == 0)
			thread_yield();		/* invite contention */
		a->count = v + 1;
		a->inside--;
		lck_mtx_unlock(a->mtx);
	}
	__atomic_add_fetch(&a->done, 1, __ATOMIC_SEQ_CST);
}

static int
test_lck_mtx(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("st_mtx", LCK_GRP_ATTR_NULL);
	struct st_mtx_arg a = { .mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL) };
	int i;

	ST_ASSERT(a.mtx != NULL);
	for (i = 0; i < MTX_THREADS; i++)
		ST_ASSERT(st_start(st_mtx_worker, &a) != THREAD_NULL);
	ST_ASSERT(st_wait_for(&a.done, MTX_THREADS, 5000));
	ST_ASSERT(a.count == MTX_THREADS * MTX_ROUNDS);
	ST_ASSERT(a.overlap == 0);
	ST_ASSERT(grp->lg_mtx_waits > 0);	/* it really was contended */
	ST_ASSERT(lck_mtx_try_lock(a.mtx));
	lck_mtx_unlock(a.mtx);
	lck_mtx_free(a.mtx, grp);
	lck_grp_free(grp);
	return 0;
}
SELFTEST(lck_mtx, test_lck_mtx);

static int
test_lck_spin(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("st_spin", LCK_GRP_ATTR_NULL);
	lck_spin_t *sl = lck_spin_alloc_init(grp, LCK_ATTR_NULL);

	ST_ASSERT(sl != NULL);
	ST_ASSERT(ml_get_interrupts_enabled());
	lck_spin_lock(sl);
	ST_ASSERT(!ml_get_interrupts_enabled());
	ST_ASSERT(!lck_spin_try_lock(sl));
	lck_spin_unlock(sl);
	ST_ASSERT(ml_get_interrupts_enabled());
	ST_ASSERT(lck_spin_try_lock(sl));
	lck_spin_unlock(sl);
	lck_spin_free(sl, grp);
	lck_grp_free(grp);
	return 0;
}
SELFTEST(lck_spin, test_lck_spin);

struct st_rw_arg {
	lck_rw_t	*rw;
	volatile int	readers_in;	/* readers holding it right now */
	volatile int	max_readers;
	volatile int	writer_saw_readers;
	volatile int	done;
};

static void
st_rw_reader(void *arg, wait_result_t wr)
{
	struct st_rw_arg *a = arg;
	struct timespec ts = { 0, 20 * MS };
	int n;

	lck_rw_lock_shared(a->rw);
	n = __atomic_add_fetch(&a->readers_in, 1, __ATOMIC_SEQ_CST);
	if (n > a->max_readers)
		a->max_readers = n;
	msleep(&ts, NULL, 0, "st_rw", &ts);	/* hold it a while */
	__atomic_sub_fetch(&a->readers_in, 1, __ATOMIC_SEQ_CST);
	lck_rw_unlock_shared(a->rw);
	__atomic_add_fetch(&a->done, 1, __ATOMIC_SEQ_CST);
}

static void
st_rw_writer(void *arg, wait_result_t wr)
{
	struct st_rw_arg *a = arg;

	lck_rw_lock_exclusive(a->rw);
	if (a->readers_in != 0)
		a->writer_saw_readers = 1;
	lck_rw_done(a->rw);
	__atomic_add_fetch(&a->done, 1, __ATOMIC_SEQ_CST);
}

static int
test_lck_rw(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("st_rw", LCK_GRP_ATTR_NULL);
	struct st_rw_arg a = { .rw = lck_rw_alloc_init(grp, LCK_ATTR_NULL) };

	ST_ASSERT(a.rw != NULL);
	ST_ASSERT(st_start(st_rw_reader, &a) != THREAD_NULL);
	ST_ASSERT(st_start(st_rw_reader, &a) != THREAD_NULL);
	ST_ASSERT(st_start(st_rw_writer, &a) != THREAD_NULL);
	ST_ASSERT(st_wait_for(&a.done, 3, 3000));
	ST_ASSERT(a.max_readers == 2);		/* readers shared the lock */
	ST_ASSERT(a.writer_saw_readers == 0);	/* the writer had it alone */
	lck_rw_lock(a.rw, LCK_RW_TYPE_EXCLUSIVE);
	ST_ASSERT(lck_rw_done(a.rw) == LCK_RW_TYPE_EXCLUSIVE);
	lck_rw_free(a.rw, grp);
	lck_grp_free(grp);
	return 0;
}
SELFTEST(lck_rw, test_lck_rw);

static int
test_lck_mtx_sleep_deadline(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("st_mtx_sleep", LCK_GRP_ATTR_NULL);
	lck_mtx_t *mtx = lck_mtx_alloc_init(grp, LCK_ATTR_NULL);
	uint64_t deadline;
	wait_result_t wr;
	int ev;

	clock_interval_to_deadline(20, kMillisecondScale, &deadline);
	lck_mtx_lock(mtx);
	wr = lck_mtx_sleep_deadline(mtx, LCK_SLEEP_DEFAULT, &ev,
	    THREAD_UNINT, deadline);
	ST_ASSERT(wr == THREAD_TIMED_OUT);
	ST_ASSERT(mach_absolute_time() >= deadline);
	ST_ASSERT(!lck_mtx_try_lock(mtx) || (lck_mtx_unlock(mtx), 0));
	lck_mtx_unlock(mtx);
	lck_mtx_free(mtx, grp);
	lck_grp_free(grp);
	return 0;
}
SELFTEST(lck_mtx_sleep_deadline, test_lck_mtx_sleep_deadline);

/* ---- timers ---- */

static volatile int st_fired;

static void
st_timeout_fn(void *arg)
{
	st_fired += (int)(uint32_t)arg;
	wakeup(__DEVOLATILE(void *, &st_fired));
}

static int
test_timeout(void)
{
	uint64_t start = mach_absolute_time();

	st_fired = 0;
	timeout(st_timeout_fn, (void *)1, 3);
	timeout(st_timeout_fn, (void *)100, 2);
	untimeout(st_timeout_fn, (void *)100);	/* this one never fires */
	ST_ASSERT(st_wait_for(&st_fired, 1, 1000));
	ST_ASSERT(mach_absolute_time() - start >= 2 * (NSEC_PER_SEC / hz));
	st_sleep_ms(50);	/* long past when 100 was due */
	ST_ASSERT(st_fired == 1);
	return 0;
}
SELFTEST(timeout, test_timeout);

static void
st_call_fn(thread_call_param_t p0, thread_call_param_t p1)
{
	st_fired += (int)(uint32_t)p0 * (int)(uint32_t)p1;
	wakeup(__DEVOLATILE(void *, &st_fired));
}

static int
test_thread_call(void)
{
	thread_call_t call = thread_call_allocate(st_call_fn, (void *)2);
	uint64_t deadline;

	ST_ASSERT(call != NULL);
	st_fired = 0;
	ST_ASSERT(!thread_call_enter1(call, (void *)3));
	ST_ASSERT(st_wait_for(&st_fired, 6, 1000));

	clock_interval_to_deadline(10, kMillisecondScale, &deadline);
	ST_ASSERT(!thread_call_enter_delayed(call, deadline));
	ST_ASSERT(st_wait_for(&st_fired, 12, 1000));
	ST_ASSERT(mach_absolute_time() >= deadline);

	clock_interval_to_deadline(1, kSecondScale, &deadline);
	thread_call_enter_delayed(call, deadline);
	ST_ASSERT(!thread_call_free(call));	/* pending: refused */
	ST_ASSERT(thread_call_cancel(call));
	ST_ASSERT(!thread_call_cancel(call));
	ST_ASSERT(thread_call_free(call));
	return 0;
}
SELFTEST(thread_call, test_thread_call);

static int
test_clock(void)
{
	uint64_t a, b;
	struct timeval tv;

	a = mach_absolute_time();
	delay(2000);
	b = mach_absolute_time();
	ST_ASSERT(b - a >= 2 * MS);
	ST_ASSERT(b - a < 200 * MS);
	microuptime(&tv);
	ST_ASSERT(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	return 0;
}
SELFTEST(clock, test_clock);

/* The approximate clock is the last tick's time: never ahead of the
 * precise one, at most a tick behind, and it moves with the ticks. */
static int
test_clock_approximate(void)
{
	uint64_t tick = NSEC_PER_SEC / hz, approx, now;

	approx = mach_approximate_time();
	now = mach_absolute_time();
	ST_ASSERT(approx <= now);
	/* A tick may have come between the two reads: allow a second. */
	ST_ASSERT(now - approx < 2 * tick);
	st_sleep_ms(3 * 1000 / hz + 1);		/* three ticks or more */
	ST_ASSERT(mach_approximate_time() >= approx + 2 * tick);
	return 0;
}
SELFTEST(clock_approximate, test_clock_approximate);

/*
 * Two threads hand a turn back and forth with msleep(&turn, mtx).  A
 * thread preempted between msleep's assert_wait and its mutex unlock used
 * to fall asleep still holding the mutex, and both threads hung.
 */
struct st_pingpong {
	lck_mtx_t	*mtx;
	volatile int	turn;
	volatile int	rounds;
	volatile int	done;
	uint64_t	end;
};

static void
st_pingpong_player(void *arg, wait_result_t wr)
{
	struct st_pingpong *pp = arg;
	int me = pp->done++ == 0 ? 0 : 1;	/* started one at a time */

	lck_mtx_lock(pp->mtx);
	while (mach_absolute_time() < pp->end) {
		while (pp->turn != me && mach_absolute_time() < pp->end)
			msleep(__DEVOLATILE(void *, &pp->turn), pp->mtx, 0,
			    "st_pingpong", NULL);
		pp->turn = !me;
		pp->rounds++;
		wakeup(__DEVOLATILE(void *, &pp->turn));
	}
	lck_mtx_unlock(pp->mtx);
	__atomic_add_fetch(&pp->done, 1, __ATOMIC_SEQ_CST);
	wakeup(__DEVOLATILE(void *, &pp->turn));
}

static int
test_msleep_pingpong(void)
{
	lck_grp_t *grp = lck_grp_alloc_init("st_pingpong", LCK_GRP_ATTR_NULL);
	struct st_pingpong pp = { .mtx = lck_mtx_alloc_init(grp, NULL) };

	pp.end = mach_absolute_time() + 1500 * MS;
	ST_ASSERT(st_start(st_pingpong_player, &pp) != THREAD_NULL);
	ST_ASSERT(st_wait_for(&pp.done, 1, 1000));
	ST_ASSERT(st_start(st_pingpong_player, &pp) != THREAD_NULL);
	ST_ASSERT(st_wait_for(&pp.done, 4, 5000));	/* both finished */
	ST_ASSERT(pp.rounds > 100);
	lck_mtx_free(pp.mtx, grp);
	lck_grp_free(grp);
	return 0;
}
SELFTEST(msleep_pingpong, test_msleep_pingpong);

/* delay() must return with interrupts off, when uptime stands still. */
static int
test_delay_interrupts_off(void)
{
	boolean_t intr = ml_set_interrupts_enabled(FALSE);

	delay(30000);
	delay(-1);			/* nonsense: returns at once */
	ml_set_interrupts_enabled(intr);
	ST_ASSERT(ml_get_interrupts_enabled());
	return 0;
}
SELFTEST(delay_interrupts_off, test_delay_interrupts_off);
