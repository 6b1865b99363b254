/*
 * Kernel control sockets: PF_SYSTEM, SYSPROTO_CONTROL, SOCK_DGRAM or
 * SOCK_STREAM -- the client side of a kext's control.  CTLIOCGINFO finds
 * a control's id by name; connect (struct sockaddr_ctl) picks a unit and
 * calls the control's ctl_connect; what the client sends goes straight
 * to ctl_send (nothing waits in so_snd), what the kext enqueues
 * (kern_control.c) waits in so_rcv for the client to read; options at
 * level SYSPROTO_CONTROL go to ctl_setopt and ctl_getopt.
 *
 * Every callback runs with the socket unlocked (the caller's reference
 * keeps it alive), so that it may enqueue data for this very client.
 *
 * Credentials: until Finch has processes, a socket's credential is the
 * SS_PRIV bit.  Sockets the kernel makes (sock_socket in kpi_socket.c,
 * and so the host link's bridge and every kext's) start with it, as
 * root's; sock_setpriv(so, 0) drops it, and a CTL_FLAG_PRIVILEGED
 * control then refuses the socket with EPERM at connect.  Sockets of
 * user processes will get SS_PRIV when their owner's uid is 0, as in
 * BSD's socreate.
 */
#include <sys/systm.h>
#include <sys/kern_control.h>
#include <sys/sys_domain.h>
#include <kern/kalloc.h>
#include <kern/kext_call.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/kern_control_var.h>

extern struct domain systemdomain;

static errno_t
ctl_attach(struct socket *so, int proto)
{
	struct ctl_cb *kcb;
	errno_t error;

	if ((error = soreserve(so, CTL_SENDSIZE, CTL_RECVSIZE)) != 0)
		return error;
	if ((kcb = kalloc(sizeof(*kcb))) == NULL)
		return ENOBUFS;
	bzero(kcb, sizeof(*kcb));
	kcb->kcb_so = so;
	so->so_pcb = kcb;
	return 0;
}

/* Which unit a client gets: the one asked for if free (EBUSY if not),
 * else (0) the lowest free from 1.  kctl_mtx held. */
static errno_t
ctl_pick_unit(struct kctl *k, u_int32_t asked, u_int32_t *unit)
{
	u_int32_t u;

	if (k->kctl_reg.ctl_flags & CTL_FLAG_REG_ID_UNIT)
		asked = k->kctl_reg.ctl_unit;
	if (asked != 0) {
		*unit = asked;
		return kcb_find(k, asked) != NULL ? EBUSY : 0;
	}
	for (u = 1; kcb_find(k, u) != NULL; u++)
		;
	*unit = u;
	return 0;
}

/* Check the address and the control, and reserve a unit: kcb goes on
 * the control's clients, marked connecting.  Socket locked. */
static errno_t
ctl_reserve(struct socket *so, struct ctl_cb *kcb, struct sockaddr_ctl *sac)
{
	struct kctl *k;
	u_int32_t unit;
	errno_t error;

	lck_mtx_lock(kctl_mtx);
	k = kctl_find_by_id_unit(sac->sc_id, sac->sc_unit);
	if (k == NULL) {
		error = ENOENT;
	} else if ((k->kctl_reg.ctl_flags & CTL_FLAG_REG_SOCK_STREAM) ?
	    so->so_type != SOCK_STREAM : so->so_type != SOCK_DGRAM) {
		error = EPROTOTYPE;
	} else if ((k->kctl_reg.ctl_flags & CTL_FLAG_PRIVILEGED) &&
	    !(so->so_state & SS_PRIV)) {
		k->kctl_refused++;
		error = EPERM;
	} else if ((error = ctl_pick_unit(k, sac->sc_unit, &unit)) == 0) {
		kcb->kcb_kctl = k;
		kcb->kcb_unit = unit;
		kcb->kcb_connecting = true;
		TAILQ_INSERT_TAIL(&k->kctl_clients, kcb, kcb_link);
		k->kctl_nclients++;
		sac->sc_unit = unit;
	}
	lck_mtx_unlock(kctl_mtx);
	return error;
}

/* Take kcb off its control's clients.  Socket locked. */
static void
ctl_unreserve(struct ctl_cb *kcb)
{
	lck_mtx_lock(kctl_mtx);
	TAILQ_REMOVE(&kcb->kcb_kctl->kctl_clients, kcb, kcb_link);
	kcb->kcb_kctl->kctl_nclients--;
	lck_mtx_unlock(kctl_mtx);
	kcb->kcb_kctl = NULL;
	kcb->kcb_unit = 0;
}

static errno_t
ctl_connect(struct socket *so, struct sockaddr *nam)
{
	struct ctl_cb *kcb = so->so_pcb;
	struct sockaddr_ctl sac;
	struct kern_ctl_reg *reg;
	struct kext_call kc;
	errno_t error;

	if (kcb == NULL)
		return EINVAL;
	if (kcb->kcb_kctl != NULL)
		return EISCONN;
	if (nam->sa_len < sizeof(sac) || nam->sa_family != AF_SYSTEM)
		return EINVAL;
	memcpy(&sac, nam, sizeof(sac));
	if (sac.ss_sysaddr != AF_SYS_CONTROL)
		return EINVAL;
	if ((error = ctl_reserve(so, kcb, &sac)) != 0)
		return error;
	/* The control stays: it has a client now (ctl_deregister: EBUSY). */
	reg = &kcb->kcb_kctl->kctl_reg;
	error = soreserve(so, reg->ctl_sendsize, reg->ctl_recvsize);
	if (error == 0) {
		socket_unlock(so, 0);
		kext_call_begin(&kc);
		error = reg->ctl_connect(kcb->kcb_kctl, &sac,
		    &kcb->kcb_userdata);
		kext_call_end(&kc, reg->ctl_connect);
		socket_lock(so, 0);
	}
	lck_mtx_lock(kctl_mtx);
	kcb->kcb_connecting = false;
	if (error == 0)
		kcb->kcb_kctl->kctl_connects++;
	else
		kcb->kcb_kctl->kctl_refused++;
	lck_mtx_unlock(kctl_mtx);
	if (error != 0) {
		ctl_unreserve(kcb);
		return error;
	}
	soisconnected(so);
	return 0;
}

/* Tell the control its client left, and let go of the unit.  Locked. */
static void
ctl_hangup(struct socket *so, struct ctl_cb *kcb)
{
	struct kern_ctl_reg *reg = &kcb->kcb_kctl->kctl_reg;
	struct kext_call kc;

	if (reg->ctl_disconnect != NULL) {
		socket_unlock(so, 0);
		kext_call_begin(&kc);
		(void)reg->ctl_disconnect(kcb->kcb_kctl, kcb->kcb_unit,
		    kcb->kcb_userdata);
		kext_call_end(&kc, reg->ctl_disconnect);
		socket_lock(so, 0);
	}
	ctl_unreserve(kcb);
	kcb->kcb_userdata = NULL;
}

static errno_t
ctl_disconnect(struct socket *so)
{
	struct ctl_cb *kcb = so->so_pcb;

	if (kcb == NULL || kcb->kcb_kctl == NULL)
		return ENOTCONN;
	ctl_hangup(so, kcb);
	soisdisconnected(so);
	return 0;
}

static errno_t
ctl_detach(struct socket *so)
{
	struct ctl_cb *kcb = so->so_pcb;

	if (kcb == NULL)
		return 0;
	if (kcb->kcb_kctl != NULL) {
		ctl_hangup(so, kcb);
		soisdisconnected(so);
	}
	so->so_pcb = NULL;
	kfree(kcb, sizeof(*kcb));
	return 0;
}

static errno_t
ctl_send(struct socket *so, int flags, mbuf_t m, struct sockaddr *addr,
    mbuf_t control)
{
	struct ctl_cb *kcb = so->so_pcb;
	struct kern_ctl_reg *reg;
	struct kext_call kc;
	errno_t error;

	if (control != NULL)
		m_freem(control);
	if (kcb == NULL || kcb->kcb_kctl == NULL) {
		m_freem(m);
		return ENOTCONN;
	}
	reg = &kcb->kcb_kctl->kctl_reg;
	if (reg->ctl_send == NULL) {
		m_freem(m);
		return ENOTSUP;
	}
	socket_unlock(so, 0);
	kext_call_begin(&kc);
	error = reg->ctl_send(kcb->kcb_kctl, kcb->kcb_unit, kcb->kcb_userdata,
	    m, 0);			/* the callback owns m now */
	kext_call_end(&kc, reg->ctl_send);
	socket_lock(so, 0);
	return error;
}

static errno_t
ctl_peeraddr(struct socket *so, struct sockaddr *nam)
{
	struct ctl_cb *kcb = so->so_pcb;
	struct sockaddr_ctl *sac = (struct sockaddr_ctl *)nam;

	if (kcb->kcb_kctl == NULL)
		return ENOTCONN;
	sac->sc_len = sizeof(*sac);
	sac->sc_family = AF_SYSTEM;
	sac->ss_sysaddr = AF_SYS_CONTROL;
	sac->sc_id = kcb->kcb_kctl->kctl_reg.ctl_id;
	sac->sc_unit = kcb->kcb_unit;
	return 0;
}

/* CTLIOCGINFO and CTLIOCGCOUNT; data is already in the kernel. */
static errno_t
ctl_ioctl(struct socket *so, u_long cmd, caddr_t data, ifnet_t ifp)
{
	struct ctl_info *info;
	struct kctl *k;
	errno_t error = 0;

	switch (cmd) {
	case CTLIOCGINFO:
		info = (struct ctl_info *)(void *)data;
		if (strnlen(info->ctl_name, MAX_KCTL_NAME) == MAX_KCTL_NAME)
			return EINVAL;
		lck_mtx_lock(kctl_mtx);
		if ((k = kctl_find_by_name(info->ctl_name)) != NULL)
			info->ctl_id = k->kctl_reg.ctl_id;
		else
			error = ENOENT;
		lck_mtx_unlock(kctl_mtx);
		return error;
	case CTLIOCGCOUNT:
		lck_mtx_lock(kctl_mtx);
		*(int *)(void *)data = (int)kctl_count();
		lck_mtx_unlock(kctl_mtx);
		return 0;
	default:
		return EOPNOTSUPP;
	}
}

/* Options at level SYSPROTO_CONTROL: the control's.  Socket locked. */
static errno_t
ctl_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct ctl_cb *kcb = so->so_pcb;
	struct kern_ctl_reg *reg;
	struct kext_call kc;
	size_t len;
	errno_t error;

	if (sopt->sopt_level != SYSPROTO_CONTROL)
		return sopt->sopt_level == SOL_SOCKET ? 0 : EINVAL;
	if (kcb == NULL || kcb->kcb_kctl == NULL)
		return ENOTCONN;
	reg = &kcb->kcb_kctl->kctl_reg;
	if (sopt->sopt_dir == SOPT_SET ? reg->ctl_setopt == NULL :
	    reg->ctl_getopt == NULL)
		return ENOTSUP;
	/* sopt_val is kernel memory the caller keeps until we return. */
	socket_unlock(so, 0);
	kext_call_begin(&kc);
	if (sopt->sopt_dir == SOPT_SET) {
		error = reg->ctl_setopt(kcb->kcb_kctl, kcb->kcb_unit,
		    kcb->kcb_userdata, sopt->sopt_name, sopt->sopt_val,
		    sopt->sopt_valsize);
		kext_call_end(&kc, reg->ctl_setopt);
	} else {
		/* The callback says in len what it wrote, or (no buffer)
		 * what it would need. */
		len = sopt->sopt_valsize;
		error = reg->ctl_getopt(kcb->kcb_kctl, kcb->kcb_unit,
		    kcb->kcb_userdata, sopt->sopt_name, sopt->sopt_val, &len);
		kext_call_end(&kc, reg->ctl_getopt);
		if (error == 0 && (sopt->sopt_val == NULL ||
		    len < sopt->sopt_valsize))
			sopt->sopt_valsize = len;
	}
	socket_lock(so, 0);
	return error;
}

static struct pr_usrreqs ctl_usrreqs = {
	.pru_attach = ctl_attach,
	.pru_connect = ctl_connect,
	.pru_control = ctl_ioctl,
	.pru_detach = ctl_detach,
	.pru_disconnect = ctl_disconnect,
	.pru_peeraddr = ctl_peeraddr,
	.pru_send = ctl_send,
};

static struct protosw ctl_dgram_protosw = {
	.pr_type = SOCK_DGRAM, .pr_domain = &systemdomain,
	.pr_protocol = SYSPROTO_CONTROL,
	.pr_flags = PR_ATOMIC | PR_CONNREQUIRED,
	.pr_ctloutput = ctl_ctloutput, .pr_usrreqs = &ctl_usrreqs,
};
PROTOSW_SET(ctl_dgram_protosw);

static struct protosw ctl_stream_protosw = {
	.pr_type = SOCK_STREAM, .pr_domain = &systemdomain,
	.pr_protocol = SYSPROTO_CONTROL, .pr_flags = PR_CONNREQUIRED,
	.pr_ctloutput = ctl_ctloutput, .pr_usrreqs = &ctl_usrreqs,
};
PROTOSW_SET(ctl_stream_protosw);
