/*
 * Domains (XNU: sys/domain.h): one per protocol family a socket can be
 * made in -- PF_INET now, PF_SYSTEM (kernel control, kernel events)
 * later.  A domain registers itself with DOMAIN_SET beside its code; its
 * protocols register with PROTOSW_SET (protosw.h).  domaininit() starts
 * them all at boot (uipc_domain.c).
 */
#ifndef _BSD_KERN_DOMAIN_H_
#define _BSD_KERN_DOMAIN_H_

#include <sys/types.h>
#include <kern/linker_set.h>

struct socket;
struct protosw;

struct domain {
	int		dom_family;	/* AF_INET, ... */
	const char	*dom_name;	/* "internet" */
	/* Start the domain, after every protocol's pr_init has run. */
	void		(*dom_init)(void);
	/*
	 * Name a socket of the domain for people, e.g. "UDP 0.0.0.0:5000"
	 * (kextunload's refusals).  Called with the socket locked.
	 */
	void		(*dom_describe)(struct socket *so, char *buf,
			    size_t len);
};

#define DOMAIN_SET(dom)		LINKER_SET_ENTRY(domain, dom)

/* Boot: run every protocol's pr_init, then every domain's dom_init, then
 * start the fast and slow timers, if a protocol has them. */
void	domaininit(void);
/* The domain of family, or NULL. */
struct domain *pffinddomain(int family);
/* The protocol of the domain family with that type (its first, for
 * protocol 0), or NULL. */
struct protosw *pffindtype(int family, int type);
/* The protocol of family with that protocol number (and type, unless
 * type is 0), or NULL. */
struct protosw *pffindproto(int family, int protocol, int type);

#endif /* _BSD_KERN_DOMAIN_H_ */
