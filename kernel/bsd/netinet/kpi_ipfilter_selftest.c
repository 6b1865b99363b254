/*
 * Unit tests of IP filters, run by `selftest ipf`: ipf_addv4's refusals,
 * the order filters run in (newest first) through the output hook,
 * EJUSTRETURN stopping the walk, ipf_remove's errors and its call of
 * ipf_detach, and a filter that removes itself from its own callback
 * (ipf_detach comes once its datagram has left the filters).
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <kern/selftest.h>
#include <bsd/netinet/kpi_ipfilter_var.h>

static char st_log[16];
static int st_detached;
static ipfilter_t st_self;	/* the filter that removes itself */
static errno_t st_self_error;	/* what its ipf_remove returned */
static int st_detached_inside;	/* st_detached right after that call */

static void
st_logc(char c)
{
	size_t n = strlen(st_log);

	if (n + 1 < sizeof(st_log)) {
		st_log[n] = c;
		st_log[n + 1] = '\0';
	}
}

/* The cookie is the letter to log; 'K' keeps the datagram (and frees
 * it: the hook forgets a kept one), 'R' removes its own filter. */
static errno_t
st_output(void *cookie, mbuf_t *data, ipf_pktopts_t options)
{
	char c = *(const char *)cookie;

	st_logc(c);
	if (c == 'K') {
		mbuf_freem(*data);
		return EJUSTRETURN;
	}
	if (c == 'R') {
		st_self_error = ipf_remove(st_self);	/* cannot wait here */
		st_detached_inside = st_detached;
	}
	if (c == 'S') {			/* hands back 4 bytes, then the rest */
		mbuf_t rest;

		if (mbuf_split(*data, 4, MBUF_WAITOK, &rest) == 0) {
			mbuf_setnext(*data, rest);
			mbuf_pkthdr_setlen(*data, sizeof(struct ip));
		}
	}
	return 0;
}

static void
st_detach(void *cookie)
{
	st_detached++;
}

static errno_t
st_add(const char *letter, ipfilter_t *ref)
{
	struct ipf_filter f = { (void *)letter, "st", NULL, st_output,
		st_detach };

	return ipf_addv4(&f, ref);
}

/* A datagram header for the hook: the filters here never read it. */
static mbuf_t
st_datagram(void)
{
	mbuf_t m;

	if (mbuf_allocpacket(MBUF_WAITOK, sizeof(struct ip), NULL, &m) != 0)
		return NULL;
	bzero(mbuf_data(m), sizeof(struct ip));
	return m;
}

static int
test_ipf_register_refusals(void)
{
	struct ipf_filter f = { NULL, NULL, NULL, st_output, NULL };
	ipfilter_t ref;

	ST_ASSERT(ipf_addv4(&f, &ref) == EINVAL);		/* no name */
	f.name = "st";
	f.ipf_output = NULL;
	ST_ASSERT(ipf_addv4(&f, &ref) == EINVAL);		/* no callback */
	ST_ASSERT(ipf_addv4(NULL, &ref) == EINVAL);
	f.ipf_output = st_output;
	ST_ASSERT(ipf_addv4(&f, NULL) == EINVAL);
	ST_ASSERT(ipf_addv6(&f, &ref) == EAFNOSUPPORT);
	ST_ASSERT(ipf_remove(NULL) == EINVAL);
	return 0;
}
SELFTEST(ipf_register_refusals, test_ipf_register_refusals);

static int
test_ipf_order_and_remove(void)
{
	ipfilter_t a, b, k;
	mbuf_t m;
	errno_t error;

	st_log[0] = '\0';
	st_detached = 0;
	ST_ASSERT(st_add("A", &a) == 0);
	ST_ASSERT(st_add("B", &b) == 0);
	ST_ASSERT((m = st_datagram()) != NULL);
	error = ipf_output_hook(&m, NULL);
	ST_ASSERT(error == 0);
	mbuf_freem(m);
	ST_ASSERT(strcmp(st_log, "BA") == 0);	/* the newest first */

	ST_ASSERT(st_add("K", &k) == 0);	/* newest: runs first, keeps */
	ST_ASSERT((m = st_datagram()) != NULL);
	ST_ASSERT(ipf_output_hook(&m, NULL) == EJUSTRETURN);
	ST_ASSERT(strcmp(st_log, "BAK") == 0);	/* and nobody after it */

	ST_ASSERT(ipf_remove(k) == 0);
	ST_ASSERT(st_detached == 1);		/* before ipf_remove returned */
	ST_ASSERT(ipf_remove(k) == ENOENT);
	ST_ASSERT(ipf_remove(b) == 0);
	ST_ASSERT(ipf_remove(a) == 0);
	ST_ASSERT(st_detached == 3);
	return 0;
}
SELFTEST(ipf_order_and_remove, test_ipf_order_and_remove);

/* What a filter hands back may be any chain; IP reads its header from
 * the first mbuf, so the hook makes it contiguous again. */
static int
test_ipf_header_contiguous_after(void)
{
	ipfilter_t s;
	mbuf_t m;

	st_log[0] = '\0';
	st_detached = 0;
	ST_ASSERT(st_add("S", &s) == 0);
	ST_ASSERT((m = st_datagram()) != NULL);
	ST_ASSERT(ipf_output_hook(&m, NULL) == 0);
	ST_ASSERT(strcmp(st_log, "S") == 0);
	ST_ASSERT(mbuf_len(m) >= sizeof(struct ip));
	ST_ASSERT(mbuf_pkthdr_len(m) == sizeof(struct ip));
	mbuf_freem(m);
	ST_ASSERT(ipf_remove(s) == 0 && st_detached == 1);
	return 0;
}
SELFTEST(ipf_header_contiguous_after, test_ipf_header_contiguous_after);

static int
test_ipf_remove_from_own_callback(void)
{
	mbuf_t m;

	st_log[0] = '\0';
	st_detached = 0;
	ST_ASSERT(st_add("R", &st_self) == 0);
	ST_ASSERT((m = st_datagram()) != NULL);
	ST_ASSERT(ipf_output_hook(&m, NULL) == 0);
	mbuf_freem(m);
	ST_ASSERT(strcmp(st_log, "R") == 0);
	ST_ASSERT(st_self_error == 0);
	ST_ASSERT(st_detached_inside == 0);	/* not inside its callback */
	ST_ASSERT(st_detached == 1);		/* but once the walk ended */
	ST_ASSERT(ipf_remove(st_self) == ENOENT);
	return 0;
}
SELFTEST(ipf_remove_from_own_callback, test_ipf_remove_from_own_callback);
