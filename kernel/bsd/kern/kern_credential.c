/*
 * Credentials (<sys/kauth.h>): who the caller is.  Until Finch has user
 * processes every thread is the kernel's and carries the root
 * credential, kauth_cred0, so these calls all answer "root".  References
 * are counted all the same, so that a kext that drops one it never took
 * is caught here rather than on a Mac.
 */
#include <sys/systm.h>
#include <sys/kauth.h>
#include <sys/proc.h>
#include <libkern/OSAtomic.h>
#include <bsd/kern/kauth_var.h>

struct ucred kauth_cred0 = {
	.cr_ref = 1,
	.cr_uid = 0,
	.cr_ruid = 0,
	.cr_gid = 0,
	.cr_rgid = 0,
};

kauth_cred_t
kauth_cred_get(void)
{
	return &kauth_cred0;
}

kauth_cred_t
kauth_cred_get_with_ref(void)
{
	kauth_cred_t cred = kauth_cred_get();

	kauth_cred_ref(cred);
	return cred;
}

kauth_cred_t
kauth_cred_proc_ref(proc_t procp)
{
	kauth_cred_t cred = proc_ucred(procp);

	kauth_cred_ref(cred);
	return cred;
}

void
kauth_cred_ref(kauth_cred_t cred)
{
	if (cred == NOCRED)
		panic("kauth_cred_ref: NULL credential");
	OSIncrementAtomic(&cred->cr_ref);
}

void
kauth_cred_rele(kauth_cred_t cred)
{
	if (cred == NOCRED)
		panic("kauth_cred_rele: NULL credential");
	/* The last reference is the kernel's own: nobody else may drop it. */
	if (OSDecrementAtomic(&cred->cr_ref) <= 1)
		panic("kauth_cred_rele: credential %p released more often than "
		    "referenced (kauth_cred_get does not take a reference)",
		    cred);
}

void
kauth_cred_unref(kauth_cred_t *credp)
{
	kauth_cred_rele(*credp);
	*credp = NOCRED;
}

uid_t
kauth_cred_getuid(kauth_cred_t cred)
{
	return cred->cr_uid;
}

gid_t
kauth_cred_getgid(kauth_cred_t cred)
{
	return cred->cr_gid;
}

int
kauth_cred_ismember_gid(kauth_cred_t cred, gid_t gid, int *resultp)
{
	if (cred == NOCRED || resultp == NULL)
		return EINVAL;
	*resultp = cred->cr_gid == gid || cred->cr_rgid == gid;
	return 0;
}

int
kauth_cred_issuser(kauth_cred_t cred)
{
	return cred->cr_uid == 0;
}

uid_t
kauth_getuid(void)
{
	return kauth_cred_get()->cr_uid;
}

uid_t
kauth_getruid(void)
{
	return kauth_cred_get()->cr_ruid;
}

gid_t
kauth_getgid(void)
{
	return kauth_cred_get()->cr_gid;
}

gid_t
kauth_getrgid(void)
{
	return kauth_cred_get()->cr_rgid;
}
