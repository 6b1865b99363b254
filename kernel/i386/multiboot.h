/*
 * The parts of the Multiboot v1 boot information Finch reads: the flags
 * word, the command line, and the BIOS memory map.
 */
#ifndef _I386_MULTIBOOT_H_
#define _I386_MULTIBOOT_H_

#include <stdint.h>
#include <sys/cdefs.h>

#define MULTIBOOT_BOOTLOADER_MAGIC	0x2BADB002

#define MBI_FLAG_MEM		0x001
#define MBI_FLAG_CMDLINE	0x004
#define MBI_FLAG_MMAP		0x040

struct multiboot_info {
	uint32_t	flags;
	uint32_t	mem_lower;	/* KiB below 1 MiB */
	uint32_t	mem_upper;	/* KiB above 1 MiB */
	uint32_t	boot_device;
	uint32_t	cmdline;
	uint32_t	mods_count;
	uint32_t	mods_addr;
	uint32_t	syms[4];
	uint32_t	mmap_length;
	uint32_t	mmap_addr;
} __packed;

/* One memory map entry; `size` does not count itself. */
struct multiboot_mmap_entry {
	uint32_t	size;
	uint64_t	addr;
	uint64_t	len;
	uint32_t	type;
} __packed;

#define MULTIBOOT_MEMORY_AVAILABLE	1

#endif /* _I386_MULTIBOOT_H_ */
