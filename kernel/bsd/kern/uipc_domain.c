/*
 * Domains and their protocols (XNU and FreeBSD: uipc_domain.c): the
 * linker sets DOMAIN_SET and PROTOSW_SET fill (domain.h, protosw.h),
 * how socreate finds a protocol (pffindtype, pffindproto), the start at
 * boot (domaininit: the socket layer, each protocol's pr_init, each
 * domain's dom_init) and the protocols' fast and slow timers.
 */
#include <sys/systm.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/kern/socketvar.h>

LINKER_SET_DECLARE(domain, struct domain);
LINKER_SET_DECLARE(protosw, struct protosw);

struct domain *
pffinddomain(int family)
{
	struct domain **dpp;

	LINKER_SET_FOREACH(domain, dpp)
		if ((*dpp)->dom_family == family)
			return *dpp;
	return NULL;
}

struct protosw *
pffindtype(int family, int type)
{
	struct protosw **prp;

	LINKER_SET_FOREACH(protosw, prp)
		if ((*prp)->pr_domain->dom_family == family &&
		    (*prp)->pr_type == type && (*prp)->pr_usrreqs != NULL)
			return *prp;
	return NULL;
}

struct protosw *
pffindproto(int family, int protocol, int type)
{
	struct protosw **prp;

	if (protocol == 0)
		return NULL;
	LINKER_SET_FOREACH(protosw, prp)
		if ((*prp)->pr_domain->dom_family == family &&
		    (*prp)->pr_protocol == protocol &&
		    (type == 0 || (*prp)->pr_type == type))
			return *prp;
	return NULL;
}

/* Every 200 ms, in the thread_call thread: pr_fasttimo (TCP's delayed
 * acknowledgements). */
static void
pffasttimo(void *arg)
{
	struct protosw **prp;

	LINKER_SET_FOREACH(protosw, prp)
		if ((*prp)->pr_fasttimo != NULL)
			(*prp)->pr_fasttimo();
	timeout(pffasttimo, NULL, PR_FASTHZ_MS * hz / 1000);
}

/* Every 500 ms: pr_slowtimo (TCP's retransmission and keepalive
 * timers). */
static void
pfslowtimo(void *arg)
{
	struct protosw **prp;

	LINKER_SET_FOREACH(protosw, prp)
		if ((*prp)->pr_slowtimo != NULL)
			(*prp)->pr_slowtimo();
	timeout(pfslowtimo, NULL, PR_SLOWHZ_MS * hz / 1000);
}

void
domaininit(void)
{
	struct protosw **prp;
	struct domain **dpp;
	bool fast = false, slow = false;

	soinit();
	LINKER_SET_FOREACH(protosw, prp) {
		if ((*prp)->pr_init != NULL)
			(*prp)->pr_init();
		fast = fast || (*prp)->pr_fasttimo != NULL;
		slow = slow || (*prp)->pr_slowtimo != NULL;
	}
	LINKER_SET_FOREACH(domain, dpp)
		if ((*dpp)->dom_init != NULL)
			(*dpp)->dom_init();
	/* The timers run only if some protocol wants them. */
	if (fast)
		timeout(pffasttimo, NULL, PR_FASTHZ_MS * hz / 1000);
	if (slow)
		timeout(pfslowtimo, NULL, PR_SLOWHZ_MS * hz / 1000);
}
