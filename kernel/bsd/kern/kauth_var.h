/*
 * The kernel's view of a credential (XNU: struct ucred in sys/ucred.h,
 * private).  Finch has one: the root credential every kernel thread
 * runs with.  Kexts see only kauth_cred_t (<sys/kauth.h>).
 */
#ifndef _BSD_KERN_KAUTH_VAR_H_
#define _BSD_KERN_KAUTH_VAR_H_

#include <sys/types.h>
#include <libkern/OSTypes.h>

struct ucred {
	volatile SInt32	cr_ref;		/* references; atomic */
	uid_t		cr_uid;		/* effective user */
	uid_t		cr_ruid;	/* real user */
	gid_t		cr_gid;		/* effective group */
	gid_t		cr_rgid;	/* real group */
};

/* The kernel's credential: root.  Its first reference is the kernel's
 * own and is never dropped. */
extern struct ucred kauth_cred0;

#endif /* _BSD_KERN_KAUTH_VAR_H_ */
