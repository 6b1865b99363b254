/*
 * <mach/mach_types.h> -- opaque Mach object handles (threads) and the
 * scalar types of the mach KPI.  Kexts never see inside a thread.
 */
#ifndef _MACH_MACH_TYPES_H_
#define _MACH_MACH_TYPES_H_

#include <sys/types.h>
#include <mach/kern_return.h>

typedef struct thread	*thread_t;
#define THREAD_NULL	((thread_t)0)

typedef uint32_t	vm_size_t;
typedef uint32_t	vm_offset_t;
typedef uint32_t	vm_address_t;
typedef uint32_t	natural_t;
typedef int32_t		integer_t;
typedef uint32_t	boolean_t;

#ifndef TRUE
#define TRUE	1
#define FALSE	0
#endif

typedef void (*thread_continue_t)(void *parameter, int wait_result);

#endif /* _MACH_MACH_TYPES_H_ */
