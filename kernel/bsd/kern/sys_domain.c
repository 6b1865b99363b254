/*
 * The PF_SYSTEM domain (<sys/sys_domain.h>): sockets that reach the
 * kernel itself.  Its protocols register beside their code: kernel
 * events (kern_event_socket.c) and kernel controls
 * (kern_control_socket.c); this file starts them and names their
 * sockets for kextunload's messages.
 */
#include <sys/systm.h>
#include <sys/sys_domain.h>
#include <bsd/kern/domain.h>
#include <bsd/kern/protosw.h>
#include <bsd/kern/socketvar.h>
#include <bsd/kern/kern_event_var.h>
#include <bsd/kern/kern_control_var.h>

static void
sys_domain_init(void)
{
	kern_control_init();
	kev_socket_init();
}

/* "kernel events", or "kernel control 7 unit 1".  Socket locked. */
static void
sys_describe(struct socket *so, char *buf, size_t len)
{
	struct ctl_cb *kcb;

	if (so->so_proto->pr_protocol == SYSPROTO_EVENT) {
		strlcpy(buf, "kernel events", len);
		return;
	}
	kcb = so->so_pcb;
	if (kcb != NULL && kcb->kcb_kctl != NULL)
		snprintf(buf, len, "kernel control %u unit %u",
		    kcb->kcb_kctl->kctl_reg.ctl_id, kcb->kcb_unit);
	else
		strlcpy(buf, "kernel control, unconnected", len);
}

struct domain systemdomain = {
	.dom_family = PF_SYSTEM,
	.dom_name = "system",
	.dom_init = sys_domain_init,
	.dom_describe = sys_describe,
};
DOMAIN_SET(systemdomain);
