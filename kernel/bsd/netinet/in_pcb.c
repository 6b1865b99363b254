/*
 * Internet protocol control blocks (XNU and FreeBSD: in_pcb.c): the
 * addresses and ports of UDP's (and TCP's) sockets, the rules of bind
 * and connect, and the lookups that give an arriving datagram its
 * socket: on the inbound path of docs/design.md, the step from UDP (and
 * TCP) to the socket filters and the socket's receive buffer starts
 * here.  Locks: in_pcb.h.
 */
#include <sys/systm.h>
#include <mach/mach_time.h>
#include <kern/kalloc.h>
#include <netinet/ip.h>
#include <bsd/kern/protosw.h>
#include <bsd/netinet/in_var.h>
#include <bsd/netinet/in_route_var.h>
#include <bsd/netinet/in_pcb.h>

const int inetctlerrmap[PRC_NCMDS] = {
	0,		0,		0,		0,
	0,		EMSGSIZE,	EHOSTDOWN,	EHOSTUNREACH,
	EHOSTUNREACH,	EHOSTUNREACH,	ECONNREFUSED,	ECONNREFUSED,
	EMSGSIZE,	EHOSTUNREACH,	0,		0,
	0,		0,		0,		0,
	ENOPROTOOPT,	ECONNREFUSED
};

/*
 * Ephemeral ports: RFC 6056's algorithm 5, random increments.  Each
 * choice moves the counter on by 1 to IN_PCB_PORT_STEP at random, so a
 * port comes back only after hundreds of others were handed out (a new
 * socket rarely gets the port a recent one used: its old datagrams and
 * TCP's TIME_WAIT stay clear) while an attacker cannot tell the next.
 */
#define IN_PCB_PORT_STEP	64

/* The tables, for netstat -a: set up at boot, never removed. */
static LIST_HEAD(, inpcbinfo) in_pcbinfos = LIST_HEAD_INITIALIZER(in_pcbinfos);
static OSMallocTag inpcb_tag;

/* The 4-tuple hash (FreeBSD's INP_PCBHASH) and the local port hash. */
#define INP_PCBHASH(faddr, lport, fport, mask)				\
	(((faddr) ^ ((faddr) >> 16) ^ ntohs((u_short)((lport) ^ (fport)))) & \
	(mask))
#define INP_PCBPORTHASH(lport, mask)	(ntohs(lport) & (mask))

static struct inpcbhead *
in_pcbhash_head(struct inpcbinfo *pcbinfo, struct in_addr faddr,
    u_short lport, u_short fport)
{
	return &pcbinfo->ipi_hashbase[INP_PCBHASH(faddr.s_addr, lport, fport,
	    pcbinfo->ipi_hashmask)];
}

static struct inpcbhead *
in_pcbport_head(struct inpcbinfo *pcbinfo, u_short lport)
{
	return &pcbinfo->ipi_porthashbase[INP_PCBPORTHASH(lport,
	    pcbinfo->ipi_porthashmask)];
}

/* Put inp in the buckets of its current addresses and ports.  (i) held. */
static void
in_pcbrehash_locked(struct inpcb *inp)
{
	struct inpcbinfo *pcbinfo = inp->inp_pcbinfo;

	LIST_REMOVE(inp, inp_hash);
	LIST_REMOVE(inp, inp_portlist);
	LIST_INSERT_HEAD(in_pcbhash_head(pcbinfo, inp->inp_faddr,
	    inp->inp_lport, inp->inp_fport), inp, inp_hash);
	LIST_INSERT_HEAD(in_pcbport_head(pcbinfo, inp->inp_lport), inp,
	    inp_portlist);
}

static struct inpcbhead *
in_pcb_hashalloc(u_long buckets)
{
	struct inpcbhead *h = kalloc_tag(buckets * sizeof(*h), inpcb_tag);
	u_long i;

	if (h == NULL)
		panic("in_pcbinfo_init: no memory for %lu buckets", buckets);
	for (i = 0; i < buckets; i++)
		LIST_INIT(&h[i]);
	return h;
}

void
in_pcbinfo_init(struct inpcbinfo *pcbinfo, const char *name, u_long hashsize,
    const char *(*state)(struct inpcb *inp))
{
	if (hashsize == 0 || (hashsize & (hashsize - 1)) != 0)
		panic("in_pcbinfo_init: %s: %lu buckets is not a power of two",
		    name, hashsize);
	if (inpcb_tag == NULL)
		inpcb_tag = kalloc_tag_create("inpcb", 0);
	bzero(pcbinfo, sizeof(*pcbinfo));
	simple_lock_init(&pcbinfo->ipi_lock, name);
	pcbinfo->ipi_name = name;
	LIST_INIT(&pcbinfo->ipi_listhead);
	pcbinfo->ipi_hashbase = in_pcb_hashalloc(hashsize);
	pcbinfo->ipi_hashmask = hashsize - 1;
	pcbinfo->ipi_porthashbase = in_pcb_hashalloc(hashsize);
	pcbinfo->ipi_porthashmask = hashsize - 1;
	pcbinfo->ipi_nextport = (u_int32_t)mach_absolute_time();
	pcbinfo->ipi_state = state;
	LIST_INSERT_HEAD(&in_pcbinfos, pcbinfo, ipi_link);
}

/* ---- Birth and death ---- */

errno_t
in_pcballoc(struct socket *so, struct inpcbinfo *pcbinfo)
{
	struct inpcb *inp = kalloc_tag(sizeof(*inp), inpcb_tag);

	if (inp == NULL)
		return ENOMEM;
	bzero(inp, sizeof(*inp));
	inp->inp_pcbinfo = pcbinfo;
	inp->inp_socket = so;
	inp->inp_ip_ttl = IPDEFTTL;
	soreference(so);			/* the pcb's */
	so->so_pcb = inp;
	simple_lock(&pcbinfo->ipi_lock);
	LIST_INSERT_HEAD(&pcbinfo->ipi_listhead, inp, inp_list);
	LIST_INSERT_HEAD(in_pcbhash_head(pcbinfo, inp->inp_faddr, 0, 0), inp,
	    inp_hash);
	LIST_INSERT_HEAD(in_pcbport_head(pcbinfo, 0), inp, inp_portlist);
	pcbinfo->ipi_count++;
	simple_unlock(&pcbinfo->ipi_lock);
	return 0;
}

void
in_pcbdetach(struct inpcb *inp)
{
	struct inpcbinfo *pcbinfo = inp->inp_pcbinfo;
	struct socket *so = inp->inp_socket;

	simple_lock(&pcbinfo->ipi_lock);
	LIST_REMOVE(inp, inp_hash);
	LIST_REMOVE(inp, inp_portlist);
	LIST_REMOVE(inp, inp_list);
	pcbinfo->ipi_count--;
	simple_unlock(&pcbinfo->ipi_lock);
	in_route_release(&inp->inp_route);
	so->so_pcb = NULL;
	kfree_tag(inp, sizeof(*inp), inpcb_tag);
	sodetached(so);
}

/* ---- Lookups ---- */

/*
 * A pcb bound to (laddr, lport), for bind's conflict check.  Exact: not
 * connected, bound to exactly laddr.  Wildcard: the best of those whose
 * addresses could overlap -- the fewest wildcards wins.  (i) held.
 */
static struct inpcb *
in_pcblookup_local(struct inpcbinfo *pcbinfo, struct in_addr laddr,
    u_short lport, bool wildcard)
{
	struct inpcb *inp, *match = NULL;
	int wild, matchwild = 3;

	LIST_FOREACH(inp, in_pcbport_head(pcbinfo, lport), inp_portlist) {
		if (inp->inp_lport != lport)
			continue;
		if (!wildcard) {
			if (inp->inp_faddr.s_addr == INADDR_ANY &&
			    inp->inp_laddr.s_addr == laddr.s_addr)
				return inp;
			continue;
		}
		wild = 0;
		if (inp->inp_faddr.s_addr != INADDR_ANY)
			wild++;
		if (inp->inp_laddr.s_addr != INADDR_ANY) {
			if (laddr.s_addr == INADDR_ANY)
				wild++;
			else if (inp->inp_laddr.s_addr != laddr.s_addr)
				continue;
		} else if (laddr.s_addr != INADDR_ANY) {
			wild++;
		}
		if (wild < matchwild) {
			match = inp;
			matchwild = wild;
			if (wild == 0)
				break;
		}
	}
	return match;
}

/* The connected pcb of exactly this 4-tuple.  (i) held. */
static struct inpcb *
in_pcblookup_exact(struct inpcbinfo *pcbinfo, struct in_addr faddr,
    u_short fport, struct in_addr laddr, u_short lport)
{
	struct inpcb *inp;

	LIST_FOREACH(inp, in_pcbhash_head(pcbinfo, faddr, lport, fport),
	    inp_hash)
		if (inp->inp_faddr.s_addr == faddr.s_addr &&
		    inp->inp_laddr.s_addr == laddr.s_addr &&
		    inp->inp_fport == fport && inp->inp_lport == lport)
			return inp;
	return NULL;
}

struct inpcb *
in_pcblookup_hash(struct inpcbinfo *pcbinfo, struct in_addr faddr,
    u_short fport, struct in_addr laddr, u_short lport, bool wildcard)
{
	struct in_addr any = { INADDR_ANY };
	struct inpcb *inp, *found, *local_wild = NULL;

	simple_lock(&pcbinfo->ipi_lock);
	found = in_pcblookup_exact(pcbinfo, faddr, fport, laddr, lport);
	if (found == NULL && wildcard) {
		/* Unconnected pcbs hash as (any, lport, 0): a specific
		 * local address beats the wildcard. */
		LIST_FOREACH(inp, in_pcbhash_head(pcbinfo, any, lport, 0),
		    inp_hash) {
			if (inp->inp_faddr.s_addr != INADDR_ANY ||
			    inp->inp_lport != lport)
				continue;
			if (inp->inp_laddr.s_addr == laddr.s_addr) {
				found = inp;
				break;
			}
			if (inp->inp_laddr.s_addr == INADDR_ANY &&
			    local_wild == NULL)
				local_wild = inp;
		}
		if (found == NULL)
			found = local_wild;
	}
	if (found != NULL)
		soreference(found->inp_socket);
	simple_unlock(&pcbinfo->ipi_lock);
	return found;
}

int
in_pcblookup_all(struct inpcbinfo *pcbinfo, struct in_addr faddr,
    u_short fport, struct in_addr laddr, u_short lport, struct inpcb **out,
    int max)
{
	struct inpcb *inp;
	int n = 0;

	simple_lock(&pcbinfo->ipi_lock);
	LIST_FOREACH(inp, in_pcbport_head(pcbinfo, lport), inp_portlist) {
		if (inp->inp_lport != lport)
			continue;
		if (inp->inp_laddr.s_addr != INADDR_ANY &&
		    inp->inp_laddr.s_addr != laddr.s_addr)
			continue;
		if (inp->inp_faddr.s_addr != INADDR_ANY &&
		    (inp->inp_faddr.s_addr != faddr.s_addr ||
		    inp->inp_fport != fport))
			continue;
		if (n < max) {
			soreference(inp->inp_socket);
			out[n] = inp;
		}
		n++;
	}
	simple_unlock(&pcbinfo->ipi_lock);
	return n;
}

void
in_pcbnotify(struct inpcbinfo *pcbinfo, struct in_addr faddr, u_short fport,
    struct in_addr laddr, u_short lport, int error)
{
	struct inpcb *inp;
	struct socket *so;

	inp = in_pcblookup_hash(pcbinfo, faddr, fport, laddr, lport, false);
	if (inp == NULL)
		return;
	so = inp->inp_socket;
	socket_lock(so, 0);
	if (so->so_pcb == inp) {
		so->so_error = (u_short)error;
		sorwakeup(so);
		sowwakeup(so);
	}
	socket_unlock(so, 1);
}

/* ---- Binding ---- */

/* A small random number for the port counter: xorshift32 over the
 * counter and the clock. */
static u_int32_t
in_pcb_random(u_int32_t seed)
{
	u_int32_t x = seed ^ (u_int32_t)mach_absolute_time();

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* A free ephemeral port for laddr (network order), or 0.  (i) held. */
static u_short
in_pcb_ephemeral(struct inpcbinfo *pcbinfo, struct in_addr laddr,
    bool wildcard)
{
	u_int32_t first = IPPORT_HIFIRSTAUTO, count, n;
	u_short port;

	count = IPPORT_HILASTAUTO - IPPORT_HIFIRSTAUTO + 1;
	for (n = 0; n < count; n++) {
		pcbinfo->ipi_nextport += 1 + in_pcb_random(
		    pcbinfo->ipi_nextport) % IN_PCB_PORT_STEP;
		port = htons((u_short)(first + pcbinfo->ipi_nextport % count));
		if (in_pcblookup_local(pcbinfo, laddr, port, wildcard) == NULL)
			return port;
	}
	return 0;
}

/* Can the socket bind to laddr: one of our addresses, a multicast
 * group, or any? */
static bool
in_pcb_addr_bindable(struct in_addr laddr)
{
	return laddr.s_addr == INADDR_ANY || IN_MULTICAST(ntohl(laddr.s_addr)) ||
	    in_is_local(laddr);
}

errno_t
in_pcbbind(struct inpcb *inp, struct sockaddr *nam)
{
	struct inpcbinfo *pcbinfo = inp->inp_pcbinfo;
	struct socket *so = inp->inp_socket, *other;
	struct sockaddr_in *sin = (struct sockaddr_in *)nam;
	struct in_addr laddr = { INADDR_ANY };
	int reuseport = so->so_options & SO_REUSEPORT;
	bool wildcard = !(so->so_options & (SO_REUSEADDR | SO_REUSEPORT));
	struct inpcb *t;
	u_short lport = 0;
	errno_t error = 0;

	if (inp->inp_lport != 0 || inp->inp_laddr.s_addr != INADDR_ANY)
		return EINVAL;
	if (sin != NULL) {
		if (nam->sa_len != sizeof(*sin))
			return EINVAL;
		if (nam->sa_family != AF_INET)
			return EAFNOSUPPORT;
		laddr = sin->sin_addr;
		lport = sin->sin_port;
		if (!in_pcb_addr_bindable(laddr))
			return EADDRNOTAVAIL;
		/* Several listeners of a multicast group share its port. */
		if (IN_MULTICAST(ntohl(laddr.s_addr)) &&
		    (so->so_options & SO_REUSEADDR))
			reuseport = SO_REUSEADDR | SO_REUSEPORT;
	}
	simple_lock(&pcbinfo->ipi_lock);
	if (lport != 0) {
		t = in_pcblookup_local(pcbinfo, laddr, lport, wildcard);
		/* Another socket's options, read under ipi_lock (BSD). */
		other = t != NULL ? t->inp_socket : NULL;
		if (t != NULL && (reuseport & other->so_options) == 0)
			error = EADDRINUSE;
	} else if ((lport = in_pcb_ephemeral(pcbinfo, laddr, wildcard)) == 0) {
		error = EADDRNOTAVAIL;	/* every ephemeral port is taken */
	}
	if (error == 0) {
		inp->inp_laddr = laddr;
		inp->inp_lport = lport;
		in_pcbrehash_locked(inp);
	}
	simple_unlock(&pcbinfo->ipi_lock);
	return error;
}

/* ---- Connecting ---- */

errno_t
in_pcbladdr(struct in_addr faddr, struct in_addr *laddr)
{
	struct in_route ro;
	errno_t error;

	if ((error = in_route_lookup(faddr, &ro)) != 0)
		return error;
	*laddr = ro.ro_src;
	in_route_release(&ro);
	return 0;
}

errno_t
in_pcbroute(struct inpcb *inp, struct in_addr faddr,
    const struct in_route **rop)
{
	u_int32_t gen = in_route_gen;	/* before the lookup it validates */
	errno_t error;

	if (inp->inp_route.ro_ifp != NULL && inp->inp_route_gen == gen &&
	    inp->inp_route_dst.s_addr == faddr.s_addr) {
		*rop = &inp->inp_route;
		return 0;
	}
	in_route_release(&inp->inp_route);
	if ((error = in_route_lookup(faddr, &inp->inp_route)) != 0)
		return error;
	inp->inp_route_dst = faddr;
	inp->inp_route_gen = gen;
	*rop = &inp->inp_route;
	return 0;
}

errno_t
in_pcbconnect(struct inpcb *inp, struct sockaddr *nam)
{
	struct inpcbinfo *pcbinfo = inp->inp_pcbinfo;
	struct sockaddr_in *sin = (struct sockaddr_in *)nam;
	struct in_addr faddr, laddr = inp->inp_laddr;
	errno_t error = 0;
	ifnet_t ifp;

	if (nam->sa_len != sizeof(*sin))
		return EINVAL;
	if (nam->sa_family != AF_INET)
		return EAFNOSUPPORT;
	if (sin->sin_port == 0)
		return EADDRNOTAVAIL;
	faddr = sin->sin_addr;
	if (faddr.s_addr == INADDR_ANY) {
		/* Connecting to INADDR_ANY means to ourselves (BSD). */
		if ((ifp = in_ifaddr_first(&faddr)) != NULL)
			ifnet_release(ifp);
		else
			faddr.s_addr = htonl(INADDR_LOOPBACK);
	}
	if (laddr.s_addr == INADDR_ANY &&
	    (error = in_pcbladdr(faddr, &laddr)) != 0)
		return error;
	if (inp->inp_lport == 0 && (error = in_pcbbind(inp, NULL)) != 0)
		return error;
	simple_lock(&pcbinfo->ipi_lock);
	if (in_pcblookup_exact(pcbinfo, faddr, sin->sin_port, laddr,
	    inp->inp_lport) != NULL) {
		error = EADDRINUSE;
	} else {
		inp->inp_laddr = laddr;
		inp->inp_faddr = faddr;
		inp->inp_fport = sin->sin_port;
		in_pcbrehash_locked(inp);
	}
	simple_unlock(&pcbinfo->ipi_lock);
	return error;
}

errno_t
in_pcbsetaddr(struct inpcb *inp, struct in_addr laddr, u_short lport,
    struct in_addr faddr, u_short fport)
{
	struct inpcbinfo *pcbinfo = inp->inp_pcbinfo;
	errno_t error = 0;

	simple_lock(&pcbinfo->ipi_lock);
	if (in_pcblookup_exact(pcbinfo, faddr, fport, laddr, lport) != NULL) {
		error = EADDRINUSE;
	} else {
		inp->inp_laddr = laddr;
		inp->inp_lport = lport;
		inp->inp_faddr = faddr;
		inp->inp_fport = fport;
		in_pcbrehash_locked(inp);
	}
	simple_unlock(&pcbinfo->ipi_lock);
	return error;
}

void
in_pcbdisconnect(struct inpcb *inp)
{
	struct inpcbinfo *pcbinfo = inp->inp_pcbinfo;

	simple_lock(&pcbinfo->ipi_lock);
	inp->inp_faddr.s_addr = INADDR_ANY;
	inp->inp_fport = 0;
	in_pcbrehash_locked(inp);
	simple_unlock(&pcbinfo->ipi_lock);
}

/* ---- Names ---- */

static void
in_sockaddr_fill(struct sockaddr *nam, struct in_addr addr, u_short port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)nam;

	bzero(sin, sizeof(*sin));
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr = addr;
	sin->sin_port = port;
}

errno_t
in_setsockaddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return EINVAL;
	in_sockaddr_fill(nam, inp->inp_laddr, inp->inp_lport);
	return 0;
}

errno_t
in_setpeeraddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return EINVAL;
	in_sockaddr_fill(nam, inp->inp_faddr, inp->inp_fport);
	return 0;
}

void
in_pcb_describe(struct socket *so, char *buf, size_t len)
{
	struct inpcb *inp = sotoinpcb(so);
	char proto[8];
	size_t i, n;

	if (inp == NULL) {
		snprintf(buf, len, "inet, closing");
		return;
	}
	for (i = 0; i < sizeof(proto) - 1 && inp->inp_pcbinfo->ipi_name[i];
	    i++) {
		proto[i] = inp->inp_pcbinfo->ipi_name[i];
		if (proto[i] >= 'a' && proto[i] <= 'z')
			proto[i] = (char)(proto[i] - 'a' + 'A');
	}
	proto[i] = '\0';
	n = (size_t)snprintf(buf, len, "%s " IN_ADDR_FMT ":%u", proto,
	    IN_ADDR_ARGS(inp->inp_laddr), ntohs(inp->inp_lport));
	if (inp->inp_faddr.s_addr != INADDR_ANY && n < len)
		snprintf(buf + n, len - n, " -> " IN_ADDR_FMT ":%u",
		    IN_ADDR_ARGS(inp->inp_faddr), ntohs(inp->inp_fport));
}

int
in_pcblist(struct in_pcb_xinfo *out, int max)
{
	struct inpcbinfo *pcbinfo;
	struct in_pcb_xinfo *xi;
	struct inpcb *inp;
	struct socket *so;
	int n = 0;

	LIST_FOREACH(pcbinfo, &in_pcbinfos, ipi_link) {
		simple_lock(&pcbinfo->ipi_lock);
		LIST_FOREACH(inp, &pcbinfo->ipi_listhead, inp_list) {
			if (n < max) {
				/* The queue lengths are read without the
				 * socket's lock: a snapshot for people. */
				so = inp->inp_socket;
				xi = &out[n];
				xi->xi_proto = pcbinfo->ipi_name;
				xi->xi_laddr = inp->inp_laddr;
				xi->xi_faddr = inp->inp_faddr;
				xi->xi_lport = inp->inp_lport;
				xi->xi_fport = inp->inp_fport;
				xi->xi_rcvcc = so->so_rcv.sb_cc;
				xi->xi_sndcc = so->so_snd.sb_cc;
				xi->xi_state = pcbinfo->ipi_state != NULL ?
				    pcbinfo->ipi_state(inp) : "";
			}
			n++;
		}
		simple_unlock(&pcbinfo->ipi_lock);
	}
	return n;
}
