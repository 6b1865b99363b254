/*
 * IPv4's start -- start reading bsd/netinet here.  The Internet domain,
 * PF_INET, registers with the socket layer (domain.h); its transports
 * register their protocol switch entries beside their code (UDP in
 * udp_usrreq.c, ICMP in ip_icmp.c; TCP will).  domaininit() runs their
 * pr_init, then in_init(), which starts each part of IPv4, registers its
 * input and its Ethernet plumber (in_ether.c) with the protocol KPI,
 * starts the once-a-second timer, gives lo0 and en0 their boot addresses
 * (in_bootconfig.c) and opens the echo service.
 */
#include <sys/systm.h>
#include <net/kpi_protocol.h>
#include <bsd/kern/domain.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_pcb.h>
#include <bsd/netinet/in_arp_var.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/ip_var.h>
#include <bsd/netinet/udp_var.h>

/* lo0 attaches IPv4 with its own plumber and callbacks (if_loop.c),
 * which hand its IPv4 packets here through proto_input(). */
static void
in_proto_input(protocol_family_t pf, mbuf_t m)
{
	ip_input(m);
}

/* ---- The once-a-second timer ---- */

static void
in_slowtimo(void *arg)
{
	u_int64_t now = in_time_ms();

	arp_slowtimo(now);
	ip_slowtimo(now);
	timeout(in_slowtimo, NULL, hz);
}

/* ---- Start ---- */

void
in_init(void)
{
	in_ifaddr_init();
	in_route_init();
	arp_init();
	ip_init();
	if (proto_register_input(PF_INET, in_proto_input, NULL) != 0 ||
	    proto_register_plumber(PF_INET, IFNET_FAMILY_ETHERNET,
	    in_ether_plumb, NULL) != 0)
		panic("in_init: cannot register IPv4 with the DLIL");
	timeout(in_slowtimo, NULL, hz);
	in_bootconfig_init();
	udp_echo_init();
}

struct domain inetdomain = {
	.dom_family = AF_INET,
	.dom_name = "internet",
	.dom_init = in_init,
	.dom_describe = in_pcb_describe,
};
DOMAIN_SET(inetdomain);
