/*
 * <sys/ioccom.h> -- how ioctl request numbers are built: the direction,
 * the size of the argument, a group letter and a number, as in BSD.
 */
#ifndef _SYS_IOCCOM_H_
#define _SYS_IOCCOM_H_

#include <sys/types.h>

#define IOCPARM_MASK	0x1fff		/* parameter length, at most 13 bits */
#define IOCPARM_LEN(x)	(((x) >> 16) & IOCPARM_MASK)
#define IOCBASECMD(x)	((x) & ~(IOCPARM_MASK << 16))
#define IOCGROUP(x)	(((x) >> 8) & 0xff)

#define IOC_VOID	(u_int32_t)0x20000000	/* no parameters */
#define IOC_OUT		(u_int32_t)0x40000000	/* copy parameters out */
#define IOC_IN		(u_int32_t)0x80000000	/* copy parameters in */
#define IOC_INOUT	(IOC_IN | IOC_OUT)
#define IOC_DIRMASK	(u_int32_t)0xe0000000

#define _IOC(inout, group, num, len) \
	((inout) | (((len) & IOCPARM_MASK) << 16) | ((group) << 8) | (num))
#define _IO(g, n)	_IOC(IOC_VOID, (g), (n), 0)
#define _IOR(g, n, t)	_IOC(IOC_OUT, (g), (n), sizeof(t))
#define _IOW(g, n, t)	_IOC(IOC_IN, (g), (n), sizeof(t))
#define _IOWR(g, n, t)	_IOC(IOC_INOUT, (g), (n), sizeof(t))

#endif /* _SYS_IOCCOM_H_ */
