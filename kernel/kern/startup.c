/*
 * kernel_bootstrap(): bring the machine-independent kernel up in
 * dependency order -- heap, threads, clock, timers, console input, the
 * host link -- print the banner and start the monitor.  The boot thread
 * then ends; the idle thread runs when nothing else can.
 */
#include <sys/systm.h>
#include <bsd/net/dlil.h>
#include <bsd/kern/domain.h>
#include <i386/cpu.h>
#include <i386/pci.h>
#include <i386/pmap.h>
#include <kern/clock_var.h>
#include <kern/console.h>
#include <kern/hostlink_var.h>
#include <kern/kalloc.h>
#include <kern/kmod_var.h>
#include <kern/monitor.h>
#include <kern/monitor_var.h>
#include <kern/startup.h>
#include <kern/thread_call_var.h>
#include <kern/thread_var.h>
#include <kern/version.h>
#include <kern/vm_page.h>
#include <dev/e1000/if_e1000var.h>

void
kernel_bootstrap(uint32_t phys_top)
{
	struct vm_page_stats ps;

	thread_bootstrap();
	kalloc_init();
	thread_call_init();
	pit_init();
	console_enable_input();
	ml_set_interrupts_enabled(TRUE);
	tsc_init();		/* the uptime clock: needs the PIT ticking */
	kmod_init();
	monitor_init();
	dlil_init();
	pci_init();
	e1000_init();		/* en0: after the DLIL and PCI */
	domaininit();		/* sockets and IPv4: after the DLIL; en0's address */

	/* The host link starts early: a HELLO meanwhile hears "booting"
	 * until hostlink_kernel_ready() below. */
	hostlink_start();

	vm_page_stats(&ps);
	printf("Finch %s (build %s) i386, %u MiB RAM, %u KiB free\n",
	    finch_version, finch_build_id, phys_top >> 20,
	    ps.vps_free * (PAGE_SIZE / 1024));

	monitor_start();
	hostlink_kernel_ready();
	thread_bootstrap_done();
}
