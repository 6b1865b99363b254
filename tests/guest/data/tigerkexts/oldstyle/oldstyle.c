/*
 * oldstyle.c -- a kext written before the KPI settled: it links against
 * com.apple.kernel.*, declares its own kmod_info, and reports, when it
 * starts, who runs it and what time it is.
 */
#include <mach/mach_types.h>
#include <sys/systm.h>
#include <sys/param.h>
#include <sys/kernel.h>
#include <sys/proc.h>
#include <sys/kauth.h>
#include <sys/time.h>
#include <sys/syslog.h>
#include <sys/socket.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <kern/clock.h>
#include <kern/debug.h>
#include <kern/assert.h>
#include <libkern/libkern.h>
#include <libkern/OSAtomic.h>
#include <netinet/in.h>

#include "oldstyle.h"

static kern_return_t oldstyle_start __P((kmod_info_t *, void *));
static kern_return_t oldstyle_stop __P((kmod_info_t *, void *));

KMOD_EXPLICIT_DECL(com.example.tiger.oldstyle, "1.2.0", oldstyle_start, oldstyle_stop)

static lck_grp_attr_t	*grp_attr;
static lck_grp_t	*grp;
static volatile UInt32	flags;
static volatile SInt32	fired;
static char		*scratch;	/* MALLOC'ed, the 10.3 way */

#define OS_STARTED	0x1
#define OS_TIMED	0x2

static void
oldstyle_tick(void *arg)
{
	OSIncrementAtomic((volatile SInt32 *)arg);
	os_record(2);
}

static void
oldstyle_report(void)
{
	char name[MAXCOMLEN + 1], line[128], addr[INET6_ADDRSTRLEN];
	struct in_addr a4;
	struct in6_addr a6;
	struct timeval tv, up;
	struct timespec ts;
	uint64_t now, ns;
	uint32_t secs, usecs;
	kauth_cred_t cred;
	proc_t p;

	proc_selfname(name, sizeof(name));
	cred = kauth_cred_get();
	printf("oldstyle: pid %d (%s) ppid %d uid %d gid %d root %d suser %d\n",
	    proc_selfpid(), name, proc_selfppid(), kauth_getuid(), kauth_getgid(),
	    kauth_cred_issuser(cred), proc_suser(current_proc()));

	p = proc_self();
	cred = kauth_cred_proc_ref(p);
	assert(kauth_cred_getuid(cred) == 0);
	kauth_cred_unref(&cred);
	proc_rele(p);

	a4.s_addr = htonl(0x0a00020f);
	strlcpy(line, "oldstyle: addresses ", sizeof(line));
	strlcat(line, inet_ntop(AF_INET, &a4, addr, sizeof(addr)), sizeof(line));
	bzero(&a6, sizeof(a6));
	a6.s6_addr[0] = 0xfe;
	a6.s6_addr[1] = 0x80;
	a6.s6_addr[15] = 1;
	strlcat(line, " ", sizeof(line));
	strlcat(line, inet_ntop(AF_INET6, &a6, addr, sizeof(addr)), sizeof(line));
	printf("%s\n", line);

	microtime(&tv);
	microuptime(&up);
	nanotime(&ts);
	clock_get_uptime(&now);
	absolutetime_to_nanoseconds(now, &ns);
	clock_get_calendar_microtime(&secs, &usecs);
	assert(timerisset(&up) && ns > 0);
	log(LOG_NOTICE, "oldstyle: up %ld.%06d s, %u clock ticks a second", (long)up.tv_sec,
	    (int)up.tv_usec, hz);
}

#pragma mark -
#pragma mark start/stop

static kern_return_t
oldstyle_start(kmod_info_t *ki, void *data)
{
#pragma unused(data)
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	assert(ki != NULL);
	grp_attr = lck_grp_attr_alloc_init();
	lck_grp_attr_setdefault(grp_attr);
	grp = lck_grp_alloc_init("oldstyle", grp_attr);
	gOldStyleLock = lck_rw_alloc_init(grp, LCK_ATTR_NULL);
	TAILQ_INIT(&gOldStyleList);

	MALLOC(scratch, char *, 512, M_TEMP, M_WAITOK | M_ZERO);
	if (scratch == NULL)
		return KERN_FAILURE;
	snprintf(scratch, 512, "oldstyle: scratch of %d bytes from MALLOC", 512);
	printf("%s, zeroed %d\n", scratch, scratch[511] == 0);
	OSBitOrAtomic(OS_STARTED, &flags);
	oldstyle_report();
	os_record(1);
	bsd_timeout(oldstyle_tick, (void *)&fired, &ts);
	OSBitOrAtomic(OS_TIMED, &flags);
	return KERN_SUCCESS;
}

static kern_return_t
oldstyle_stop(kmod_info_t *ki, void *data)
{
#pragma unused(ki, data)
	int n;

	bsd_untimeout(oldstyle_tick, (void *)&fired);
	n = os_drain();
	printf("oldstyle: stopping after %d events (%d timeouts), flags %#x\n", n,
	    (int)fired, (unsigned)flags);
	FREE(scratch, M_TEMP);
	scratch = NULL;
	lck_rw_free(gOldStyleLock, grp);
	lck_grp_free(grp);
	lck_grp_attr_free(grp_attr);
	return KERN_SUCCESS;
}
