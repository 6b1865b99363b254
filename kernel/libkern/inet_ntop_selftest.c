/*
 * Unit tests for inet_ntop (`selftest inet_ntop` in the monitor): IPv4,
 * IPv6 with RFC 5952's zero compression, mapped and compatible tails,
 * and buffers too small or an unknown family.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>
#include <kern/selftest.h>

/* inet_ntop of 16 bytes given as 8 groups; compared with want. */
static bool
ntop6_is(const char *want, u_int16_t g0, u_int16_t g1, u_int16_t g2, u_int16_t g3,
    u_int16_t g4, u_int16_t g5, u_int16_t g6, u_int16_t g7)
{
	u_int16_t groups[8] = { g0, g1, g2, g3, g4, g5, g6, g7 };
	struct in6_addr a;
	char buf[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < 8; i++)
		a.s6_addr16[i] = htons(groups[i]);
	if (inet_ntop(AF_INET6, &a, buf, sizeof(buf)) == buf &&
	    strcmp(buf, want) == 0)
		return true;
	printf("    want \"%s\", got \"%s\"\n", want, buf);
	return false;
}

static int
test_inet_ntop_v4(void)
{
	struct in_addr a;
	char buf[INET_ADDRSTRLEN];

	a.s_addr = htonl(0x0a00020f);
	ST_ASSERT(inet_ntop(AF_INET, &a, buf, sizeof(buf)) == buf);
	ST_ASSERT(strcmp(buf, "10.0.2.15") == 0);
	a.s_addr = INADDR_BROADCAST;
	ST_ASSERT(strcmp(inet_ntop(AF_INET, &a, buf, sizeof(buf)),
	    "255.255.255.255") == 0);
	/* "10.0.2.15" needs 10 bytes. */
	a.s_addr = htonl(0x0a00020f);
	ST_ASSERT(inet_ntop(AF_INET, &a, buf, 9) == NULL && buf[0] == '\0');
	ST_ASSERT(inet_ntop(AF_INET, &a, buf, 10) == buf);
	ST_ASSERT(inet_ntop(AF_UNIX, &a, buf, sizeof(buf)) == NULL);
	return 0;
}
SELFTEST(inet_ntop_v4, test_inet_ntop_v4);

static int
test_inet_ntop_v6(void)
{
	ST_ASSERT(ntop6_is("::", 0, 0, 0, 0, 0, 0, 0, 0));
	ST_ASSERT(ntop6_is("::1", 0, 0, 0, 0, 0, 0, 0, 1));
	ST_ASSERT(ntop6_is("fe80::1", 0xfe80, 0, 0, 0, 0, 0, 0, 1));
	ST_ASSERT(ntop6_is("2001:db8::1:0:0:1", 0x2001, 0xdb8, 0, 0, 1, 0, 0, 1));
	ST_ASSERT(ntop6_is("2001:db8:0:1:1:1:1:1", 0x2001, 0xdb8, 0, 1, 1, 1, 1, 1));
	ST_ASSERT(ntop6_is("1::", 1, 0, 0, 0, 0, 0, 0, 0));
	ST_ASSERT(ntop6_is("::ffff:10.0.2.15", 0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x020f));
	ST_ASSERT(ntop6_is("::10.0.2.15", 0, 0, 0, 0, 0, 0, 0x0a00, 0x020f));
	ST_ASSERT(ntop6_is("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0xffff, 0xffff,
	    0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff));
	return 0;
}
SELFTEST(inet_ntop_v6, test_inet_ntop_v6);
