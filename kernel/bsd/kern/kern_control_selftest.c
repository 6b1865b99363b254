/*
 * Unit tests of kernel controls and PF_SYSTEM sockets, run by `selftest
 * kctl`: ctl_register's refusals and the ids it assigns, an in-kernel
 * client (sock_socket) that looks a control up, connects and reads what
 * the control enqueues, the buffer limits of ctl_enqueuedata, EBUSY
 * while connected, and an event socket whose filter picks one vendor's
 * events.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/sys_domain.h>
#include <sys/kern_control.h>
#include <sys/kern_event.h>
#include <sys/kpi_socket.h>
#include <kern/selftest.h>
#include <bsd/kern/kern_control_var.h>

#define ST_NAME		"org.finch.selftest.kctl"
#define ST_WAIT_SEC	2	/* a receive waits at most this long */

static u_int32_t st_connects, st_unit;

static errno_t
st_connect(kern_ctl_ref ref, struct sockaddr_ctl *sac, void **unitinfo)
{
	st_connects++;
	st_unit = sac->sc_unit;
	return 0;
}

static void
st_reg(struct kern_ctl_reg *reg, const char *name)
{
	bzero(reg, sizeof(*reg));
	strlcpy(reg->ctl_name, name, sizeof(reg->ctl_name));
	reg->ctl_connect = st_connect;
}

static int
test_kctl_register_refusals(void)
{
	struct kern_ctl_reg reg, dup;
	kern_ctl_ref ref, ref2;

	st_reg(&reg, ST_NAME);
	reg.ctl_connect = NULL;
	ST_ASSERT(ctl_register(&reg, &ref) == EINVAL);
	st_reg(&reg, "");
	ST_ASSERT(ctl_register(&reg, &ref) == EINVAL);
	st_reg(&reg, ST_NAME);
	memset(reg.ctl_name, 'x', sizeof(reg.ctl_name));	/* no NUL */
	ST_ASSERT(ctl_register(&reg, &ref) == EINVAL);

	st_reg(&reg, ST_NAME);
	ST_ASSERT(ctl_register(&reg, &ref) == 0);
	ST_ASSERT(reg.ctl_id >= CTL_FIRST_ID);		/* written back */
	st_reg(&dup, ST_NAME);
	ST_ASSERT(ctl_register(&dup, &ref2) == EEXIST);	/* name taken */
	st_reg(&dup, ST_NAME ".fixed");
	dup.ctl_flags = CTL_FLAG_REG_ID_UNIT;
	dup.ctl_id = reg.ctl_id;
	ST_ASSERT(ctl_register(&dup, &ref2) == EEXIST);	/* id taken */
	ST_ASSERT(ctl_deregister(ref) == 0);
	ST_ASSERT(ctl_deregister(ref) == EINVAL);	/* gone */
	ST_ASSERT(ctl_deregister(NULL) == EINVAL);
	return 0;
}
SELFTEST(kctl_register_refusals, test_kctl_register_refusals);

/* Wait for reads for at most ST_WAIT_SEC. */
static errno_t
st_timeout(socket_t so)
{
	struct timeval tv = { ST_WAIT_SEC, 0 };

	return sock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static errno_t
st_recv(socket_t so, void *buf, size_t len, size_t *got)
{
	struct iovec iov = { buf, len };
	struct msghdr msg;

	bzero(&msg, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	return sock_receive(so, &msg, 0, got);
}

/* An in-kernel client: CTLIOCGINFO, connect, receive, EBUSY, close. */
static int
test_kctl_kernel_client(void)
{
	struct kern_ctl_reg reg;
	struct sockaddr_ctl sac;
	struct ctl_info info;
	kern_ctl_ref ref;
	socket_t so;
	static char big[CTL_RECVSIZE + 1];	/* too big for the stack */
	char buf[16];
	size_t got, space;
	int fails = 1;

	st_reg(&reg, ST_NAME);
	ST_ASSERT(ctl_register(&reg, &ref) == 0);
	if (sock_socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL, NULL, NULL,
	    &so) != 0)
		goto out;
	bzero(&info, sizeof(info));
	strlcpy(info.ctl_name, ST_NAME, sizeof(info.ctl_name));
	if (sock_ioctl(so, CTLIOCGINFO, &info) != 0 || info.ctl_id != reg.ctl_id)
		goto close;
	bzero(&sac, sizeof(sac));
	sac.sc_len = sizeof(sac);
	sac.sc_family = AF_SYSTEM;
	sac.ss_sysaddr = AF_SYS_CONTROL;
	sac.sc_id = info.ctl_id;
	st_connects = 0;
	if (sock_connect(so, (struct sockaddr *)&sac, 0) != 0 ||
	    st_connects != 1 || st_unit != 1)
		goto close;
	if (ctl_enqueuedata(ref, 1, "ping", 4, 0) != 0 ||
	    ctl_enqueuedata(ref, 2, "ping", 4, 0) != EINVAL ||	/* no unit 2 */
	    ctl_enqueuedata(ref, 1, big, sizeof(big), 0) != EMSGSIZE ||
	    ctl_getenqueuespace(ref, 1, &space) != 0 ||
	    space != CTL_RECVSIZE - 4)
		goto close;
	if (ctl_enqueuedata(ref, 1, big, space - 4, 0) != 0 ||
	    ctl_enqueuedata(ref, 1, big, 8, 0) != ENOBUFS)	/* full */
		goto close;
	if (st_timeout(so) != 0 || st_recv(so, buf, sizeof(buf), &got) != 0 ||
	    got != 4 || memcmp(buf, "ping", 4) != 0)
		goto close;
	if (ctl_deregister(ref) != EBUSY)
		goto close;
	fails = 0;
close:
	sock_close(so);
out:
	ST_ASSERT(ctl_deregister(ref) == 0);	/* no client now */
	ST_ASSERT(fails == 0);
	return 0;
}
SELFTEST(kctl_kernel_client, test_kctl_kernel_client);

/* An event socket hears what its filter lets through, in order. */
static int
test_kctl_event_socket_filter(void)
{
	struct kev_request req = { 0, 0, 0 }, back;
	struct kev_vendor_code kvc;
	union {
		struct kern_event_msg	msg;
		char			bytes[64];
	} rec;
	struct kev_msg post;
	u_int32_t vendor, other, i;
	socket_t so;
	size_t got;
	int fails = 1;

	ST_ASSERT(kev_vendor_code_find("org.finch.selftest.kctl", &vendor) == 0);
	ST_ASSERT(kev_vendor_code_find("org.finch.selftest.kctl.other",
	    &other) == 0);
	ST_ASSERT(sock_socket(PF_SYSTEM, SOCK_RAW, SYSPROTO_EVENT, NULL, NULL,
	    &so) == 0);
	/* SIOCGKEVVENDOR: the code kev_vendor_code_find gave. */
	bzero(&kvc, sizeof(kvc));
	strlcpy(kvc.vendor_string, "org.finch.selftest.kctl",
	    sizeof(kvc.vendor_string));
	if (sock_ioctl(so, SIOCGKEVVENDOR, &kvc) != 0 ||
	    kvc.vendor_code != vendor)
		goto out;
	req.vendor_code = vendor;
	if (sock_ioctl(so, SIOCSKEVFILT, &req) != 0 ||
	    sock_ioctl(so, SIOCGKEVFILT, &back) != 0 ||
	    back.vendor_code != vendor || st_timeout(so) != 0)
		goto out;
	for (i = 0; i < 3; i++) {
		bzero(&post, sizeof(post));
		post.vendor_code = i == 1 ? other : vendor;	/* 1: filtered */
		post.kev_class = 9;
		post.kev_subclass = 9;
		post.event_code = 100 + i;
		if (kev_msg_post(&post) != 0)
			goto out;
	}
	for (i = 0; i < 3; i += 2) {
		if (st_recv(so, &rec, sizeof(rec), &got) != 0 ||
		    got != KEV_MSG_HEADER_SIZE || rec.msg.total_size != got ||
		    rec.msg.vendor_code != vendor ||
		    rec.msg.event_code != 100 + i)
			goto out;
	}
	fails = 0;
out:
	sock_close(so);
	ST_ASSERT(fails == 0);
	return 0;
}
SELFTEST(kctl_event_socket_filter, test_kctl_event_socket_filter);
