/*
 * Segment selectors and descriptor-table setup.  Finch uses a flat
 * model: every segment spans 4 GiB; protection comes from paging.
 */
#ifndef _I386_SEG_H_
#define _I386_SEG_H_

#define KERNEL_CS	0x08
#define KERNEL_DS	0x10

#ifndef __ASSEMBLY__
void	gdt_init(void);
void	idt_init(void);
#endif

#endif /* _I386_SEG_H_ */
