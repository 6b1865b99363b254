/*
 * Timer calls: run a function at a deadline (mach_absolute_time units,
 * nanoseconds in Finch), from the clock interrupt.  The function runs
 * with interrupts off and must not sleep: it wakes a thread or queues
 * work.  thread_call and timeout() are built on these; so are msleep's
 * timeouts.  The caller owns the storage.
 */
#ifndef _KERN_TIMER_CALL_H_
#define _KERN_TIMER_CALL_H_

#include <sys/types.h>
#include <sys/queue.h>

typedef void timer_call_func_t(void *param0, void *param1);

struct timer_call {
	TAILQ_ENTRY(timer_call) tc_link;	/* timer_lock */
	uint64_t		tc_deadline;
	timer_call_func_t	*tc_func;
	void			*tc_param0;
	void			*tc_param1;
	bool			tc_pending;
};

void	timer_call_setup(struct timer_call *tc, timer_call_func_t *func,
	    void *param0);
/* Arm (or re-arm) for `deadline`; returns true if it was pending. */
bool	timer_call_enter(struct timer_call *tc, uint64_t deadline,
	    void *param1);
/* Disarm; returns true if it was pending (so it will not run). */
bool	timer_call_cancel(struct timer_call *tc);

/* The first armed timer for which match(tc, ctx) is true, or NULL. */
typedef bool timer_call_match_t(const struct timer_call *tc, void *ctx);
struct timer_call *timer_call_find(timer_call_match_t *match, void *ctx);

/* For `callout`: visit(tc, ctx) for every armed timer, soonest first,
 * with the timer lock held (interrupts off): copy, never print. */
typedef void timer_call_visit_t(const struct timer_call *tc, void *ctx);
void	timer_call_foreach(timer_call_visit_t *visit, void *ctx);

/* Clock interrupt: run every call whose deadline is <= now. */
void	timer_call_expire(uint64_t now);

#endif /* _KERN_TIMER_CALL_H_ */
