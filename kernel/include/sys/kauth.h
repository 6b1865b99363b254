/*
 * <sys/kauth.h> -- credentials: who the caller is (uid, gid) and whether
 * it is root.  Finch's threads are all the kernel's, so the caller is
 * always root (uid 0, gid 0); a socket opened by an unprivileged client
 * says so through sock_setpriv, not through a credential.  Only the
 * credential calls of Mac OS X 10.4's kauth are here, not its
 * authorization scopes (kauth_listen_scope, ...).  The code is
 * bsd/kern/kern_credential.c.
 */
#ifndef _SYS_KAUTH_H_
#define _SYS_KAUTH_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kernel_types.h>

__BEGIN_DECLS

/* The caller's effective and real uid and gid.  Never sleep. */
uid_t	kauth_getuid(void);
uid_t	kauth_getruid(void);
gid_t	kauth_getgid(void);
gid_t	kauth_getrgid(void);

/* The caller's credential: not referenced (valid for the call), or with
 * a reference to give back with kauth_cred_unref. */
kauth_cred_t	kauth_cred_get(void);
kauth_cred_t	kauth_cred_get_with_ref(void);

/* Process p's credential, referenced. */
kauth_cred_t	kauth_cred_proc_ref(proc_t procp);

/* Take and drop a reference: kauth_cred_rele is Mac OS X 10.4's name,
 * kauth_cred_unref (which also sets *credp to NOCRED) the later one.
 * Dropping more references than were taken panics.  Never sleep. */
void	kauth_cred_ref(kauth_cred_t cred);
void	kauth_cred_rele(kauth_cred_t cred);
void	kauth_cred_unref(kauth_cred_t *credp);

/* A credential's uid and gid. */
uid_t	kauth_cred_getuid(kauth_cred_t cred);
gid_t	kauth_cred_getgid(kauth_cred_t cred);

/* *resultp = 1 if the credential is in group gid, else 0; returns 0 (or
 * EINVAL for a NULL credential or resultp). */
int	kauth_cred_ismember_gid(kauth_cred_t cred, gid_t gid, int *resultp);

/* Non-zero if the credential is root's (uid 0).  In
 * com.apple.kpi.unsupported, as on Mac OS X. */
int	kauth_cred_issuser(kauth_cred_t cred);

__END_DECLS

#endif /* _SYS_KAUTH_H_ */
