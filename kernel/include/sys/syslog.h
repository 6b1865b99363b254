/*
 * <sys/syslog.h> -- message priorities (LOG_ERR, ...), facilities
 * (LOG_KERN, ...) and the kernel's log().  On Mac OS X log() fed
 * syslogd and /var/log/system.log; Finch has no syslogd, so a logged
 * message goes to the console, like printf.  Values are Darwin's.
 */
#ifndef _SYS_SYSLOG_H_
#define _SYS_SYSLOG_H_

#include <sys/cdefs.h>

/* Priorities, most urgent first: the low 3 bits of a priority. */
#define LOG_EMERG	0	/* the system is unusable */
#define LOG_ALERT	1	/* act at once */
#define LOG_CRIT	2	/* critical conditions */
#define LOG_ERR		3	/* errors */
#define LOG_WARNING	4	/* warnings */
#define LOG_NOTICE	5	/* normal but worth noting */
#define LOG_INFO	6	/* informational */
#define LOG_DEBUG	7	/* debugging output */

#define LOG_PRIMASK	0x07	/* the priority part of a priority */
#define LOG_PRI(p)	((p) & LOG_PRIMASK)
#define LOG_MAKEPRI(fac, pri)	((fac) | (pri))

/* Facilities: who is talking, the other bits of a priority. */
#define LOG_KERN	(0 << 3)	/* the kernel */
#define LOG_USER	(1 << 3)	/* user processes */
#define LOG_MAIL	(2 << 3)
#define LOG_DAEMON	(3 << 3)	/* system daemons */
#define LOG_AUTH	(4 << 3)	/* security and authorization */
#define LOG_SYSLOG	(5 << 3)	/* syslogd itself */
#define LOG_LPR		(6 << 3)
#define LOG_NEWS	(7 << 3)
#define LOG_UUCP	(8 << 3)
#define LOG_CRON	(9 << 3)
#define LOG_AUTHPRIV	(10 << 3)
#define LOG_FTP		(11 << 3)
#define LOG_NETINFO	(12 << 3)
#define LOG_REMOTEAUTH	(13 << 3)
#define LOG_INSTALL	(14 << 3)
#define LOG_RAS		(15 << 3)
#define LOG_LOCAL0	(16 << 3)	/* LOCAL0 to LOCAL7: for local use */
#define LOG_LOCAL1	(17 << 3)
#define LOG_LOCAL2	(18 << 3)
#define LOG_LOCAL3	(19 << 3)
#define LOG_LOCAL4	(20 << 3)
#define LOG_LOCAL5	(21 << 3)
#define LOG_LOCAL6	(22 << 3)
#define LOG_LOCAL7	(23 << 3)
#define LOG_LAUNCHD	(24 << 3)
#define LOG_NFACILITIES	25
#define LOG_FACMASK	0x03f8	/* the facility part of a priority */
#define LOG_FAC(p)	(((p) & LOG_FACMASK) >> 3)

/* Masks of priorities, for setlogmask(3). */
#define LOG_MASK(pri)	(1 << (pri))
#define LOG_UPTO(pri)	((1 << ((pri) + 1)) - 1)

/* openlog(3)'s options. */
#define LOG_PID		0x01	/* log the pid with each message */
#define LOG_CONS	0x02	/* log on the console if errors in sending */
#define LOG_ODELAY	0x04	/* delay open until first syslog() */
#define LOG_NDELAY	0x08	/* don't delay open */
#define LOG_NOWAIT	0x10	/* don't wait for console forks */
#define LOG_PERROR	0x20	/* log to stderr as well */

__BEGIN_DECLS

/*
 * Log a message at priority `level` (a LOG_* priority, optionally or-ed
 * with a facility): formatted as printf does and written to the console,
 * a newline added if the message has none.  Never sleeps; any context.
 * In com.apple.kpi.unsupported, as on Mac OS X.
 */
void	log(int level, const char *fmt, ...) __printflike(2, 3);

__END_DECLS

#endif /* _SYS_SYSLOG_H_ */
