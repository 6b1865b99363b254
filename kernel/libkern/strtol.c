/*
 * strtol and strtoul (libkern/libkern.h): text to integer, for the
 * monitor's commands and for kexts parsing their arguments.  Both share
 * one parser that reads the sign, the base prefix and the digits, and
 * notes overflow; each then saturates in its own range.
 */
#include <sys/types.h>
#include <libkern/libkern.h>

#define LONG_MAX	__LONG_MAX__
#define LONG_MIN	(-__LONG_MAX__ - 1L)
#define ULONG_MAX	(__LONG_MAX__ * 2UL + 1UL)

static int
is_space(int c)
{
	return (c == ' ' || (c >= '\t' && c <= '\r'));
}

/* The value of c as a digit (0-9, then a-z or A-Z for 10-35), or -1. */
static int
digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'Z')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Parse [space][+|-][0x]digits and return the magnitude, or ULONG_MAX
 * with *overflowp set if it does not fit in an unsigned long.  The sign
 * comes back in *negp.  A "0x" counts as a prefix only when a hex digit
 * follows it, so "0xg" parses as 0 and leaves endptr on the 'x'.
 */
static unsigned long
parse_magnitude(const char *nptr, char **endptr, int base, bool *negp,
    bool *overflowp)
{
	const char *s = nptr;
	unsigned long acc = 0;
	bool any = false;
	int digit;

	*negp = false;
	*overflowp = false;
	if (base < 0 || base == 1 || base > 36)
		goto out;

	while (is_space(*s))
		s++;
	if (*s == '-') {
		*negp = true;
		s++;
	} else if (*s == '+')
		s++;

	if ((base == 0 || base == 16) && s[0] == '0' &&
	    (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) >= 0 &&
	    digit_value(s[2]) < 16) {
		s += 2;
		base = 16;
	} else if (base == 0)
		base = (s[0] == '0') ? 8 : 10;

	for (;; s++) {
		digit = digit_value(*s);
		if (digit < 0 || digit >= base)
			break;
		any = true;
		/* acc * base + digit must not exceed ULONG_MAX. */
		if (acc > (ULONG_MAX - digit) / base)
			*overflowp = true;
		else
			acc = acc * base + digit;
	}
out:
	if (endptr != NULL)
		*endptr = (char *)(any ? s : nptr);
	return (*overflowp ? ULONG_MAX : acc);
}

long
strtol(const char *nptr, char **endptr, int base)
{
	unsigned long mag;
	bool neg, overflow;

	mag = parse_magnitude(nptr, endptr, base, &neg, &overflow);
	if (!neg)
		return (overflow || mag > LONG_MAX ? LONG_MAX : (long)mag);
	/* -(LONG_MAX + 1) is exactly LONG_MIN; anything bigger saturates. */
	if (overflow || mag >= (unsigned long)LONG_MAX + 1)
		return (LONG_MIN);
	return (-(long)mag);
}

/* As in C, a minus sign negates the value in unsigned arithmetic. */
unsigned long
strtoul(const char *nptr, char **endptr, int base)
{
	unsigned long mag;
	bool neg, overflow;

	mag = parse_magnitude(nptr, endptr, base, &neg, &overflow);
	if (overflow)
		return (ULONG_MAX);
	return (neg ? -mag : mag);
}
