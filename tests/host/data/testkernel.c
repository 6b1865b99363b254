/*
 * A stand-in for the Finch kernel, small enough to read in a minute, so the
 * host toolkit's tests can boot something real before the kernel exists.
 * It speaks the console protocol on COM1 by polling: a banner, the
 * "finch> " prompt, echo, and four commands:
 *
 *	hello		prints "hello, world"
 *	halt N		exits QEMU through isa-debug-exit (code 2N+1)
 *	reset		resets the machine (QEMU exits with 0 under -no-reboot)
 *	panic		prints a panic report from crash_here()
 */

#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define LSR_DATA_READY	0x01
#define DEBUG_EXIT	0xf4

static inline void
outb(unsigned short port, unsigned char value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline unsigned char
inb(unsigned short port)
{
	unsigned char value;

	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static void
puts(const char *s)
{
	while (*s)
		outb(COM1, *s++);
}

static void
puthex(unsigned int v)
{
	int shift;

	puts("0x");
	for (shift = 28; shift >= 0; shift -= 4)
		outb(COM1, "0123456789abcdef"[(v >> shift) & 0xf]);
}

static int
getc(void)
{
	while ((inb(COM1_LSR) & LSR_DATA_READY) == 0)
		;
	return inb(COM1);
}

static int
streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

__attribute__((noinline)) void
report_panic(void)
{
	unsigned int caller = (unsigned int)__builtin_return_address(0);

	puts("panic(cpu 0 caller ");
	puthex(caller);
	puts("): test panic\r\n");
	puts("eax: 0x00000000 ebx: 0x00000000\r\n");
	puts("Backtrace (frame : return address):\r\n  ");
	puthex((unsigned int)__builtin_frame_address(0));
	puts(" : ");
	puthex(caller);
	puts("\r\nKernel version: Finch 0.1.0 (build 0000000000000000)\r\n");
	puts("==== end of panic report ====\r\n");
}

__attribute__((noinline)) void
crash_here(void)
{
	report_panic();	/* the panic's caller: crash_here at this line */
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void
run(const char *line)
{
	if (streq(line, "hello")) {
		puts("hello, world\r\n");
	} else if (line[0] == 'h' && line[1] == 'a' && line[2] == 'l' && line[3] == 't') {
		int status = 0;

		for (line += 4; *line == ' '; line++)
			;
		while (*line >= '0' && *line <= '9')
			status = status * 10 + (*line++ - '0');
		outb(DEBUG_EXIT, status);
	} else if (streq(line, "reset")) {
		outb(0x64, 0xfe);	/* the keyboard controller's reset line */
	} else if (streq(line, "panic")) {
		crash_here();
	} else if (line[0] != '\0') {
		puts("unknown command\r\n");
	}
}

void
kmain(void)
{
	char line[80];
	unsigned int n = 0;
	int c;

	puts("Finch test kernel\r\nfinch> ");
	for (;;) {
		c = getc();
		if (c == '\r' || c == '\n') {
			puts("\r\n");
			line[n] = '\0';
			run(line);
			n = 0;
			puts("finch> ");
		} else if (n < sizeof(line) - 1) {
			line[n++] = c;
			outb(COM1, c);
		}
	}
}
