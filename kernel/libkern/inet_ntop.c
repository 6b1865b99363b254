/*
 * inet_ntop(): an IPv4 or IPv6 address as text (<netinet/in.h>), for
 * log lines and monitors.  IPv6 follows RFC 5952: lowercase groups
 * without leading zeros, the longest run of two or more zero groups
 * (the first, on a tie) written "::", and an IPv4-mapped or -compatible
 * address ending in dotted decimal.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <libkern/libkern.h>
#include <string.h>

/* Copy text (len bytes, NUL included) to dst if it fits. */
static const char *
ntop_result(const char *text, size_t len, char *dst, socklen_t size)
{
	if (len > size) {
		if (size > 0)
			dst[0] = '\0';
		return NULL;
	}
	memcpy(dst, text, len);
	return dst;
}

static const char *
inet_ntop4(const u_char *a, char *dst, socklen_t size)
{
	char text[INET_ADDRSTRLEN];
	int n;

	n = snprintf(text, sizeof(text), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	return ntop_result(text, (size_t)n + 1, dst, size);
}

/* Where the longest run of at least two zero groups starts, or -1. */
static int
longest_zero_run(const u_int16_t *g, int *runlen)
{
	int best = -1, bestlen = 0, i, j;

	for (i = 0; i < 8; i = j + 1) {
		for (j = i; j < 8 && g[j] == 0; j++)
			continue;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
	}
	*runlen = bestlen;
	return best;
}

static const char *
inet_ntop6(const u_char *a, char *dst, socklen_t size)
{
	char text[INET6_ADDRSTRLEN], *p = text, *end = text + sizeof(text);
	u_int16_t g[8];
	int i, run, runlen;

	for (i = 0; i < 8; i++)
		g[i] = (u_int16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	run = longest_zero_run(g, &runlen);
	for (i = 0; i < 8; i++) {
		if (i == run) {
			p += snprintf(p, end - p, "::");
			i += runlen - 1;
			continue;
		}
		/* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible). */
		if (i == 6 && run == 0 && (runlen == 6 ||
		    (runlen == 5 && g[5] == 0xffff))) {
			if (i != run + runlen)
				*p++ = ':';
			inet_ntop4(a + 12, p, end - p);	/* always fits */
			p += strlen(p);
			break;
		}
		p += snprintf(p, end - p, "%s%x",
		    i > 0 && i != run + runlen ? ":" : "", g[i]);
	}
	return ntop_result(text, (size_t)(p - text) + 1, dst, size);
}

const char *
inet_ntop(int af, const void *src, char *dst, socklen_t size)
{
	switch (af) {
	case AF_INET:
		return inet_ntop4(src, dst, size);
	case AF_INET6:
		return inet_ntop6(src, dst, size);
	default:
		if (size > 0)
			dst[0] = '\0';
		return NULL;
	}
}
