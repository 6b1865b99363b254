/*
 * Interface filters (<net/kpi_interfacefilter.h>): iflt_attach and
 * iflt_detach, and the hooks the DLIL calls on its paths (dlil_input.c,
 * dlil_output.c, dlil_ctl.c).  A filter sees each inbound packet after
 * demux and before the protocol, and each outbound frame after the
 * framer and before the driver.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/kalloc.h>
#include <bsd/net/if_var.h>

/* Drop a reference; the last one calls iff_detached (kext may unload). */
static void
iflt_release(struct ifnet_filter *f)
{
	ifnet_t ifp = f->filt_ifp;
	bool last;

	simple_lock(&ifp->if_lock);
	last = --f->filt_refcnt == 0;
	simple_unlock(&ifp->if_lock);
	if (!last)
		return;
	if (f->filt_kpi.iff_detached != NULL)
		f->filt_kpi.iff_detached(f->filt_kpi.iff_cookie, ifp);
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
	*filter_ref = f;
	return 0;
}

/* Off the list now; iff_detached once no callback is running. */
void
iflt_detach(interface_filter_t f)
{
	ifnet_t ifp;
	bool first;

	if (f == NULL)
		return;
	ifp = f->filt_ifp;
	simple_lock(&ifp->if_lock);
	first = !f->filt_detaching;
	if (first) {
		f->filt_detaching = true;
		TAILQ_REMOVE(&ifp->if_filters, f, filt_link);
		ifp->if_filter_count--;
	}
	simple_unlock(&ifp->if_lock);
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
	errno_t error = 0;
	int i, n;

	if (ifp->if_filter_count == 0)	/* a racy peek is fine: common case */
		return 0;
	n = iflt_snapshot(ifp, pf, false, fs);
	for (i = 0; i < n && error == 0; i++)
		if (fs[i]->filt_kpi.iff_input != NULL && !fs[i]->filt_detaching)
			error = fs[i]->filt_kpi.iff_input(
			    fs[i]->filt_kpi.iff_cookie, ifp, pf, m, frame);
	iflt_release_all(fs, n);
	return error;
}

errno_t
iflt_output(ifnet_t ifp, protocol_family_t pf, mbuf_t *m)
{
	struct ifnet_filter *fs[IF_MAX_FILTERS];
	errno_t error = 0;
	int i, n;

	if (ifp->if_filter_count == 0)
		return 0;
	n = iflt_snapshot(ifp, pf, false, fs);
	for (i = 0; i < n && error == 0; i++)
		if (fs[i]->filt_kpi.iff_output != NULL && !fs[i]->filt_detaching)
			error = fs[i]->filt_kpi.iff_output(
			    fs[i]->filt_kpi.iff_cookie, ifp, pf, m);
	iflt_release_all(fs, n);
	return error;
}

void
iflt_event(ifnet_t ifp, const struct kev_msg *ev)
{
	struct ifnet_filter *fs[IF_MAX_FILTERS];
	int i, n;

	if (ifp->if_filter_count == 0)
		return;
	/* Events concern the interface: every filter hears them. */
	n = iflt_snapshot(ifp, 0, true, fs);
	for (i = 0; i < n; i++)
		if (fs[i]->filt_kpi.iff_event != NULL && !fs[i]->filt_detaching)
			fs[i]->filt_kpi.iff_event(fs[i]->filt_kpi.iff_cookie,
			    ifp, fs[i]->filt_kpi.iff_protocol, ev);
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
	bool stop = false;
	errno_t result;
	int i, n;

	if (ifp->if_filter_count == 0)
		return false;
	n = iflt_snapshot(ifp, pf, false, fs);
	for (i = 0; i < n && !stop; i++) {
		if (fs[i]->filt_kpi.iff_ioctl == NULL || fs[i]->filt_detaching)
			continue;
		result = fs[i]->filt_kpi.iff_ioctl(fs[i]->filt_kpi.iff_cookie,
		    ifp, pf, cmd, arg);
		if (result == EOPNOTSUPP)
			continue;
		*retval = result == EJUSTRETURN ? 0 : result;
		stop = result != 0;
	}
	iflt_release_all(fs, n);
	return stop;
}
