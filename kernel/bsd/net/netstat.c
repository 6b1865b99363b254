/*
 * The monitor's `netstat`: -i (interfaces, in Darwin's columns; -id adds
 * the Drop column), -m (mbufs), -s (every named counter that a protocol
 * registered with NETSTAT_GROUP, drop reasons first of all), and the
 * options other files register with NETSTAT_OPTION.  `ifconfig` is
 * ifconfig.c.
 */
#include <sys/systm.h>
#include <kern/monitor.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/if_var.h>
#include <bsd/net/netstat_var.h>

LINKER_SET_DECLARE(netstat, const struct netstat_group);
LINKER_SET_DECLARE(netstat_opt, const struct netstat_option);

/*
 * netstat -i prints Darwin's columns: Name Mtu Network Address Ipkts Ierrs
 * Opkts Oerrs Coll.  The drops are Darwin's -d: "netstat -id" adds a last
 * column, Drop, and plain -i stays what Darwin prints, as Finch's commands
 * do.  On Darwin, Drop counts packets dropped from the send queue; Finch's
 * interfaces have none (a driver that cannot send counts an output
 * error), so here it counts what the interface dropped on input: the
 * `dropped` of ifnet_stat(), which XNU keeps as ifi_iqdrops.
 */
static void
netstat_i_row(ifnet_t ifp, const char *network, const char *address,
    const struct ifnet_stats_param *st, bool drops)
{
	printf("%-5.5s %-5u %-13.13s %-17.17s %8llu %5llu %8llu %5llu %5llu",
	    ifp->if_xname, ifp->if_mtu, network, address, st->packets_in,
	    st->errors_in, st->packets_out, st->errors_out, st->collisions);
	if (drops)
		printf(" %5llu", st->dropped);
	printf("\n");
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
netstat_i_one(ifnet_t ifp, bool drops)
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
	netstat_i_row(ifp, net, addr, &st, drops);
	if (ifnet_get_address_list_family(ifp, &addrs, AF_INET) != 0)
		return;
	for (i = 0; addrs[i] != NULL; i++) {
		netstat_i_inet(addrs[i], net, sizeof(net), addr, sizeof(addr));
		netstat_i_row(ifp, net, addr, &st, drops);
	}
	ifnet_free_address_list(addrs);
}

static int
netstat_interfaces(bool drops)
{
	ifnet_t *list;
	u_int32_t i, n;

	if (ifnet_list_get(IFNET_FAMILY_ANY, &list, &n) != 0) {
		printf("netstat: out of memory\n");
		return 1;
	}
	printf("%-5.5s %-5.5s %-13.13s %-17.17s %8.8s %5.5s %8.8s %5.5s "
	    "%5.5s", "Name", "Mtu", "Network", "Address", "Ipkts", "Ierrs",
	    "Opkts", "Oerrs", "Coll");
	if (drops)
		printf(" %5.5s", "Drop");
	printf("\n");
	for (i = 0; i < n; i++)
		netstat_i_one(list[i], drops);
	ifnet_list_free(list);
	return 0;
}

static int
netstat_i(void)
{
	return netstat_interfaces(false);
}

/* Was a group of this name registered before ngp (and printed)? */
static bool
netstat_group_seen(const struct netstat_group **ngp)
{
	const struct netstat_group **prev;

	for (prev = __start_set_netstat; prev < ngp; prev++)
		if (strcmp((*prev)->ng_name, (*ngp)->ng_name) == 0)
			return true;
	return false;
}

/*
 * Every registered group, every counter: value, name, meaning.  Groups
 * of one name (UDP's and the echo service's "udp") print as one.
 */
static int
netstat_s(void)
{
	const struct netstat_group **ngp, **same;
	const struct netstat_counter *nc;
	u_int32_t i;

	LINKER_SET_FOREACH(netstat, ngp) {
		if (netstat_group_seen(ngp))
			continue;
		printf("%s:\n", (*ngp)->ng_name);
		for (same = ngp; same < __stop_set_netstat; same++) {
			if (strcmp((*same)->ng_name, (*ngp)->ng_name) != 0)
				continue;
			for (i = 0; i < (*same)->ng_count; i++) {
				nc = &(*same)->ng_counters[i];
				printf("\t%10u %s (%s)\n", *nc->nc_value,
				    nc->nc_name, nc->nc_help);
			}
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
	{ 'i', netstat_i, "interfaces and their counters; -id adds drops" },
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

/*
 * The letters of the arguments, which must all be flags ("-i -d" and
 * "-id" both give "id"), into flags; false if one is not a flag or there
 * are more letters than fit.
 */
static bool
netstat_flags(int argc, char **argv, char *flags, size_t size)
{
	const char *p;
	size_t n = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return false;
		for (p = argv[i] + 1; *p != '\0'; p++) {
			if (n + 1 >= size)
				return false;
			flags[n++] = *p;
		}
	}
	flags[n] = '\0';
	return n > 0;
}

/* One option, or -i with -d (Darwin's Drop column), in either order. */
static int
mon_netstat(int argc, char **argv)
{
	const struct netstat_option **nop;
	char flags[3], flag;
	size_t i;

	if (!netstat_flags(argc, argv, flags, sizeof(flags)))
		return netstat_usage();
	if (strcmp(flags, "id") == 0 || strcmp(flags, "di") == 0)
		return netstat_interfaces(true);
	if (flags[1] != '\0')
		return netstat_usage();
	flag = flags[0];
	for (i = 0; i < sizeof(netstat_builtin) / sizeof(netstat_builtin[0]);
	    i++)
		if (netstat_builtin[i].no_flag == flag)
			return netstat_builtin[i].no_func();
	LINKER_SET_FOREACH(netstat_opt, nop)
		if ((*nop)->no_flag == flag)
			return (*nop)->no_func();
	return netstat_usage();
}
MONITOR_COMMAND(netstat, mon_netstat, "netstat -a|-i [-d]|-m|-s|...",
    "sockets, interfaces, mbuf use, per-protocol statistics (netstat -h: "
    "all)");
