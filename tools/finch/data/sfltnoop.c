/*
 * sfltnoop -- the kext `finch bench` loads to price a socket filter
 * (finch/sfltbench.py).  Two UDP echo sockets answered from their
 * upcalls by the same code: port 5007 bare, port 5008 with a no-op
 * socket filter attached (sf_data_in and sf_data_out let everything
 * through), so that the only difference between the two is the filter's
 * hooks.  Built by the bench from this file; not a sample.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/kpi_mbuf.h>
#include <sys/kpi_socket.h>
#include <sys/kpi_socketfilter.h>
#include <netinet/in.h>

#define NOOP_HANDLE	0x6e6f6f70	/* 'noop' */
#define BARE_PORT	5007
#define FILTERED_PORT	5008

kern_return_t	sfltnoop_start(kmod_info_t *ki, void *data);
kern_return_t	sfltnoop_stop(kmod_info_t *ki, void *data);

static socket_t		bare, filtered;
static volatile int	unregistered;

static errno_t
noop_attach(void **cookie, socket_t so)
{
	*cookie = NULL;
	return 0;
}

static void
noop_detach(void *cookie, socket_t so)
{
}

static void
noop_unregistered(sflt_handle handle)
{
	unregistered = 1;
	wakeup((void *)&unregistered);
}

static errno_t
noop_data(void *cookie, socket_t so, const struct sockaddr *addr,
    mbuf_t *data, mbuf_t *control, sflt_data_flag_t flags)
{
	return 0;
}

static struct sflt_filter noop_filter = {
	NOOP_HANDLE, SFLT_PROG, "sfltnoop", noop_unregistered, noop_attach,
	noop_detach, NULL, NULL, NULL, noop_data, noop_data, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL,
};

/* Send every datagram waiting back where it came from, as the kernel's
 * echo service does (no copy: the mbufs go back out). */
static void
echo_upcall(socket_t so, void *cookie, int waitf)
{
	struct sockaddr_in from;
	struct msghdr msg;
	mbuf_t m;
	size_t len;

	for (;;) {
		bzero(&msg, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		len = 65535;
		if (sock_receivembuf(so, &msg, &m, MSG_DONTWAIT, &len) != 0)
			return;
		sock_sendmbuf(so, &msg, m, MSG_DONTWAIT, NULL);
	}
}

static errno_t
echo_open(int port, socket_t *so)
{
	struct sockaddr_in sin;
	int size = 256 * 1024;
	errno_t error;

	bzero(&sin, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	error = sock_socket(PF_INET, SOCK_DGRAM, IPPROTO_UDP, echo_upcall, NULL,
	    so);
	if (error != 0)
		return error;
	sock_setsockopt(*so, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if ((error = sock_bind(*so, (struct sockaddr *)&sin)) != 0)
		sock_close(*so);
	return error;
}

kern_return_t
sfltnoop_start(kmod_info_t *ki, void *data)
{
	if (sflt_register(&noop_filter, PF_INET, SOCK_DGRAM, IPPROTO_UDP) != 0)
		return KERN_FAILURE;
	if (echo_open(BARE_PORT, &bare) != 0)
		goto fail;
	if (echo_open(FILTERED_PORT, &filtered) != 0) {
		sock_close(bare);
		goto fail;
	}
	sflt_attach(filtered, NOOP_HANDLE);
	printf("sfltnoop: echo on %d bare, on %d through a no-op filter\n",
	    BARE_PORT, FILTERED_PORT);
	return KERN_SUCCESS;
fail:
	sflt_unregister(NOOP_HANDLE);
	return KERN_FAILURE;
}

kern_return_t
sfltnoop_stop(kmod_info_t *ki, void *data)
{
	struct timespec wait = { 2, 0 };

	sock_close(bare);
	sock_close(filtered);
	sflt_unregister(NOOP_HANDLE);
	if (!unregistered)
		msleep((void *)&unregistered, NULL, 0, "sfltnoop", &wait);
	return unregistered ? KERN_SUCCESS : KERN_FAILURE;
}
