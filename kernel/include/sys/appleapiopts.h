/*
 * <sys/appleapiopts.h> -- the API stability markers Darwin's headers
 * bracket their declarations with (__APPLE_API_UNSTABLE, ...).  Finch's
 * headers do not use them; they are defined so that source which tests
 * or sets them builds unchanged.
 */
#ifndef _SYS_APPLEAPIOPTS_H_
#define _SYS_APPLEAPIOPTS_H_

#ifndef __APPLE_API_STANDARD
#define __APPLE_API_STANDARD
#endif
#ifndef __APPLE_API_STABLE
#define __APPLE_API_STABLE
#endif
#ifndef __APPLE_API_STRICT_CONFORMANCE
#ifndef __APPLE_API_EVOLVING
#define __APPLE_API_EVOLVING
#endif
#ifndef __APPLE_API_UNSTABLE
#define __APPLE_API_UNSTABLE
#endif
#ifndef __APPLE_API_PRIVATE
#define __APPLE_API_PRIVATE
#endif
#ifndef __APPLE_API_OBSOLETE
#define __APPLE_API_OBSOLETE
#endif
#endif /* __APPLE_API_STRICT_CONFORMANCE */

#endif /* _SYS_APPLEAPIOPTS_H_ */
