/*
 * Segment selectors and descriptor-table setup.  Finch uses a flat
 * model: every segment spans 4 GiB; protection comes from paging.  Two
 * task-state segments serve the double fault handler (seg.c).
 */
#ifndef _I386_SEG_H_
#define _I386_SEG_H_

#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define KERNEL_TSS	0x18	/* the task Finch always runs as */
#define DFAULT_TSS	0x20	/* the task that handles a double fault */

#ifndef __ASSEMBLY__
void	gdt_init(void);
void	idt_init(void);
void	tss_init(void);		/* once paging is on */
#endif

#endif /* _I386_SEG_H_ */
