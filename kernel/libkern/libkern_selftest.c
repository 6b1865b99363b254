/*
 * Unit tests for libkern: the printf engine (through snprintf), the
 * string and byte functions, strtol/strtoul, the 64-bit division helpers
 * and the OSAtomic operations.  Run them with `selftest printf`,
 * `selftest string`, `selftest atomic`, ... in the monitor.
 */
#include <sys/types.h>
#include <string.h>
#include <libkern/libkern.h>
#include <libkern/OSAtomic.h>
#include <kern/selftest.h>

#define LONG_MAX	__LONG_MAX__
#define LONG_MIN	(-__LONG_MAX__ - 1L)
#define ULONG_MAX	(__LONG_MAX__ * 2UL + 1UL)

/* The helpers gcc calls for 64-bit / and %; see qdivrem.c. */
u_int64_t	__udivmoddi4(u_int64_t n, u_int64_t d, u_int64_t *remp);
u_int64_t	__udivdi3(u_int64_t n, u_int64_t d);
u_int64_t	__umoddi3(u_int64_t n, u_int64_t d);
int64_t		__divdi3(int64_t n, int64_t d);
int64_t		__moddi3(int64_t n, int64_t d);

/*
 * Format with vsnprintf and compare text and return value with what C
 * says they must be.  On a mismatch print both, so the failure explains
 * itself.
 */
static bool __printflike(2, 3)
fmt_is(const char *want, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, want) == 0 && n == (int)strlen(want))
		return (true);
	printf("    \"%s\": got \"%s\" (%d), want \"%s\" (%d)\n",
	    fmt, buf, n, want, (int)strlen(want));
	return (false);
}

/*
 * The same, for formats gcc's format checker frowns on although C
 * defines them (a flag that another flag or a precision overrides) or
 * that are wrong on purpose: the format reaches fmt_is through a
 * variable, which the checker does not follow.
 */
static bool
fmt_is_unchecked(const char *want, const char *fmt, int arg)
{
	return (fmt_is(want, fmt, arg));
}

/* printf */

static int
test_printf_conversions(void)
{
	ST_ASSERT(fmt_is("plain text", "plain text"));
	ST_ASSERT(fmt_is("42 -42", "%d %i", 42, -42));
	ST_ASSERT(fmt_is("4294967295", "%u", 0xffffffffU));
	ST_ASSERT(fmt_is("777", "%o", 0777));
	ST_ASSERT(fmt_is("deadbeef DEADBEEF", "%x %X", 0xdeadbeef,
	    0xdeadbeef));
	ST_ASSERT(fmt_is("A", "%c", 'A'));
	ST_ASSERT(fmt_is("hi there", "%s %s", "hi", "there"));
	ST_ASSERT(fmt_is("100%", "%d%%", 100));
	ST_ASSERT(fmt_is("0 0 0 0", "%d %u %o %x", 0, 0, 0, 0));
	return (0);
}
SELFTEST(printf_conversions, test_printf_conversions);

static int
test_printf_flags(void)
{
	ST_ASSERT(fmt_is("42   |", "%-5d|", 42));
	ST_ASSERT(fmt_is("00042", "%05d", 42));
	ST_ASSERT(fmt_is("-0042", "%05d", -42));
	ST_ASSERT(fmt_is("+42 -42", "%+d %+d", 42, -42));
	ST_ASSERT(fmt_is(" 42 -42", "% d % d", 42, -42));
	ST_ASSERT(fmt_is_unchecked("+42", "%+ d", 42));	/* + wins */
	ST_ASSERT(fmt_is("+0042", "%+05d", 42));
	ST_ASSERT(fmt_is("0x1f 0X1F", "%#x %#X", 0x1f, 0x1f));
	ST_ASSERT(fmt_is("0", "%#x", 0));		/* no 0x for zero */
	ST_ASSERT(fmt_is("017 0", "%#o %#o", 017, 0));
	ST_ASSERT(fmt_is("0x001f", "%#06x", 0x1f));
	ST_ASSERT(fmt_is("  0x1f", "%#6x", 0x1f));
	ST_ASSERT(fmt_is("0x1f  |", "%-#6x|", 0x1f));
	ST_ASSERT(fmt_is_unchecked("42   |", "%-05d|", 42));
	ST_ASSERT(fmt_is_unchecked("   42", "%05.2d", 42));
	return (0);
}
SELFTEST(printf_flags, test_printf_flags);

static int
test_printf_width(void)
{
	ST_ASSERT(fmt_is("   42", "%5d", 42));
	ST_ASSERT(fmt_is("123456", "%3d", 123456));	/* never truncates */
	ST_ASSERT(fmt_is("  -42", "%5d", -42));
	ST_ASSERT(fmt_is("   ab", "%5s", "ab"));
	ST_ASSERT(fmt_is("ab   |", "%-5s|", "ab"));
	ST_ASSERT(fmt_is("    x", "%5c", 'x'));
	ST_ASSERT(fmt_is("x    |", "%-5c|", 'x'));
	ST_ASSERT(fmt_is("    7", "%*d", 5, 7));
	ST_ASSERT(fmt_is("7    |", "%*d|", -5, 7));	/* negative: '-' */
	ST_ASSERT(fmt_is("   ab|", "%*s|", 5, "ab"));
	return (0);
}
SELFTEST(printf_width, test_printf_width);

static int
test_printf_precision(void)
{
	ST_ASSERT(fmt_is("00042", "%.5d", 42));
	ST_ASSERT(fmt_is("-00042", "%.5d", -42));
	ST_ASSERT(fmt_is("  00042", "%7.5d", 42));
	ST_ASSERT(fmt_is("00042  |", "%-7.5d|", 42));
	ST_ASSERT(fmt_is_unchecked("  00042", "%07.5d", 42)); /* 0 ignored */
	ST_ASSERT(fmt_is("0x0000ff", "%#.6x", 0xff));
	ST_ASSERT(fmt_is("00017", "%#.5o", 017));	/* no extra 0 */
	ST_ASSERT(fmt_is("hel", "%.3s", "hello"));
	ST_ASSERT(fmt_is("  hel", "%5.3s", "hello"));
	ST_ASSERT(fmt_is("hello", "%.10s", "hello"));
	ST_ASSERT(fmt_is("00042", "%.*d", 5, 42));
	ST_ASSERT(fmt_is("   00042", "%*.*d", 8, 5, 42));
	ST_ASSERT(fmt_is("42", "%.*d", -3, 42));	/* negative: none */
	ST_ASSERT(fmt_is("he", "%.*s", 2, "hello"));
	ST_ASSERT(fmt_is("42", "%.d", 42));		/* "." alone is 0 */
	return (0);
}
SELFTEST(printf_precision, test_printf_precision);

/* C: a zero value with precision 0 prints no digits at all. */
static int
test_printf_zero_precision(void)
{
	ST_ASSERT(fmt_is("", "%.0d", 0));
	ST_ASSERT(fmt_is("", "%.0u", 0));
	ST_ASSERT(fmt_is("", "%.0x", 0));
	ST_ASSERT(fmt_is("", "%#.0x", 0));
	ST_ASSERT(fmt_is("0", "%#.0o", 0));		/* # keeps one 0 */
	ST_ASSERT(fmt_is("     ", "%5.0d", 0));
	ST_ASSERT(fmt_is("+", "%+.0d", 0));
	ST_ASSERT(fmt_is("7", "%.0d", 7));
	return (0);
}
SELFTEST(printf_zero_precision, test_printf_zero_precision);

static int
test_printf_length(void)
{
	ST_ASSERT(fmt_is("44 255", "%hhd %hhu", 300, -1));
	ST_ASSERT(fmt_is("-128 ff", "%hhd %hhx", 128, 0x1ff));
	ST_ASSERT(fmt_is("4464 65535", "%hd %hu", 70000, -1));
	ST_ASSERT(fmt_is("-32768", "%hd", 32768));
	ST_ASSERT(fmt_is("-5 4294967295", "%ld %lu", -5L, ULONG_MAX));
	ST_ASSERT(fmt_is("1099511627776", "%lld", 1LL << 40));
	ST_ASSERT(fmt_is("-1099511627776", "%lld", -(1LL << 40)));
	ST_ASSERT(fmt_is("18446744073709551615", "%llu", UINT64_MAX));
	ST_ASSERT(fmt_is("ffffffffffffffff", "%llx", UINT64_MAX));
	ST_ASSERT(fmt_is("1777777777777777777777", "%llo", UINT64_MAX));
	ST_ASSERT(fmt_is("123456789012 FFFFFFFFF", "%qd %qX",
	    123456789012LL, 0xfffffffffULL));
	ST_ASSERT(fmt_is("4294967295 -3", "%zu %zd", (size_t)-1,
	    (ssize_t)-3));
	ST_ASSERT(fmt_is("-5 fffffffb", "%td %tx", (ptrdiff_t)-5,
	    (ptrdiff_t)-5));
	ST_ASSERT(fmt_is("-9223372036854775808 18446744073709551615",
	    "%jd %ju", INTMAX_MIN, UINTMAX_MAX));
	/* Arguments after a 64-bit one must still line up. */
	ST_ASSERT(fmt_is("1 4294967296 3", "%d %lld %d", 1, 1LL << 32, 3));
	return (0);
}
SELFTEST(printf_length, test_printf_length);

static int
test_printf_limits(void)
{
	ST_ASSERT(fmt_is("-2147483648", "%d", INT32_MIN));
	ST_ASSERT(fmt_is("2147483647", "%d", INT32_MAX));
	ST_ASSERT(fmt_is("-2147483648", "%ld", LONG_MIN));
	ST_ASSERT(fmt_is("80000000", "%x", (unsigned)INT32_MIN));
	ST_ASSERT(fmt_is("-9223372036854775808", "%lld", INT64_MIN));
	ST_ASSERT(fmt_is("9223372036854775807", "%lld", INT64_MAX));
	ST_ASSERT(fmt_is("  -2147483648|", "%13d|", INT32_MIN));
	ST_ASSERT(fmt_is("-002147483648", "%013d", INT32_MIN));
	ST_ASSERT(fmt_is("-128 -32768", "%hhd %hd", -128, -32768));
	return (0);
}
SELFTEST(printf_limits, test_printf_limits);

static int
test_printf_pointer_string(void)
{
	const char * volatile nothing = NULL;	/* hidden from gcc */

	ST_ASSERT(fmt_is("0x00001234", "%p", (void *)0x1234));
	ST_ASSERT(fmt_is("0xc0100000", "%p", (void *)0xc0100000));
	ST_ASSERT(fmt_is("0x00000000", "%p", NULL));
	ST_ASSERT(fmt_is("0x00001234  |", "%-12p|", (void *)0x1234));
	ST_ASSERT(fmt_is("  0x00001234", "%12p", (void *)0x1234));
	ST_ASSERT(fmt_is("(null)", "%s", nothing));
	ST_ASSERT(fmt_is("  (null)", "%8s", nothing));
	ST_ASSERT(fmt_is("(nu", "%.3s", nothing));
	ST_ASSERT(fmt_is("", "%s", ""));
	ST_ASSERT(fmt_is("|    |", "|%4s|", ""));
	return (0);
}
SELFTEST(printf_pointer_string, test_printf_pointer_string);

/* %.Ns must not read past N bytes: the array here has no NUL. */
static int
test_printf_string_unterminated(void)
{
	char name[4] = { 'e', 'n', '0', '!' };

	ST_ASSERT(fmt_is("en0", "%.3s", name));
	ST_ASSERT(fmt_is("en0!", "%.4s", name));
	return (0);
}
SELFTEST(printf_string_unterminated, test_printf_string_unterminated);

/* Unknown conversions print as written, so the mistake is visible. */
static int
test_printf_unknown(void)
{
	ST_ASSERT(fmt_is_unchecked("a%yb", "a%yb", 0));
	ST_ASSERT(fmt_is_unchecked("%-5y", "%-5y", 0));
	ST_ASSERT(fmt_is_unchecked("end%", "end%", 0));
	ST_ASSERT(fmt_is_unchecked("end%5", "end%5", 0));
	return (0);
}
SELFTEST(printf_unknown, test_printf_unknown);

static int
test_printf_truncation(void)
{
	char buf[8];
	int n;

	/* Too long: keep size - 1 characters, return the full length. */
	memset(buf, 'X', sizeof(buf));
	n = snprintf(buf, 5, "hello world");
	ST_ASSERT(n == 11);
	ST_ASSERT(strcmp(buf, "hell") == 0);
	ST_ASSERT(buf[5] == 'X');		/* nothing past size */

	/* Exactly size - 1 characters fit with the NUL. */
	n = snprintf(buf, 6, "%d", 12345);
	ST_ASSERT(n == 5 && strcmp(buf, "12345") == 0);
	n = snprintf(buf, 5, "%d", 12345);
	ST_ASSERT(n == 5 && strcmp(buf, "1234") == 0);

	/* size 1: only the NUL; size 0: nothing at all, buf may be NULL. */
	memset(buf, 'X', sizeof(buf));
	n = snprintf(buf, 1, "abc");
	ST_ASSERT(n == 3 && buf[0] == '\0' && buf[1] == 'X');
	n = snprintf(buf, 0, "abc");
	ST_ASSERT(n == 3 && buf[0] == '\0' && buf[1] == 'X');
	n = snprintf(NULL, 0, "%s-%d", "abc", -100);
	ST_ASSERT(n == 8);

	/* Padding counts too, even when cut off. */
	n = snprintf(buf, sizeof(buf), "%20d", 1);
	ST_ASSERT(n == 20 && strlen(buf) == sizeof(buf) - 1);

	/* The empty format. */
	buf[0] = 'X';
	n = snprintf(buf, sizeof(buf), "%s", "");
	ST_ASSERT(n == 0 && buf[0] == '\0');
	return (0);
}
SELFTEST(printf_truncation, test_printf_truncation);

/* sprintf is deprecated for kexts; it must still work. */
static int
test_printf_sprintf(void)
{
	char buf[32];
	int n;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	n = sprintf(buf, "%s=%#x", "flags", 0x8843);
#pragma GCC diagnostic pop
	ST_ASSERT(n == 12 && strcmp(buf, "flags=0x8843") == 0);
	return (0);
}
SELFTEST(printf_sprintf, test_printf_sprintf);

/* string */

static int
test_string_mem(void)
{
	unsigned char a[8], b[8];

	memset(a, 0xab, sizeof(a));
	ST_ASSERT(a[0] == 0xab && a[7] == 0xab);
	ST_ASSERT(memset(a, 0x1ff, 4) == a);		/* stores 0xff */
	ST_ASSERT(a[0] == 0xff && a[3] == 0xff && a[4] == 0xab);
	ST_ASSERT(memcpy(b, a, sizeof(a)) == b);
	ST_ASSERT(memcmp(a, b, sizeof(a)) == 0);
	b[7] = 0x01;
	ST_ASSERT(memcmp(a, b, sizeof(a)) > 0);	/* 0xab > 0x01 */
	b[7] = 0xff;
	ST_ASSERT(memcmp(a, b, sizeof(a)) < 0);	/* bytes are unsigned */
	ST_ASSERT(memcmp(a, b, 7) == 0);
	ST_ASSERT(memcmp(a, b, 0) == 0);

	bzero(a, 3);
	ST_ASSERT(a[0] == 0 && a[2] == 0 && a[3] == 0xff);
	ST_ASSERT(bcmp(a, a, 8) == 0);
	ST_ASSERT(bcmp(a, b, 8) != 0);
	return (0);
}
SELFTEST(string_mem, test_string_mem);

static int
test_string_overlap(void)
{
	char buf[16];

	/* dst after src: must copy backwards. */
	strlcpy(buf, "abcdef", sizeof(buf));
	ST_ASSERT(memmove(buf + 2, buf, 4) == buf + 2);
	ST_ASSERT(strcmp(buf, "ababcd") == 0);

	/* dst before src: must copy forwards. */
	strlcpy(buf, "abcdef", sizeof(buf));
	memmove(buf, buf + 2, 4);
	ST_ASSERT(strcmp(buf, "cdefef") == 0);

	/* bcopy takes (src, dst) and handles overlap both ways. */
	strlcpy(buf, "0123456789", sizeof(buf));
	bcopy(buf, buf + 1, 9);
	ST_ASSERT(strcmp(buf, "0012345678") == 0);
	bcopy(buf + 2, buf, 8);
	ST_ASSERT(strcmp(buf, "1234567878") == 0);

	/* Zero length and dst == src are harmless. */
	memmove(buf, buf, 10);
	bcopy(buf, buf + 3, 0);
	ST_ASSERT(strcmp(buf, "1234567878") == 0);
	return (0);
}
SELFTEST(string_overlap, test_string_overlap);

static int
test_string_compare(void)
{
	ST_ASSERT(strlen("") == 0 && strlen("abc") == 3);
	ST_ASSERT(strnlen("abc", 2) == 2 && strnlen("abc", 10) == 3);
	ST_ASSERT(strcmp("abc", "abc") == 0);
	ST_ASSERT(strcmp("abc", "abd") < 0);
	ST_ASSERT(strcmp("abc", "ab") > 0);
	ST_ASSERT(strcmp("", "a") < 0);
	ST_ASSERT(strcmp("\x80", "\x01") > 0);		/* unsigned */
	ST_ASSERT(strncmp("abcX", "abcY", 3) == 0);
	ST_ASSERT(strncmp("abcX", "abcY", 4) < 0);
	ST_ASSERT(strncmp("ab", "abc", 5) < 0);
	ST_ASSERT(strncmp("x", "y", 0) == 0);
	return (0);
}
SELFTEST(string_compare, test_string_compare);

static int
test_string_copy(void)
{
	char buf[8];

	ST_ASSERT(strcpy(buf, "en0") == buf && strcmp(buf, "en0") == 0);

	/* strncpy pads with NULs ... */
	memset(buf, 'X', sizeof(buf));
	ST_ASSERT(strncpy(buf, "ab", 5) == buf);
	ST_ASSERT(memcmp(buf, "ab\0\0\0XXX", 8) == 0);
	/* ... and does not terminate when src is too long. */
	memset(buf, 'X', sizeof(buf));
	strncpy(buf, "abcdef", 3);
	ST_ASSERT(memcmp(buf, "abcXXXXX", 8) == 0);

	strcpy(buf, "ab");
	ST_ASSERT(strncat(buf, "cdef", 2) == buf);
	ST_ASSERT(strcmp(buf, "abcd") == 0);
	strncat(buf, "x", 5);
	ST_ASSERT(strcmp(buf, "abcdx") == 0);
	return (0);
}
SELFTEST(string_copy, test_string_copy);

static int
test_string_strlcpy(void)
{
	char buf[6];

	ST_ASSERT(strlcpy(buf, "abc", sizeof(buf)) == 3);
	ST_ASSERT(strcmp(buf, "abc") == 0);

	/* Truncated: always terminated; returns strlen(src). */
	ST_ASSERT(strlcpy(buf, "abcdefghij", sizeof(buf)) == 10);
	ST_ASSERT(strcmp(buf, "abcde") == 0);
	ST_ASSERT(strlcpy(buf, "abcdef", sizeof(buf)) == 6);
	ST_ASSERT(strcmp(buf, "abcde") == 0);
	ST_ASSERT(strlcpy(buf, "abcde", sizeof(buf)) == 5);
	ST_ASSERT(strcmp(buf, "abcde") == 0);

	/* size 0 writes nothing. */
	buf[0] = 'X';
	ST_ASSERT(strlcpy(buf, "abc", 0) == 3 && buf[0] == 'X');
	return (0);
}
SELFTEST(string_strlcpy, test_string_strlcpy);

static int
test_string_strlcat(void)
{
	char buf[8];

	strlcpy(buf, "ab", sizeof(buf));
	ST_ASSERT(strlcat(buf, "cd", sizeof(buf)) == 4);
	ST_ASSERT(strcmp(buf, "abcd") == 0);

	/* Truncated: terminated; returns the length it tried to make. */
	ST_ASSERT(strlcat(buf, "efghij", sizeof(buf)) == 10);
	ST_ASSERT(strcmp(buf, "abcdefg") == 0);

	/* No NUL within size: dst untouched, size + strlen(src). */
	memset(buf, 'X', sizeof(buf));
	ST_ASSERT(strlcat(buf, "abc", 4) == 7);
	ST_ASSERT(buf[3] == 'X' && buf[4] == 'X');
	return (0);
}
SELFTEST(string_strlcat, test_string_strlcat);

static int
test_string_search(void)
{
	const char *s = "en0:eth:en1";

	ST_ASSERT(strchr(s, ':') == s + 3);
	ST_ASSERT(strrchr(s, ':') == s + 7);
	ST_ASSERT(strchr(s, 'z') == NULL && strrchr(s, 'z') == NULL);
	ST_ASSERT(strchr(s, '\0') == s + 11);		/* NUL counts */
	ST_ASSERT(strrchr(s, '\0') == s + 11);
	ST_ASSERT(strchr("\xff", 0xff) != NULL);	/* c as char */

	ST_ASSERT(strstr(s, "en") == s);
	ST_ASSERT(strstr(s, "en1") == s + 8);
	ST_ASSERT(strstr(s, "eth:") == s + 4);
	ST_ASSERT(strstr(s, "en2") == NULL);
	ST_ASSERT(strstr(s, "") == s);
	ST_ASSERT(strstr("aaab", "aab") != NULL);	/* restart */
	ST_ASSERT(strstr("ab", "abc") == NULL);
	ST_ASSERT(strstr("", "") != NULL && strstr("", "a") == NULL);
	return (0);
}
SELFTEST(string_search, test_string_search);

/* The bit scans and min/max of libkern.h. */
static int
test_string_bits(void)
{
	ST_ASSERT(ffs(0) == 0 && fls(0) == 0);
	ST_ASSERT(ffs(1) == 1 && fls(1) == 1);
	ST_ASSERT(ffs(0x18) == 4 && fls(0x18) == 5);
	ST_ASSERT(ffs(INT32_MIN) == 32 && fls(INT32_MIN) == 32);
	ST_ASSERT(ffs(-1) == 1 && fls(-1) == 32);

	ST_ASSERT(min(3, 5) == 3 && max(3, 5) == 5);
	ST_ASSERT(max(0xffffffffU, 1) == 0xffffffffU);	/* unsigned */
	ST_ASSERT(imin(-3, 5) == -3 && imax(-3, 5) == 5);
	ST_ASSERT(lmin(-3, 5) == -3 && lmax(-3, 5) == 5);
	ST_ASSERT(ulmin(3, 5) == 3 && ulmax(3, 5) == 5);
	return (0);
}
SELFTEST(string_bits, test_string_bits);

/* strtol */

static int
test_strtol(void)
{
	const char *s;
	char *end;

	s = "123";
	ST_ASSERT(strtol(s, &end, 10) == 123 && end == s + 3);
	s = "  \t-42xyz";
	ST_ASSERT(strtol(s, &end, 10) == -42 && end == s + 6);
	s = "+7";
	ST_ASSERT(strtol(s, &end, 0) == 7 && end == s + 2);

	/* Base 0 reads the prefix; base 16 accepts 0x. */
	s = "0x1F";
	ST_ASSERT(strtol(s, &end, 0) == 31 && end == s + 4);
	ST_ASSERT(strtol(s, &end, 16) == 31 && end == s + 4);
	ST_ASSERT(strtol("0X1f", NULL, 0) == 31);
	s = "017";
	ST_ASSERT(strtol(s, &end, 0) == 15 && end == s + 3);
	ST_ASSERT(strtol(s, &end, 10) == 17);
	s = "0";
	ST_ASSERT(strtol(s, &end, 0) == 0 && end == s + 1);
	s = "0xg";				/* 0, then junk */
	ST_ASSERT(strtol(s, &end, 0) == 0 && end == s + 1);
	ST_ASSERT(strtol(s, &end, 16) == 0 && end == s + 1);
	s = "789";
	ST_ASSERT(strtol(s, &end, 8) == 7 && end == s + 1);
	ST_ASSERT(strtol("zz", NULL, 36) == 35 * 36 + 35);
	ST_ASSERT(strtol("-ff", NULL, 16) == -255);

	/* No digits: 0, and endptr back at the start. */
	s = "  -x";
	ST_ASSERT(strtol(s, &end, 10) == 0 && end == s);
	s = "";
	ST_ASSERT(strtol(s, &end, 10) == 0 && end == s);
	s = "12";
	ST_ASSERT(strtol(s, &end, 1) == 0 && end == s);	/* bad base */

	/* Out of range: saturate, but consume every digit. */
	s = "2147483647";
	ST_ASSERT(strtol(s, &end, 10) == LONG_MAX && end == s + 10);
	s = "2147483648";
	ST_ASSERT(strtol(s, &end, 10) == LONG_MAX && end == s + 10);
	ST_ASSERT(strtol("-2147483648", NULL, 10) == LONG_MIN);
	ST_ASSERT(strtol("-2147483649", NULL, 10) == LONG_MIN);
	s = "99999999999999999999";
	ST_ASSERT(strtol(s, &end, 10) == LONG_MAX && end == s + 20);

	/* strtoul */
	ST_ASSERT(strtoul("4294967295", NULL, 10) == ULONG_MAX);
	ST_ASSERT(strtoul("4294967296", NULL, 10) == ULONG_MAX);
	ST_ASSERT(strtoul("0xffffffff", NULL, 0) == 0xffffffffUL);
	ST_ASSERT(strtoul("0xc0a80001", NULL, 16) == 0xc0a80001UL);
	ST_ASSERT(strtoul("-1", NULL, 10) == ULONG_MAX);	/* as C says */
	ST_ASSERT(strtoul("-2", NULL, 10) == ULONG_MAX - 1);
	s = "1500 bytes";
	ST_ASSERT(strtoul(s, &end, 0) == 1500 && end == s + 4);
	return (0);
}
SELFTEST(strtol, test_strtol);

/* qdivrem */

static const struct {
	u_int64_t	n, d, q, r;
} udiv_cases[] = {
	{ 0x0ULL, 0x1ULL, 0x0ULL, 0x0ULL },
	{ 0x7ULL, 0x2ULL, 0x3ULL, 0x1ULL },
	{ 0xffffffffffffffffULL, 0x1ULL, 0xffffffffffffffffULL, 0x0ULL },
	{ 0xffffffffffffffffULL, 0xffffffffULL, 0x100000001ULL, 0x0ULL },
	{ 0xffffffffffffffffULL, 0xaULL, 0x1999999999999999ULL, 0x5ULL },
	{ 0x123456789abcdef0ULL, 0x100000000ULL, 0x12345678ULL,
	  0x9abcdef0ULL },
	{ 0xffffffffffffffffULL, 0x100000001ULL, 0xffffffffULL, 0x0ULL },
	{ 0x8000000000000000ULL, 0x8000000000000001ULL, 0x0ULL,
	  0x8000000000000000ULL },
	{ 0xffffffffffffffffULL, 0x8000000000000000ULL, 0x1ULL,
	  0x7fffffffffffffffULL },
	{ 0xe8d4a51000ULL, 0x3b9aca07ULL, 0x3e7ULL, 0x3b9aaeafULL },
	{ 0x5ULL, 0x100000000ULL, 0x0ULL, 0x5ULL },
	{ 0xdeadbeefcafebabeULL, 0x12345678abcdULL, 0xc3b6bULL,
	  0x579c95aad0fULL },
	{ 0xffffffff00000000ULL, 0xffffffffULL, 0x100000000ULL, 0x0ULL },
	{ 0x100000000ULL, 0x3ULL, 0x55555555ULL, 0x1ULL },
};

static const struct {
	int64_t		n, d, q, r;
} sdiv_cases[] = {
	{ -7, 2, -3, -1 },
	{ 7, -2, -3, 1 },
	{ -7, -2, 3, -1 },
	{ INT64_MIN, 1, INT64_MIN, 0 },
	{ INT64_MIN, -8589934592LL, 1073741824LL, 0 },
	{ -1000000000000000000LL, 3000000000LL, -333333333LL,
	  -1000000000LL },
	{ INT64_MIN, 10, -922337203685477580LL, -8 },
	{ INT64_MAX, -1099511627779LL, -8388607LL, 1099486461954LL },
	{ -1, 4611686018427387904LL, 0, -1 },
};

/* A small pseudo-random generator (xorshift64) for the sweep below. */
static u_int64_t
xorshift64(u_int64_t *state)
{
	u_int64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return (x);
}

static int
test_qdivrem(void)
{
	volatile u_int64_t un, ud;
	volatile int64_t sn, sd;
	u_int64_t q, r, seed;
	unsigned int i;

	for (i = 0; i < sizeof(udiv_cases) / sizeof(udiv_cases[0]); i++) {
		q = __udivmoddi4(udiv_cases[i].n, udiv_cases[i].d, &r);
		ST_ASSERT(q == udiv_cases[i].q && r == udiv_cases[i].r);
		ST_ASSERT(__udivdi3(udiv_cases[i].n, udiv_cases[i].d) ==
		    udiv_cases[i].q);
		ST_ASSERT(__umoddi3(udiv_cases[i].n, udiv_cases[i].d) ==
		    udiv_cases[i].r);
		/* And through the C operators, which call the helpers. */
		un = udiv_cases[i].n;
		ud = udiv_cases[i].d;
		ST_ASSERT(un / ud == udiv_cases[i].q);
		ST_ASSERT(un % ud == udiv_cases[i].r);
	}
	for (i = 0; i < sizeof(sdiv_cases) / sizeof(sdiv_cases[0]); i++) {
		ST_ASSERT(__divdi3(sdiv_cases[i].n, sdiv_cases[i].d) ==
		    sdiv_cases[i].q);
		ST_ASSERT(__moddi3(sdiv_cases[i].n, sdiv_cases[i].d) ==
		    sdiv_cases[i].r);
		sn = sdiv_cases[i].n;
		sd = sdiv_cases[i].d;
		ST_ASSERT(sn / sd == sdiv_cases[i].q);
		ST_ASSERT(sn % sd == sdiv_cases[i].r);
	}

	/*
	 * A sweep of pseudo-random operands of every size: the quotient and
	 * remainder must satisfy n == q * d + r with r < d.
	 */
	seed = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < 2000; i++) {
		un = xorshift64(&seed) >> (i % 64);
		ud = xorshift64(&seed) >> (xorshift64(&seed) % 64);
		if (ud == 0)
			ud = 1;
		q = __udivmoddi4(un, ud, &r);
		ST_ASSERT(r < ud && q * ud + r == un);
	}
	return (0);
}
SELFTEST(qdivrem, test_qdivrem);

/* atomic */

static int
test_atomic_add(void)
{
	volatile SInt32 v32 = 10;
	volatile SInt16 v16 = 32767;
	volatile SInt8 v8[3] = { 0x11, 127, 0x22 };

	ST_ASSERT(OSAddAtomic(5, &v32) == 10 && v32 == 15);
	ST_ASSERT(OSAddAtomic(-20, &v32) == 15 && v32 == -5);
	ST_ASSERT(OSIncrementAtomic(&v32) == -5 && v32 == -4);
	ST_ASSERT(OSDecrementAtomic(&v32) == -4 && v32 == -5);
	v32 = INT32_MAX;
	ST_ASSERT(OSIncrementAtomic(&v32) == INT32_MAX && v32 == INT32_MIN);

	/* 16 and 8 bits wrap, and use only the low bits of amount. */
	ST_ASSERT(OSAddAtomic16(1, &v16) == 32767 && v16 == -32768);
	ST_ASSERT(OSAddAtomic16(0x10002, &v16) == -32768 && v16 == -32766);
	ST_ASSERT(OSIncrementAtomic16(&v16) == -32766 && v16 == -32765);
	ST_ASSERT(OSDecrementAtomic16(&v16) == -32765 && v16 == -32766);

	ST_ASSERT(OSAddAtomic8(1, &v8[1]) == 127 && v8[1] == -128);
	ST_ASSERT(OSAddAtomic8(0x301, &v8[1]) == -128 && v8[1] == -127);
	ST_ASSERT(OSIncrementAtomic8(&v8[1]) == -127 && v8[1] == -126);
	ST_ASSERT(OSDecrementAtomic8(&v8[1]) == -126 && v8[1] == -127);
	ST_ASSERT(v8[0] == 0x11 && v8[2] == 0x22);	/* neighbours */
	return (0);
}
SELFTEST(atomic_add, test_atomic_add);

static int
test_atomic_add64(void)
{
	volatile SInt64 v = 0xffffffffLL;

	/* Carries and borrows cross the 32-bit halves. */
	ST_ASSERT(OSAddAtomic64(1, &v) == 0xffffffffLL && v == 0x100000000LL);
	ST_ASSERT(OSDecrementAtomic64(&v) == 0x100000000LL &&
	    v == 0xffffffffLL);
	ST_ASSERT(OSIncrementAtomic64(&v) == 0xffffffffLL &&
	    v == 0x100000000LL);
	ST_ASSERT(OSAddAtomic64(-(1LL << 33), &v) == 0x100000000LL &&
	    v == -0x100000000LL);
	v = INT64_MAX;
	ST_ASSERT(OSAddAtomic64(1, &v) == INT64_MAX && v == INT64_MIN);
	return (0);
}
SELFTEST(atomic_add64, test_atomic_add64);

static int
test_atomic_bits(void)
{
	volatile UInt32 v32 = 0xf0f0f0f0;
	volatile UInt16 v16[3] = { 0x1111, 0x00f0, 0x2222 };
	volatile UInt8 v8[3] = { 0x33, 0xf0, 0x44 };

	ST_ASSERT(OSBitOrAtomic(0x0000000f, &v32) == 0xf0f0f0f0 &&
	    v32 == 0xf0f0f0ff);
	ST_ASSERT(OSBitAndAtomic(0x0000ffff, &v32) == 0xf0f0f0ff &&
	    v32 == 0x0000f0ff);
	ST_ASSERT(OSBitXorAtomic(0xffffffff, &v32) == 0x0000f0ff &&
	    v32 == 0xffff0f00);

	/* Only the low bits of the mask reach a 16- or 8-bit value. */
	ST_ASSERT(OSBitOrAtomic16(0xffff000f, &v16[1]) == 0x00f0 &&
	    v16[1] == 0x00ff);
	ST_ASSERT(OSBitAndAtomic16(0x0000fff0, &v16[1]) == 0x00ff &&
	    v16[1] == 0x00f0);
	ST_ASSERT(OSBitXorAtomic16(0xffff0ff0, &v16[1]) == 0x00f0 &&
	    v16[1] == 0x0f00);
	ST_ASSERT(v16[0] == 0x1111 && v16[2] == 0x2222);

	ST_ASSERT(OSBitOrAtomic8(0xff0f, &v8[1]) == 0xf0 && v8[1] == 0xff);
	ST_ASSERT(OSBitAndAtomic8(0x3c, &v8[1]) == 0xff && v8[1] == 0x3c);
	ST_ASSERT(OSBitXorAtomic8(0xff, &v8[1]) == 0x3c && v8[1] == 0xc3);
	ST_ASSERT(v8[0] == 0x33 && v8[2] == 0x44);
	return (0);
}
SELFTEST(atomic_bits, test_atomic_bits);

static int
test_atomic_cas(void)
{
	volatile UInt32 v32 = 5;
	volatile UInt64 v64 = 0x100000005ULL;
	int a, b;
	void * volatile p = &a;

	ST_ASSERT(OSCompareAndSwap(4, 9, &v32) == false && v32 == 5);
	ST_ASSERT(OSCompareAndSwap(5, 9, &v32) == true && v32 == 9);

	/* The 64-bit compare must look at both halves. */
	ST_ASSERT(OSCompareAndSwap64(0x5ULL, 1, &v64) == false &&
	    v64 == 0x100000005ULL);
	ST_ASSERT(OSCompareAndSwap64(0x200000005ULL, 1, &v64) == false &&
	    v64 == 0x100000005ULL);
	ST_ASSERT(OSCompareAndSwap64(0x100000005ULL, 0xffffffff00000000ULL,
	    &v64) == true && v64 == 0xffffffff00000000ULL);

	ST_ASSERT(OSCompareAndSwapPtr(&b, NULL, &p) == false && p == &a);
	ST_ASSERT(OSCompareAndSwapPtr(&a, &b, &p) == true && p == &b);
	return (0);
}
SELFTEST(atomic_cas, test_atomic_cas);

/* Bit 0 is the top bit of byte 0, as in XNU. */
static int
test_atomic_testandset(void)
{
	volatile UInt8 bits[3] = { 0, 0, 0 };

	ST_ASSERT(OSTestAndSet(0, bits) == false && bits[0] == 0x80);
	ST_ASSERT(OSTestAndSet(0, bits) == true && bits[0] == 0x80);
	ST_ASSERT(OSTestAndSet(7, bits) == false && bits[0] == 0x81);
	ST_ASSERT(OSTestAndSet(9, bits) == false && bits[1] == 0x40);
	ST_ASSERT(OSTestAndSet(23, bits) == false && bits[2] == 0x01);

	ST_ASSERT(OSTestAndClear(0, bits) == true && bits[0] == 0x01);
	ST_ASSERT(OSTestAndClear(0, bits) == false && bits[0] == 0x01);
	ST_ASSERT(OSTestAndClear(9, bits) == true && bits[1] == 0);
	ST_ASSERT(OSTestAndClear(8, bits) == false && bits[1] == 0);
	ST_ASSERT(bits[0] == 0x01 && bits[2] == 0x01);

	/* The barriers only have to return. */
	OSMemoryBarrier();
	OSSynchronizeIO();
	return (0);
}
SELFTEST(atomic_testandset, test_atomic_testandset);
