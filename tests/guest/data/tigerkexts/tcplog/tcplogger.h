/*
 * tcplogger.h -- shared by the tcplog kext and tcplogctl, its client.
 */
#ifndef TCPLOGGER_H
#define TCPLOGGER_H

#include <sys/param.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#define TCPLOGGER_HANDLE_IP4	0x54636c34	/* 'Tcl4' */
#define TCPLOGGER_HANDLE_IP6	0x54636c36	/* 'Tcl6' */
#define MYBUNDLEID		"com.example.tiger.tcplog"

/* One finished connection, as the kext hands it to a control client. */
struct TCPLogInfo {
	u_int32_t		tli_len;	/* sizeof(struct TCPLogInfo) */
	u_int32_t		tli_genid;	/* one up id of the connection */
	struct sockaddr_in	tli_local;
	struct sockaddr_in	tli_remote;
	u_int32_t		tli_bytes_in;
	u_int32_t		tli_pkts_in;
	u_int32_t		tli_bytes_out;
	u_int32_t		tli_pkts_out;
	struct timeval		tli_create;	/* socket attached */
	struct timeval		tli_start;	/* connected */
	struct timeval		tli_stop;	/* detached */
	pid_t			tli_pid;	/* who made the socket */
	uid_t			tli_uid;
};

struct tl_stats {
	int		tls_attached;	/* sockets ever attached */
	int		tls_active;	/* attached now */
	int		tls_done;	/* records waiting for a client */
	int		tls_overflow;	/* records dropped: no room */
	int		tls_log;	/* log connections on the console */
	int		tls_ctl_connected;
};

/* socket options of the control */
#define TCPLOGGER_STATS		1	/* get struct tl_stats */
#define TCPLOGGER_LOG		2	/* get or set tls_log */

#endif /* TCPLOGGER_H */
