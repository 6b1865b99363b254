/*
 * log(): the kernel's syslog messages (<sys/syslog.h>).  Mac OS X queued
 * them for syslogd; Finch has none, so a message goes straight to the
 * console, whatever its priority, on a line of its own.
 */
#include <sys/systm.h>
#include <sys/syslog.h>

void
log(int level, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	/* Messages were written with or without a newline: syslogd did not
	 * care, a console does. */
	len = strlen(fmt);
	if (len == 0 || fmt[len - 1] != '\n')
		printf("\n");
}
