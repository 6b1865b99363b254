/*
 * <mach/mach_types.h> -- opaque Mach object handles (threads, tasks) and
 * the scalar types of the mach KPI.  Kexts never see inside them.  As on
 * Darwin it brings <mach/kmod.h> (kmod_info_t) and <mach/vm_types.h>.
 */
#ifndef _MACH_MACH_TYPES_H_
#define _MACH_MACH_TYPES_H_

#include <sys/types.h>
#include <mach/kern_return.h>
#include <mach/vm_types.h>

typedef struct thread	*thread_t;
#define THREAD_NULL	((thread_t)0)
typedef struct task	*task_t;
#define TASK_NULL	((task_t)0)

typedef uint32_t	boolean_t;

#ifndef TRUE
#define TRUE	1
#define FALSE	0
#endif

typedef void (*thread_continue_t)(void *parameter, int wait_result);

/* Last, because it uses the types above. */
#include <mach/kmod.h>

#endif /* _MACH_MACH_TYPES_H_ */
