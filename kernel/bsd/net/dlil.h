/*
 * The DLIL's start-up entry, for kern/startup.c: the interface list, the
 * "dlil_input" thread, the packet tap, the plumbers, and lo0.  Everything
 * else the network code needs from the DLIL is in bsd/net/if_var.h.
 */
#ifndef _BSD_NET_DLIL_H_
#define _BSD_NET_DLIL_H_

void	dlil_init(void);

#endif /* _BSD_NET_DLIL_H_ */
