/*
 * 64-bit division for i386.  The CPU's divl divides a 64-bit number by a
 * 32-bit one, and only when the quotient fits in 32 bits, so gcc turns
 * every 64-bit / and % into a call to one of these helpers.  libgcc
 * usually provides them; the kernel does not link libgcc, so here they are.
 */
#include <sys/types.h>

u_int64_t	__udivmoddi4(u_int64_t n, u_int64_t d, u_int64_t *remp);
u_int64_t	__udivdi3(u_int64_t n, u_int64_t d);
u_int64_t	__umoddi3(u_int64_t n, u_int64_t d);
int64_t		__divdi3(int64_t n, int64_t d);
int64_t		__moddi3(int64_t n, int64_t d);

/*
 * divl: divide the 64-bit number hi:lo by d.  The caller guarantees
 * hi < d, which is exactly the condition for the quotient to fit in 32
 * bits (otherwise the CPU raises a divide error).
 */
static inline u_int32_t
divl(u_int32_t hi, u_int32_t lo, u_int32_t d, u_int32_t *remp)
{
	u_int32_t q, r;

	__asm__("divl %4"
	    : "=a" (q), "=d" (r)
	    : "a" (lo), "d" (hi), "rm" (d)
	    : "cc");
	*remp = r;
	return (q);
}

/*
 * Divide n by d, returning the quotient and, if remp is not NULL, storing
 * the remainder.  Three cases:
 *
 * - d == 0: make the CPU divide by zero, so that it raises the same
 *   divide error as an ordinary division by zero.  (It must be a real
 *   divl: the compiler may assume that "1 / zero" in C never divides by
 *   zero and compile something else.)
 *
 * - d fits in 32 bits: long division by hand in base 2^32, two "digits".
 *   The high word divided by d gives the high word of the quotient and a
 *   remainder r < d; then r:low divided by d is one divl, whose quotient
 *   fits in 32 bits because r < d.
 *
 * - d needs more than 32 bits: then the quotient fits in 32 bits, and we
 *   find it one bit at a time, as in long division in base 2.  Shift d
 *   left until it lines up under the top of n (shift places), then for
 *   each of the shift + 1 positions, from the highest: if the shifted d
 *   still fits into what is left of n, subtract it and write a 1 in the
 *   quotient, else a 0; then slide d one place right.  What is left of n
 *   at the end is the remainder.
 */
u_int64_t
__udivmoddi4(u_int64_t n, u_int64_t d, u_int64_t *remp)
{
	volatile u_int32_t zero = 0;
	u_int32_t d32, qhi, qlo, r32;
	u_int64_t q;
	int i, shift;

	if (d == 0) {
		q = divl(0, 1, zero, &r32);	/* traps: #DE */
		if (remp != NULL)
			*remp = n;
		return (q);
	}

	if ((d >> 32) == 0) {
		d32 = (u_int32_t)d;
		qhi = (u_int32_t)(n >> 32) / d32;
		r32 = (u_int32_t)(n >> 32) % d32;
		qlo = divl(r32, (u_int32_t)n, d32, &r32);
		if (remp != NULL)
			*remp = r32;
		return (((u_int64_t)qhi << 32) | qlo);
	}

	q = 0;
	if (n >= d) {
		shift = 0;
		while ((d >> 63) == 0 && (d << 1) <= n) {
			d <<= 1;
			shift++;
		}
		for (i = 0; i <= shift; i++) {
			q <<= 1;
			if (n >= d) {
				n -= d;
				q |= 1;
			}
			d >>= 1;
		}
	}
	if (remp != NULL)
		*remp = n;
	return (q);
}

u_int64_t
__udivdi3(u_int64_t n, u_int64_t d)
{
	return (__udivmoddi4(n, d, NULL));
}

u_int64_t
__umoddi3(u_int64_t n, u_int64_t d)
{
	u_int64_t r;

	(void)__udivmoddi4(n, d, &r);
	return (r);
}

/*
 * Signed division, as C defines it: divide the magnitudes, then the
 * quotient is negative when exactly one operand is, and the remainder has
 * the sign of the dividend (so n == (n / d) * d + n % d).  Negation is
 * done on unsigned values so that INT64_MIN does not overflow.
 */
int64_t
__divdi3(int64_t n, int64_t d)
{
	u_int64_t un, ud, q;

	un = n < 0 ? -(u_int64_t)n : (u_int64_t)n;
	ud = d < 0 ? -(u_int64_t)d : (u_int64_t)d;
	q = __udivmoddi4(un, ud, NULL);
	return ((int64_t)((n < 0) != (d < 0) ? -q : q));
}

int64_t
__moddi3(int64_t n, int64_t d)
{
	u_int64_t un, ud, r;

	un = n < 0 ? -(u_int64_t)n : (u_int64_t)n;
	ud = d < 0 ? -(u_int64_t)d : (u_int64_t)d;
	(void)__udivmoddi4(un, ud, &r);
	return ((int64_t)(n < 0 ? -r : r));
}
