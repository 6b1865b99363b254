/*
 * A TCP echo server for the Linux reference guest of `finch bench`: one
 * process, no fork, poll() over the listening socket and every open
 * connection, so that a short connection costs Linux's TCP and not a
 * process (busybox `nc -ll -e cat` forks and execs per connection).
 *
 * Freestanding: no libc, i386 Linux system calls through int $0x80.
 * finch.linuxguest builds it with the host's gcc -m32 and puts it in the
 * initramfs as /bin/echoserver; /init runs `echoserver PORT`.
 */

#define SYS_exit	1
#define SYS_read	3
#define SYS_write	4
#define SYS_close	6
#define SYS_poll	168
#define SYS_socket	359
#define SYS_bind	361
#define SYS_listen	363
#define SYS_accept4	364
#define SYS_setsockopt	366

#define AF_INET		2
#define SOCK_STREAM	1
#define SOL_SOCKET	1
#define SO_REUSEADDR	2
#define POLLIN		1
#define EINTR		4

#define MAX_FDS		1024
#define BACKLOG		128

struct pollfd {
	int fd;
	short events;
	short revents;
};

struct sockaddr_in {
	unsigned short family;
	unsigned short port;	/* network order */
	unsigned int addr;
	unsigned char zero[8];
};

static struct pollfd fds[MAX_FDS];
static char buf[65536];

static long
syscall5(long n, long a, long b, long c, long d, long e)
{
	long ret;

	__asm__ volatile("int $0x80"
	    : "=a"(ret)
	    : "0"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
	    : "memory");
	return ret;
}

#define syscall3(n, a, b, c) syscall5((n), (long)(a), (long)(b), (long)(c), 0, 0)

static void
fail(const char *what)
{
	const char *p;

	for (p = what; *p != '\0'; p++)
		;
	syscall3(SYS_write, 2, "echoserver: ", 12);
	syscall3(SYS_write, 2, what, p - what);
	syscall3(SYS_write, 2, "\n", 1);
	syscall3(SYS_exit, 1, 0, 0);
}

static int
write_all(int fd, const char *data, long len)
{
	long n;

	while (len > 0) {
		n = syscall3(SYS_write, fd, data, len);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= n;
	}
	return 0;
}

static int
listen_on(unsigned int port)
{
	struct sockaddr_in sin = { AF_INET, 0, 0, { 0 } };
	int one = 1;
	long fd;

	sin.port = (unsigned short)((port >> 8) | ((port & 0xff) << 8));
	fd = syscall3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		fail("socket() failed");
	syscall5(SYS_setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, (long)&one, sizeof(one));
	if (syscall3(SYS_bind, fd, &sin, sizeof(sin)) < 0)
		fail("bind() failed");
	if (syscall3(SYS_listen, fd, BACKLOG, 0) < 0)
		fail("listen() failed");
	return (int)fd;
}

static void
serve(int listener)
{
	int nfds = 1, i;
	long n;

	fds[0].fd = listener;
	fds[0].events = POLLIN;
	for (;;) {
		if (syscall3(SYS_poll, fds, nfds, -1) < 0)
			continue;
		if (fds[0].revents != 0) {
			n = syscall5(SYS_accept4, listener, 0, 0, 0, 0);
			if (n >= 0 && nfds < MAX_FDS) {
				fds[nfds].fd = (int)n;
				fds[nfds].events = POLLIN;
				fds[nfds].revents = 0;
				nfds++;
			} else if (n >= 0) {
				syscall3(SYS_close, n, 0, 0);
			}
		}
		for (i = 1; i < nfds; i++) {
			if (fds[i].revents == 0)
				continue;
			n = syscall3(SYS_read, fds[i].fd, buf, sizeof(buf));
			if (n == -EINTR)
				continue;
			if (n > 0 && write_all(fds[i].fd, buf, n) == 0)
				continue;
			/* End of file or an error: close, move the last one here. */
			syscall3(SYS_close, fds[i].fd, 0, 0);
			fds[i] = fds[--nfds];
			i--;
		}
	}
}

void
start(long *sp)
{
	char **argv = (char **)(sp + 1);
	unsigned int port = 0;
	const char *p;

	if (sp[0] != 2)
		fail("usage: echoserver PORT");
	for (p = argv[1]; *p >= '0' && *p <= '9'; p++)
		port = port * 10 + (unsigned int)(*p - '0');
	if (*p != '\0' || port == 0 || port > 65535)
		fail("PORT must be a number from 1 to 65535");
	serve(listen_on(port));
}

__asm__(".globl _start\n"
	"_start:\n"
	"	xorl %ebp, %ebp\n"
	"	movl %esp, %eax\n"
	"	andl $-16, %esp\n"
	"	pushl %eax\n"
	"	pushl %eax\n"
	"	pushl %eax\n"
	"	pushl %eax\n"
	"	call start\n"
	"	hlt\n");
