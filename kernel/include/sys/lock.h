/*
 * <sys/lock.h> -- the BSD side's name for the locking KPI: lock groups,
 * mutexes, spin and read-write locks are all in <kern/locks.h>.
 */
#ifndef _SYS_LOCK_H_
#define _SYS_LOCK_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <kern/locks.h>

#endif /* _SYS_LOCK_H_ */
