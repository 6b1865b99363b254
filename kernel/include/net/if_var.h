/*
 * <net/if_var.h> -- in Darwin, struct ifnet and its lists: private to
 * the kernel.  A kext works on an ifnet_t through <net/kpi_interface.h>,
 * which this brings with <net/if.h>, so that Darwin sources that include
 * this header build.
 */
#ifndef _NET_IF_VAR_H_
#define _NET_IF_VAR_H_

#include <net/if.h>
#include <net/kpi_interface.h>

#endif /* _NET_IF_VAR_H_ */
