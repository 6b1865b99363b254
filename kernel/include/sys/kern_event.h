/*
 * <sys/kern_event.h> -- kernel events: small messages (link on, address
 * added, ...) that the kernel and kexts post and that listeners (the
 * monitor, the host link, PF_SYSTEM event sockets) receive.  A listener
 * opens socket(PF_SYSTEM, SOCK_RAW, SYSPROTO_EVENT), narrows what it
 * hears with SIOCSKEVFILT, and reads one struct kern_event_msg per
 * receive.  Names and values are Mac OS X 10.4's; the code is in
 * bsd/kern/ (kern_event.c, kern_event_socket.c).
 */
#ifndef _SYS_KERN_EVENT_H_
#define _SYS_KERN_EVENT_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/ioccom.h>

#ifndef SYSPROTO_EVENT
#define SYSPROTO_EVENT		1	/* PF_SYSTEM protocol for listeners */
#endif

#define KEV_SNDSPACE		(4 * 1024)
#define KEV_RECVSPACE		(8 * 1024)

/* Filter values meaning "any" in a struct kev_request. */
#define KEV_ANY_VENDOR		0
#define KEV_ANY_CLASS		0
#define KEV_ANY_SUBCLASS	0

/* Vendors, and Apple's classes and subclasses. */
#define KEV_VENDOR_APPLE	1

#define KEV_NETWORK_CLASS	1
#define KEV_IOKIT_CLASS		2
#define KEV_SYSTEM_CLASS	3

#define KEV_INET_SUBCLASS	1	/* of KEV_NETWORK_CLASS */
#define KEV_DL_SUBCLASS		2	/* of KEV_NETWORK_CLASS */
#define KEV_CTL_SUBCLASS	2	/* of KEV_SYSTEM_CLASS */

/* KEV_DL_SUBCLASS event codes; data: struct net_event_data, or
 * struct kev_dl_proto_data for the PROTO_* ones. */
#define KEV_DL_SIFFLAGS			1
#define KEV_DL_SIFMETRICS		2
#define KEV_DL_SIFMTU			3
#define KEV_DL_SIFPHYS			4
#define KEV_DL_SIFMEDIA			5
#define KEV_DL_SIFGENERIC		6
#define KEV_DL_ADDMULTI			7
#define KEV_DL_DELMULTI			8
#define KEV_DL_IF_ATTACHED		9
#define KEV_DL_IF_DETACHING		10
#define KEV_DL_IF_DETACHED		11
#define KEV_DL_LINK_OFF			12
#define KEV_DL_LINK_ON			13
#define KEV_DL_PROTO_ATTACHED		14
#define KEV_DL_PROTO_DETACHED		15
#define KEV_DL_LINK_ADDRESS_CHANGED	16

/* KEV_INET_SUBCLASS event codes (data begins with struct net_event_data). */
#define KEV_INET_NEW_ADDR		1
#define KEV_INET_CHANGED_ADDR		2
#define KEV_INET_ADDR_DELETED		3
#define KEV_INET_SIFDSTADDR		4
#define KEV_INET_SIFBRDADDR		5
#define KEV_INET_SIFNETMASK		6
#define KEV_INET_ARPCOLLISION		7

/* KEV_CTL_SUBCLASS event codes (kernel controls). */
#define KEV_CTL_REGISTERED		1
#define KEV_CTL_DEREGISTERED		2

/* An event as listeners receive it: a 24-byte header, then the data. */
struct kern_event_msg {
	u_int32_t	total_size;	/* header and data, in bytes */
	u_int32_t	vendor_code;
	u_int32_t	kev_class;
	u_int32_t	kev_subclass;
	u_int32_t	id;		/* increases by one per event posted */
	u_int32_t	event_code;
	u_int32_t	event_data[1];	/* really total_size - 24 bytes */
};
#define KEV_MSG_HEADER_SIZE	(offsetof(struct kern_event_msg, event_data[0]))

/*
 * A listener's filter (SIOCSKEVFILT); KEV_ANY_* matches everything.  A
 * field that is KEV_ANY_* makes the fields after it "any" too: a class
 * is only meaningful within a vendor, a subclass within a class.
 */
struct kev_request {
	u_int32_t	vendor_code;
	u_int32_t	kev_class;
	u_int32_t	kev_subclass;
};

/*
 * Event socket ioctls.  SIOCGKEVID: the id of the last event posted.
 * SIOCSKEVFILT: hear only events matching the kev_request; a new socket
 * hears nothing until it sets one (its vendor filter matches no vendor).
 * SIOCGKEVFILT: the filter in force.
 */
#define SIOCGKEVID	_IOR('e', 1, u_int32_t)
#define SIOCSKEVFILT	_IOW('e', 2, struct kev_request)
#define SIOCGKEVFILT	_IOR('e', 3, struct kev_request)

/*
 * SIOCGKEVVENDOR: the vendor code of vendor_string (cut to 199
 * characters), as kev_vendor_code_find gives it -- so that a program can
 * filter on a kext's events by its bundle id.  Its errnos.
 */
#define KEV_VENDOR_CODE_MAX_STR_LEN	200

struct kev_vendor_code {
	u_int32_t	vendor_code;	/* out */
	char		vendor_string[KEV_VENDOR_CODE_MAX_STR_LEN]; /* in */
};

#define SIOCGKEVVENDOR	_IOWR('e', 4, struct kev_vendor_code)

/* One piece of an event's data, for kev_msg_post. */
struct kev_d_vectors {
	u_int32_t	data_length;	/* 0 ends the list */
	void		*data_ptr;
};

#define N_KEV_VECTORS	5

/* An event to post: the pieces in dv are copied one after another. */
struct kev_msg {
	u_int32_t		vendor_code;
	u_int32_t		kev_class;
	u_int32_t		kev_subclass;
	u_int32_t		event_code;
	struct kev_d_vectors	dv[N_KEV_VECTORS];
};

#ifndef IFNAMSIZ
#define IFNAMSIZ	16	/* also in <net/if.h>: the same value */
#endif

/* The data of most network events: which interface. */
struct net_event_data {
	u_int32_t	if_family;
	u_int32_t	if_unit;
	char		if_name[IFNAMSIZ];	/* "en", not "en0" */
};

/* The data of KEV_DL_PROTO_ATTACHED / KEV_DL_PROTO_DETACHED. */
struct kev_dl_proto_data {
	struct net_event_data	link_data;
	u_int32_t		proto_family;
	u_int32_t		proto_remaining_count;
};

__BEGIN_DECLS

/* A vendor code for a bundle id: the same id always gets the same code.
 * EINVAL if vendor_string is NULL, empty or 200 characters or more;
 * ENOMEM when 32 codes are handed out.  Never sleeps in Finch, but may in
 * Mac OS X: call it from your start routine. */
errno_t	kev_vendor_code_find(const char *vendor_string, u_int32_t *vendor_code);

/* Post an event: the data is copied at once (nothing of yours is kept
 * or called), and listeners hear it later, from the thread_call thread,
 * in posting order (if over 64 wait, the oldest are lost, and counted).
 * EINVAL if vendor_code was not issued by kev_vendor_code_find (so kexts
 * cannot post Apple's events), EMSGSIZE if header and data are over 236
 * bytes (one small mbuf).  Never ENOMEM in Finch (ENOMEM in Mac OS X).
 * Never blocks: callable from interrupt handlers. */
errno_t	kev_msg_post(struct kev_msg *event_msg);

__END_DECLS

#endif /* _SYS_KERN_EVENT_H_ */
