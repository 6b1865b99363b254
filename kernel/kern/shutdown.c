/*
 * Ending the machine (shutdown.h): halt with a status that QEMU's
 * isa-debug-exit device hands to the host as its exit code, reboot
 * through the keyboard controller, and the CPU's final stop.  Also the
 * monitor's `halt` and `reboot` commands.
 */
#include <sys/systm.h>
#include <i386/pio.h>
#include <kern/monitor.h>
#include <kern/shutdown.h>

#define DEBUG_EXIT_PORT	0xf4	/* -device isa-debug-exit,iobase=0xf4 */
#define KBC_STATUS	0x64	/* 8042 keyboard controller: status ... */
#define KBC_COMMAND	0x64	/* ... and command port */
#define KBC_INPUT_FULL	0x02	/* status: it has not taken the last byte */
#define KBC_RESET	0xfe	/* command: pulse the CPU reset line */

void
cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void
halt_system(int status)
{
	printf("halt: status %d\n", status);
	outb(DEBUG_EXIT_PORT, (uint8_t)status);	/* QEMU exits here */
	cpu_halt_forever();			/* no such device */
}

/* Load an empty IDT and trap: with no handler the CPU triple-faults. */
static void __dead2
triple_fault(void)
{
	static const struct {
		uint16_t	limit;
		uint32_t	base;
	} __packed empty_idt = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
	cpu_halt_forever();
}

void
reboot_system(void)
{
	int i;

	printf("reboot: resetting the machine\n");
	__asm__ volatile("cli");
	for (i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
		continue;
	outb(KBC_COMMAND, KBC_RESET);
	for (i = 0; i < 100000; i++)	/* give the reset time to happen */
		(void)inb(KBC_STATUS);
	triple_fault();
}

static int
mon_halt(int argc, char **argv)
{
	long status = 0;
	char *end;

	if (argc > 2)
		return monitor_usage(argc, argv);
	if (argc == 2) {
		status = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || status < 0 ||
		    status > HALT_STATUS_MAX) {
			printf("halt: bad status '%s': give a number from 0 "
			    "to %d\n", argv[1], HALT_STATUS_MAX);
			return 1;
		}
	}
	halt_system(status);
}
MONITOR_COMMAND(halt, mon_halt, "halt [status]",
    "stop the machine; QEMU exits with code 2*status+1");

static int
mon_reboot(int argc, char **argv)
{
	if (argc != 1)
		return monitor_usage(argc, argv);
	reboot_system();
}
MONITOR_COMMAND(reboot, mon_reboot, "reboot", "reset the machine");
