/*
 * Kernel events, the kernel's side (kern_event.c): posting Apple's own
 * events, listening to every event posted (the host link and the
 * PF_SYSTEM event sockets of kern_event_socket.c do), and reading the
 * ring of recent events.
 */
#ifndef _BSD_KERN_KERN_EVENT_VAR_H_
#define _BSD_KERN_KERN_EVENT_VAR_H_

#include <sys/queue.h>
#include <sys/kern_event.h>

#define KEV_RING_SIZE		64	/* recent events kept */
#define KEV_FIRST_VENDOR	1000	/* kev_vendor_code_find's first code */
#define KEV_VENDOR_MAXLEN	200	/* vendor strings are shorter */
/* An event must fit the data of one small mbuf (MLEN), header included. */
#define KEV_MSG_MAX		236

/*
 * Post an event with any vendor code: how the kernel posts Apple's
 * (KEV_VENDOR_APPLE) events, which kev_msg_post refuses.  Never blocks;
 * callable from interrupt handlers.  EINVAL, EMSGSIZE as kev_msg_post.
 */
errno_t	kev_post_kernel(struct kev_msg *msg);

/*
 * A listener is called, in the kernel-event thread (it may sleep), once
 * for each event in the order posted.  After kev_listener_remove()
 * returns it is not running and will not be called again.  It is called
 * with the listeners' mutex held: it may take its own locks, but must
 * not add or remove a listener.
 */
struct kev_listener {
	TAILQ_ENTRY(kev_listener) kl_link;	/* kev_listener_mtx */
	void	(*kl_func)(const struct kern_event_msg *msg, void *arg);
	void	*kl_arg;
};
void	kev_listener_add(struct kev_listener *l);
void	kev_listener_remove(struct kev_listener *l);

/* Boot (the PF_SYSTEM domain's start): event sockets start listening. */
void	kev_socket_init(void);

/* The id of the last event posted (0: none yet). */
uint32_t kev_last_id(void);
/* Copy event `id` (up to len bytes) if it is still in the ring; ENOENT. */
errno_t	kev_copy_recent(uint32_t id, void *buf, size_t len);

#endif /* _BSD_KERN_KERN_EVENT_VAR_H_ */
