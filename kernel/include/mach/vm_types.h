/*
 * <mach/vm_types.h> -- the scalar types of addresses and sizes in the
 * Mach VM interfaces (32 bits wide on the i386), and the opaque handle
 * of an address space.  Kexts never see inside a map.
 */
#ifndef _MACH_VM_TYPES_H_
#define _MACH_VM_TYPES_H_

#include <sys/types.h>

typedef uint32_t	natural_t;
typedef int32_t		integer_t;

typedef uint32_t	vm_offset_t;
typedef uint32_t	vm_size_t;
typedef uint32_t	vm_address_t;
typedef vm_offset_t	pointer_t;
typedef uint64_t	vm_object_offset_t;
typedef uint64_t	mach_vm_address_t;
typedef uint64_t	mach_vm_offset_t;
typedef uint64_t	mach_vm_size_t;
typedef uint64_t	addr64_t;	/* a physical address */
typedef uint32_t	ppnum_t;	/* a physical page number */

typedef struct _vm_map	*vm_map_t;
#define VM_MAP_NULL	((vm_map_t)0)

#endif /* _MACH_VM_TYPES_H_ */
