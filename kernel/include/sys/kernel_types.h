/*
 * <sys/kernel_types.h> -- the opaque handles of the BSD KPI that belong
 * to no one header: a process (proc_t) and a credential (kauth_cred_t).
 * Kexts never see inside them.
 */
#ifndef _SYS_KERNEL_TYPES_H_
#define _SYS_KERNEL_TYPES_H_

#include <sys/types.h>

typedef struct proc	*proc_t;
typedef struct ucred	*kauth_cred_t;

#define PROC_NULL	((proc_t)0)
#define NOCRED		((kauth_cred_t)0)

#endif /* _SYS_KERNEL_TYPES_H_ */
