/*
 * firewall -- an IPv4 firewall in the style of ipfw: an IP filter that
 * checks every datagram this host receives or sends against a list of
 * numbered rules (protocol, source and destination with masks, ports,
 * direction; allow or drop; log), and a kernel control through which a
 * program adds, deletes and lists the rules and reads their counters
 * (firewall.h; `finch firewall` on the host).
 *
 * The lessons: an IP filter sees whole datagrams (after reassembly on
 * the way in, before fragmentation on the way out), with no kernel lock
 * held and on several threads at once, so the rules are read under a
 * lock of the kext's own; dropping is just returning an error; and stop
 * must take the filter away with ipf_remove -- which waits for every
 * callback still running and calls ipf_detach -- before anything the
 * callbacks use is freed.
 */
#include <mach/mach_types.h>
#include <mach/kmod.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kpi_mbuf.h>
#include <sys/kern_control.h>
#include <kern/locks.h>
#include <netinet/in.h>
#include <netinet/in_systm.h>
#include <netinet/ip.h>
#include <netinet/kpi_ipfilter.h>
#include "firewall.h"

kern_return_t	firewall_start(kmod_info_t *ki, void *data);
kern_return_t	firewall_stop(kmod_info_t *ki, void *data);

/* What the rules look at in a datagram (addresses in network order). */
struct fw_packet {
	u_int8_t	fp_dir;		/* FW_IN or FW_OUT */
	u_int8_t	fp_proto;
	struct in_addr	fp_src, fp_dst;
	u_int16_t	fp_sport, fp_dport;	/* host order; 0: no ports */
	u_int32_t	fp_len;
};

/* Made by start, in this order; taken down by stop in the reverse one. */
static lck_grp_t	*fw_grp;
static lck_mtx_t	*fw_lock;
static ipfilter_t	fw_filter;
static kern_ctl_ref	fw_ctlref;

/* The rules, sorted by number, and the counts (fw_lock). */
static struct fw_rule	fw_rules[FIREWALL_MAXRULES];
static int		fw_nrules;
static struct fw_stats	fw_stats;

/* ipf_detach has run (fw_lock). */
static boolean_t	fw_detached;

/* ---- Matching: the filter's callbacks ---- */

static boolean_t
fw_addr_match(struct in_addr addr, struct in_addr net, struct in_addr mask)
{
	return (addr.s_addr & mask.s_addr) == net.s_addr;
}

static boolean_t
fw_rule_match(const struct fw_rule *r, const struct fw_packet *p)
{
	if (!(r->fr_flags & p->fp_dir))
		return FALSE;
	if (r->fr_proto != 0 && r->fr_proto != p->fp_proto)
		return FALSE;
	if (!fw_addr_match(p->fp_src, r->fr_src, r->fr_srcmask) ||
	    !fw_addr_match(p->fp_dst, r->fr_dst, r->fr_dstmask))
		return FALSE;
	if (r->fr_sport != 0 && r->fr_sport != p->fp_sport)
		return FALSE;
	if (r->fr_dport != 0 && r->fr_dport != p->fp_dport)
		return FALSE;
	return TRUE;
}

static const char *
fw_proto_name(u_int8_t proto)
{
	switch (proto) {
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	default:		return "ip";
	}
}

static void
fw_print_addr(struct in_addr a, u_int16_t port)
{
	const u_int8_t *b = (const u_int8_t *)&a.s_addr;

	printf("%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	if (port != 0)
		printf(":%u", port);
}

/* One line per logged match, as ipfw writes them. */
static void
fw_log(u_int16_t num, u_int8_t action, const struct fw_packet *p)
{
	printf("firewall: rule %u %s %s ", num,
	    action == FW_DROP ? "drop" : "allow", fw_proto_name(p->fp_proto));
	fw_print_addr(p->fp_src, p->fp_sport);
	printf(" -> ");
	fw_print_addr(p->fp_dst, p->fp_dport);
	printf(" %s\n", p->fp_dir == FW_IN ? "in" : "out");
}

/*
 * The verdict for one datagram: 0 to let it go on, EPERM to drop it
 * (the stack frees it).  The rules are read and counted under fw_lock;
 * the log line is printed after it is released.
 */
static errno_t
fw_check(const struct fw_packet *p)
{
	struct fw_rule *r = NULL;
	u_int16_t num = 0;
	u_int8_t action = FW_ALLOW;
	boolean_t log = FALSE;
	int i;

	lck_mtx_lock(fw_lock);
	if (p->fp_dir == FW_IN)
		fw_stats.fs_in++;
	else
		fw_stats.fs_out++;
	for (i = 0; i < fw_nrules; i++)
		if (fw_rule_match(&fw_rules[i], p)) {
			r = &fw_rules[i];
			break;
		}
	if (r != NULL) {
		r->fr_packets++;
		r->fr_bytes += p->fp_len;
		num = r->fr_num;
		action = r->fr_action;
		log = (r->fr_flags & FW_LOG) != 0;
		if (action == FW_DROP)
			fw_stats.fs_dropped++;
		else
			fw_stats.fs_allowed++;
	} else
		fw_stats.fs_default++;
	lck_mtx_unlock(fw_lock);
	if (log)
		fw_log(num, action, p);
	return action == FW_DROP ? EPERM : 0;
}

/* Fill p from the datagram at the start of m; ports at offset hlen.
 * The header may span mbufs: it is copied out, not pointed at. */
static errno_t
fw_parse(mbuf_t m, size_t hlen, u_int8_t dir, struct fw_packet *p)
{
	struct ip ip;
	u_int16_t ports[2];

	if (mbuf_copydata(m, 0, sizeof(ip), &ip) != 0)
		return EINVAL;
	bzero(p, sizeof(*p));
	p->fp_dir = dir;
	p->fp_proto = ip.ip_p;
	p->fp_src = ip.ip_src;
	p->fp_dst = ip.ip_dst;
	p->fp_len = ntohs(ip.ip_len);
	if ((ip.ip_p == IPPROTO_UDP || ip.ip_p == IPPROTO_TCP) &&
	    mbuf_copydata(m, hlen, sizeof(ports), ports) == 0) {
		p->fp_sport = ntohs(ports[0]);
		p->fp_dport = ntohs(ports[1]);
	}
	return 0;
}

/* ipf_input: *data starts at the IP header, the transport at offset. */
static errno_t
fw_input(void *cookie, mbuf_t *data, int offset, u_int8_t protocol)
{
	struct fw_packet p;

	if (fw_parse(*data, offset, FW_IN, &p) != 0)
		return 0;
	return fw_check(&p);
}

/* ipf_output: *data starts at a complete IP header. */
static errno_t
fw_output(void *cookie, mbuf_t *data, ipf_pktopts_t options)
{
	struct fw_packet p;
	u_int8_t vhl;

	if (mbuf_copydata(*data, 0, 1, &vhl) != 0 ||
	    fw_parse(*data, (vhl & 0x0f) << 2, FW_OUT, &p) != 0)
		return 0;
	return fw_check(&p);
}

/* ipf_detach: the filter's last call.  ipf_remove, in stop, returns
 * only after it: stop checks the flag all the same. */
static void
fw_detach(void *cookie)
{
	lck_mtx_lock(fw_lock);
	fw_detached = TRUE;
	lck_mtx_unlock(fw_lock);
}

/* ---- The rules: the kernel control's options ---- */

static errno_t
fw_rule_check(const struct fw_rule *r)
{
	if (r->fr_action != FW_ALLOW && r->fr_action != FW_DROP)
		return EINVAL;
	if ((r->fr_flags & ~(FW_IN | FW_OUT | FW_LOG)) != 0 ||
	    (r->fr_flags & (FW_IN | FW_OUT)) == 0)
		return EINVAL;
	/* An address with bits outside its mask could never match. */
	if ((r->fr_src.s_addr & ~r->fr_srcmask.s_addr) != 0 ||
	    (r->fr_dst.s_addr & ~r->fr_dstmask.s_addr) != 0)
		return EINVAL;
	return 0;
}

/* Insert in number order.  fw_lock held. */
static errno_t
fw_add(const struct fw_rule *in)
{
	struct fw_rule r = *in;
	u_int32_t last;
	int i;

	if (fw_rule_check(&r) != 0)
		return EINVAL;
	if (fw_nrules == FIREWALL_MAXRULES)
		return ENOSPC;
	if (r.fr_num == 0) {		/* as ipfw numbers: last + 100 */
		last = fw_nrules == 0 ? 0 : fw_rules[fw_nrules - 1].fr_num;
		if (last > 65535 - 100)
			return ENOSPC;
		r.fr_num = last + 100;
	}
	for (i = 0; i < fw_nrules && fw_rules[i].fr_num < r.fr_num; i++)
		continue;
	if (i < fw_nrules && fw_rules[i].fr_num == r.fr_num)
		return EEXIST;
	r.fr_packets = r.fr_bytes = 0;
	bzero(r.fr_pad, sizeof(r.fr_pad));
	memmove(&fw_rules[i + 1], &fw_rules[i],
	    (fw_nrules - i) * sizeof(fw_rules[0]));
	fw_rules[i] = r;
	fw_nrules++;
	return 0;
}

/* fw_lock held. */
static errno_t
fw_delete(u_int32_t num)
{
	int i;

	for (i = 0; i < fw_nrules; i++)
		if (fw_rules[i].fr_num == num)
			break;
	if (i == fw_nrules)
		return ENOENT;
	fw_nrules--;
	memmove(&fw_rules[i], &fw_rules[i + 1],
	    (fw_nrules - i) * sizeof(fw_rules[0]));
	return 0;
}

static errno_t
fw_ctl_connect(kern_ctl_ref ref, struct sockaddr_ctl *sac, void **unitinfo)
{
	return 0;
}

static errno_t
fw_ctl_setopt(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t len)
{
	errno_t error;

	lck_mtx_lock(fw_lock);
	switch (opt) {
	case FW_ADD:
		error = len == sizeof(struct fw_rule) ? fw_add(data) : EINVAL;
		break;
	case FW_DELETE:
		error = len == sizeof(u_int32_t) ?
		    fw_delete(*(u_int32_t *)data) : EINVAL;
		break;
	case FW_FLUSH:
		fw_nrules = 0;
		error = 0;
		break;
	default:
		error = ENOPROTOOPT;
	}
	lck_mtx_unlock(fw_lock);
	return error;
}

/* data NULL: say how much room the answer needs. */
static errno_t
fw_ctl_getopt(kern_ctl_ref ref, u_int32_t unit, void *unitinfo, int opt,
    void *data, size_t *len)
{
	const void *src;
	size_t n;
	errno_t error = 0;

	lck_mtx_lock(fw_lock);
	switch (opt) {
	case FW_LIST:
		src = fw_rules;
		n = fw_nrules * sizeof(fw_rules[0]);
		break;
	case FW_STATS:
		src = &fw_stats;
		n = sizeof(fw_stats);
		break;
	default:
		error = ENOPROTOOPT;
		goto out;
	}
	if (data != NULL) {
		if (*len < n) {
			error = EMSGSIZE;
			goto out;
		}
		memcpy(data, src, n);
	}
	*len = n;
out:
	lck_mtx_unlock(fw_lock);
	return error;
}

/* ---- Start and stop ---- */

kern_return_t
firewall_start(kmod_info_t *ki, void *data)
{
	/* Tiger's order of fields: cookie, name, input, output, detach. */
	struct ipf_filter filter = { NULL, "firewall", fw_input, fw_output,
		fw_detach };
	struct kern_ctl_reg reg;
	errno_t error;

	fw_grp = lck_grp_alloc_init("firewall", LCK_GRP_ATTR_NULL);
	if (fw_grp == NULL)
		return KERN_FAILURE;
	fw_lock = lck_mtx_alloc_init(fw_grp, LCK_ATTR_NULL);
	if (fw_lock == NULL)
		goto fail;

	/* The rules are empty and the lock is ready: the callbacks may
	 * run before ipf_addv4 returns. */
	if ((error = ipf_addv4(&filter, &fw_filter)) != 0) {
		printf("firewall: ipf_addv4 failed: %d\n", error);
		goto fail;
	}
	bzero(&reg, sizeof(reg));
	strlcpy(reg.ctl_name, FIREWALL_NAME, sizeof(reg.ctl_name));
	reg.ctl_flags = CTL_FLAG_PRIVILEGED;	/* rules are root's business */
	reg.ctl_connect = fw_ctl_connect;
	reg.ctl_setopt = fw_ctl_setopt;
	reg.ctl_getopt = fw_ctl_getopt;
	if ((error = ctl_register(&reg, &fw_ctlref)) != 0) {
		printf("firewall: ctl_register failed: %d\n", error);
		goto fail;
	}
	printf("firewall: filtering IPv4; no rules yet: everything passes\n");
	return KERN_SUCCESS;

fail:
	if (fw_filter != NULL)
		ipf_remove(fw_filter);
	fw_filter = NULL;
	if (fw_lock != NULL)
		lck_mtx_free(fw_lock, fw_grp);
	fw_lock = NULL;
	lck_grp_free(fw_grp);
	fw_grp = NULL;
	return KERN_FAILURE;
}

kern_return_t
firewall_stop(kmod_info_t *ki, void *data)
{
	errno_t error;

	/* 1. The control: refused (EBUSY) while a client is connected. */
	if (fw_ctlref != NULL) {
		if ((error = ctl_deregister(fw_ctlref)) != 0) {
			printf("firewall: cannot stop: %s has a client "
			    "(error %d); close it, then unload again\n",
			    FIREWALL_NAME, error);
			return KERN_FAILURE;
		}
		fw_ctlref = NULL;
	}
	/* 2. The filter: ipf_remove waits for the callbacks running now
	 * and calls fw_detach before it returns.  Hold no lock here. */
	if (fw_filter != NULL) {
		ipf_remove(fw_filter);
		fw_filter = NULL;
	}
	lck_mtx_lock(fw_lock);
	if (!fw_detached) {
		lck_mtx_unlock(fw_lock);
		printf("firewall: ipf_detach has not come; try again\n");
		return KERN_FAILURE;
	}
	lck_mtx_unlock(fw_lock);
	/* 3. What the callbacks used. */
	lck_mtx_free(fw_lock, fw_grp);
	lck_grp_free(fw_grp);
	fw_lock = NULL;
	fw_grp = NULL;
	printf("firewall: stopped\n");
	return KERN_SUCCESS;
}
