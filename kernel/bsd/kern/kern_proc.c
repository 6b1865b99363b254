/*
 * Processes (<sys/proc.h>).  Finch has no user processes yet: there is
 * one, the kernel's (pid 0, "kernel_task"), and every thread belongs to
 * it, as a kernel thread does on Mac OS X.  So these calls answer for
 * proc0 whatever thread calls them.  References are counted, and
 * dropping one never taken panics, so that a kext's mistake shows here.
 */
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/kauth.h>
#include <libkern/OSAtomic.h>
#include <bsd/kern/kauth_var.h>

struct proc {
	volatile SInt32	p_ref;		/* references; the first is proc0's own */
	int		p_pid;
	int		p_ppid;
	kauth_cred_t	p_ucred;	/* never changes */
	char		p_comm[MAXCOMLEN + 1];
};

static struct proc proc0 = {
	.p_ref = 1,
	.p_pid = 0,
	.p_ppid = 0,
	.p_ucred = &kauth_cred0,
	.p_comm = "kernel_task",
};

proc_t kernproc = &proc0;

proc_t
current_proc(void)
{
	return kernproc;
}

int
proc_selfpid(void)
{
	return proc_pid(current_proc());
}

int
proc_selfppid(void)
{
	return proc_ppid(current_proc());
}

void
proc_selfname(char *buf, int size)
{
	proc_name(proc_selfpid(), buf, size);
}

void
proc_name(int pid, char *buf, int size)
{
	proc_t p = proc_find(pid);

	if (p == PROC_NULL)
		return;
	if (buf != NULL && size > 0)
		strlcpy(buf, p->p_comm, size);
	proc_rele(p);
}

proc_t
proc_self(void)
{
	proc_t p = current_proc();

	OSIncrementAtomic(&p->p_ref);
	return p;
}

proc_t
proc_find(int pid)
{
	if (pid != proc0.p_pid)
		return PROC_NULL;
	OSIncrementAtomic(&proc0.p_ref);
	return &proc0;
}

int
proc_rele(proc_t p)
{
	if (p == PROC_NULL)
		panic("proc_rele: NULL process");
	if (OSDecrementAtomic(&p->p_ref) <= 1)
		panic("proc_rele: process %d released more often than "
		    "referenced (current_proc does not take a reference)",
		    p->p_pid);
	return 0;
}

int
proc_pid(proc_t p)
{
	return p->p_pid;
}

int
proc_ppid(proc_t p)
{
	return p->p_ppid;
}

int
proc_exiting(proc_t p)
{
	return 0;
}

int
proc_is64bit(proc_t p)
{
	return 0;
}

int
proc_suser(proc_t p)
{
	return kauth_cred_issuser(p->p_ucred) ? 0 : EPERM;
}

int
proc_isinferior(int pid1, int pid2)
{
	/* Only pid 0 exists, and it is nobody's child. */
	return 0;
}

int
proc_noremotehang(proc_t p)
{
	return 0;
}

int
proc_forcequota(proc_t p)
{
	return 0;
}

int
proc_tbe(proc_t p)
{
	return 0;
}

kauth_cred_t
proc_ucred(proc_t p)
{
	return p->p_ucred;
}
