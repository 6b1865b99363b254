/*
 * <sys/syslimits.h> -- the system's limits as Darwin states them (path
 * lengths, argument sizes, groups).  Finch has no file system or
 * processes yet: these are the values Darwin's sources size buffers by.
 */
#ifndef _SYS_SYSLIMITS_H_
#define _SYS_SYSLIMITS_H_

#define ARG_MAX		(256 * 1024)	/* bytes of exec arguments */
#define CHILD_MAX	266		/* processes per user */
#define LINK_MAX	32767		/* links to a file */
#define MAX_CANON	1024		/* bytes in a terminal's canonical line */
#define MAX_INPUT	1024		/* bytes in a terminal's input queue */
#define NAME_MAX	255		/* bytes in a file name */
#define NGROUPS_MAX	16		/* supplemental groups */
#define OPEN_MAX	10240		/* open files per process */
#define PATH_MAX	1024		/* bytes in a path, NUL included */
#define PIPE_BUF	512		/* bytes written atomically to a pipe */
#define LINE_MAX	2048		/* bytes in a text line */

#endif /* _SYS_SYSLIMITS_H_ */
