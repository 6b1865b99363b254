/*
 * <sys/cdefs.h> -- compiler glue shared by the kernel and kexts:
 * C/C++ linkage brackets and the attribute shorthands BSD code uses.
 */
#ifndef _SYS_CDEFS_H_
#define _SYS_CDEFS_H_

#ifdef __cplusplus
#define __BEGIN_DECLS	extern "C" {
#define __END_DECLS	}
#else
#define __BEGIN_DECLS
#define __END_DECLS
#endif

#define __dead2		__attribute__((__noreturn__))
#define __pure2		__attribute__((__const__))
#define __unused	__attribute__((__unused__))
#define __used		__attribute__((__used__))
#define __packed	__attribute__((__packed__))
#define __aligned(x)	__attribute__((__aligned__(x)))
#define __section(x)	__attribute__((__section__(x)))
#define __printflike(fmtarg, firstvararg) \
	__attribute__((__format__(__printf__, fmtarg, firstvararg)))
#define __predict_true(exp)	__builtin_expect(!!(exp), 1)
#define __predict_false(exp)	__builtin_expect(!!(exp), 0)

/* Cast away volatile (for APIs that take a plain pointer). */
#define __DEVOLATILE(type, var)	((type)(uintptr_t)(volatile void *)(var))

#define __CONCAT(x, y)	x ## y
#define __STRING(x)	#x

#endif /* _SYS_CDEFS_H_ */
