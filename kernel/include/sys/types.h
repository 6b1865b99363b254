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

typedef unsigned short	ushort;		/* System V names */
typedef unsigned int	uint;

typedef int64_t		quad_t;
typedef uint64_t	u_quad_t;
typedef quad_t		*qaddr_t;

typedef int		errno_t;
typedef int32_t		ssize_t;
typedef int64_t		off_t;
typedef char		*caddr_t;
typedef int32_t		pid_t;
typedef uint32_t	uid_t;
typedef uint32_t	gid_t;
typedef long		time_t;
typedef int32_t		suseconds_t;
typedef uint32_t	useconds_t;
typedef unsigned long	clock_t;
typedef int32_t		dev_t;
typedef uint16_t	mode_t;
typedef uint32_t	ino_t;
typedef uint16_t	nlink_t;
typedef uint32_t	id_t;
typedef int32_t		key_t;
typedef int32_t		daddr_t;
typedef int32_t		segsz_t;
typedef int32_t		swblk_t;
typedef uint32_t	fixpt_t;
typedef int64_t		blkcnt_t;
typedef int32_t		blksize_t;
typedef int32_t		register_t;

/* Addresses and sizes in a user process, 64 bits wide whatever the
 * process, as Darwin passes them to the kernel. */
typedef uint64_t	user_addr_t;
typedef uint64_t	user_size_t;
typedef int64_t		user_ssize_t;
typedef int64_t		user_long_t;
typedef uint64_t	user_ulong_t;
typedef int64_t		user_time_t;
#define USER_ADDR_NULL	((user_addr_t)0)
#define CAST_USER_ADDR_T(a)	((user_addr_t)(uintptr_t)(a))

#define NBBY	8		/* bits in a byte */

/* A device number: 8 bits of major, 24 of minor. */
#define major(x)	((int32_t)(((u_int32_t)(x) >> 24) & 0xff))
#define minor(x)	((int32_t)((x) & 0xffffff))
#define makedev(x, y)	((dev_t)(((x) << 24) | (y)))

struct timeval {
	time_t		tv_sec;
	suseconds_t	tv_usec;
};

struct timespec {
	time_t		tv_sec;
	long		tv_nsec;
};

/* Byte order and ntohl & co., which Darwin's <sys/types.h> brings. */
#include <machine/endian.h>

#endif /* _SYS_TYPES_H_ */
