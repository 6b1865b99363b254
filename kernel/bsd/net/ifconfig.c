/*
 * The monitor's `ifconfig`: each interface with its flags, link address,
 * addresses (a protocol that registered an ifconfig family prints its
 * own: ifconfig_var.h), link status and counters; `up` and `down`,
 * `mtu N` and `metric N`; and the settings of a family, which its
 * protocol makes.  Changes go
 * through a socket's interface ioctls (SIOCSIFFLAGS, ...), as user
 * space's ifconfig will make them.  `netstat` is netstat.c.
 */
#include <sys/systm.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <kern/monitor.h>
#include <bsd/net/if_var.h>
#include <bsd/net/ifconfig_var.h>

LINKER_SET_DECLARE(ifconfig, const struct ifconfig_family);

/* ---- Addresses, printed the way ifconfig does ---- */

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
	if (ifnet_metric(ifp) != 0)	/* BSD's ifconfig shows it only then */
		printf(" metric %u", ifnet_metric(ifp));
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

/* ifconfig IF up|down: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP
 * changed, on a socket (bsd/net/if.c does the rest). */
static int
ifconfig_updown(ifnet_t ifp, bool up)
{
	struct ifreq ifr;
	socket_t so;
	errno_t error;

	if ((error = sock_socket(PF_INET, SOCK_DGRAM, 0, NULL, NULL,
	    &so)) != 0) {
		printf("ifconfig: no socket to configure with: error %d\n",
		    error);
		return 1;
	}
	bzero(&ifr, sizeof(ifr));
	strlcpy(ifr.ifr_name, ifp->if_xname, sizeof(ifr.ifr_name));
	error = sock_ioctl(so, SIOCGIFFLAGS, &ifr);
	if (error == 0) {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		error = sock_ioctl(so, SIOCSIFFLAGS, &ifr);
	}
	sock_close(so);
	if (error != 0) {
		printf("ifconfig: %s: the driver refused SIOCSIFFLAGS: "
		    "error %d\n", ifp->if_xname, error);
		return 1;
	}
	return 0;
}

/* ifconfig IF mtu N | metric N: SIOCSIFMTU or SIOCSIFMETRIC. */
static int
ifconfig_setint(ifnet_t ifp, const char *what, const char *value)
{
	bool mtu = strcmp(what, "mtu") == 0;
	struct ifreq ifr;
	socket_t so;
	char *end;
	long n;
	errno_t error;

	n = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || n < 0 || n > 65535) {
		printf("ifconfig: %s `%s' is not a number from 0 to 65535\n",
		    what, value);
		return 1;
	}
	if ((error = sock_socket(PF_INET, SOCK_DGRAM, 0, NULL, NULL,
	    &so)) != 0) {
		printf("ifconfig: no socket to configure with: error %d\n",
		    error);
		return 1;
	}
	bzero(&ifr, sizeof(ifr));
	strlcpy(ifr.ifr_name, ifp->if_xname, sizeof(ifr.ifr_name));
	if (mtu)
		ifr.ifr_mtu = (int)n;
	else
		ifr.ifr_metric = (int)n;
	error = sock_ioctl(so, mtu ? SIOCSIFMTU : SIOCSIFMETRIC, &ifr);
	sock_close(so);
	if (error == EINVAL && mtu)
		printf("ifconfig: %s: mtu %ld refused: out of the range its "
		    "driver allows\n", ifp->if_xname, n);
	else if (error != 0)
		printf("ifconfig: %s: %s %ld refused: error %d\n",
		    ifp->if_xname, what, n, error);
	return error != 0;
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
	printf("ifconfig: unknown setting `%s': say up, down, mtu N, "
	    "metric N", argv[0]);
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
	else if (argc == 4 && (strcmp(argv[2], "mtu") == 0 ||
	    strcmp(argv[2], "metric") == 0))
		error = ifconfig_setint(ifp, argv[2], argv[3]);
	else
		error = ifconfig_family(ifp, argc - 2, argv + 2);
	ifnet_release(ifp);
	return error;
}
MONITOR_COMMAND(ifconfig, mon_ifconfig,
    "ifconfig [IF [up|down|mtu N|metric N|FAMILY ...]]",
    "show interfaces; bring one up or down, set its MTU, metric or "
    "addresses");
