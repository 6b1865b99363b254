/*
 * Named counters for `netstat -s`.  Each protocol keeps its counters
 * (above all, one per reason a packet can be dropped) and registers a
 * table of names with NETSTAT_GROUP; netstat -s walks every group, and
 * prints groups of the same name (from several files) as one.
 *
 *	static struct { u_int32_t badsum, tooshort; } udpstat;
 *	static const struct netstat_counter udp_counters[] = {
 *		{ "badsum", "dropped: bad checksum", &udpstat.badsum },
 *		{ "tooshort", "dropped: shorter than its header",
 *		    &udpstat.tooshort },
 *	};
 *	NETSTAT_GROUP(udp, udp_counters);
 *	...
 *	NETSTAT_INC(udpstat.badsum);
 */
#ifndef _BSD_NET_NETSTAT_VAR_H_
#define _BSD_NET_NETSTAT_VAR_H_

#include <sys/types.h>
#include <kern/linker_set.h>

struct netstat_counter {
	const char		*nc_name;	/* short, no spaces: tests grep it */
	const char		*nc_help;	/* what it counts, for people */
	volatile u_int32_t	*nc_value;
};

struct netstat_group {
	const char			*ng_name;	/* "dlil", "ip", ... */
	const struct netstat_counter	*ng_counters;
	u_int32_t			ng_count;
};

#define NETSTAT_GROUP(name, table)					\
	static const struct netstat_group __netstat_##name =		\
	    { #name, table, sizeof(table) / sizeof((table)[0]) };	\
	LINKER_SET_ENTRY(netstat, __netstat_##name)

/* Counters are bumped from interrupt handlers too: atomically. */
#define NETSTAT_INC(c)		__atomic_add_fetch(&(c), 1, __ATOMIC_RELAXED)
#define NETSTAT_ADD(c, n)	__atomic_add_fetch(&(c), (n), __ATOMIC_RELAXED)

/*
 * Other `netstat` options: `netstat -r` runs the function registered
 * for 'r' (the routing table lives with IP).
 *
 *	NETSTAT_OPTION(r, 'r', rt_netstat, "routing table");
 */
struct netstat_option {
	char		no_flag;
	int		(*no_func)(void);
	const char	*no_help;
};

#define NETSTAT_OPTION(name, flag, func, help)				\
	static const struct netstat_option __netstat_opt_##name =	\
	    { flag, func, help };					\
	LINKER_SET_ENTRY(netstat_opt, __netstat_opt_##name)

/* The value of the counter `name` of group `group`; false if unknown. */
bool	netstat_counter_get(const char *group, const char *name, u_int32_t *out);

#endif /* _BSD_NET_NETSTAT_VAR_H_ */
