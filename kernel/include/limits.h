/*
 * <limits.h> -- the ranges of the integer types, from the compiler's own
 * knowledge (i386: int and long are 32 bits), for the kernel and kexts.
 * Darwin's kernel headers get them from <machine/limits.h>, which is
 * this file too.
 */
#ifndef _LIMITS_H_
#define _LIMITS_H_

#define CHAR_BIT	__CHAR_BIT__
#define SCHAR_MAX	__SCHAR_MAX__
#define SCHAR_MIN	(-SCHAR_MAX - 1)
#define UCHAR_MAX	(SCHAR_MAX * 2 + 1)
#ifdef __CHAR_UNSIGNED__
#define CHAR_MIN	0
#define CHAR_MAX	UCHAR_MAX
#else
#define CHAR_MIN	SCHAR_MIN
#define CHAR_MAX	SCHAR_MAX
#endif
#define SHRT_MAX	__SHRT_MAX__
#define SHRT_MIN	(-SHRT_MAX - 1)
#define USHRT_MAX	(SHRT_MAX * 2 + 1)
#define INT_MAX		__INT_MAX__
#define INT_MIN		(-INT_MAX - 1)
#define UINT_MAX	(INT_MAX * 2U + 1U)
#define LONG_MAX	__LONG_MAX__
#define LONG_MIN	(-LONG_MAX - 1L)
#define ULONG_MAX	(LONG_MAX * 2UL + 1UL)
#define LLONG_MAX	__LONG_LONG_MAX__
#define LLONG_MIN	(-LLONG_MAX - 1LL)
#define ULLONG_MAX	(LLONG_MAX * 2ULL + 1ULL)

/* BSD's names for the 64-bit ones. */
#define QUAD_MAX	LLONG_MAX
#define QUAD_MIN	LLONG_MIN
#define UQUAD_MAX	ULLONG_MAX

#define SSIZE_MAX	INT_MAX		/* the largest ssize_t */
#define SIZE_T_MAX	UINT_MAX	/* the largest size_t */

#endif /* _LIMITS_H_ */
