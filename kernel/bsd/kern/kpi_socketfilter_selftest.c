/*
 * Unit tests of the socket filters (kpi_socketfilter.c), run by
 * `selftest sflt`: the order several filters run in, EJUSTRETURN on a
 * request, a global filter on a new socket, and the lifetime rules --
 * a detach or an unregister from inside the filter's own callback waits
 * for the callback to return, and sf_unregistered comes last.  The
 * callbacks write one letter each into st_log; sock_ioctl is the
 * request that makes them run.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/filio.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_socketfilter.h>
#include <kern/selftest.h>
#include <netinet/in.h>

#define ST_A		0x73744141	/* 'stAA' */
#define ST_B		0x73744142
#define ST_C		0x73744143
#define ST_G		0x73744147

static char st_log[64];

static void
st_note(const char *what)
{
	strlcat(st_log, what, sizeof(st_log));
}

/* sf_attach: the filter's letter is its cookie. */
static errno_t
st_attach(void **cookie, const char *letter)
{
	*cookie = (void *)letter;
	st_note("+");
	st_note(letter);
	return 0;
}

static errno_t
st_attach_a(void **cookie, socket_t so)
{
	return st_attach(cookie, "a");
}

static errno_t
st_attach_b(void **cookie, socket_t so)
{
	return st_attach(cookie, "b");
}

static errno_t
st_attach_c(void **cookie, socket_t so)
{
	return st_attach(cookie, "c");
}

static void
st_detach(void *cookie, socket_t so)
{
	st_note("-");
	st_note(cookie);
}

static void
st_unregistered(sflt_handle handle)
{
	st_note("!");
}

/* What st_ioctl does besides noting its letter. */
static enum { ST_PASS, ST_KEEP, ST_DETACH_SELF, ST_UNREGISTER_SELF } st_mode;

static errno_t
st_ioctl(void *cookie, socket_t so, u_int32_t request, const char *argp)
{
	st_note(cookie);
	switch (st_mode) {
	case ST_KEEP:
		return EJUSTRETURN;
	case ST_DETACH_SELF:
		/* Busy: sf_detach must wait until we return. */
		st_note(sflt_detach(so, ST_A) == 0 ? "D" : "?");
		break;
	case ST_UNREGISTER_SELF:
		st_note(sflt_unregister(ST_A) == 0 ? "U" : "?");
		break;
	default:
		break;
	}
	st_note(".");
	return 0;
}

static struct sflt_filter st_filter = {
	ST_A, SFLT_PROG, "selftest", st_unregistered, st_attach_a, st_detach,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	st_ioctl, { 0 },	/* sf_ext: no SFLT_EXTENDED */
};

/* Register the filter `handle` with its letter's sf_attach. */
static errno_t
st_register(sflt_handle handle, int flags)
{
	struct sflt_filter f = st_filter;

	f.sf_handle = handle;
	f.sf_flags = flags;
	f.sf_attach = handle == ST_B ? st_attach_b : handle == ST_C ?
	    st_attach_c : st_attach_a;
	return sflt_register(&f, PF_INET, SOCK_DGRAM, IPPROTO_UDP);
}

static socket_t
st_socket(void)
{
	socket_t so = NULL;

	(void)sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, NULL, &so);
	return so;
}

/* One ioctl through the filters: the log of what they did. */
static const char *
st_run(socket_t so)
{
	int off = 0;

	st_log[0] = '\0';
	(void)sock_ioctl(so, FIONBIO, &off);
	return st_log;
}

static int
test_sflt_order_and_detach(void)
{
	socket_t so = st_socket();

	ST_ASSERT(so != NULL);
	st_mode = ST_PASS;
	ST_ASSERT(st_register(ST_A, SFLT_PROG) == 0);
	ST_ASSERT(st_register(ST_B, SFLT_PROG) == 0);
	ST_ASSERT(st_register(ST_C, SFLT_PROG) == 0);
	st_log[0] = '\0';
	ST_ASSERT(sflt_attach(so, ST_A) == 0);
	ST_ASSERT(sflt_attach(so, ST_B) == 0);
	ST_ASSERT(sflt_attach(so, ST_C) == 0);
	ST_ASSERT(strcmp(st_log, "+a+b+c") == 0);
	/* The last attached runs first. */
	ST_ASSERT(strcmp(st_run(so), "c.b.a.") == 0);
	st_log[0] = '\0';
	ST_ASSERT(sflt_detach(so, ST_B) == 0);
	ST_ASSERT(strcmp(st_log, "-b") == 0);
	ST_ASSERT(strcmp(st_run(so), "c.a.") == 0);
	/* Closing detaches the rest, in the order they run. */
	st_log[0] = '\0';
	sock_close(so);
	ST_ASSERT(strcmp(st_log, "-c-a") == 0);
	st_log[0] = '\0';
	ST_ASSERT(sflt_unregister(ST_A) == 0);
	ST_ASSERT(sflt_unregister(ST_B) == 0);
	ST_ASSERT(sflt_unregister(ST_C) == 0);
	ST_ASSERT(strcmp(st_log, "!!!") == 0);	/* nothing attached: at once */
	return 0;
}
SELFTEST(sflt_order_and_detach, test_sflt_order_and_detach);

static int
test_sflt_ejustreturn_request(void)
{
	socket_t so = st_socket();
	int on = 1;

	ST_ASSERT(so != NULL);
	ST_ASSERT(st_register(ST_A, SFLT_PROG) == 0);
	ST_ASSERT(sflt_attach(so, ST_A) == 0);
	st_mode = ST_KEEP;
	/* The filter answered it: success, and the socket layer did not. */
	ST_ASSERT(sock_ioctl(so, FIONBIO, &on) == 0);
	ST_ASSERT(sock_isnonblocking(so) == 0);
	st_mode = ST_PASS;
	ST_ASSERT(sock_ioctl(so, FIONBIO, &on) == 0);
	ST_ASSERT(sock_isnonblocking(so) == 1);
	sock_close(so);
	ST_ASSERT(sflt_unregister(ST_A) == 0);
	return 0;
}
SELFTEST(sflt_ejustreturn_request, test_sflt_ejustreturn_request);

static int
test_sflt_detach_from_own_callback(void)
{
	socket_t so = st_socket();

	ST_ASSERT(so != NULL);
	ST_ASSERT(st_register(ST_A, SFLT_PROG) == 0);
	ST_ASSERT(sflt_attach(so, ST_A) == 0);
	st_mode = ST_DETACH_SELF;
	/* sflt_detach returns at once; sf_detach comes after the callback. */
	ST_ASSERT(strcmp(st_run(so), "aD.-a") == 0);
	st_mode = ST_PASS;
	ST_ASSERT(strcmp(st_run(so), "") == 0);		/* gone */
	sock_close(so);
	st_log[0] = '\0';
	ST_ASSERT(sflt_unregister(ST_A) == 0);
	ST_ASSERT(strcmp(st_log, "!") == 0);
	return 0;
}
SELFTEST(sflt_detach_from_own_callback, test_sflt_detach_from_own_callback);

static int
test_sflt_unregister_from_own_callback(void)
{
	socket_t so = st_socket();

	ST_ASSERT(so != NULL);
	ST_ASSERT(st_register(ST_A, SFLT_PROG) == 0);
	ST_ASSERT(sflt_attach(so, ST_A) == 0);
	st_mode = ST_UNREGISTER_SELF;
	/* sf_detach after the callback returned, sf_unregistered last. */
	ST_ASSERT(strcmp(st_run(so), "aU.-a!") == 0);
	st_mode = ST_PASS;
	ST_ASSERT(sflt_attach(so, ST_A) == EINVAL);	/* unregistered */
	ST_ASSERT(sflt_unregister(ST_A) == ENOENT);
	sock_close(so);
	return 0;
}
SELFTEST(sflt_unregister_from_own_callback,
    test_sflt_unregister_from_own_callback);

static int
test_sflt_global_on_new_sockets(void)
{
	socket_t old = st_socket(), so;

	ST_ASSERT(old != NULL);
	st_mode = ST_PASS;
	ST_ASSERT(st_register(ST_G, SFLT_GLOBAL) == 0);
	ST_ASSERT(strcmp(st_run(old), "") == 0);	/* made before: none */
	st_log[0] = '\0';
	so = st_socket();
	ST_ASSERT(so != NULL);
	ST_ASSERT(strcmp(st_log, "+a") == 0);		/* at sock_socket */
	ST_ASSERT(strcmp(st_run(so), "a.") == 0);
	/* Unregistered with the socket open: its sf_detach, then the last
	 * call. */
	st_log[0] = '\0';
	ST_ASSERT(sflt_unregister(ST_G) == 0);
	ST_ASSERT(strcmp(st_log, "-a!") == 0);
	ST_ASSERT(strcmp(st_run(so), "") == 0);
	sock_close(so);
	sock_close(old);
	return 0;
}
SELFTEST(sflt_global_on_new_sockets, test_sflt_global_on_new_sockets);
