/*
 * <string.h> -- the C library's byte and string functions, for the kernel
 * and kexts.  They are plain loops in libkern/string.c; none allocates,
 * sleeps or takes a lock, so they may be called from anywhere.
 */
#ifndef _STRING_H_
#define _STRING_H_

#include <sys/cdefs.h>
#include <stddef.h>

__BEGIN_DECLS

/*
 * Byte arrays.  memcpy's regions must not overlap; memmove's may.
 * memset stores (unsigned char)c into n bytes.  All three return dst.
 * memcmp compares bytes as unsigned char: <0, 0 or >0.
 */
void	*memcpy(void *dst, const void *src, size_t n);
void	*memmove(void *dst, const void *src, size_t n);
void	*memset(void *dst, int c, size_t n);
int	memcmp(const void *s1, const void *s2, size_t n);

/* Length of s, not counting the NUL; strnlen looks at most maxlen bytes. */
size_t	strlen(const char *s);
size_t	strnlen(const char *s, size_t maxlen);

/*
 * Compare as unsigned char: <0, 0 or >0.  strncmp stops after n bytes.
 */
int	strcmp(const char *s1, const char *s2);
int	strncmp(const char *s1, const char *s2, size_t n);

/*
 * strcpy copies src and its NUL; dst must be large enough.  strncpy
 * copies at most n bytes and pads with NULs, but leaves dst unterminated
 * when strlen(src) >= n.  Both return dst.  Prefer strlcpy.
 */
char	*strcpy(char *dst, const char *src);
char	*strncpy(char *dst, const char *src, size_t n);

/*
 * Size-bounded copy and append: dst is always NUL-terminated when
 * size > 0, and the result is the length of the string they tried to
 * create (strlen(src), or initial strlen(dst) + strlen(src)), so a
 * result >= size means the output was truncated.
 */
size_t	strlcpy(char *dst, const char *src, size_t size);
size_t	strlcat(char *dst, const char *src, size_t size);

/* Append at most n bytes of src to dst, then a NUL; returns dst. */
char	*strncat(char *dst, const char *src, size_t n);

/*
 * First / last occurrence of (char)c in s (the NUL counts, so c == 0
 * finds the end), and first occurrence of the string find in s (s itself
 * when find is empty).  NULL when absent.
 */
char	*strchr(const char *s, int c);
char	*strrchr(const char *s, int c);
char	*strstr(const char *s, const char *find);

__END_DECLS

#endif /* _STRING_H_ */
