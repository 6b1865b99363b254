/*
 * <sys/proc.h> -- the process KPI: who is running the code that calls
 * you.  Finch has no user processes yet: every thread belongs to the
 * kernel's process, "kernel_task", pid 0, with the root credential, as a
 * kernel thread does on Mac OS X.  A socket filter called for the host
 * link's sockets or an in-kernel socket therefore sees pid 0.  The code
 * is bsd/kern/kern_proc.c.
 */
#ifndef _SYS_PROC_H_
#define _SYS_PROC_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/param.h>
#include <sys/kernel_types.h>
#include <sys/queue.h>
#include <sys/time.h>

__BEGIN_DECLS

/* The kernel's process, pid 0. */
extern proc_t	kernproc;

/* The calling thread's process (not referenced): kernproc in Finch. */
proc_t	current_proc(void);

/* The pid and parent's pid of the caller's process: 0 and 0. */
int	proc_selfpid(void);
int	proc_selfppid(void);

/* Copy the caller's process name ("kernel_task") into buf, truncated to
 * size - 1 bytes and NUL-terminated (nothing when size <= 0). */
void	proc_selfname(char *buf, int size);

/* The same for process `pid`; buf is left untouched when no such
 * process exists (any pid but 0). */
void	proc_name(int pid, char *buf, int size);

/*
 * A referenced process: the caller's (proc_self) or the one with `pid`
 * (proc_find; PROC_NULL if there is none).  Give each back with
 * proc_rele (which returns 0).  Never sleep.
 */
proc_t	proc_self(void);
proc_t	proc_find(int pid);
int	proc_rele(proc_t p);

/* A process's pid and parent's pid. */
int	proc_pid(proc_t p);
int	proc_ppid(proc_t p);

/* Whether the process is exiting (0: no), runs 64-bit code (0), is
 * root: proc_suser returns 0 when it is, EPERM when not. */
int	proc_exiting(proc_t p);
int	proc_is64bit(proc_t p);
int	proc_suser(proc_t p);

/* Whether pid1 descends from pid2 (1) or not (0). */
int	proc_isinferior(int pid1, int pid2);

/* NFS and quota hints a process may carry: none in Finch (0). */
int	proc_noremotehang(proc_t p);
int	proc_forcequota(proc_t p);
int	proc_tbe(proc_t p);

/* The process's credential, not referenced: valid while p is. */
kauth_cred_t	proc_ucred(proc_t p);

__END_DECLS

#endif /* _SYS_PROC_H_ */
