/*
 * The monitor's `netstat`: -i (interfaces, in Darwin's columns), -m
 * (mbufs), -s (every named counter that a protocol registered with
 * NETSTAT_GROUP, drop reasons first of all), and the options other files
 * register with NETSTAT_OPTION.  `ifconfig` is ifconfig.c.
 */
#include <sys/systm.h>
#include <kern/monitor.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/if_var.h>
#include <bsd/net/netstat_var.h>

LINKER_SET_DECLARE(netstat, const struct netstat_group);
LINKER_SET_DECLARE(netstat_opt, const struct netstat_option);

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
