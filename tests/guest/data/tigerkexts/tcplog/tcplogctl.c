/*
 * tcplogctl -- prints the TCP connections the tcplog kext reports.
 * A command-line tool: it is the Xcode project's second target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/sys_domain.h>
#include <sys/kern_control.h>

#include "tcplogger.h"

int
main(int argc, char **argv)
{
	struct ctl_info info;
	struct sockaddr_ctl sc;
	struct TCPLogInfo tli;
	char local[INET_ADDRSTRLEN], remote[INET_ADDRSTRLEN];
	int fd;

	if ((fd = socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL)) < 0) {
		perror("socket");
		return 1;
	}
	bzero(&info, sizeof(info));
	strcpy(info.ctl_name, MYBUNDLEID);
	if (ioctl(fd, CTLIOCGINFO, &info) == -1) {
		perror("CTLIOCGINFO");
		return 1;
	}
	bzero(&sc, sizeof(sc));
	sc.sc_len = sizeof(sc);
	sc.sc_family = AF_SYSTEM;
	sc.ss_sysaddr = AF_SYS_CONTROL;
	sc.sc_id = info.ctl_id;
	if (connect(fd, (struct sockaddr *)&sc, sizeof(sc)) == -1) {
		perror("connect");
		return 1;
	}
	while (recv(fd, &tli, sizeof(tli), 0) == sizeof(tli)) {
		inet_ntop(AF_INET, &tli.tli_local.sin_addr, local, sizeof(local));
		inet_ntop(AF_INET, &tli.tli_remote.sin_addr, remote, sizeof(remote));
		printf("%u: %s:%d <-> %s:%d in %u bytes out %u bytes (pid %d)\n",
		    tli.tli_genid, local, ntohs(tli.tli_local.sin_port), remote,
		    ntohs(tli.tli_remote.sin_port), tli.tli_bytes_in,
		    tli.tli_bytes_out, tli.tli_pid);
	}
	close(fd);
	return 0;
}
