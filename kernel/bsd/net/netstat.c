/*
 * The monitor's view of the network: `ifconfig` (interfaces, flags,
 * addresses, counters; up and down), `netstat -i` (Darwin's columns),
 * `netstat -m` (mbufs) and `netstat -s` (every named counter that a
 * protocol registered with NETSTAT_GROUP, drop reasons first of all).
 */
#include <sys/systm.h>
#include <sys/sockio.h>
#include <kern/monitor.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/if_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/net/ifconfig_var.h>

LINKER_SET_DECLARE(netstat, const struct netstat_group);
LINKER_SET_DECLARE(netstat_opt, const struct netstat_option);
LINKER_SET_DECLARE(ifconfig, const struct ifconfig_family);

/* ---- Addresses, printed the way ifconfig and netstat do ---- */

static void
print_ipv4(const struct sockaddr *sa)
{
	/* sockaddr_in: port in sa_data[0..1], the address in [2..5]. */
	const u_char *a = (const u_char *)sa->sa_data + 2;

	printf("%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static void
print_lladdr(const u_char *a, u_int32_t len)
{
	u_int32_t i;

	for (i = 0; i < len; i++)
		printf("%s%02x", i == 0 ? "" : ":", a[i]);
}

/* A protocol that registered an ifconfig family prints its own. */
static const struct ifconfig_family *
ifconfig_family_for(sa_family_t af)
{
	const struct ifconfig_family **ifcp;

	LINKER_SET_FOREACH(ifconfig, ifcp)
		if ((*ifcp)->ifc_af == af)
			return *ifcp;
	return NULL;
}

static void
ifconfig_print_addr(ifnet_t ifp, struct ifaddr *ifa)
{
	const struct ifconfig_family *ifc;
	const struct sockaddr *sa = ifa->ifa_addr;
	const u_char *m;

	if (sa == NULL || sa->sa_family == AF_LINK)
		return;		/* the lladdr has its own line */
	ifc = ifconfig_family_for(sa->sa_family);
	if (ifc != NULL && ifc->ifc_print != NULL) {
		ifc->ifc_print(ifp, ifa);
		return;
	}
	if (sa->sa_family != AF_INET) {
		printf("\taddress family %u\n", sa->sa_family);
		return;
	}
	printf("\tinet ");
	print_ipv4(sa);
	if (ifa->ifa_netmask != NULL) {
		m = (const u_char *)ifa->ifa_netmask->sa_data + 2;
		printf(" netmask 0x%02x%02x%02x%02x", m[0], m[1], m[2], m[3]);
	}
	if (ifa->ifa_dstaddr != NULL) {
		printf((ifp->if_flags & IFF_POINTOPOINT) ? " --> " :
		    " broadcast ");
		print_ipv4(ifa->ifa_dstaddr);
	}
	printf("\n");
}

/* ---- ifconfig ---- */

static const char *const if_flag_names[16] = {
	"UP", "BROADCAST", "DEBUG", "LOOPBACK", "POINTOPOINT", "SMART",
	"RUNNING", "NOARP", "PROMISC", "ALLMULTI", "OACTIVE", "SIMPLEX",
	"LINK0", "LINK1", "LINK2", "MULTICAST"
};

static void
ifconfig_print_flags(u_int16_t flags)
{
	const char *sep = "";
	int bit;

	printf("flags=%x<", flags);
	for (bit = 0; bit < 16; bit++)
		if (flags & (1 << bit)) {
			printf("%s%s", sep, if_flag_names[bit]);
			sep = ",";
		}
	printf(">");
}

static void
ifconfig_print_counters(ifnet_t ifp)
{
	struct ifnet_stats_param st;

	ifnet_stat(ifp, &st);
	printf("\tinput: %llu packets, %llu bytes, %llu errors, %llu dropped,"
	    " %llu no protocol\n", st.packets_in, st.bytes_in, st.errors_in,
	    st.dropped, st.no_protocol);
	printf("\toutput: %llu packets, %llu bytes, %llu errors, "
	    "%llu collisions\n", st.packets_out, st.bytes_out, st.errors_out,
	    st.collisions);
}

static void
ifconfig_print(ifnet_t ifp)
{
	static const char *const link[] = { "unknown", "inactive", "active" };
	ifaddr_t *addrs;
	u_int32_t i;

	printf("%s: ", ifp->if_xname);
	ifconfig_print_flags(ifnet_flags(ifp));
	printf(" mtu %u index %u\n", ifnet_mtu(ifp), ifnet_index(ifp));
	if (ifp->if_addrlen != 0) {
		printf("\t%s ", ifp->if_type == IFT_ETHER ? "ether" : "lladdr");
		print_lladdr(ifp->if_lladdr, ifp->if_addrlen);
		printf("\n");
	}
	if (ifnet_get_address_list(ifp, &addrs) == 0) {
		for (i = 0; addrs[i] != NULL; i++)
			ifconfig_print_addr(ifp, addrs[i]);
		ifnet_free_address_list(addrs);
	}
	if (ifp->if_link_state != IF_LINK_UNKNOWN)
		printf("\tstatus: %s\n", link[ifp->if_link_state]);
	ifconfig_print_counters(ifp);
}

/* ifconfig IF up|down: the flag, then the driver hears SIOCSIFFLAGS. */
static int
ifconfig_updown(ifnet_t ifp, bool up)
{
	struct ifreq ifr;
	errno_t error;

	ifnet_set_flags(ifp, up ? IFF_UP : 0, IFF_UP);
	bzero(&ifr, sizeof(ifr));
	strlcpy(ifr.ifr_name, ifp->if_xname, sizeof(ifr.ifr_name));
	ifr.ifr_flags = (short)ifnet_flags(ifp);
	error = ifnet_ioctl(ifp, 0, SIOCSIFFLAGS, &ifr);
	if (error != 0 && error != EOPNOTSUPP) {
		printf("ifconfig: %s: the driver refused SIOCSIFFLAGS: "
		    "error %d\n", ifp->if_xname, error);
		return 1;
	}
	ifnet_touch_lastchange(ifp);
	dlil_post_msg(ifp, KEV_DL_SIFFLAGS);
	return 0;
}

/* ifconfig IF FAMILY ...: the protocol that registered FAMILY does it. */
static int
ifconfig_family(ifnet_t ifp, int argc, char **argv)
{
	const struct ifconfig_family **ifcp;

	LINKER_SET_FOREACH(ifconfig, ifcp)
		if (strcmp((*ifcp)->ifc_name, argv[0]) == 0 &&
		    (*ifcp)->ifc_set != NULL)
			return (*ifcp)->ifc_set(ifp, argc, argv);
	printf("ifconfig: unknown setting `%s': say up, down", argv[0]);
	LINKER_SET_FOREACH(ifconfig, ifcp)
		if ((*ifcp)->ifc_set != NULL)
			printf(", %s ...", (*ifcp)->ifc_name);
	printf("\n");
	return 1;
}

static int
ifconfig_all(void)
{
	ifnet_t *list;
	u_int32_t i, n;

	if (ifnet_list_get(IFNET_FAMILY_ANY, &list, &n) != 0) {
		printf("ifconfig: out of memory\n");
		return 1;
	}
	for (i = 0; i < n; i++)
		ifconfig_print(list[i]);
	ifnet_list_free(list);
	return 0;
}

static int
mon_ifconfig(int argc, char **argv)
{
	ifnet_t ifp;
	int error = 0;

	if (argc == 1)
		return ifconfig_all();
	if (ifnet_find_by_name(argv[1], &ifp) != 0) {
		printf("ifconfig: interface %s does not exist (type "
		    "`ifconfig` for the list)\n", argv[1]);
		return 1;
	}
	if (argc == 2)
		ifconfig_print(ifp);
	else if (argc == 3 && strcmp(argv[2], "up") == 0)
		error = ifconfig_updown(ifp, true);
	else if (argc == 3 && strcmp(argv[2], "down") == 0)
		error = ifconfig_updown(ifp, false);
	else
		error = ifconfig_family(ifp, argc - 2, argv + 2);
	ifnet_release(ifp);
	return error;
}
MONITOR_COMMAND(ifconfig, mon_ifconfig, "ifconfig [IF [up|down|FAMILY ...]]",
    "show interfaces; bring one up or down, or set its addresses");

/* ---- netstat ---- */

static void
netstat_i_row(ifnet_t ifp, const char *network, const char *address,
    const struct ifnet_stats_param *st)
{
	printf("%-5.5s %-5u %-13.13s %-17.17s %8llu %5llu %8llu %5llu %5llu\n",
	    ifp->if_xname, ifp->if_mtu, network, address, st->packets_in,
	    st->errors_in, st->packets_out, st->errors_out, st->collisions);
}

/* "10.0.2.0/24" and "10.0.2.15" for an AF_INET address. */
static void
netstat_i_inet(struct ifaddr *ifa, char *net, size_t netlen, char *addr,
    size_t addrlen)
{
	const u_char *a = (const u_char *)ifa->ifa_addr->sa_data + 2;
	u_char m[4] = { 0, 0, 0, 0 };
	int i, bits = 0;

	if (ifa->ifa_netmask != NULL)
		memcpy(m, ifa->ifa_netmask->sa_data + 2, 4);
	for (i = 0; i < 32; i++)
		if (m[i / 8] & (0x80 >> (i % 8)))
			bits++;
	snprintf(net, netlen, "%u.%u.%u.%u/%d", a[0] & m[0], a[1] & m[1],
	    a[2] & m[2], a[3] & m[3], bits);
	snprintf(addr, addrlen, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static void
netstat_i_one(ifnet_t ifp)
{
	struct ifnet_stats_param st;
	char net[24], addr[24];
	ifaddr_t *addrs;
	u_int32_t i;
	int n = 0;

	ifnet_stat(ifp, &st);
	snprintf(net, sizeof(net), "<Link#%u>", ifp->if_index);
	for (i = 0; i < ifp->if_addrlen && n < (int)sizeof(addr) - 3; i++)
		n += snprintf(addr + n, sizeof(addr) - n, "%s%02x",
		    i == 0 ? "" : ":", ifp->if_lladdr[i]);
	addr[n] = '\0';
	netstat_i_row(ifp, net, addr, &st);
	if (ifnet_get_address_list_family(ifp, &addrs, AF_INET) != 0)
		return;
	for (i = 0; addrs[i] != NULL; i++) {
		netstat_i_inet(addrs[i], net, sizeof(net), addr, sizeof(addr));
		netstat_i_row(ifp, net, addr, &st);
	}
	ifnet_free_address_list(addrs);
}

static int
netstat_i(void)
{
	ifnet_t *list;
	u_int32_t i, n;

	if (ifnet_list_get(IFNET_FAMILY_ANY, &list, &n) != 0) {
		printf("netstat: out of memory\n");
		return 1;
	}
	printf("%-5.5s %-5.5s %-13.13s %-17.17s %8.8s %5.5s %8.8s %5.5s "
	    "%5.5s\n", "Name", "Mtu", "Network", "Address", "Ipkts", "Ierrs",
	    "Opkts", "Oerrs", "Coll");
	for (i = 0; i < n; i++)
		netstat_i_one(list[i]);
	ifnet_list_free(list);
	return 0;
}

/* Every registered group, every counter: value, name, meaning. */
static int
netstat_s(void)
{
	const struct netstat_group **ngp;
	const struct netstat_counter *nc;
	u_int32_t i;

	LINKER_SET_FOREACH(netstat, ngp) {
		printf("%s:\n", (*ngp)->ng_name);
		for (i = 0; i < (*ngp)->ng_count; i++) {
			nc = &(*ngp)->ng_counters[i];
			printf("\t%10u %s (%s)\n", *nc->nc_value, nc->nc_name,
			    nc->nc_help);
		}
	}
	return 0;
}

bool
netstat_counter_get(const char *group, const char *name, u_int32_t *out)
{
	const struct netstat_group **ngp;
	u_int32_t i;

	LINKER_SET_FOREACH(netstat, ngp) {
		if (strcmp((*ngp)->ng_name, group) != 0)
			continue;
		for (i = 0; i < (*ngp)->ng_count; i++)
			if (strcmp((*ngp)->ng_counters[i].nc_name, name) == 0) {
				*out = *(*ngp)->ng_counters[i].nc_value;
				return true;
			}
	}
	return false;
}

static int
netstat_m(void)
{
	mbuf_print_stats();
	return 0;
}

static const struct netstat_option netstat_builtin[] = {
	{ 'i', netstat_i, "interfaces and their counters" },
	{ 'm', netstat_m, "mbuf use" },
	{ 's', netstat_s, "per-protocol statistics and drop reasons" },
};

static int
netstat_usage(void)
{
	const struct netstat_option **nop;
	size_t i;

	printf("usage: netstat -FLAG, one of:\n");
	for (i = 0; i < sizeof(netstat_builtin) / sizeof(netstat_builtin[0]);
	    i++)
		printf("  -%c  %s\n", netstat_builtin[i].no_flag,
		    netstat_builtin[i].no_help);
	LINKER_SET_FOREACH(netstat_opt, nop)
		printf("  -%c  %s\n", (*nop)->no_flag, (*nop)->no_help);
	return 1;
}

static int
mon_netstat(int argc, char **argv)
{
	const struct netstat_option **nop;
	size_t i;
	char flag;

	if (argc != 2 || argv[1][0] != '-' || argv[1][1] == '\0' ||
	    argv[1][2] != '\0')
		return netstat_usage();
	flag = argv[1][1];
	for (i = 0; i < sizeof(netstat_builtin) / sizeof(netstat_builtin[0]);
	    i++)
		if (netstat_builtin[i].no_flag == flag)
			return netstat_builtin[i].no_func();
	LINKER_SET_FOREACH(netstat_opt, nop)
		if ((*nop)->no_flag == flag)
			return (*nop)->no_func();
	return netstat_usage();
}
MONITOR_COMMAND(netstat, mon_netstat, "netstat -i|-m|-s|...",
    "interfaces, mbuf use, per-protocol statistics (netstat -h: all)");
