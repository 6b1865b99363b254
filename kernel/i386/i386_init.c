/*
 * Machine-dependent start-up: from `start` in boot.S we arrive here with
 * paging off.  Set up the descriptor tables, the console, physical
 * memory and paging, then hand over to the machine-independent
 * kernel_bootstrap().
 */
#include <sys/systm.h>
#include <i386/multiboot.h>
#include <i386/pmap.h>
#include <i386/seg.h>
#include <i386/intr.h>
#include <kern/bootargs.h>
#include <kern/console.h>
#include <kern/startup.h>
#include <kern/vm_page.h>

extern char _kernel_start[], _kernel_end[];

#define LOW_MEMORY_END	0x100000	/* BIOS, VGA, option ROMs below 1 MiB */

/* Highest end address of usable RAM in the Multiboot memory map. */
static uint32_t
mb_phys_top(const struct multiboot_info *mbi)
{
	uint32_t off, top = 0;

	if ((mbi->flags & MBI_FLAG_MMAP) == 0)
		return LOW_MEMORY_END + mbi->mem_upper * 1024;
	for (off = 0; off < mbi->mmap_length;) {
		const struct multiboot_mmap_entry *e =
		    (const void *)(mbi->mmap_addr + off);

		if (e->type == MULTIBOOT_MEMORY_AVAILABLE &&
		    e->addr + e->len <= 0xffffffffull &&
		    e->addr + e->len > top)
			top = e->addr + e->len;
		off += e->size + sizeof(e->size);
	}
	return top;
}

/* Give the page allocator every usable page above 1 MiB. */
static void
mb_release_memory(const struct multiboot_info *mbi)
{
	uint32_t off;

	if ((mbi->flags & MBI_FLAG_MMAP) == 0) {
		vm_page_release_range(LOW_MEMORY_END,
		    LOW_MEMORY_END + mbi->mem_upper * 1024);
		return;
	}
	for (off = 0; off < mbi->mmap_length;) {
		const struct multiboot_mmap_entry *e =
		    (const void *)(mbi->mmap_addr + off);

		if (e->type == MULTIBOOT_MEMORY_AVAILABLE &&
		    e->addr + e->len > LOW_MEMORY_END &&
		    e->addr + e->len <= 0xffffffffull)
			vm_page_release_range(e->addr < LOW_MEMORY_END ?
			    LOW_MEMORY_END : e->addr, e->addr + e->len);
		off += e->size + sizeof(e->size);
	}
}

void
i386_init(uint32_t magic, const struct multiboot_info *mbi)
{
	uint32_t top;

	/* The loader zeroed .bss (the Multiboot ELF rules); the boot stack
	 * lives there, so it must not be cleared again now. */
	gdt_init();
	idt_init();
	console_init();
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("i386_init: not started by a Multiboot loader "
		    "(magic 0x%08x)", magic);
	/* The command line lies in memory the page allocator gets below. */
	boot_args_set((mbi->flags & MBI_FLAG_CMDLINE) ?
	    (const char *)mbi->cmdline : NULL);

	top = mb_phys_top(mbi);
	vm_page_bootstrap(top);
	mb_release_memory(mbi);
	vm_page_reserve_range((uint32_t)_kernel_start, (uint32_t)_kernel_end);
	pmap_bootstrap(top);
	tss_init();		/* from now on a double fault is reported */
	intr_init();

	kernel_bootstrap(top);
}
