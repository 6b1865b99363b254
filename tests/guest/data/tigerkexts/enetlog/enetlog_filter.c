/*
 * enetlog_filter.c -- the interface filter's callbacks: count and pass.
 */
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/param.h>
#include <sys/mbuf.h>
#include <sys/kern_event.h>
#include <kern/locks.h>
#include <net/kpi_interface.h>
#include <net/kpi_interfacefilter.h>
#include <net/ethernet.h>

#include "enetlog.h"

struct enetlog_stats gEnetLogStats;

errno_t
enetlog_input(void *cookie, ifnet_t ifp, protocol_family_t protocol,
    mbuf_t *data, char **frame_ptr)
{
#pragma unused(cookie, ifp, protocol)
	struct ether_header *eh = (struct ether_header *)*frame_ptr;

	lck_mtx_lock(gEnetLogMutex);
	gEnetLogStats.es_in_frames++;
	gEnetLogStats.es_in_bytes += mbuf_pkthdr_len(*data) + ETHER_HDR_LEN;
	switch (ntohs(eh->ether_type)) {
	case ETHERTYPE_IP:
		gEnetLogStats.es_in_ip++;
		break;
	case ETHERTYPE_ARP:
		gEnetLogStats.es_in_arp++;
		break;
	}
	lck_mtx_unlock(gEnetLogMutex);
	return 0;
}

errno_t
enetlog_output(void *cookie, ifnet_t ifp, protocol_family_t protocol, mbuf_t *data)
{
#pragma unused(cookie, ifp, protocol)
	lck_mtx_lock(gEnetLogMutex);
	gEnetLogStats.es_out_frames++;
	gEnetLogStats.es_out_bytes += mbuf_pkthdr_len(*data);
	lck_mtx_unlock(gEnetLogMutex);
	return 0;
}

void
enetlog_event(void *cookie, ifnet_t ifp, protocol_family_t protocol,
    const struct kev_msg *event_msg)
{
#pragma unused(cookie, ifp, protocol)
	if (event_msg->event_code == KEV_DL_LINK_OFF)
		log(LOG_NOTICE, "enetlog: link went down\n");
}

errno_t
enetlog_ioctl(void *cookie, ifnet_t ifp, protocol_family_t protocol,
    u_long ioctl_cmd, void *ioctl_arg)
{
#pragma unused(cookie, ifp, protocol, ioctl_cmd, ioctl_arg)
	return EOPNOTSUPP;
}
