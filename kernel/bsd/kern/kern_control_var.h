/*
 * Kernel controls, the kernel's side: a registered control (struct kctl)
 * and each client connected to it (struct ctl_cb, the control socket's
 * pcb).  kern_control.c keeps the registry and the KPI; the socket side
 * (kern_control_socket.c) connects clients and carries their data.
 *
 * LOCKING: kctl_mtx, a mutex, protects the registry: the list of
 * controls, each control's list of clients and counters.  A client's
 * kcb_kctl and kcb_unit change with its socket locked, and only while it
 * is off its control's list: read them under either lock.  A control
 * socket's lock comes before kctl_mtx (connect holds the first and takes
 * the second); code that starts from the registry (enqueue) takes a
 * reference on the socket under kctl_mtx, drops kctl_mtx, then locks
 * the socket and checks that so_pcb is still the client.
 */
#ifndef _BSD_KERN_KERN_CONTROL_VAR_H_
#define _BSD_KERN_KERN_CONTROL_VAR_H_

#include <sys/queue.h>
#include <sys/kern_control.h>
#include <kern/locks_var.h>

#define CTL_SENDSIZE	(2 * 1024)	/* default client send buffer */
#define CTL_RECVSIZE	(8 * 1024)	/* default client receive buffer */
#define CTL_FIRST_ID	1		/* the first id ctl_register assigns */

struct socket;

/* A registered control; a kern_ctl_ref points at one. */
struct kctl {
	TAILQ_ENTRY(kctl) kctl_link;		/* kctl_list */
	struct kern_ctl_reg kctl_reg;		/* the kext's, name copied */
	TAILQ_HEAD(, ctl_cb) kctl_clients;	/* connected, by unit */
	u_int32_t	kctl_nclients;
	char		kctl_owner[64];		/* the kext that registered it */
	/* Statistics, kctl_mtx. */
	u_int32_t	kctl_connects;		/* connections accepted */
	u_int32_t	kctl_refused;		/* refused by ctl_connect or EPERM */
};

/* A client: the pcb of a control socket. */
struct ctl_cb {
	TAILQ_ENTRY(ctl_cb) kcb_link;		/* kctl_clients (kctl_mtx) */
	struct socket	*kcb_so;		/* (c) */
	struct kctl	*kcb_kctl;		/* NULL until connected (see
						   LOCKING) */
	u_int32_t	kcb_unit;		/* (see LOCKING) */
	void		*kcb_userdata;		/* ctl_connect's unitinfo: the
						   socket's lock */
	bool		kcb_connecting;		/* in ctl_connect still: kctl_mtx */
};

extern lck_mtx_t *kctl_mtx;

/* Boot (the PF_SYSTEM domain's start). */
void	kern_control_init(void);

/* kctl_mtx held: the control of id (and, for a fixed-unit one, unit). */
struct kctl *kctl_find_by_id_unit(u_int32_t id, u_int32_t unit);
/* kctl_mtx held: the control named name, or NULL. */
struct kctl *kctl_find_by_name(const char *name);
/* kctl_mtx held: how many controls are registered. */
u_int32_t kctl_count(void);
/* kctl_mtx held: the client of kctl on unit, or NULL. */
struct ctl_cb *kcb_find(struct kctl *kctl, u_int32_t unit);

#endif /* _BSD_KERN_KERN_CONTROL_VAR_H_ */
