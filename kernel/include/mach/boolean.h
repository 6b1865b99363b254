/*
 * <mach/boolean.h> -- Mach's truth type, boolean_t, with TRUE and FALSE
 * (<mach/mach_types.h> has them; this is where Darwin sources look).
 */
#ifndef _MACH_BOOLEAN_H_
#define _MACH_BOOLEAN_H_

#include <mach/mach_types.h>

#endif /* _MACH_BOOLEAN_H_ */
