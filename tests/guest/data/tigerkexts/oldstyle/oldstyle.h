/*
 * oldstyle.h
 */
#ifndef _OLDSTYLE_H_
#define _OLDSTYLE_H_

#include <sys/queue.h>

struct os_event {
	TAILQ_ENTRY(os_event)	ev_link;
	int			ev_kind;
	struct timeval		ev_when;
};
TAILQ_HEAD(os_event_list, os_event);

/* defined in every file that includes this: one common symbol */
__private_extern__ int			gOldStyleEvents;
__private_extern__ struct os_event_list	gOldStyleList;
__private_extern__ lck_rw_t		*gOldStyleLock;

__private_extern__ void	os_record __P((int kind));
__private_extern__ int	os_drain __P((void));

#endif /* _OLDSTYLE_H_ */
