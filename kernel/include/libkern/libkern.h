/*
 * <libkern/libkern.h> -- small library routines every kernel file and kext
 * may use: BSD byte functions, bit scans, formatted output into a buffer
 * or to the console, number parsing and min/max.  The code lives in
 * libkern/ (string.c, printf.c, strtol.c).  None of them sleeps.
 */
#ifndef _LIBKERN_LIBKERN_H_
#define _LIBKERN_LIBKERN_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <stdarg.h>

__BEGIN_DECLS

/*
 * BSD byte functions.  bcopy takes (src, dst) -- the reverse of memcpy --
 * and its regions may overlap.  bcmp returns 0 when the n bytes are equal
 * and nonzero otherwise (not an ordering).
 */
void	bcopy(const void *src, void *dst, size_t n);
void	bzero(void *dst, size_t n);
int	bcmp(const void *s1, const void *s2, size_t n);

/*
 * Bit scans, numbering bits from 1 at the least significant end:
 * ffs is the lowest set bit, fls the highest; both return 0 for 0.
 */
int	ffs(int mask);
int	fls(int mask);

/*
 * Formatted output.  The conversions are d i u o x X p s c %, with the
 * flags - 0 + space #, a width and a precision (either may be *), and the
 * sizes hh h l ll q z t j.  %p prints 0x and eight hex digits.  There is
 * no floating point and no %n.
 *
 * printf writes to the console and returns the number of characters.
 * It never sleeps and works with interrupts off.
 *
 * snprintf and vsnprintf write at most size bytes into buf, always
 * ending with a NUL when size > 0, and return the length the whole
 * output would have had: a result >= size means it was truncated.
 * sprintf has no bound and is deprecated: use snprintf.
 */
int	printf(const char *fmt, ...) __printflike(1, 2);
int	vprintf(const char *fmt, va_list ap) __printflike(1, 0);
int	snprintf(char *buf, size_t size, const char *fmt, ...)
	    __printflike(3, 4);
int	vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	    __printflike(3, 0);
int	sprintf(char *buf, const char *fmt, ...) __printflike(2, 3)
	    __attribute__((__deprecated__("use snprintf")));

/*
 * Parse an integer after optional white space and sign.  base 0 means
 * "like C": a 0x prefix is hexadecimal, a leading 0 octal, else decimal;
 * base 16 also accepts the 0x prefix.  Out-of-range values saturate
 * (LONG_MAX, LONG_MIN, ULONG_MAX).  If endptr is not NULL it receives
 * the address just past the last digit used, or nptr if there was none.
 */
long		strtol(const char *nptr, char **endptr, int base);
unsigned long	strtoul(const char *nptr, char **endptr, int base);

/* min and max, typed as in BSD: u_int, int, long and u_long. */
static inline u_int
min(u_int a, u_int b)
{
	return (a < b ? a : b);
}

static inline u_int
max(u_int a, u_int b)
{
	return (a > b ? a : b);
}

static inline int
imin(int a, int b)
{
	return (a < b ? a : b);
}

static inline int
imax(int a, int b)
{
	return (a > b ? a : b);
}

static inline long
lmin(long a, long b)
{
	return (a < b ? a : b);
}

static inline long
lmax(long a, long b)
{
	return (a > b ? a : b);
}

static inline u_long
ulmin(u_long a, u_long b)
{
	return (a < b ? a : b);
}

static inline u_long
ulmax(u_long a, u_long b)
{
	return (a > b ? a : b);
}

__END_DECLS

#endif /* _LIBKERN_LIBKERN_H_ */
