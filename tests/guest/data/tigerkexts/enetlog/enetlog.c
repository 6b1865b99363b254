/*
 * enetlog -- counts the Ethernet frames and bytes en0 sends and receives,
 * and hands the counts to a kernel control client (enetlogctl).
 * Written the way Mac OS X 10.4 NKEs were.
 */
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/param.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/mbuf.h>
#include <sys/syslog.h>
#include <sys/kern_control.h>
#include <sys/kern_event.h>
#include <kern/locks.h>
#include <libkern/OSMalloc.h>
#include <libkern/OSAtomic.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <IOKit/IOLib.h>

#include "enetlog.h"

kern_return_t com_example_tiger_enetlog_start(kmod_info_t *ki, void *d);
kern_return_t com_example_tiger_enetlog_stop(kmod_info_t *ki, void *d);

/* enetlog_filter.c */
extern errno_t	enetlog_input(void *cookie, ifnet_t ifp, protocol_family_t protocol,
			mbuf_t *data, char **frame_ptr);
extern errno_t	enetlog_output(void *cookie, ifnet_t ifp, protocol_family_t protocol,
			mbuf_t *data);
extern void	enetlog_event(void *cookie, ifnet_t ifp, protocol_family_t protocol,
			const struct kev_msg *event_msg);
extern errno_t	enetlog_ioctl(void *cookie, ifnet_t ifp, protocol_family_t protocol,
			u_long ioctl_cmd, void *ioctl_arg);

#pragma mark Globals

lck_mtx_t		*gEnetLogMutex = NULL;
static lck_grp_attr_t	*gEnetLogGrpAttr = NULL;
static lck_grp_t	*gEnetLogGrp = NULL;
static OSMallocTag	gEnetLogTag = NULL;
static interface_filter_t gEnetLogFilter = NULL;
static kern_ctl_ref	gEnetLogCtlRef = NULL;
static volatile SInt32	gFilterDetached = 0;
static u_int32_t	*gClientCount = NULL;	/* OSMalloc'ed */

#pragma mark Interface filter

static void
enetlog_detached(void *cookie, ifnet_t ifp)
{
#pragma unused(cookie, ifp)
	OSCompareAndSwap(0, 1, (volatile UInt32 *)&gFilterDetached);
	wakeup((caddr_t)&gFilterDetached);
}

static struct iff_filter gEnetLogIffFilter = {
	NULL,			/* iff_cookie */
	"com.example.tiger.enetlog",	/* iff_name */
	0,			/* iff_protocol: all */
	enetlog_input,
	enetlog_output,
	enetlog_event,
	enetlog_ioctl,
	enetlog_detached
};

#pragma mark Kernel control

static errno_t
enetlog_ctl_connect(kern_ctl_ref ctlref, struct sockaddr_ctl *sac, void **unitinfo)
{
#pragma unused(ctlref, sac)
	OSIncrementAtomic((SInt32 *)gClientCount);
	*unitinfo = NULL;
	return 0;
}

static errno_t
enetlog_ctl_disconnect(kern_ctl_ref ctlref, u_int32_t unit, void *unitinfo)
{
#pragma unused(ctlref, unit, unitinfo)
	OSDecrementAtomic((SInt32 *)gClientCount);
	return 0;
}

static errno_t
enetlog_ctl_setopt(kern_ctl_ref ctlref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t len)
{
#pragma unused(ctlref, unit, unitinfo, data, len)
	if (opt != ENETLOG_CLEAR_STATS)
		return ENOTSUP;
	lck_mtx_lock(gEnetLogMutex);
	bzero(&gEnetLogStats, sizeof(gEnetLogStats));
	lck_mtx_unlock(gEnetLogMutex);
	return 0;
}

static errno_t
enetlog_ctl_getopt(kern_ctl_ref ctlref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
#pragma unused(ctlref, unit, unitinfo)
	if (opt != ENETLOG_GET_STATS)
		return ENOTSUP;
	if (data == NULL) {
		*len = sizeof(struct enetlog_stats);
		return 0;
	}
	if (*len < sizeof(struct enetlog_stats))
		return EINVAL;
	lck_mtx_lock(gEnetLogMutex);
	bcopy(&gEnetLogStats, data, sizeof(struct enetlog_stats));
	lck_mtx_unlock(gEnetLogMutex);
	*len = sizeof(struct enetlog_stats);
	return 0;
}

static struct kern_ctl_reg gEnetLogCtlReg = {
	ENETLOG_CONTROL_NAME,	/* ctl_name */
	0,			/* ctl_id: dynamic */
	0,			/* ctl_unit */
	0,			/* ctl_flags */
	0,			/* ctl_sendsize: default */
	0,			/* ctl_recvsize: default */
	enetlog_ctl_connect,
	enetlog_ctl_disconnect,
	NULL,			/* ctl_send */
	enetlog_ctl_setopt,
	enetlog_ctl_getopt
};

#pragma mark Start and stop

static void
enetlog_free_locks(void)
{
	if (gEnetLogMutex != NULL) {
		lck_mtx_free(gEnetLogMutex, gEnetLogGrp);
		gEnetLogMutex = NULL;
	}
	if (gEnetLogGrp != NULL) {
		lck_grp_free(gEnetLogGrp);
		gEnetLogGrp = NULL;
	}
	if (gEnetLogGrpAttr != NULL) {
		lck_grp_attr_free(gEnetLogGrpAttr);
		gEnetLogGrpAttr = NULL;
	}
}

kern_return_t
com_example_tiger_enetlog_start(kmod_info_t *ki, void *d)
{
#pragma unused(ki, d)
	ifnet_t ifp = NULL;
	errno_t err;

	gEnetLogGrpAttr = lck_grp_attr_alloc_init();
	if (gEnetLogGrpAttr == NULL)
		goto fail;
	lck_grp_attr_setstat(gEnetLogGrpAttr);
	gEnetLogGrp = lck_grp_alloc_init("com.example.tiger.enetlog", gEnetLogGrpAttr);
	if (gEnetLogGrp == NULL)
		goto fail;
	gEnetLogMutex = lck_mtx_alloc_init(gEnetLogGrp, LCK_ATTR_NULL);
	if (gEnetLogMutex == NULL)
		goto fail;

	gEnetLogTag = OSMalloc_Tagalloc("com.example.tiger.enetlog", OSMT_DEFAULT);
	if (gEnetLogTag == NULL)
		goto fail;
	gClientCount = (u_int32_t *)OSMalloc(sizeof(u_int32_t), gEnetLogTag);
	if (gClientCount == NULL)
		goto fail;
	*gClientCount = 0;

	err = ifnet_find_by_name("en0", &ifp);
	if (err != 0) {
		log(LOG_ERR, "enetlog: no en0 (%d)\n", err);
		goto fail;
	}
	err = iflt_attach(ifp, &gEnetLogIffFilter, &gEnetLogFilter);
	ifnet_release(ifp);
	if (err != 0) {
		log(LOG_ERR, "enetlog: iflt_attach returned %d\n", err);
		goto fail;
	}
	err = ctl_register(&gEnetLogCtlReg, &gEnetLogCtlRef);
	if (err != 0) {
		log(LOG_ERR, "enetlog: ctl_register returned %d\n", err);
		iflt_detach(gEnetLogFilter);
		gEnetLogFilter = NULL;
		goto fail;
	}
	IOLog("enetlog: filtering en0, control %s\n", ENETLOG_CONTROL_NAME);
	return KERN_SUCCESS;

fail:
	if (gClientCount != NULL)
		OSFree(gClientCount, sizeof(u_int32_t), gEnetLogTag);
	gClientCount = NULL;
	if (gEnetLogTag != NULL)
		OSMalloc_Tagfree(gEnetLogTag);
	gEnetLogTag = NULL;
	enetlog_free_locks();
	return KERN_FAILURE;
}

kern_return_t
com_example_tiger_enetlog_stop(kmod_info_t *ki, void *d)
{
#pragma unused(ki, d)
	struct timespec ts = { 1, 0 };

	if (gEnetLogCtlRef != NULL) {
		if (ctl_deregister(gEnetLogCtlRef) != 0)
			return KERN_FAILURE;	/* clients connected */
		gEnetLogCtlRef = NULL;
	}
	if (gEnetLogFilter != NULL) {
		iflt_detach(gEnetLogFilter);
		gEnetLogFilter = NULL;
	}
	if (!gFilterDetached)
		msleep((caddr_t)&gFilterDetached, NULL, PZERO, "enetlog", &ts);
	if (!gFilterDetached)
		return KERN_FAILURE;	/* kextunload again later */

	printf("enetlog: in %u frames %u bytes, out %u frames %u bytes\n",
	    gEnetLogStats.es_in_frames, gEnetLogStats.es_in_bytes,
	    gEnetLogStats.es_out_frames, gEnetLogStats.es_out_bytes);
	OSFree(gClientCount, sizeof(u_int32_t), gEnetLogTag);
	gClientCount = NULL;
	OSMalloc_Tagfree(gEnetLogTag);
	gEnetLogTag = NULL;
	enetlog_free_locks();
	return KERN_SUCCESS;
}
