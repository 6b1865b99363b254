/*
 * <sys/domain.h> -- in Darwin, the protocol families' table: private to
 * the kernel.  This header only brings <sys/socket.h>, so that Darwin
 * sources that include it build.
 */
#ifndef _SYS_DOMAIN_H_
#define _SYS_DOMAIN_H_

#include <sys/socket.h>

#endif /* _SYS_DOMAIN_H_ */
