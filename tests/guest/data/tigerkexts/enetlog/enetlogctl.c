/*
 * enetlogctl -- print the Ethernet counters the enetlog kext keeps.
 * A user-space tool: built with the host's compiler, never into the kext.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/sys_domain.h>
#include <sys/kern_control.h>

#include "enetlog.h"

int
main(int argc, char *argv[])
{
	struct ctl_info info;
	struct sockaddr_ctl addr;
	struct enetlog_stats stats;
	socklen_t len = sizeof(stats);
	int fd;

	fd = socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	bzero(&info, sizeof(info));
	strncpy(info.ctl_name, ENETLOG_CONTROL_NAME, sizeof(info.ctl_name));
	if (ioctl(fd, CTLIOCGINFO, &info) == -1) {
		perror("ioctl CTLIOCGINFO");
		exit(1);
	}
	bzero(&addr, sizeof(addr));
	addr.sc_len = sizeof(addr);
	addr.sc_family = AF_SYSTEM;
	addr.ss_sysaddr = AF_SYS_CONTROL;
	addr.sc_id = info.ctl_id;
	addr.sc_unit = 0;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		perror("connect");
		exit(1);
	}
	if (getsockopt(fd, SYSPROTO_CONTROL, ENETLOG_GET_STATS, &stats, &len) == -1) {
		perror("getsockopt");
		exit(1);
	}
	printf("in: %u frames, %u bytes (%u IP, %u ARP)\n", stats.es_in_frames,
	    stats.es_in_bytes, stats.es_in_ip, stats.es_in_arp);
	printf("out: %u frames, %u bytes\n", stats.es_out_frames, stats.es_out_bytes);
	close(fd);
	return 0;
}
