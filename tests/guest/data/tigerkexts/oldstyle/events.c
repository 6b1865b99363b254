/*
 * events.c -- the kext's event list.
 */
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/param.h>
#include <sys/lock.h>
#include <kern/locks.h>
#include <libkern/OSMalloc.h>

#include "oldstyle.h"

static OSMallocTag os_tag;

void
os_record(int kind)
{
	struct os_event *ev;

	if (os_tag == NULL)
		os_tag = OSMalloc_Tagalloc("com.example.tiger.oldstyle", OSMT_DEFAULT);
	ev = (struct os_event *)OSMalloc_noblock(sizeof(*ev), os_tag);
	if (ev == NULL)
		return;
	ev->ev_kind = kind;
	microtime(&ev->ev_when);
	lck_rw_lock_exclusive(gOldStyleLock);
	TAILQ_INSERT_TAIL(&gOldStyleList, ev, ev_link);
	gOldStyleEvents++;
	lck_rw_unlock_exclusive(gOldStyleLock);
}

int
os_drain(void)
{
	struct os_event *ev;
	int n = 0;

	lck_rw_lock_exclusive(gOldStyleLock);
	while ((ev = TAILQ_FIRST(&gOldStyleList)) != NULL) {
		TAILQ_REMOVE(&gOldStyleList, ev, ev_link);
		OSFree(ev, sizeof(*ev), os_tag);
		n++;
	}
	lck_rw_unlock_exclusive(gOldStyleLock);
	if (os_tag != NULL)
		OSMalloc_Tagfree(os_tag);
	os_tag = NULL;
	return MAX(n, gOldStyleEvents);
}
