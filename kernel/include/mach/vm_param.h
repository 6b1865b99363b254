/*
 * <mach/vm_param.h> -- the page size and rounding to pages, as the Mach
 * VM interfaces spell them.
 */
#ifndef _MACH_VM_PARAM_H_
#define _MACH_VM_PARAM_H_

#include <mach/vm_types.h>
#include <machine/param.h>

#define trunc_page(x)	((vm_offset_t)(x) & ~((vm_offset_t)PAGE_MASK))
#define round_page(x)	trunc_page((vm_offset_t)(x) + PAGE_MASK)

#endif /* _MACH_VM_PARAM_H_ */
