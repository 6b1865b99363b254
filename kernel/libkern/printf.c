/*
 * Formatted output: one engine, kvprintf(), that turns a format and its
 * arguments into characters and hands each to an output function.
 * printf and vprintf send them to the console in 256-byte chunks;
 * snprintf, vsnprintf and sprintf store them in the caller's buffer.
 */
#include <sys/types.h>
#include <stdarg.h>
#include <string.h>
#include <libkern/libkern.h>
#include <kern/console.h>

/* An output function: takes one character; arg is its private state. */
typedef void putc_fn_t(int c, void *arg);

/* The engine's output: where characters go, and how many went. */
struct out {
	putc_fn_t	*o_put;
	void		*o_arg;
	int		o_count;
};

/* One conversion specification: %[flags][width][.precision][length]conv */
struct spec {
	int	sp_flags;	/* F_* */
	int	sp_width;	/* minimum field width; 0 if none */
	int	sp_prec;	/* precision; -1 if none */
	int	sp_length;	/* LEN_*: size of the integer argument */
};

#define F_MINUS		0x01	/* '-': left-justify */
#define F_ZERO		0x02	/* '0': pad numbers with zeros */
#define F_PLUS		0x04	/* '+': + before positive numbers */
#define F_SPACE		0x08	/* ' ': a space there instead */
#define F_ALT		0x10	/* '#': 0x for hex, 0 for octal */

#define LEN_INT		0	/* none */
#define LEN_CHAR	1	/* hh */
#define LEN_SHORT	2	/* h */
#define LEN_LONG	3	/* l */
#define LEN_LLONG	4	/* ll, q */
#define LEN_SIZE	5	/* z */
#define LEN_PTRDIFF	6	/* t */
#define LEN_INTMAX	7	/* j */

/*
 * Widths and precisions are clamped here: anything larger is surely a
 * bug, and clamping keeps the arithmetic on them from overflowing.
 */
#define FIELD_MAX	100000000

static void
out_char(struct out *o, int c)
{
	o->o_put(c, o->o_arg);
	o->o_count++;
}

static void
out_repeat(struct out *o, int c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void
out_string(struct out *o, const char *s, int n)
{
	while (n-- > 0)
		out_char(o, *s++);
}

/* Read a decimal number from the format, or an int argument for '*'. */
static int
parse_field(const char **fmtp, va_list *ap, bool *negp)
{
	const char *fmt = *fmtp;
	int n = 0;

	*negp = false;
	if (*fmt == '*') {
		n = va_arg(*ap, int);
		*fmtp = fmt + 1;
		if (n < 0) {
			*negp = true;
			n = n < -FIELD_MAX ? FIELD_MAX : -n;
		}
		return (n > FIELD_MAX ? FIELD_MAX : n);
	}
	for (; *fmt >= '0' && *fmt <= '9'; fmt++) {
		if (n < FIELD_MAX)
			n = n * 10 + (*fmt - '0');
	}
	*fmtp = fmt;
	return (n > FIELD_MAX ? FIELD_MAX : n);
}

/*
 * Parse flags, width, precision and length after the '%', leaving *fmtp
 * on the conversion character.  A negative '*' width means '-' and its
 * absolute value; a negative '*' precision means none.
 */
static void
parse_spec(const char **fmtp, va_list *ap, struct spec *sp)
{
	const char *fmt = *fmtp;
	bool neg;

	sp->sp_flags = 0;
	for (;; fmt++) {
		if (*fmt == '-')
			sp->sp_flags |= F_MINUS;
		else if (*fmt == '0')
			sp->sp_flags |= F_ZERO;
		else if (*fmt == '+')
			sp->sp_flags |= F_PLUS;
		else if (*fmt == ' ')
			sp->sp_flags |= F_SPACE;
		else if (*fmt == '#')
			sp->sp_flags |= F_ALT;
		else
			break;
	}

	sp->sp_width = parse_field(&fmt, ap, &neg);
	if (neg)
		sp->sp_flags |= F_MINUS;

	sp->sp_prec = -1;
	if (*fmt == '.') {
		fmt++;
		sp->sp_prec = parse_field(&fmt, ap, &neg);
		if (neg)
			sp->sp_prec = -1;
	}

	sp->sp_length = LEN_INT;
	switch (*fmt) {
	case 'h':
		fmt++;
		sp->sp_length = LEN_SHORT;
		if (*fmt == 'h') {
			fmt++;
			sp->sp_length = LEN_CHAR;
		}
		break;
	case 'l':
		fmt++;
		sp->sp_length = LEN_LONG;
		if (*fmt == 'l') {
			fmt++;
			sp->sp_length = LEN_LLONG;
		}
		break;
	case 'q':
		fmt++;
		sp->sp_length = LEN_LLONG;
		break;
	case 'z':
		fmt++;
		sp->sp_length = LEN_SIZE;
		break;
	case 't':
		fmt++;
		sp->sp_length = LEN_PTRDIFF;
		break;
	case 'j':
		fmt++;
		sp->sp_length = LEN_INTMAX;
		break;
	}
	*fmtp = fmt;
}

/*
 * Fetch an integer argument of the spec's length, widened to 64 bits.
 * char and short arrive promoted to int and are cut back to size here.
 */
static int64_t
arg_signed(va_list *ap, int length)
{
	switch (length) {
	case LEN_CHAR:
		return ((signed char)va_arg(*ap, int));
	case LEN_SHORT:
		return ((short)va_arg(*ap, int));
	case LEN_LONG:
		return (va_arg(*ap, long));
	case LEN_LLONG:
		return (va_arg(*ap, long long));
	case LEN_SIZE:
		return (va_arg(*ap, ssize_t));
	case LEN_PTRDIFF:
		return (va_arg(*ap, ptrdiff_t));
	case LEN_INTMAX:
		return (va_arg(*ap, intmax_t));
	default:
		return (va_arg(*ap, int));
	}
}

static u_int64_t
arg_unsigned(va_list *ap, int length)
{
	switch (length) {
	case LEN_CHAR:
		return ((unsigned char)va_arg(*ap, int));
	case LEN_SHORT:
		return ((unsigned short)va_arg(*ap, int));
	case LEN_LONG:
		return (va_arg(*ap, unsigned long));
	case LEN_LLONG:
		return (va_arg(*ap, unsigned long long));
	case LEN_SIZE:
		return (va_arg(*ap, size_t));
	case LEN_PTRDIFF:
		return ((size_t)va_arg(*ap, ptrdiff_t));
	case LEN_INTMAX:
		return (va_arg(*ap, uintmax_t));
	default:
		return (va_arg(*ap, unsigned int));
	}
}

/*
 * Write the digits of v in base 8, 10 or 16 into buf, least significant
 * first, and return how many (at least one).  Bases 8 and 16 take bits
 * off the bottom with shifts; base 10 divides, using 32-bit division as
 * soon as the value fits, because 64-bit division is slow on i386.
 */
static int
digits_reversed(char *buf, u_int64_t v, int base, bool upper)
{
	const char *digit = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	u_int32_t v32;
	int n = 0, shift;

	if (base != 10) {
		shift = (base == 8) ? 3 : 4;
		do {
			buf[n++] = digit[v & (base - 1)];
			v >>= shift;
		} while (v != 0);
		return (n);
	}
	while (v > 0xffffffffU) {
		buf[n++] = digit[v % 10];
		v /= 10;
	}
	v32 = (u_int32_t)v;
	do {
		buf[n++] = digit[v32 % 10];
		v32 /= 10;
	} while (v32 != 0);
	return (n);
}

/*
 * Print the magnitude v with a prefix (a sign, "0x", or "") in the field
 * the spec describes.  The pieces, left to right:
 *
 *	[spaces] prefix [zeros] digits [spaces]
 *
 * The zeros make up the precision (the minimum number of digits) or, with
 * the '0' flag and no precision, fill the field.  Value 0 with precision
 * 0 has no digits at all.  '#' with octal forces the first digit to be 0.
 */
static void
put_number(struct out *o, const struct spec *sp, u_int64_t v, int base,
    bool upper, const char *prefix)
{
	char buf[24];		/* 2^64 - 1 has 22 octal digits */
	int ndigits, nprefix, zeros, pad;

	ndigits = 0;
	if (v != 0 || sp->sp_prec != 0)
		ndigits = digits_reversed(buf, v, base, upper);
	nprefix = strlen(prefix);

	zeros = sp->sp_prec > ndigits ? sp->sp_prec - ndigits : 0;
	if ((sp->sp_flags & F_ALT) && base == 8 && zeros == 0 &&
	    (v != 0 || ndigits == 0))
		zeros = 1;

	pad = sp->sp_width - (nprefix + zeros + ndigits);
	if (pad < 0)
		pad = 0;
	if ((sp->sp_flags & (F_MINUS | F_ZERO)) == F_ZERO &&
	    sp->sp_prec < 0) {
		zeros += pad;
		pad = 0;
	}

	if ((sp->sp_flags & F_MINUS) == 0)
		out_repeat(o, ' ', pad);
	out_string(o, prefix, nprefix);
	out_repeat(o, '0', zeros);
	while (ndigits > 0)
		out_char(o, buf[--ndigits]);
	if (sp->sp_flags & F_MINUS)
		out_repeat(o, ' ', pad);
}

/* Print n characters of s padded with spaces to the field width. */
static void
put_text(struct out *o, const struct spec *sp, const char *s, int n)
{
	int pad;

	pad = sp->sp_width > n ? sp->sp_width - n : 0;
	if ((sp->sp_flags & F_MINUS) == 0)
		out_repeat(o, ' ', pad);
	out_string(o, s, n);
	if (sp->sp_flags & F_MINUS)
		out_repeat(o, ' ', pad);
}

/*
 * The engine.  Ordinary characters are copied; each % specification is
 * parsed and its argument converted.  An unknown conversion is copied
 * as it stands ("%y" prints "%y") so the mistake shows in the output.
 * Returns the number of characters produced.
 */
static int
kvprintf(const char *fmt, va_list ap0, putc_fn_t *put, void *arg)
{
	struct out o = { put, arg, 0 };
	struct spec sp;
	const char *start, *s, *prefix;
	u_int64_t v;
	int64_t sv;
	va_list ap;
	char c;

	va_copy(ap, ap0);
	while (*fmt != '\0') {
		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		start = fmt++;
		parse_spec(&fmt, &ap, &sp);
		switch (*fmt) {
		case 'd':
		case 'i':
			sv = arg_signed(&ap, sp.sp_length);
			v = sv < 0 ? -(u_int64_t)sv : (u_int64_t)sv;
			if (sv < 0)
				prefix = "-";
			else if (sp.sp_flags & F_PLUS)
				prefix = "+";
			else if (sp.sp_flags & F_SPACE)
				prefix = " ";
			else
				prefix = "";
			put_number(&o, &sp, v, 10, false, prefix);
			break;
		case 'u':
			v = arg_unsigned(&ap, sp.sp_length);
			put_number(&o, &sp, v, 10, false, "");
			break;
		case 'o':
			v = arg_unsigned(&ap, sp.sp_length);
			put_number(&o, &sp, v, 8, false, "");
			break;
		case 'x':
		case 'X':
			v = arg_unsigned(&ap, sp.sp_length);
			prefix = "";
			if ((sp.sp_flags & F_ALT) && v != 0)
				prefix = (*fmt == 'X') ? "0X" : "0x";
			put_number(&o, &sp, v, 16, *fmt == 'X', prefix);
			break;
		case 'p':
			/* Like 0x%08x: at least eight digits, always 0x. */
			v = (uintptr_t)va_arg(ap, void *);
			if (sp.sp_prec < 8)
				sp.sp_prec = 8;
			put_number(&o, &sp, v, 16, false, "0x");
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			put_text(&o, &sp, s, sp.sp_prec >= 0 ?
			    (int)strnlen(s, sp.sp_prec) : (int)strlen(s));
			break;
		case 'c':
			c = (char)va_arg(ap, int);
			put_text(&o, &sp, &c, 1);
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			/* The format ends inside a specification. */
			out_string(&o, start, fmt - start);
			continue;
		default:
			out_string(&o, start, fmt + 1 - start);
			break;
		}
		fmt++;
	}
	va_end(ap);
	return (o.o_count);
}

/*
 * Console output.  Characters collect in a buffer on the stack and go to
 * console_write() whenever it fills, and once more at the end: no lock
 * or allocation of our own, so printf works anywhere console_write does.
 */
struct conbuf {
	char	cb_buf[256];
	size_t	cb_len;
};

static void
conbuf_put(int c, void *arg)
{
	struct conbuf *cb = arg;

	if (cb->cb_len == sizeof(cb->cb_buf)) {
		console_write(cb->cb_buf, cb->cb_len);
		cb->cb_len = 0;
	}
	cb->cb_buf[cb->cb_len++] = c;
}

int
vprintf(const char *fmt, va_list ap)
{
	struct conbuf cb;
	int n;

	cb.cb_len = 0;
	n = kvprintf(fmt, ap, conbuf_put, &cb);
	if (cb.cb_len > 0)
		console_write(cb.cb_buf, cb.cb_len);
	return (n);
}

int
printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return (n);
}

/*
 * Output to a buffer.  Keep the first size - 1 characters and drop the
 * rest, leaving room for the NUL; the engine still counts them all.
 */
struct strbuf {
	char	*sb_buf;
	size_t	sb_size;
	size_t	sb_len;
};

static void
strbuf_put(int c, void *arg)
{
	struct strbuf *sb = arg;

	if (sb->sb_len + 1 < sb->sb_size)
		sb->sb_buf[sb->sb_len++] = c;
}

int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct strbuf sb = { buf, size, 0 };
	int n;

	n = kvprintf(fmt, ap, strbuf_put, &sb);
	if (size > 0)
		buf[sb.sb_len] = '\0';
	return (n);
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return (n);
}

/* No bound at all: the largest size there is. */
int
sprintf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, (size_t)-1, fmt, ap);
	va_end(ap);
	return (n);
}
