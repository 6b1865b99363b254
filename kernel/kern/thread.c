/*
 * Kernel threads: creation, naming, reference counting, ending and
 * reaping, and the `ps` monitor command.  The scheduler proper lives in
 * sched_prim.c.
 *
 * A new thread's stack is prepared so that the first context switch to
 * it "returns" into thread_trampoline(), which releases the scheduler
 * lock the switching thread held and calls the continuation.
 *
 * Under every kernel stack lies an unmapped guard page: a thread that
 * runs off the end of its stack faults there at once, and the double
 * fault handler (i386/trap.c) reports the overflow.
 */
#include <sys/systm.h>
#include <i386/cpu.h>
#include <kern/kalloc.h>
#include <kern/kmod_check.h>
#include <kern/kmod_resources.h>
#include <kern/ksyms.h>
#include <kern/monitor.h>
#include <kern/sched_prim.h>
#include <kern/simple_lock.h>
#include <kern/thread_var.h>
#include <kern/vm_page.h>
#include <i386/pmap.h>

/* A stack and its guard page, in pages. */
#define STACK_PAGES	(THREAD_STACK_SIZE / PAGE_SIZE + 1)

extern simple_lock_data_t sched_lock;
extern char boot_stack[];		/* boot.S; its guard page is below */

static TAILQ_HEAD(, thread) all_threads = TAILQ_HEAD_INITIALIZER(all_threads);
static uint32_t thread_next_id;

/*
 * The two threads that exist before the heap does: the boot code, which
 * runs on boot.S's stack and ends once the kernel is up, and the idle
 * thread, which runs when nothing else can and never sleeps.
 */
static struct thread bootstrap_thread;
static struct thread idle_thread;
static char idle_stack[STACK_PAGES * PAGE_SIZE] __aligned(PAGE_SIZE);

void
thread_set_name(thread_t th, const char *name)
{
	strlcpy(th->th_name, name, sizeof(th->th_name));
}

const char *
thread_name(thread_t th)
{
	return th->th_name;
}

thread_t
current_thread(void)
{
	return sched_current;
}

/*
 * Called at every switch, on the stack of the thread that leaves.  The
 * guard page catches a stack that grows into it; this catches one that
 * jumped over it (a frame with a big local array) and went on below.
 */
void
thread_check_stack(thread_t th)
{
	uint32_t sp = get_esp(), base = (uint32_t)th->th_stack;

	if (sp < base || sp >= base + THREAD_STACK_SIZE)
		panic("thread %u (%s): kernel stack overflow: ESP 0x%08x is "
		    "outside its stack 0x%08x-0x%08x", th->th_id, th->th_name,
		    sp, base, base + THREAD_STACK_SIZE - 1);
}

/* Unmap the page just below a stack: its guard page. */
static void
thread_stack_guard(void *stack)
{
	pmap_guard_page((uint32_t)stack - PAGE_SIZE);
}

/* A stack from the page allocator: its guard page comes with it. */
static void *
thread_stack_alloc(void)
{
	char *pages = vm_page_alloc_contig(STACK_PAGES);

	if (pages == NULL)
		return NULL;
	thread_stack_guard(pages + PAGE_SIZE);
	return pages + PAGE_SIZE;
}

static void
thread_stack_free(void *stack)
{
	char *pages = (char *)stack - PAGE_SIZE;

	pmap_unguard_page((uint32_t)pages);
	vm_page_free_contig(pages, STACK_PAGES);
}

/* Where a new thread starts: see the comment at the top of the file. */
static void
thread_trampoline(void)
{
	thread_t self = sched_current;

	sched_lock.sl_saved_intr = TRUE;
	sched_lock.sl_owner = self;
	simple_unlock(&sched_lock);
	self->th_continuation(self->th_parameter, THREAD_AWAKENED);
	thread_terminate_self();
}

/* Lay out the registers machine_switch_context() will pop. */
static void
thread_prepare_stack(thread_t th)
{
	uint32_t *sp = (uint32_t *)((char *)th->th_stack + THREAD_STACK_SIZE);

	*--sp = 0;				/* thread_trampoline's return */
	*--sp = (uint32_t)thread_trampoline;	/* switch's return address */
	*--sp = 0;				/* ebp: ends backtraces */
	*--sp = 0;				/* ebx */
	*--sp = 0;				/* esi */
	*--sp = 0;				/* edi */
	th->th_esp = (uint32_t)sp;
}

/* Fill in a thread that will start in `continuation` on `stack`. */
static void
thread_setup(thread_t th, void *stack, thread_continue_t continuation,
    void *parameter)
{
	th->th_stack = stack;
	th->th_continuation = continuation;
	th->th_parameter = parameter;
	th->th_state = TH_RUN;
	th->th_id = __atomic_add_fetch(&thread_next_id, 1, __ATOMIC_RELAXED);
	snprintf(th->th_name, sizeof(th->th_name), "thread%u", th->th_id);
	thread_prepare_stack(th);
	simple_lock(&sched_lock);
	TAILQ_INSERT_TAIL(&all_threads, th, th_all);
	simple_unlock(&sched_lock);
}

kern_return_t
kernel_thread_start(thread_continue_t continuation, void *parameter,
    thread_t *new_thread)
{
	thread_t th;
	void *stack;

	if (continuation == NULL || new_thread == NULL)
		return KERN_INVALID_ARGUMENT;
	th = kalloc(sizeof(*th));
	if (th == NULL)
		return KERN_RESOURCE_SHORTAGE;
	stack = thread_stack_alloc();
	if (stack == NULL) {
		kfree(th, sizeof(*th));
		return KERN_RESOURCE_SHORTAGE;
	}
	bzero(th, sizeof(*th));
	th->th_refcnt = 2;		/* the caller's and the thread's own */
	thread_setup(th, stack, continuation, parameter);
	sched_make_runnable(th);
	*new_thread = th;
	return KERN_SUCCESS;
}

void
thread_deallocate(thread_t th)
{
	if (th == THREAD_NULL)
		return;
	if (__atomic_sub_fetch(&th->th_refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (th->th_state != TH_DEAD)
		panic("thread_deallocate: thread %u (%s) released more often "
		    "than retained", th->th_id, th->th_name);
	kfree(th, sizeof(*th));
}

static bool
thread_is_static(thread_t th)
{
	return th == &bootstrap_thread || th == &idle_thread;
}

/*
 * A thread must not end holding a lock: nobody could release it, and
 * the next thread to want it would wait for ever.
 */
void
thread_terminate_self(void)
{
	thread_t self = current_thread();
	char name[KSYM_TEXT_MAX], who[KSYM_TEXT_MAX + 64];

	if (self->th_nlocks > 0) {
		snprintf(who, sizeof(who), "thread %u '%s' (started at %s) "
		    "ended", self->th_id, self->th_name,
		    ksym_format(name, sizeof(name),
		    (uint32_t)self->th_continuation, KSYM_KEXT));
		lck_held_panic((uint32_t)__builtin_return_address(0), 0, who);
	}
	sched_exit();
}

kern_return_t
thread_terminate(thread_t th)
{
	if (th != current_thread())
		return KERN_FAILURE;	/* Finch only ends the caller */
	thread_terminate_self();
}

/* Free what dead threads leave behind; the stack can go only now that
 * nobody runs on it. */
void
thread_reap(void)
{
	thread_t th;

	for (;;) {
		simple_lock(&sched_lock);
		TAILQ_FOREACH(th, &all_threads, th_all)
			if (th->th_state == TH_DEAD && th != sched_current)
				break;
		if (th != NULL)
			TAILQ_REMOVE(&all_threads, th, th_all);
		simple_unlock(&sched_lock);
		if (th == NULL)
			return;
		if (thread_is_static(th))
			continue;	/* the boot thread: nothing to free */
		thread_stack_free(th->th_stack);
		thread_deallocate(th);
	}
}

static void
idle_thread_main(void *arg, wait_result_t wr)
{
	sched_idle_loop();
}

/*
 * Adopt the code running on the boot stack as thread 0, "bootstrap", and
 * prepare the idle thread (on a static stack: the heap is not up yet).
 * Both static stacks get their guard page too; paging is on by now.
 */
void
thread_bootstrap(void)
{
	thread_t th = &bootstrap_thread;

	sched_init();
	th->th_id = 0;
	th->th_state = TH_RUN;
	th->th_refcnt = 1;
	th->th_stack = boot_stack;
	thread_stack_guard(boot_stack);
	thread_set_name(th, "bootstrap");
	TAILQ_INSERT_TAIL(&all_threads, th, th_all);
	sched_current = th;

	idle_thread.th_refcnt = 1;
	thread_stack_guard(idle_stack + PAGE_SIZE);
	thread_setup(&idle_thread, idle_stack + PAGE_SIZE, idle_thread_main,
	    NULL);
	thread_set_name(&idle_thread, "idle");
	sched_idle_thread = &idle_thread;
}

/* The kernel is up: the boot thread's work is done. */
void
thread_bootstrap_done(void)
{
	thread_terminate_self();
}

static const char *
thread_state_name(thread_t th)
{
	if (th == sched_current)
		return "running";
	switch (th->th_state) {
	case TH_RUN:
		return "runnable";
	case TH_WAIT:
		return "waiting";
	case TH_DEAD:
		return "dead";
	}
	return "?";
}

static int
mon_ps(int argc, char **argv)
{
	struct {
		uint32_t id, ticks, switches;
		char name[THREAD_NAME_MAX];
		const char *state, *wmesg;
		void *event;
	} rows[64];
	thread_t th;
	int n = 0, i;

	simple_lock(&sched_lock);
	TAILQ_FOREACH(th, &all_threads, th_all) {
		if (n == 64)
			break;
		rows[n].id = th->th_id;
		rows[n].ticks = th->th_ticks;
		rows[n].switches = th->th_switches;
		memcpy(rows[n].name, th->th_name, THREAD_NAME_MAX);
		rows[n].state = thread_state_name(th);
		rows[n].wmesg = th->th_wmesg;
		rows[n].event = th->th_wait_event;
		n++;
	}
	simple_unlock(&sched_lock);

	printf("%4s %-16s %-9s %-12s %10s %8s %8s\n", "TID", "NAME", "STATE",
	    "WAIT", "EVENT", "TICKS", "SWITCHES");
	for (i = 0; i < n; i++)
		printf("%4u %-16s %-9s %-12s %10p %8u %8u\n", rows[i].id,
		    rows[i].name, rows[i].state,
		    rows[i].wmesg ? rows[i].wmesg : "-", rows[i].event,
		    rows[i].ticks, rows[i].switches);
	return 0;
}
MONITOR_COMMAND(ps, mon_ps, "ps", "list kernel threads and what they wait for");

/* For `kextres`: each live thread that runs a function of the kext. */
static void
thread_report(const struct kmod_owner *query, kmod_resource_emit_t *emit,
    void *arg)
{
	struct kmod_resource kr = { "thread", 1,
	    THREAD_STACK_SIZE + sizeof(struct thread), "" };
	char func[KSYM_TEXT_MAX];
	thread_t th;

	simple_lock(&sched_lock);
	TAILQ_FOREACH(th, &all_threads, th_all) {
		if (th->th_state == TH_DEAD || !kmod_owner_holds_addr(query,
		    (uint32_t)th->th_continuation))
			continue;
		snprintf(kr.kr_text, sizeof(kr.kr_text), "thread '%s' (%u) "
		    "started at %s: %s, %u bytes", th->th_name, th->th_id,
		    kmod_resource_func(query, (uint32_t)th->th_continuation,
		    func, sizeof(func)), thread_state_name(th), kr.kr_bytes);
		emit(&kr, arg);
	}
	simple_unlock(&sched_lock);
}
KMOD_RESOURCES(thread, KMOD_RES_THREADS, thread_report);

/*
 * Unload check: a live thread started at a function in [start, end) still
 * runs (or will run) the image's code.
 */
static enum kmod_hold
thread_points_into(uint32_t start, uint32_t end, uint64_t stopped,
    char *why, size_t whylen)
{
	thread_t th;
	uint32_t fn = 0;
	char name[THREAD_NAME_MAX] = "";

	simple_lock(&sched_lock);
	TAILQ_FOREACH(th, &all_threads, th_all) {
		fn = (uint32_t)th->th_continuation;
		if (th->th_state != TH_DEAD && fn >= start && fn < end) {
			memcpy(name, th->th_name, sizeof(name));
			break;
		}
	}
	simple_unlock(&sched_lock);
	if (th == NULL)
		return KMOD_HOLD_NONE;
	snprintf(why, whylen, "thread '%s' started at 0x%08x has not ended: "
	    "stop must make it return (and wait until it has)", name, fn);
	return KMOD_HOLD_PINNED;
}
KMOD_UNLOAD_CHECK(thread, thread_points_into);
