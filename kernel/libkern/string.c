/*
 * The byte and string functions of <string.h> and the BSD ones of
 * <libkern/libkern.h> (bcopy, bzero, bcmp, ffs, fls).  Plain loops, easy
 * to check; memcpy, memmove and memset move whole 32-bit words when the
 * addresses allow, because the packet path leans on them (the mbuf
 * allocator poisons every freed mbuf: a byte loop cost about 1000 cycles
 * a packet under QEMU).  The compiler also calls memcpy, memmove and
 * memset itself, for structure copies.
 */
#include <sys/types.h>
#include <string.h>
#include <libkern/libkern.h>

/*
 * A hosted GCC recognises a byte-copy or byte-fill loop and replaces it
 * with a call to memcpy or memset -- which, inside memcpy or memset,
 * would call itself forever.  -ffreestanding stops that today; this
 * attribute keeps it stopped should the flags ever change.
 */
#define NO_LIBCALL \
	__attribute__((__optimize__("no-tree-loop-distribute-patterns")))

/* Byte arrays. */

/* May the copy go a 32-bit word at a time: both ends aligned alike? */
static inline bool
words_ok(const void *a, const void *b)
{
	return (((uintptr_t)a | (uintptr_t)b) & 3) == 0;
}

NO_LIBCALL void *
memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (words_ok(d, s))
		for (; n >= 4; n -= 4, d += 4, s += 4)
			*(uint32_t *)d = *(const uint32_t *)s;
	while (n-- > 0)
		*d++ = *s++;
	return (dst);
}

/*
 * If dst starts inside src, a forward copy would overwrite bytes of src
 * before reading them, so copy from the end backwards; otherwise forwards.
 */
NO_LIBCALL void *
memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d > s && d < s + n) {
		d += n;
		s += n;
		if (words_ok(d, s))
			for (; n >= 4; n -= 4)
				*(uint32_t *)(d -= 4) = *(const uint32_t *)(s -= 4);
		while (n-- > 0)
			*--d = *--s;
	} else {
		if (words_ok(d, s))
			for (; n >= 4; n -= 4, d += 4, s += 4)
				*(uint32_t *)d = *(const uint32_t *)s;
		while (n-- > 0)
			*d++ = *s++;
	}
	return (dst);
}

NO_LIBCALL void *
memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint32_t word = (unsigned char)c * 0x01010101u;

	if (words_ok(d, d))
		for (; n >= 4; n -= 4, d += 4)
			*(uint32_t *)d = word;
	while (n-- > 0)
		*d++ = (unsigned char)c;
	return (dst);
}

int
memcmp(const void *s1, const void *s2, size_t n)
{
	const unsigned char *p1 = s1, *p2 = s2;

	for (; n > 0; n--, p1++, p2++) {
		if (*p1 != *p2)
			return (*p1 - *p2);
	}
	return (0);
}

void
bcopy(const void *src, void *dst, size_t n)
{
	memmove(dst, src, n);
}

void
bzero(void *dst, size_t n)
{
	memset(dst, 0, n);
}

int
bcmp(const void *s1, const void *s2, size_t n)
{
	return (memcmp(s1, s2, n) != 0);
}

/* Lengths and comparisons. */

size_t
strlen(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		continue;
	return (p - s);
}

size_t
strnlen(const char *s, size_t maxlen)
{
	size_t len;

	for (len = 0; len < maxlen && s[len] != '\0'; len++)
		continue;
	return (len);
}

int
strcmp(const char *s1, const char *s2)
{
	for (; *s1 == *s2; s1++, s2++) {
		if (*s1 == '\0')
			return (0);
	}
	return ((unsigned char)*s1 - (unsigned char)*s2);
}

int
strncmp(const char *s1, const char *s2, size_t n)
{
	for (; n > 0; n--, s1++, s2++) {
		if (*s1 != *s2)
			return ((unsigned char)*s1 - (unsigned char)*s2);
		if (*s1 == '\0')
			break;
	}
	return (0);
}

/* Copying and appending. */

char *
strcpy(char *dst, const char *src)
{
	char *d = dst;

	while ((*d++ = *src++) != '\0')
		continue;
	return (dst);
}

char *
strncpy(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && src[i] != '\0'; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return (dst);
}

/* Copy as much of src as fits in size - 1 bytes, then a NUL. */
size_t
strlcpy(char *dst, const char *src, size_t size)
{
	size_t srclen, n;

	srclen = strlen(src);
	if (size > 0) {
		n = srclen < size - 1 ? srclen : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return (srclen);
}

/*
 * Append src after the string in dst, within size bytes in all.  If dst
 * holds no NUL in its first size bytes there is no room at all: leave it
 * alone and report size + strlen(src).
 */
size_t
strlcat(char *dst, const char *src, size_t size)
{
	size_t dstlen;

	dstlen = strnlen(dst, size);
	if (dstlen == size)
		return (size + strlen(src));
	return (dstlen + strlcpy(dst + dstlen, src, size - dstlen));
}

char *
strncat(char *dst, const char *src, size_t n)
{
	char *d;

	d = dst + strlen(dst);
	for (; n > 0 && *src != '\0'; n--)
		*d++ = *src++;
	*d = '\0';
	return (dst);
}

/* Searching. */

char *
strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return ((char *)s);
		if (*s == '\0')
			return (NULL);
	}
}

char *
strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (*s == '\0')
			return ((char *)last);
	}
}

char *
strstr(const char *s, const char *find)
{
	size_t len;

	len = strlen(find);
	for (; *s != '\0'; s++) {
		if (strncmp(s, find, len) == 0)
			return ((char *)s);
	}
	return (len == 0 ? (char *)s : NULL);
}

/* Bit scans: shift until the bit we want reaches the end. */

int
ffs(int mask)
{
	u_int m = (u_int)mask;
	int bit;

	if (m == 0)
		return (0);
	for (bit = 1; (m & 1) == 0; bit++)
		m >>= 1;
	return (bit);
}

int
fls(int mask)
{
	u_int m = (u_int)mask;
	int bit;

	for (bit = 0; m != 0; bit++)
		m >>= 1;
	return (bit);
}
