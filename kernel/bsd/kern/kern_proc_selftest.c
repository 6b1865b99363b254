/*
 * Unit tests for the process, credential and timeval KPI (`selftest
 * proc`, `selftest kauth`, `selftest timeval`): every thread is the
 * kernel's, pid 0, root; references balance; timevals normalize.
 */
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/kauth.h>
#include <sys/time.h>
#include <kern/selftest.h>

static int
test_proc_self(void)
{
	char name[MAXCOMLEN + 1];
	proc_t p;

	ST_ASSERT(proc_selfpid() == 0 && proc_selfppid() == 0);
	proc_selfname(name, sizeof(name));
	ST_ASSERT(strcmp(name, "kernel_task") == 0);
	proc_selfname(name, 7);
	ST_ASSERT(strcmp(name, "kernel") == 0);

	p = proc_self();
	ST_ASSERT(p == current_proc() && p == kernproc && proc_pid(p) == 0);
	ST_ASSERT(proc_suser(p) == 0 && !proc_is64bit(p) && !proc_exiting(p));
	ST_ASSERT(proc_rele(p) == 0);

	ST_ASSERT(proc_find(1) == PROC_NULL);
	strlcpy(name, "untouched", sizeof(name));
	proc_name(42, name, sizeof(name));
	ST_ASSERT(strcmp(name, "untouched") == 0);
	return 0;
}
SELFTEST(proc_self, test_proc_self);

static int
test_kauth_root(void)
{
	kauth_cred_t cred;
	int member;

	ST_ASSERT(kauth_getuid() == 0 && kauth_getruid() == 0);
	ST_ASSERT(kauth_getgid() == 0 && kauth_getrgid() == 0);
	cred = kauth_cred_get();
	ST_ASSERT(kauth_cred_issuser(cred) && kauth_cred_getuid(cred) == 0);
	ST_ASSERT(kauth_cred_ismember_gid(cred, 0, &member) == 0 && member);
	ST_ASSERT(kauth_cred_ismember_gid(cred, 20, &member) == 0 && !member);
	ST_ASSERT(kauth_cred_ismember_gid(NOCRED, 0, &member) == EINVAL);

	cred = kauth_cred_proc_ref(kernproc);
	ST_ASSERT(cred == proc_ucred(kernproc));
	kauth_cred_unref(&cred);
	ST_ASSERT(cred == NOCRED);
	cred = kauth_cred_get_with_ref();
	kauth_cred_rele(cred);
	return 0;
}
SELFTEST(kauth_root, test_kauth_root);

static int
test_timeval_arithmetic(void)
{
	struct timeval a = { 1, 900000 }, b = { 0, 200000 }, tv;

	timevaladd(&a, &b);
	ST_ASSERT(a.tv_sec == 2 && a.tv_usec == 100000);
	timevalsub(&a, &b);
	timevalsub(&a, &b);
	ST_ASSERT(a.tv_sec == 1 && a.tv_usec == 700000);
	tv.tv_sec = 0;
	tv.tv_usec = -1;
	timevalfix(&tv);
	ST_ASSERT(tv.tv_sec == -1 && tv.tv_usec == 999999);

	tv.tv_sec = 1;
	tv.tv_usec = 0;
	ST_ASSERT(tvtohz(&tv) == hz);
	tv.tv_sec = 0;
	tv.tv_usec = 1;
	ST_ASSERT(tvtohz(&tv) == 1);	/* rounded up: never early */
	tv.tv_usec = -5;
	ST_ASSERT(tvtohz(&tv) == 1);
	return 0;
}
SELFTEST(timeval_arithmetic, test_timeval_arithmetic);
