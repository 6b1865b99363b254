/*
 * ipfilter.c -- a small IPv4 firewall in the manner of the Tiger IP filter
 * samples: it counts the datagrams it sees per protocol and, while the
 * control says so, drops inbound ICMP echo replies and TCP SYNs to a port.
 */
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/param.h>
#include <sys/kernel.h>
#include <sys/mbuf.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_control.h>
#include <kern/locks.h>
#include <libkern/OSAtomic.h>
#include <netinet/in.h>
#include <netinet/in_systm.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/kpi_ipfilter.h>

#define IPFILTER_NAME		"com.example.tiger.ipfilter"
#define IPFILTER_BLOCK_PING	1	/* setsockopt: int, non-zero to drop */
#define IPFILTER_BLOCK_PORT	2	/* setsockopt: int, TCP port, 0 none */
#define IPFILTER_STATS		3	/* getsockopt: struct ipfilter_stats */

struct ipfilter_stats {
	u_int32_t	in_icmp;
	u_int32_t	in_tcp;
	u_int32_t	in_udp;
	u_int32_t	out_total;
	u_int32_t	dropped;
};

kern_return_t ipfilter_start(kmod_info_t *ki, void *d);
kern_return_t ipfilter_stop(kmod_info_t *ki, void *d);

static struct ipfilter_stats	gStats;
static volatile SInt32		gBlockPing = 0;
static volatile SInt32		gBlockPort = 0;
static ipfilter_t		gFilterRef = NULL;
static kern_ctl_ref		gCtlRef = NULL;
static boolean_t		gDetached = FALSE;
static lck_grp_t		*gLockGrp = NULL;
static lck_mtx_t		*gLock = NULL;

#pragma mark -
#pragma mark IP filter

static errno_t
ipfilter_input(void *cookie, mbuf_t *data, int offset, u_int8_t protocol)
{
#pragma unused(cookie)
	struct icmp icmp;
	struct tcphdr th;

	switch (protocol) {
	case IPPROTO_ICMP:
		OSIncrementAtomic((SInt32 *)&gStats.in_icmp);
		if (gBlockPing && mbuf_copydata(*data, offset, ICMP_MINLEN, &icmp) == 0 &&
		    icmp.icmp_type == ICMP_ECHOREPLY)
			goto drop;
		break;
	case IPPROTO_TCP:
		OSIncrementAtomic((SInt32 *)&gStats.in_tcp);
		if (gBlockPort != 0 && mbuf_copydata(*data, offset, sizeof(th), &th) == 0 &&
		    (th.th_flags & (TH_SYN | TH_ACK)) == TH_SYN &&
		    ntohs(th.th_dport) == gBlockPort)
			goto drop;
		break;
	case IPPROTO_UDP:
		OSIncrementAtomic((SInt32 *)&gStats.in_udp);
		break;
	}
	return 0;
drop:
	OSIncrementAtomic((SInt32 *)&gStats.dropped);
	return EPERM;	/* the stack frees it */
}

static errno_t
ipfilter_output(void *cookie, mbuf_t *data, ipf_pktopts_t options)
{
#pragma unused(cookie, data, options)
	OSIncrementAtomic((SInt32 *)&gStats.out_total);
	return 0;
}

static void
ipfilter_detach(void *cookie)
{
#pragma unused(cookie)
	lck_mtx_lock(gLock);
	gDetached = TRUE;
	lck_mtx_unlock(gLock);
	wakeup(&gDetached);
}

static struct ipf_filter gFilter = {
	NULL,			/* cookie */
	IPFILTER_NAME,		/* name */
	ipfilter_input,
	ipfilter_output,
	ipfilter_detach
};

#pragma mark -
#pragma mark Kernel control

static errno_t
ctl_connect_fn(kern_ctl_ref ref, struct sockaddr_ctl *sac, void **unitinfo)
{
#pragma unused(ref, sac, unitinfo)
	return 0;
}

static errno_t
ctl_setopt_fn(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt, void *data,
    size_t len)
{
#pragma unused(ref, unit, unitinfo)
	int value;

	if (len < sizeof(int))
		return EINVAL;
	value = *(int *)data;
	switch (opt) {
	case IPFILTER_BLOCK_PING:
		OSCompareAndSwap(gBlockPing, value != 0, (volatile UInt32 *)&gBlockPing);
		return 0;
	case IPFILTER_BLOCK_PORT:
		if (value < 0 || value > 65535)
			return EINVAL;
		gBlockPort = value;
		return 0;
	}
	return ENOTSUP;
}

static errno_t
ctl_getopt_fn(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt, void *data,
    size_t *len)
{
#pragma unused(ref, unit, unitinfo)
	if (opt != IPFILTER_STATS)
		return ENOTSUP;
	if (data != NULL) {
		if (*len < sizeof(gStats))
			return EINVAL;
		bcopy(&gStats, data, sizeof(gStats));
	}
	*len = sizeof(gStats);
	return 0;
}

static struct kern_ctl_reg gCtlReg = {
	IPFILTER_NAME, 0, 0, 0, 0, 0,
	ctl_connect_fn, NULL, NULL, ctl_setopt_fn, ctl_getopt_fn
};

#pragma mark -
#pragma mark Start and stop

kern_return_t
ipfilter_start(kmod_info_t *ki, void *d)
{
#pragma unused(ki, d)
	ipfilter_t v6;
	errno_t err;

	gLockGrp = lck_grp_alloc_init(IPFILTER_NAME, LCK_GRP_ATTR_NULL);
	if (gLockGrp == NULL)
		return KERN_FAILURE;
	gLock = lck_mtx_alloc_init(gLockGrp, LCK_ATTR_NULL);
	if (gLock == NULL)
		goto fail;

	err = ipf_addv4(&gFilter, &gFilterRef);
	if (err != 0) {
		printf("ipfilter: ipf_addv4 returned %d\n", err);
		goto fail;
	}
	if (ipf_addv6(&gFilter, &v6) == 0)	/* not on a host without IPv6 */
		ipf_remove(v6);
	err = ctl_register(&gCtlReg, &gCtlRef);
	if (err != 0) {
		printf("ipfilter: ctl_register returned %d\n", err);
		ipf_remove(gFilterRef);
		gFilterRef = NULL;
		goto fail;
	}
	printf("ipfilter: filtering IPv4, control %s\n", IPFILTER_NAME);
	return KERN_SUCCESS;
fail:
	if (gLock != NULL)
		lck_mtx_free(gLock, gLockGrp);
	lck_grp_free(gLockGrp);
	return KERN_FAILURE;
}

kern_return_t
ipfilter_stop(kmod_info_t *ki, void *d)
{
#pragma unused(ki, d)
	struct timespec ts = { 1, 0 };

	if (gCtlRef != NULL) {
		if (ctl_deregister(gCtlRef) != 0)
			return KERN_FAILURE;
		gCtlRef = NULL;
	}
	if (gFilterRef != NULL) {
		ipf_remove(gFilterRef);		/* ipf_detach follows */
		gFilterRef = NULL;
	}
	lck_mtx_lock(gLock);
	if (!gDetached)
		msleep(&gDetached, gLock, PZERO, "ipfilter", &ts);
	if (!gDetached) {
		lck_mtx_unlock(gLock);
		return KERN_FAILURE;
	}
	lck_mtx_unlock(gLock);
	printf("ipfilter: stopped; icmp %u tcp %u udp %u in, %u out, %u dropped\n",
	    gStats.in_icmp, gStats.in_tcp, gStats.in_udp, gStats.out_total, gStats.dropped);
	lck_mtx_free(gLock, gLockGrp);
	lck_grp_free(gLockGrp);
	return KERN_SUCCESS;
}
