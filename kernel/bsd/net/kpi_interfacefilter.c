/*
 * Interface filters (<net/kpi_interfacefilter.h>): iflt_attach and
 * iflt_detach, and the hooks the DLIL calls on its paths (dlil_input.c,
 * dlil_output.c, dlil_ctl.c).  A filter sees each inbound packet after
 * demux and before the protocol, and each outbound frame after the
 * framer and before the driver.  Every call into a filter is checked on
 * its return (kern/kext_call.h), and a kext that stops with a filter
 * still attached is kept in memory (the unload check at the end).
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <kern/kmod_check.h>
#include <bsd/net/if_var.h>

/*
 * Every filter from iflt_attach until its iff_detached has returned.  A
 * detaching filter is off its interface's list but still called while
 * a callback holds a reference, so the unload check looks here, and
 * iflt_detach checks a reference against it.  iflt_all_lock, a spin
 * lock, comes before if_lock: never take it with if_lock held.
 */
static LIST_HEAD(, ifnet_filter) iflt_all = LIST_HEAD_INITIALIZER(iflt_all);
static simple_lock_data_t iflt_all_lock = SIMPLE_LOCK_INITIALIZER("iflt_all");

/* Drop a reference; the last one calls iff_detached (kext may unload). */
static void
iflt_release(struct ifnet_filter *f)
{
	ifnet_t ifp = f->filt_ifp;
	struct kext_call kc;
	bool last;

	simple_lock(&ifp->if_lock);
	last = --f->filt_refcnt == 0;
	simple_unlock(&ifp->if_lock);
	if (!last)
		return;
	if (f->filt_kpi.iff_detached != NULL) {
		kext_call_begin(&kc);
		f->filt_kpi.iff_detached(f->filt_kpi.iff_cookie, ifp);
		kext_call_end(&kc, f->filt_kpi.iff_detached);
	}
	/* Only now: until iff_detached returns, the kext must stay. */
	simple_lock(&iflt_all_lock);
	LIST_REMOVE(f, filt_all);
	simple_unlock(&iflt_all_lock);
	kfree(f, sizeof(*f));
	dlil_ifnet_release(ifp);
}

errno_t
iflt_attach(ifnet_t ifp, const struct iff_filter *filter,
    interface_filter_t *filter_ref)
{
	struct ifnet_filter *f;
	errno_t error = 0;

	if (ifp == NULL || filter == NULL || filter->iff_name == NULL ||
	    filter_ref == NULL)
		return EINVAL;
	if ((f = kalloc(sizeof(*f))) == NULL)
		return ENOMEM;
	bzero(f, sizeof(*f));
	f->filt_ifp = ifp;
	f->filt_kpi = *filter;
	/*
	 * The name is copied, not kept: a name in the kext's image would
	 * point into freed memory once the kext is gone, for a string that
	 * only names the filter (in the unload check's words).
	 */
	strlcpy(f->filt_name, filter->iff_name, sizeof(f->filt_name));
	f->filt_kpi.iff_name = f->filt_name;
	f->filt_refcnt = 1;		/* the list's */
	if (!dlil_ifnet_use(ifp)) {
		kfree(f, sizeof(*f));
		return ENXIO;
	}
	simple_lock(&ifp->if_lock);
	if (ifp->if_filter_count >= IF_MAX_FILTERS)
		error = ENOMEM;
	else {
		ifp->if_refcnt++;	/* the filter's */
		TAILQ_INSERT_TAIL(&ifp->if_filters, f, filt_link);
		ifp->if_filter_count++;
	}
	simple_unlock(&ifp->if_lock);
	dlil_ifnet_unuse(ifp);
	if (error != 0) {
		kfree(f, sizeof(*f));
		return error;
	}
	simple_lock(&iflt_all_lock);
	LIST_INSERT_HEAD(&iflt_all, f, filt_all);
	simple_unlock(&iflt_all_lock);
	*filter_ref = f;
	return 0;
}

/*
 * Off the list now; iff_detached once no callback is running.  The
 * reference is looked up before it is used, as XNU does: a kext whose
 * filter went with its interface (iflt_detach_all) cannot tell whether
 * it is gone, and two detaches may race (the interface's and the
 * kext's stop).  An unknown or freed reference is ignored.  While
 * iflt_all_lock is held the filter cannot be freed (iflt_release takes
 * it off iflt_all first).
 */
void
iflt_detach(interface_filter_t f)
{
	struct ifnet_filter *g;
	ifnet_t ifp;
	bool first = false;

	if (f == NULL)
		return;
	simple_lock(&iflt_all_lock);
	LIST_FOREACH(g, &iflt_all, filt_all)
		if (g == f)
			break;
	if (g != NULL) {
		ifp = f->filt_ifp;
		simple_lock(&ifp->if_lock);
		first = !f->filt_detaching;
		if (first) {
			f->filt_detaching = true;
			TAILQ_REMOVE(&ifp->if_filters, f, filt_link);
			ifp->if_filter_count--;
		}
		simple_unlock(&ifp->if_lock);
	}
	simple_unlock(&iflt_all_lock);
	if (first)
		iflt_release(f);
}

void
iflt_detach_all(ifnet_t ifp)
{
	struct ifnet_filter *f;

	for (;;) {
		simple_lock(&ifp->if_lock);
		f = TAILQ_FIRST(&ifp->if_filters);
		simple_unlock(&ifp->if_lock);
		if (f == NULL)
			return;
		iflt_detach(f);
	}
}

/*
 * References to the filters that want protocol pf (all of them if `all`),
 * in order: callbacks run without if_lock (they may re-enter the DLIL),
 * and a filter that detaches meanwhile stays allocated until released.
 */
static int
iflt_snapshot(ifnet_t ifp, protocol_family_t pf, bool all,
    struct ifnet_filter **out)
{
	struct ifnet_filter *f;
	int n = 0;

	simple_lock(&ifp->if_lock);
	TAILQ_FOREACH(f, &ifp->if_filters, filt_link) {
		if (!all && f->filt_kpi.iff_protocol != 0 &&
		    f->filt_kpi.iff_protocol != pf)
			continue;
		f->filt_refcnt++;
		out[n++] = f;
	}
	simple_unlock(&ifp->if_lock);
	return n;
}

static void
iflt_release_all(struct ifnet_filter **fs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		iflt_release(fs[i]);
}

errno_t
iflt_input(ifnet_t ifp, protocol_family_t pf, mbuf_t *m, char **frame)
{
	struct ifnet_filter *fs[IF_MAX_FILTERS];
	struct iff_filter *k;
	struct kext_call kc;
	errno_t error = 0;
	int i, n;

	if (ifp->if_filter_count == 0)	/* a racy peek is fine: common case */
		return 0;
	n = iflt_snapshot(ifp, pf, false, fs);
	for (i = 0; i < n && error == 0; i++) {
		k = &fs[i]->filt_kpi;
		if (k->iff_input == NULL || fs[i]->filt_detaching)
			continue;
		kext_call_begin(&kc);
		error = k->iff_input(k->iff_cookie, ifp, pf, m, frame);
		kext_call_end(&kc, k->iff_input);
	}
	iflt_release_all(fs, n);
	return error;
}

errno_t
iflt_output(ifnet_t ifp, protocol_family_t pf, mbuf_t *m)
{
	struct ifnet_filter *fs[IF_MAX_FILTERS];
	struct iff_filter *k;
	struct kext_call kc;
	errno_t error = 0;
	int i, n;

	if (ifp->if_filter_count == 0)
		return 0;
	n = iflt_snapshot(ifp, pf, false, fs);
	for (i = 0; i < n && error == 0; i++) {
		k = &fs[i]->filt_kpi;
		if (k->iff_output == NULL || fs[i]->filt_detaching)
			continue;
		kext_call_begin(&kc);
		error = k->iff_output(k->iff_cookie, ifp, pf, m);
		kext_call_end(&kc, k->iff_output);
	}
	iflt_release_all(fs, n);
	return error;
}

void
iflt_event(ifnet_t ifp, const struct kev_msg *ev)
{
	struct ifnet_filter *fs[IF_MAX_FILTERS];
	struct iff_filter *k;
	struct kext_call kc;
	int i, n;

	if (ifp->if_filter_count == 0)
		return;
	/* Events concern the interface: every filter hears them. */
	n = iflt_snapshot(ifp, 0, true, fs);
	for (i = 0; i < n; i++) {
		k = &fs[i]->filt_kpi;
		if (k->iff_event == NULL || fs[i]->filt_detaching)
			continue;
		kext_call_begin(&kc);
		k->iff_event(k->iff_cookie, ifp, k->iff_protocol, ev);
		kext_call_end(&kc, k->iff_event);
	}
	iflt_release_all(fs, n);
}

/*
 * Each filter answers: EOPNOTSUPP not mine; 0 handled, go on;
 * EJUSTRETURN handled, stop with 0; another error stops and is returned.
 */
bool
iflt_ioctl(ifnet_t ifp, protocol_family_t pf, u_int32_t cmd, void *arg,
    errno_t *retval)
{
	struct ifnet_filter *fs[IF_MAX_FILTERS];
	struct iff_filter *k;
	struct kext_call kc;
	bool stop = false;
	errno_t result;
	int i, n;

	if (ifp->if_filter_count == 0)
		return false;
	n = iflt_snapshot(ifp, pf, false, fs);
	for (i = 0; i < n && !stop; i++) {
		k = &fs[i]->filt_kpi;
		if (k->iff_ioctl == NULL || fs[i]->filt_detaching)
			continue;
		kext_call_begin(&kc);
		result = k->iff_ioctl(k->iff_cookie, ifp, pf, cmd, arg);
		kext_call_end(&kc, k->iff_ioctl);
		if (result == EOPNOTSUPP)
			continue;
		*retval = result == EJUSTRETURN ? 0 : result;
		stop = result != 0;
	}
	iflt_release_all(fs, n);
	return stop;
}

/* Which of the filter's pointers lies in [start, end), if one does. */
static bool
iflt_ptr_find(const struct iff_filter *k, uint32_t start, uint32_t end,
    struct kmod_ptr *hit)
{
	const struct kmod_ptr ptrs[] = {
		KMOD_PTR("iff_input", k->iff_input),
		KMOD_PTR("iff_output", k->iff_output),
		KMOD_PTR("iff_event", k->iff_event),
		KMOD_PTR("iff_ioctl", k->iff_ioctl),
		KMOD_PTR("iff_detached", k->iff_detached),
		KMOD_PTR("iff_cookie", k->iff_cookie),
	};

	return kmod_ptr_find(ptrs, KMOD_NPTRS(ptrs), start, end, hit);
}

/*
 * Unload check: a filter whose callbacks (or cookie) are in the image,
 * from iflt_attach until its iff_detached has returned.  iflt_detach
 * alone is not enough: while a callback runs on another thread the
 * filter stays, and iff_detached comes when it returns.
 */
static enum kmod_hold
iflt_points_into(uint32_t start, uint32_t end, uint64_t stopped, char *why,
    size_t whylen)
{
	struct ifnet_filter *f;
	struct kmod_ptr hit;

	simple_lock(&iflt_all_lock);
	LIST_FOREACH(f, &iflt_all, filt_all)
		if (iflt_ptr_find(&f->filt_kpi, start, end, &hit))
			break;
	/* The name and the interface's are constant; filt_detaching is
	 * read without if_lock: it only chooses the words. */
	if (f != NULL)
		snprintf(why, whylen, "interface filter '%s' (%s 0x%08x) %s "
		    "%s: stop must %s", f->filt_name, hit.kp_name, hit.kp_addr,
		    f->filt_detaching ? "is detaching from" :
		    "is still attached to", f->filt_ifp->if_xname,
		    f->filt_detaching ? "wait for iff_detached, which comes "
		    "once the callback running now returns" : "call iflt_detach "
		    "and wait for iff_detached");
	simple_unlock(&iflt_all_lock);
	return f != NULL ? KMOD_HOLD_PINNED : KMOD_HOLD_NONE;
}
KMOD_UNLOAD_CHECK(interface_filter, iflt_points_into);
