/*
 * <sys/kern_control.h> -- kernel controls: a kext registers a named
 * control, and clients talk to it through PF_SYSTEM sockets of protocol
 * SYSPROTO_CONTROL: they find its id by name (CTLIOCGINFO), connect to
 * one of its units, send it data, read what it enqueues, and get and set
 * its options.  Names, values and field order are Mac OS X 10.4's; the
 * code is bsd/kern/kern_control.c (the KPI) and kern_control_socket.c
 * (the sockets).
 */
#ifndef KPI_KERN_CONTROL_H
#define KPI_KERN_CONTROL_H

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/ioccom.h>

/* Control events (<sys/kern_event.h> has the same values): class
 * KEV_SYSTEM_CLASS, data struct ctl_event_data. */
#ifndef KEV_CTL_SUBCLASS
#define KEV_CTL_SUBCLASS	2
#endif
#ifndef KEV_CTL_REGISTERED
#define KEV_CTL_REGISTERED	1	/* a control was registered */
#endif
#ifndef KEV_CTL_DEREGISTERED
#define KEV_CTL_DEREGISTERED	2	/* a control was deregistered */
#endif

struct ctl_event_data {
	u_int32_t	ctl_id;		/* the control's id */
	u_int32_t	ctl_unit;	/* 0 for the control as a whole */
};

/* The number of registered controls (an int). */
#define CTLIOCGCOUNT	_IOR('N', 2, int)
/* Look a control up by ctl_name: fills ctl_id, ENOENT if none. */
#define CTLIOCGINFO	_IOWR('N', 3, struct ctl_info)

#define MAX_KCTL_NAME	96	/* bytes, NUL included */

struct ctl_info {
	u_int32_t	ctl_id;
	char		ctl_name[MAX_KCTL_NAME];
};

/*
 * The address a client connects to: a control (sc_id, from CTLIOCGINFO)
 * and one of its units.  sc_unit 0 asks for the lowest free unit,
 * counting from 1; the control's ctl_connect sees the unit chosen.
 */
struct sockaddr_ctl {
	u_char		sc_len;		/* sizeof(struct sockaddr_ctl): 32 */
	u_char		sc_family;	/* AF_SYSTEM */
	u_int16_t	ss_sysaddr;	/* AF_SYS_CONTROL */
	u_int32_t	sc_id;
	u_int32_t	sc_unit;
	u_int32_t	sc_reserved[5];
};

/* What a kext uses (a user client needs only the above). */

#include <sys/kpi_mbuf.h>

/* A registered control (opaque). */
typedef void *kern_ctl_ref;

/* ctl_flags. */
#define CTL_FLAG_PRIVILEGED	0x1	/* only privileged clients (root) may
					   connect; others get EPERM */
#define CTL_FLAG_REG_ID_UNIT	0x2	/* ctl_id and ctl_unit are given, not
					   assigned */
#define CTL_FLAG_REG_SOCK_STREAM 0x4	/* clients use SOCK_STREAM (default:
					   SOCK_DGRAM); others: EPROTOTYPE */

/* ctl_enqueuedata and ctl_enqueuembuf flags. */
#define CTL_DATA_NOWAKEUP	0x1	/* don't wake the client yet */
#define CTL_DATA_EOR		0x2	/* this ends a record */

/*
 * The callbacks.  Each is called in thread context with no lock of the
 * socket's held: it may call ctl_enqueuedata for the same client, and
 * may sleep.  unitinfo is what ctl_connect stored for the client.
 *
 * ctl_connect (required): a client connects to unit sac->sc_unit; store
 * what you need in *unitinfo.  Non-zero refuses the connection (the
 * client sees that errno).
 * ctl_disconnect: the client is gone; free its unitinfo.
 * ctl_send: data from the client.  The callback owns m and must free it,
 * whatever it returns; non-zero is the client's send error.
 * ctl_setopt: setsockopt at level SYSPROTO_CONTROL; data (len bytes) is
 * already in the kernel.
 * ctl_getopt: getsockopt; fill data and set *len to what you wrote.
 * data NULL: only report in *len the size needed.
 */
typedef errno_t (*ctl_connect_func)(kern_ctl_ref kctlref,
    struct sockaddr_ctl *sac, void **unitinfo);
typedef errno_t (*ctl_disconnect_func)(kern_ctl_ref kctlref, u_int32_t unit,
    void *unitinfo);
typedef errno_t (*ctl_send_func)(kern_ctl_ref kctlref, u_int32_t unit,
    void *unitinfo, mbuf_t m, int flags);
typedef errno_t (*ctl_setopt_func)(kern_ctl_ref kctlref, u_int32_t unit,
    void *unitinfo, int opt, void *data, size_t len);
typedef errno_t (*ctl_getopt_func)(kern_ctl_ref kctlref, u_int32_t unit,
    void *unitinfo, int opt, void *data, size_t *len);

/*
 * A registration.  ctl_sendsize and ctl_recvsize are the clients' socket
 * buffer sizes; 0 means the defaults, 2 KB to send and 8 KB to receive.
 * Without CTL_FLAG_REG_ID_UNIT the kernel assigns ctl_id (written back
 * here) and ctl_unit is ignored.
 */
struct kern_ctl_reg {
	char			ctl_name[MAX_KCTL_NAME];
	u_int32_t		ctl_id;
	u_int32_t		ctl_unit;
	u_int32_t		ctl_flags;
	u_int32_t		ctl_sendsize;
	u_int32_t		ctl_recvsize;
	ctl_connect_func	ctl_connect;
	ctl_disconnect_func	ctl_disconnect;
	ctl_send_func		ctl_send;
	ctl_setopt_func		ctl_setopt;
	ctl_getopt_func		ctl_getopt;
};

__BEGIN_DECLS

/*
 * Register a control; *kctlref names it from now on.  The name is
 * copied.  EINVAL: no ctl_connect, or a name empty or not NUL-terminated
 * within MAX_KCTL_NAME; EEXIST: the name is taken, or (with
 * CTL_FLAG_REG_ID_UNIT) the id and unit are; ENOMEM.  Posts
 * KEV_CTL_REGISTERED.  May sleep.
 */
errno_t	ctl_register(struct kern_ctl_reg *userkctl, kern_ctl_ref *kctlref);

/*
 * Deregister: EINVAL for an unknown ref; EBUSY while any client is
 * connected (the control stays registered: try again once they left).
 * Posts KEV_CTL_DEREGISTERED.  Your stop routine must call it, and may
 * not return success while it says EBUSY.  May sleep.
 */
errno_t	ctl_deregister(kern_ctl_ref kctlref);

/*
 * Queue len bytes (copied) for the client on unit, as one record with
 * CTL_DATA_EOR.  EINVAL: unknown ref or unit; EMSGSIZE: more than the
 * client's receive buffer could ever hold; ENOBUFS: its buffer is full
 * now.  Never sleeps.
 */
errno_t	ctl_enqueuedata(kern_ctl_ref kctlref, u_int32_t unit, void *data,
	    size_t len, u_int32_t flags);

/*
 * Queue the chain m for the client on unit.  On success the kernel owns
 * m; on error (EINVAL, ENOBUFS) the caller still does and frees it.
 * Never sleeps.
 */
errno_t	ctl_enqueuembuf(kern_ctl_ref kctlref, u_int32_t unit, mbuf_t m,
	    u_int32_t flags);

/* Room left in the client's receive buffer, in bytes.  EINVAL. */
errno_t	ctl_getenqueuespace(kern_ctl_ref kctlref, u_int32_t unit,
	    size_t *space);

__END_DECLS

#endif /* KPI_KERN_CONTROL_H */
