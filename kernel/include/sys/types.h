/*
 * <sys/types.h> -- the BSD integer and system types that KPI signatures
 * use (u_int32_t, errno_t, size_t, ...).  i386: int and long are 32 bits.
 */
#ifndef _SYS_TYPES_H_
#define _SYS_TYPES_H_

#include <sys/cdefs.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef uint8_t		u_int8_t;
typedef uint16_t	u_int16_t;
typedef uint32_t	u_int32_t;
typedef uint64_t	u_int64_t;

typedef unsigned char	u_char;
typedef unsigned short	u_short;
typedef unsigned int	u_int;
typedef unsigned long	u_long;

typedef int		errno_t;
typedef int32_t		ssize_t;
typedef int64_t		off_t;
typedef char		*caddr_t;
typedef int32_t		pid_t;
typedef uint32_t	uid_t;
typedef uint32_t	gid_t;
typedef long		time_t;
typedef int32_t		suseconds_t;

struct timeval {
	time_t		tv_sec;
	suseconds_t	tv_usec;
};

struct timespec {
	time_t		tv_sec;
	long		tv_nsec;
};

#endif /* _SYS_TYPES_H_ */
