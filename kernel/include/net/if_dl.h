/*
 * <net/if_dl.h> -- link-level socket addresses (AF_LINK): how an
 * interface's name and hardware address (a MAC for Ethernet) travel
 * through the KPI, e.g. in ifnet_attach and proto_media_resolve_multi.
 */
#ifndef _NET_IF_DL_H_
#define _NET_IF_DL_H_

#include <sys/types.h>

/*
 * sdl_data holds the interface name (sdl_nlen bytes, no NUL), then the
 * link address (sdl_alen bytes), then a selector (sdl_slen bytes).  The
 * structure may be longer than declared: sdl_len says how long.
 */
struct sockaddr_dl {
	u_char		sdl_len;	/* total length of this sockaddr */
	u_char		sdl_family;	/* AF_LINK */
	u_short		sdl_index;	/* interface index, 0 if unknown */
	u_char		sdl_type;	/* interface type (IFT_*) */
	u_char		sdl_nlen;	/* interface name length */
	u_char		sdl_alen;	/* link-level address length */
	u_char		sdl_slen;	/* link-layer selector length */
	char		sdl_data[12];	/* name, then address; may be longer */
};

/* The link-level address inside a sockaddr_dl. */
#define LLADDR(s)	((caddr_t)((s)->sdl_data + (s)->sdl_nlen))

#endif /* _NET_IF_DL_H_ */
