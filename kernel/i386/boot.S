/*
 * The first instructions Finch runs.  QEMU's -kernel loader (or any
 * Multiboot v1 loader) finds the header below, loads the ELF at 1 MiB and
 * jumps to `start` in 32-bit protected mode with paging off, EAX holding
 * the Multiboot magic and EBX the physical address of the boot info.
 * We set up a stack and call i386_init(magic, info) in C.
 */

#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* page-align modules; want memory map */
#define MB_CHECKSUM	(-(MB_MAGIC + MB_FLAGS))

#define BOOT_STACK_SIZE	16384	/* THREAD_STACK_SIZE: this becomes a thread */

	.section .multiboot, "a"
	.align	4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	MB_CHECKSUM

	.text
	.globl	start
start:
	cli
	movl	$boot_stack_top, %esp
	xorl	%ebp, %ebp		/* backtraces stop at a zero frame */
	pushl	$0			/* fake return address ends the chain */
	pushl	%ebp
	movl	%esp, %ebp
	pushl	%ebx			/* multiboot info */
	pushl	%eax			/* multiboot magic */
	call	i386_init
1:	cli
	hlt
	jmp	1b

	.bss
	.align	4096
boot_stack_guard:			/* unmapped by thread_bootstrap() */
	.space	4096
	.globl	boot_stack
boot_stack:
	.space	BOOT_STACK_SIZE
	.globl	boot_stack_top
boot_stack_top:
