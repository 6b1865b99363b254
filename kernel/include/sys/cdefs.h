/*
 * <sys/cdefs.h> -- compiler glue shared by the kernel and kexts:
 * C/C++ linkage brackets and the attribute shorthands BSD code uses.
 */
#ifndef _SYS_CDEFS_H_
#define _SYS_CDEFS_H_

#include <sys/appleapiopts.h>

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

/*
 * Spellings older Darwin and BSD sources use.  __P() wrapped prototypes
 * for pre-ANSI compilers.  __private_extern__ was a keyword of Apple's
 * compiler: a global the linker keeps inside its kext (hidden), neither
 * extern nor a definition by itself, so that a header may declare a
 * variable every file shares (kexts build with -fcommon, as Xcode's did,
 * and get __private_extern__ from the compiler's command line, since
 * headers use it before including anything).
 */
#define __P(protos)	protos
#define __deprecated	__attribute__((__deprecated__))
#ifndef __private_extern__	/* kexts have it from the command line */
#define __private_extern__ __attribute__((__visibility__("hidden")))
#endif
#define __DARWIN_ALIAS(sym)
#define __DARWIN_INODE64(sym)
#define __DARWIN_1050(sym)
#define __IDSTRING(name, string)	static const char name[] __used = string
#define __RCSID(s)	__IDSTRING(__rcsid, s)
#define __COPYRIGHT(s)	__IDSTRING(__copyright, s)

#endif /* _SYS_CDEFS_H_ */
