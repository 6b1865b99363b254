/*
 * <machine/param.h> -- the i386's page size and alignment, as Darwin's
 * <sys/param.h> and <mach/vm_param.h> use them.
 */
#ifndef _MACHINE_PARAM_H_
#define _MACHINE_PARAM_H_

#define MACHINE		"i386"

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1 << PAGE_SHIFT)	/* 4096 */
#define PAGE_MASK	(PAGE_SIZE - 1)
#define NBPG		PAGE_SIZE		/* bytes per page */
#define PGOFSET		PAGE_MASK
#define PGSHIFT		PAGE_SHIFT

/* Round p up to the alignment every data type is happy with. */
#define ALIGNBYTES	(sizeof(int) - 1)
#define ALIGN(p)	(((unsigned int)(p) + ALIGNBYTES) & ~ALIGNBYTES)

#define DEV_BSIZE	512		/* the block size of a disk */
#define DEV_BSHIFT	9

#endif /* _MACHINE_PARAM_H_ */
