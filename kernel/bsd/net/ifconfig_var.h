/*
 * How a protocol plugs into the monitor's `ifconfig`: it names a family
 * ("inet"), sets addresses from the command line and prints its own
 * addresses.  Registered at compile time, like monitor commands:
 *
 *	static const struct ifconfig_family inet_ifconfig = {
 *		"inet", AF_INET, in_ifconfig_set, in_ifconfig_print };
 *	IFCONFIG_FAMILY(inet, inet_ifconfig);
 *
 * `ifconfig en0 inet 10.0.2.15 netmask 255.255.255.0` then calls
 * in_ifconfig_set(en0, 4, {"inet", "10.0.2.15", "netmask", ...}).
 */
#ifndef _BSD_NET_IFCONFIG_VAR_H_
#define _BSD_NET_IFCONFIG_VAR_H_

#include <kern/linker_set.h>
#include <bsd/net/if_var.h>

struct ifconfig_family {
	const char	*ifc_name;	/* the word after the interface */
	sa_family_t	ifc_af;		/* the addresses it prints */
	/* argv[0] is ifc_name; print what is wrong and return non-zero. */
	int		(*ifc_set)(ifnet_t ifp, int argc, char **argv);
	/* One address of family ifc_af, as "\tinet ...\n". */
	void		(*ifc_print)(ifnet_t ifp, struct ifaddr *ifa);
};

#define IFCONFIG_FAMILY(name, fam)					\
	LINKER_SET_ENTRY(ifconfig, fam)

#endif /* _BSD_NET_IFCONFIG_VAR_H_ */
