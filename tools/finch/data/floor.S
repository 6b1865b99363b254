/*
 * The benchmark floor: the smallest Multiboot v1 kernel QEMU can boot.
 * It writes 0 to QEMU's isa-debug-exit port (0xf4) at once, so QEMU exits
 * with code 1; `finch bench` times QEMU from launch to that exit.
 */
#define MULTIBOOT_MAGIC	0x1BADB002
#define MULTIBOOT_FLAGS	0

	.section .text
	.align 4
multiboot_header:
	.long	MULTIBOOT_MAGIC
	.long	MULTIBOOT_FLAGS
	.long	-(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.globl	start
start:
	movw	$0xf4, %dx
	xorl	%eax, %eax
	outb	%al, %dx
1:	hlt
	jmp	1b
