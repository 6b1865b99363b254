/*
 * <netinet/ip_var.h> -- in Darwin, IP's private structures and counters.
 * Kexts see IP through the IP filter KPI (<netinet/kpi_ipfilter.h>) and the
 * header of <netinet/ip.h>, which this brings, so that Darwin sources that
 * include this header build.
 */
#ifndef _NETINET_IP_VAR_H_
#define _NETINET_IP_VAR_H_

#include <netinet/in.h>
#include <netinet/ip.h>

#endif /* _NETINET_IP_VAR_H_ */
