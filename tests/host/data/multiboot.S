/*
 * Entry of the host tests' stand-in kernel: a Multiboot v1 header, a
 * stack, and a call to kmain().  Linked at 0x100000 by tests/host/conftest.py.
 */
#define MULTIBOOT_MAGIC	0x1BADB002
#define MULTIBOOT_FLAGS	0

	.section .text
	.align 4
	.long	MULTIBOOT_MAGIC
	.long	MULTIBOOT_FLAGS
	.long	-(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.globl	start
	.type	start, @function
start:
	movl	$stack_top, %esp
	xorl	%ebp, %ebp
	call	kmain
1:	hlt
	jmp	1b

	.section .bss
	.align 16
	.space	8192
stack_top:
