/*
 * The Intel 82540EM (QEMU's -device e1000) driver: en0.  An ordinary
 * client of the interface KPI, as a third-party driver would be (beyond
 * it, only what a built-in driver needs: PCI, its interrupt, a thread).
 * In:  the NIC writes a frame into an mbuf cluster on the receive ring
 *      and interrupts -> e1000_intr -> e1000_rxeof takes the frames off
 *      the ring and refills it -> ifnet_input queues them for the DLIL.
 * Out: the DLIL's framed packet -> e1000_output -> transmit ring; the
 *      doorbell thread then writes TDT once for the whole burst.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <kern/bootargs.h>
#include <kern/clock.h>
#include <kern/sched_prim.h>
#include <kern/thread.h>
#include <kern/thread_var.h>
#include <net/bpf.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/if_ether.h>
#include <net/if_types.h>
#include <net/kpi_interface.h>
#include <i386/intr.h>
#include <i386/pci.h>
#include <bsd/net/netstat_var.h>
#include <dev/e1000/if_e1000reg.h>
#include <dev/e1000/if_e1000var.h>

/* The interrupts we handle (see e1000_intr). */
#define E1000_INTR_MASK	(E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | \
	E1000_ICR_RXO | E1000_ICR_TXDW | E1000_ICR_LSC)

/* One NIC is supported: en0. */
static struct e1000_softc e1000_softc0;
struct e1000_softc *e1000_sc;

/*
 * The driver's counters in `netstat -s`, group "e1000": why frames died
 * in the driver first, then what went through.  With one NIC the table
 * points straight into its softc.  (The `e1000` command prints the same
 * counters beside the rings and registers.)
 */
static const struct netstat_counter e1000_counters[] = {
	{ "rx_nombuf", "dropped in: no mbuf to refill the ring slot",
	    &e1000_softc0.sc_rx_stats.rx_nombuf },
	{ "rx_errors", "dropped in: the NIC flagged a bad frame",
	    &e1000_softc0.sc_rx_stats.rx_errors },
	{ "rx_runts", "dropped in: shorter than an Ethernet header",
	    &e1000_softc0.sc_rx_stats.rx_runts },
	{ "rx_fragmented", "dropped in: spread over several ring slots",
	    &e1000_softc0.sc_rx_stats.rx_fragmented },
	{ "rx_input_failed", "dropped in: ifnet_input refused them "
	    "(en0 not attached)", &e1000_softc0.sc_rx_stats.rx_input_failed },
	{ "tx_ring_full", "dropped out: no room on the transmit ring",
	    &e1000_softc0.sc_tx_stats.tx_ring_full },
	{ "tx_link_down", "dropped out: the link was down",
	    &e1000_softc0.sc_tx_stats.tx_link_down },
	{ "tx_bad_packet", "dropped out: empty, oversized or unmappable",
	    &e1000_softc0.sc_tx_stats.tx_bad_packet },
	{ "tx_defrag_failed", "dropped out: no mbuf to copy a long chain into",
	    &e1000_softc0.sc_tx_stats.tx_defrag_failed },
	{ "rx_frames", "frames received and passed up",
	    &e1000_softc0.sc_rx_stats.rx_frames },
	{ "rx_overruns", "overruns: the NIC found no free ring slot (RXO)",
	    &e1000_softc0.sc_rx_stats.rx_overruns },
	{ "tx_packets", "packets queued for the NIC",
	    &e1000_softc0.sc_tx_stats.tx_packets },
	{ "tx_defrag", "long chains copied into one cluster first",
	    &e1000_softc0.sc_tx_stats.tx_defrag },
};
NETSTAT_GROUP(e1000, e1000_counters);

static const uint8_t e1000_broadcast[ETHER_ADDR_LEN] =
    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ================================================================ */
/* Receive                                                          */

/* A fresh receive buffer: a packet-header mbuf with a 2 KB cluster. */
static errno_t
e1000_rx_newbuf(mbuf_how_t how, mbuf_t *mp)
{
	mbuf_t m = NULL;
	errno_t err;

	err = mbuf_getpacket(how, &m);
	if (err != 0)
		return err;
	if (mbuf_maxlen(m) < E1000_RXBUF_SIZE ||
	    mbuf_data_to_physical(mbuf_datastart(m)) == 0) {
		mbuf_freem(m);		/* cannot happen; never DMA blindly */
		return EINVAL;
	}
	*mp = m;
	return 0;
}

/*
 * Hand slot i's buffer (the start of m's cluster) to the NIC.  The frame
 * lands at the cluster's first byte, so the IP header after the 14-byte
 * Ethernet header is only 2-byte aligned: fine on i386, which loads
 * unaligned words (strict-alignment ports start the buffer 2 bytes in).
 */
static void
e1000_rx_load(struct e1000_softc *sc, uint32_t i, mbuf_t m)
{
	sc->sc_rx_mbuf[i] = m;
	sc->sc_rx_ring[i].addr = mbuf_data_to_physical(mbuf_datastart(m));
	sc->sc_rx_ring[i].status = 0;
}

/* Attach time: a buffer in every slot.  May sleep. */
static errno_t
e1000_rx_fill(struct e1000_softc *sc)
{
	mbuf_t m;
	uint32_t i;
	errno_t err;

	for (i = 0; i < E1000_NRXDESC; i++) {
		err = e1000_rx_newbuf(MBUF_WAITOK, &m);
		if (err != 0)
			return err;
		e1000_rx_load(sc, i, m);
	}
	return 0;
}

/*
 * Dress a received frame as the interface KPI wants it: rcvif set, the
 * packet header pointing at the Ethernet header, data and length just
 * past it.
 */
static void
e1000_rx_setup_packet(struct e1000_softc *sc, mbuf_t m, uint16_t len)
{
	uint8_t *frame = mbuf_datastart(m);

	mbuf_setdata(m, frame + ETHER_HDR_LEN, len - ETHER_HDR_LEN);
	mbuf_pkthdr_setlen(m, len - ETHER_HDR_LEN);
	mbuf_pkthdr_setrcvif(m, sc->sc_ifp);
	mbuf_pkthdr_setheader(m, frame);
	mbuf_setnextpkt(m, NULL);
}

/*
 * The frame in slot i, which the NIC has finished.  Returns the packet
 * to pass up, or NULL when it was dropped (and counted): then the slot
 * keeps its old buffer, so the ring never runs dry, even when mbufs do.
 */
static mbuf_t
e1000_rx_one(struct e1000_softc *sc, uint32_t i,
    struct ifnet_stat_increment_param *st)
{
	volatile struct e1000_rx_desc *rd = &sc->sc_rx_ring[i];
	struct e1000_rx_stats *rs = &sc->sc_rx_stats;
	uint16_t len = rd->length;
	mbuf_t m = sc->sc_rx_mbuf[i], fresh;

	/* A frame spread over several buffers cannot happen with 2 KB
	 * buffers and long packets off; should one come, drop every
	 * piece up to its end, counting it once. */
	if ((rd->status & E1000_RXD_STAT_EOP) == 0) {
		if (!sc->sc_rx_discard)
			rs->rx_fragmented++;
		sc->sc_rx_discard = true;
		goto recycle;
	}
	if (sc->sc_rx_discard) {
		sc->sc_rx_discard = false;
		goto recycle;
	}
	if (rd->errors & E1000_RXD_ERR_FRAME) {
		rs->rx_errors++;
		st->errors_in++;
		goto recycle;
	}
	if (len < ETHER_HDR_LEN) {
		rs->rx_runts++;
		st->errors_in++;
		goto recycle;
	}
	if (e1000_rx_newbuf(MBUF_DONTWAIT, &fresh) != 0) {
		rs->rx_nombuf++;
		st->dropped++;
		goto recycle;
	}
	e1000_rx_load(sc, i, fresh);
	e1000_rx_setup_packet(sc, m, len);
	rs->rx_frames++;
	rs->rx_bytes += len;
	st->packets_in++;
	st->bytes_in += len;
	return m;

recycle:
	rd->status = 0;
	return NULL;
}

/*
 * Take every finished frame off the ring (at most one lap) and give the
 * slots back to the NIC.  Returns the good packets as a nextpkt list.
 * Called with sc_rx_lock held, from the interrupt handler.
 */
static mbuf_t
e1000_rxeof(struct e1000_softc *sc, struct ifnet_stat_increment_param *st)
{
	mbuf_t head = NULL, tail = NULL, m;
	uint32_t i = sc->sc_rx_next;
	int n;

	for (n = 0; n < E1000_NRXDESC; n++) {
		if ((sc->sc_rx_ring[i].status & E1000_RXD_STAT_DD) == 0)
			break;
		m = e1000_rx_one(sc, i, st);
		if (m != NULL) {
			if (head == NULL)
				head = m;
			else
				mbuf_setnextpkt(tail, m);
			tail = m;
		}
		i = E1000_RX_NEXT(i);
	}
	if (n == 0)
		return NULL;
	sc->sc_rx_next = i;
	/*
	 * The NIC may fill slots up to RDT - 1.  Slot i - 1 (refilled just
	 * now) stays ours as the one-slot gap that keeps RDH from catching
	 * up with RDT, which would read as an empty ring.
	 */
	__asm__ volatile("" ::: "memory");	/* descriptors before RDT */
	e1000_write(sc, E1000_RDT, (i + E1000_NRXDESC - 1) % E1000_NRXDESC);
	return head;
}

/*
 * Interrupt: frames arrived (RXT0), the ring runs low (RXDMT0) or over
 * (RXO).  Harvest under the lock; pass the packets up after it, with the
 * harvest's counts, which ifnet_input adds to en0's statistics.  When
 * there is nothing to pass up, or ifnet_input refuses the list (ENXIO:
 * en0 is not attached; the list is freed), it counts nothing, so the
 * errors and drops are added here; refused packets count as drops, not
 * as input.
 */
static void
e1000_intr_rx(struct e1000_softc *sc, uint32_t icr)
{
	struct ifnet_stat_increment_param st;
	mbuf_t list;

	bzero(&st, sizeof(st));
	lck_spin_lock(sc->sc_rx_lock);
	sc->sc_rx_stats.rx_intrs++;
	if (icr & E1000_ICR_RXO)
		sc->sc_rx_stats.rx_overruns++;
	list = e1000_rxeof(sc, &st);
	lck_spin_unlock(sc->sc_rx_lock);

	/* Only queues, for the DLIL input thread. */
	if (list != NULL && ifnet_input(sc->sc_ifp, list, &st) == 0)
		return;
	if (list != NULL) {
		lck_spin_lock(sc->sc_rx_lock);
		sc->sc_rx_stats.rx_input_failed += st.packets_in;
		lck_spin_unlock(sc->sc_rx_lock);
		st.dropped += st.packets_in;
		st.packets_in = 0;
		st.bytes_in = 0;
	}
	if (st.errors_in != 0 || st.dropped != 0)
		ifnet_stat_increment(sc->sc_ifp, &st);
}

/* ================================================================ */
/* Transmit                                                         */

/*
 * A packet's mbufs go out as they are, one descriptor each: the NIC
 * gathers the pieces itself (the framer's 14-byte header mbuf, then the
 * payload), and no byte is copied.  Copying every frame into a bounce
 * buffer would be simpler to free, but costs a 1.5 KB copy per frame,
 * which under QEMU's TCG is a good part of the time a frame takes.
 * Only chains longer than E1000_TX_MAXSEGS are copied (e1000_tx_defrag).
 */

/* Descriptors the chain needs (its non-empty mbufs), or -1 if a piece
 * has no physical address. */
static int
e1000_tx_count_segs(mbuf_t m)
{
	int n = 0;

	for (; m != NULL; m = mbuf_next(m)) {
		if (mbuf_len(m) == 0)
			continue;
		if (mbuf_data_to_physical(mbuf_data(m)) == 0)
			return -1;
		n++;
	}
	return n;
}

/* Copy a long chain into one cluster; NULL (chain freed) if no mbuf. */
static mbuf_t
e1000_tx_defrag(mbuf_t m, size_t len)
{
	mbuf_t copy = NULL;

	if (mbuf_getpacket(MBUF_DONTWAIT, &copy) != 0) {
		mbuf_freem(m);
		return NULL;
	}
	if (len > mbuf_maxlen(copy)) {		/* an MTU beyond 2 KB */
		mbuf_freem(copy);
		mbuf_freem(m);
		return NULL;
	}
	mbuf_copydata(m, 0, len, mbuf_data(copy));
	mbuf_setlen(copy, len);
	mbuf_pkthdr_setlen(copy, len);
	mbuf_freem(m);
	return copy;
}

/*
 * Free the chains of the packets the NIC has sent.  Every descriptor
 * asks for a status report (RS), so DD appears on each in ring order.
 * Called with sc_tx_lock held.
 */
static void
e1000_txeof(struct e1000_softc *sc)
{
	uint32_t i = sc->sc_tx_head;

	while (sc->sc_tx_used > 0 &&
	    (sc->sc_tx_ring[i].status & E1000_TXD_STAT_DD) != 0) {
		if (sc->sc_tx_mbuf[i] != NULL) {
			mbuf_freem(sc->sc_tx_mbuf[i]);
			sc->sc_tx_mbuf[i] = NULL;
		}
		sc->sc_tx_stats.tx_completed++;
		sc->sc_tx_used--;
		i = E1000_TX_NEXT(i);
	}
	sc->sc_tx_head = i;
}

/* Put the chain on the ring, one descriptor per non-empty mbuf; the
 * doorbell tells the NIC.  sc_tx_lock held; the caller checked there is
 * room. */
static void
e1000_tx_enqueue(struct e1000_softc *sc, mbuf_t chain, int nsegs)
{
	volatile struct e1000_tx_desc *td = NULL;
	uint32_t i = sc->sc_tx_tail, last = i;
	mbuf_t m;

	for (m = chain; m != NULL; m = mbuf_next(m)) {
		if (mbuf_len(m) == 0)
			continue;
		td = &sc->sc_tx_ring[i];
		td->addr = mbuf_data_to_physical(mbuf_data(m));
		td->length = mbuf_len(m);
		td->cso = 0;
		td->css = 0;
		td->special = 0;
		td->status = 0;
		td->cmd = E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
		last = i;
		i = E1000_TX_NEXT(i);
	}
	td->cmd |= E1000_TXD_CMD_EOP;
	sc->sc_tx_mbuf[last] = chain;	/* freed when `last` is done */
	sc->sc_tx_used += nsegs;
	sc->sc_tx_tail = i;
}

/*
 * The doorbell.  Writing TDT tells the NIC there is something to send.
 * Under QEMU that one store leaves the guest for the device model, which
 * takes QEMU's global lock and sends the queued frames there and then,
 * while the thread that delivers received frames waits for the lock: the
 * costliest thing a packet does in the driver.  So packets queued in a
 * burst share one write.  e1000_output only wakes the doorbell thread,
 * which runs when the sending thread gives up the CPU: the DLIL input
 * thread does when it has answered all the packets it was given, so the
 * answers go out together (with 32 echo requests in flight, `make bench`
 * measured the stack 40% faster this way than with a write per packet).
 * Every E1000_TX_BATCH descriptors ring at once, so a long burst keeps
 * the NIC busy.  Half the ring: QEMU sends every queued frame inside the
 * TDT write, so the ring is empty again after each, and each write also
 * costs a TXDW interrupt; a write per 64 descriptors (32 full-sized TCP
 * segments, header and payload) sent TCP 20-40% faster than one per 16.
 * The tail of a burst from a thread that goes on running
 * without sending waits, like all work handed to a thread, until that
 * thread sleeps or the clock preempts it.  XNU's drivers get the same
 * batching from ifnet_start's starter thread, Linux's from xmit_more.
 */

/* Descriptors queued since TDT was last written.  sc_tx_lock held. */
static uint32_t
e1000_tx_unrung(struct e1000_softc *sc)
{
	return (sc->sc_tx_tail + E1000_NTXDESC - sc->sc_tx_rung) %
	    E1000_NTXDESC;
}

/*
 * Tell the NIC about every queued descriptor.  sc_tx_lock held.  The
 * write's duration is QEMU's work (the TSC makes it cheap to time), and
 * `e1000` prints it: with user networking it includes the host's TCP
 * taking each frame, and the replies QEMU delivers meanwhile.
 */
static void
e1000_tx_ring_doorbell(struct e1000_softc *sc)
{
	uint64_t start;

	if (sc->sc_tx_rung == sc->sc_tx_tail)
		return;
	__asm__ volatile("" ::: "memory");	/* descriptors before TDT */
	start = mach_absolute_time();
	e1000_write(sc, E1000_TDT, sc->sc_tx_tail);
	sc->sc_tx_stats.tx_doorbell_ns += mach_absolute_time() - start;
	sc->sc_tx_rung = sc->sc_tx_tail;
	sc->sc_tx_stats.tx_doorbells++;
}

/* After queuing a packet: ring now if the burst is long, else make sure
 * the doorbell thread will.  sc_tx_lock held. */
static void
e1000_tx_kick(struct e1000_softc *sc)
{
	if (e1000_tx_unrung(sc) >= E1000_TX_BATCH) {
		e1000_tx_ring_doorbell(sc);
	} else if (!sc->sc_tx_bell_asked) {
		sc->sc_tx_bell_asked = true;
		thread_wakeup(&sc->sc_tx_rung);
	}
}

/* The "e1000_tx" thread: ring the doorbell, sleep until asked again. */
static void
e1000_tx_doorbell_thread(void *arg, wait_result_t wr __unused)
{
	struct e1000_softc *sc = arg;

	lck_spin_lock(sc->sc_tx_lock);
	for (;;) {
		e1000_tx_ring_doorbell(sc);
		sc->sc_tx_bell_asked = false;
		assert_wait(&sc->sc_tx_rung, THREAD_UNINT);
		lck_spin_unlock(sc->sc_tx_lock);
		thread_block();
		lck_spin_lock(sc->sc_tx_lock);
	}
}

/* Count a dropped outbound packet and free it. */
static errno_t
e1000_tx_drop(struct e1000_softc *sc, mbuf_t m, uint32_t *reason,
    errno_t err)
{
	lck_spin_lock(sc->sc_tx_lock);
	(*reason)++;
	lck_spin_unlock(sc->sc_tx_lock);
	if (m != NULL)
		mbuf_freem(m);
	ifnet_stat_increment_out(sc->sc_ifp, 0, 0, 1);
	return err;
}

/*
 * ifnet_output_func: queue one fully framed packet for the NIC.  Consumes
 * it always; never blocks: with no room on the ring the packet is dropped.
 */
static errno_t
e1000_output(ifnet_t ifp, mbuf_t m)
{
	struct e1000_softc *sc = ifnet_softc(ifp);
	struct e1000_tx_stats *ts = &sc->sc_tx_stats;
	size_t len = mbuf_pkthdr_len(m);
	int nsegs;

	if (len < ETHER_HDR_LEN ||
	    len > ifnet_mtu(ifp) + ETHER_HDR_LEN ||
	    (nsegs = e1000_tx_count_segs(m)) <= 0)
		return e1000_tx_drop(sc, m, &ts->tx_bad_packet, EINVAL);
	if (!sc->sc_link_up)
		return e1000_tx_drop(sc, m, &ts->tx_link_down, ENETDOWN);
	if (nsegs > E1000_TX_MAXSEGS) {
		if ((m = e1000_tx_defrag(m, len)) == NULL)
			return e1000_tx_drop(sc, NULL, &ts->tx_defrag_failed,
			    ENOBUFS);
		nsegs = 1;
		lck_spin_lock(sc->sc_tx_lock);
		ts->tx_defrag++;
		lck_spin_unlock(sc->sc_tx_lock);
	}

	lck_spin_lock(sc->sc_tx_lock);
	e1000_txeof(sc);		/* make room from what has been sent */
	if (sc->sc_tx_used + nsegs > E1000_NTXDESC - 1) {
		lck_spin_unlock(sc->sc_tx_lock);
		return e1000_tx_drop(sc, m, &ts->tx_ring_full, ENOBUFS);
	}
	e1000_tx_enqueue(sc, m, nsegs);
	e1000_tx_kick(sc);
	ts->tx_packets++;
	ts->tx_bytes += len;
	lck_spin_unlock(sc->sc_tx_lock);

	ifnet_stat_increment_out(ifp, 1, len, 0);
	return 0;
}

/* Interrupt: transmit descriptors written back (TXDW). */
static void
e1000_intr_tx(struct e1000_softc *sc)
{
	lck_spin_lock(sc->sc_tx_lock);
	sc->sc_tx_stats.tx_intrs++;
	e1000_txeof(sc);
	lck_spin_unlock(sc->sc_tx_lock);
}

/* ================================================================ */
/* Link and interrupt                                               */

/*
 * Tell the stack the link is up or down: IFF_RUNNING follows it, and the
 * DLIL posts KEV_DL_LINK_ON / KEV_DL_LINK_OFF from its thread.  Both
 * calls only take the interface's spin lock: fine in an interrupt.
 */
static void
e1000_report_link(struct e1000_softc *sc, bool up)
{
	sc->sc_link_up = up;
	ifnet_set_flags(sc->sc_ifp, up ? IFF_RUNNING : 0, IFF_RUNNING);
	ifnet_link_event(sc->sc_ifp, up);
}

/* Interrupt: link status change.  STATUS.LU says which way. */
static void
e1000_intr_link(struct e1000_softc *sc)
{
	bool up = e1000_hw_link_up(sc);

	if (up == sc->sc_link_up)
		return;
	sc->sc_link_changes++;
	e1000_report_link(sc, up);
}

/*
 * The interrupt handler: as little as possible.  Reading ICR both says
 * why the NIC interrupted and acknowledges every cause (the line drops);
 * a cause raised after the read interrupts again.  Nothing here sleeps:
 * mbufs are allocated with MBUF_DONTWAIT, and ifnet_input only queues.
 */
static void
e1000_intr(void *arg)
{
	struct e1000_softc *sc = arg;
	uint64_t start = mach_absolute_time();
	uint32_t icr = e1000_read(sc, E1000_ICR);

	if (icr & (E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO))
		e1000_intr_rx(sc, icr);
	if (icr & E1000_ICR_TXDW)
		e1000_intr_tx(sc);
	if (icr & E1000_ICR_LSC)
		e1000_intr_link(sc);
	sc->sc_intr_count++;
	sc->sc_intr_ns += mach_absolute_time() - start;
}

/* ================================================================ */
/* The interface                                                    */

/* Promiscuous mode is RCTL.UPE.  Rewriting RCTL makes QEMU hold
 * received frames for a second, so only do it when UPE changes. */
static void
e1000_set_promisc(struct e1000_softc *sc, bool on)
{
	uint32_t rctl;

	lck_spin_lock(sc->sc_rx_lock);
	rctl = e1000_read(sc, E1000_RCTL);
	if (((rctl & E1000_RCTL_UPE) != 0) != on)
		e1000_write(sc, E1000_RCTL, on ? rctl | E1000_RCTL_UPE :
		    rctl & ~E1000_RCTL_UPE);
	lck_spin_unlock(sc->sc_rx_lock);
}

/* ifnet_ioctl_func: flags (promiscuous) and multicast; the rest is
 * generic Ethernet. */
static errno_t
e1000_ioctl(ifnet_t ifp, u_int32_t cmd, void *data)
{
	struct e1000_softc *sc = ifnet_softc(ifp);

	switch (cmd) {
	case SIOCSIFFLAGS:
		e1000_set_promisc(sc, (ifnet_flags(ifp) & IFF_PROMISC) != 0);
		return 0;
	case SIOCADDMULTI:
	case SIOCDELMULTI:
		/*
		 * RCTL.MPE (e1000_init) takes in every multicast frame, so
		 * there is no hash table to update.  Nothing filters by
		 * group later either: ether_demux picks the protocol by type
		 * alone, and ip_input drops a datagram to any group but
		 * all-hosts (224.0.0.1) as ip.notforus.
		 */
		return 0;
	default:
		return ether_ioctl(ifp, cmd, data);
	}
}

/* en0: allocate the interface, describe it, attach it. */
static errno_t
e1000_attach_ifnet(struct e1000_softc *sc)
{
	struct ifnet_init_params init;
	struct sockaddr_dl sdl;
	ifnet_t ifp;
	errno_t err;

	bzero(&init, sizeof(init));
	init.uniqueid = sc->sc_macaddr;
	init.uniqueid_len = ETHER_ADDR_LEN;
	init.name = "en";
	init.unit = 0;
	init.family = IFNET_FAMILY_ETHERNET;
	init.type = IFT_ETHER;
	init.output = e1000_output;
	init.demux = ether_demux;
	init.add_proto = ether_add_proto;
	init.del_proto = ether_del_proto;
	init.check_multi = ether_check_multi;
	init.framer = ether_frameout;
	init.softc = sc;
	init.ioctl = e1000_ioctl;
	init.broadcast_addr = e1000_broadcast;
	init.broadcast_len = sizeof(e1000_broadcast);
	err = ifnet_allocate(&init, &ifp);
	if (err != 0)
		return err;

	ifnet_set_mtu(ifp, ETHERMTU);
	ifnet_set_hdrlen(ifp, ETHER_HDR_LEN);
	ifnet_set_addrlen(ifp, ETHER_ADDR_LEN);
	ifnet_set_baudrate(ifp, 1000000000);
	ifnet_set_flags(ifp, IFF_BROADCAST | IFF_SIMPLEX | IFF_MULTICAST |
	    IFF_UP, 0xffff);

	bzero(&sdl, sizeof(sdl));
	sdl.sdl_len = sizeof(sdl);
	sdl.sdl_family = AF_LINK;
	sdl.sdl_type = IFT_ETHER;
	sdl.sdl_alen = ETHER_ADDR_LEN;
	bcopy(sc->sc_macaddr, LLADDR(&sdl), ETHER_ADDR_LEN);

	/* The interrupt handler uses sc_ifp: set before interrupts. */
	sc->sc_ifp = ifp;
	err = ifnet_attach(ifp, &sdl);
	if (err != 0) {
		sc->sc_ifp = NULL;
		ifnet_release(ifp);
		return err;
	}
	bpf_attach(ifp, DLT_EN10MB, ETHER_HDR_LEN, NULL, NULL);
	return 0;
}

/* Locks and rings.  May sleep (attach time). */
static errno_t
e1000_alloc_rings(struct e1000_softc *sc)
{
	sc->sc_lck_grp = lck_grp_alloc_init("e1000", LCK_GRP_ATTR_NULL);
	sc->sc_rx_lock = lck_spin_alloc_init(sc->sc_lck_grp, LCK_ATTR_NULL);
	sc->sc_tx_lock = lck_spin_alloc_init(sc->sc_lck_grp, LCK_ATTR_NULL);
	sc->sc_rx_ring = e1000_ring_alloc();
	sc->sc_tx_ring = e1000_ring_alloc();
	if (sc->sc_lck_grp == NULL || sc->sc_rx_lock == NULL ||
	    sc->sc_tx_lock == NULL || sc->sc_rx_ring == NULL ||
	    sc->sc_tx_ring == NULL)
		return ENOMEM;
	return e1000_rx_fill(sc);
}

/* The doorbell thread, before en0 can send anything. */
static errno_t
e1000_start_doorbell(struct e1000_softc *sc)
{
	thread_t th;

	if (kernel_thread_start(e1000_tx_doorbell_thread, sc, &th) !=
	    KERN_SUCCESS)
		return ENOMEM;
	thread_set_name(th, "e1000_tx");
	thread_deallocate(th);
	return 0;
}

/*
 * Start the NIC and en0 (kern/startup.c, after the DLIL).  A machine
 * without an e1000 simply has no en0.  With the boot option e1000echo
 * the NIC is handed to the echo loop instead (if_e1000_echo.c).
 */
void
e1000_init(void)
{
	struct e1000_softc *sc = &e1000_softc0;
	errno_t err;

	if (e1000_hw_attach(sc) != 0) {
		printf("e1000: no 82540EM on the PCI bus: no en0\n");
		return;
	}
	e1000_sc = sc;
	if (boot_arg_present("e1000echo")) {
		e1000_echo_start(sc);
		return;
	}
	if ((err = e1000_alloc_rings(sc)) != 0 ||
	    (err = e1000_start_doorbell(sc)) != 0 ||
	    (err = e1000_attach_ifnet(sc)) != 0) {
		/* The rings' pages and mbufs stay allocated: the NIC is
		 * reset and idle, and this happens once, at boot. */
		printf("e1000: attach failed (error %d): no en0\n", err);
		e1000_sc = NULL;
		return;
	}
	e1000_hw_init_tx(sc);
	e1000_hw_init_rx(sc, E1000_RCTL_MPE);

	/* Report the link as it is now; LSC reports every change after. */
	e1000_report_link(sc, e1000_hw_link_up(sc));

	intr_establish(sc->sc_irq, e1000_intr, sc, "e1000");
	e1000_write(sc, E1000_IMS, E1000_INTR_MASK);
	printf("e1000: en0 at pci %02x:%02x.%x irq %d, "
	    "address %02x:%02x:%02x:%02x:%02x:%02x, link %s\n",
	    sc->sc_pci->pd_bus, sc->sc_pci->pd_slot, sc->sc_pci->pd_func,
	    sc->sc_irq, sc->sc_macaddr[0], sc->sc_macaddr[1],
	    sc->sc_macaddr[2], sc->sc_macaddr[3], sc->sc_macaddr[4],
	    sc->sc_macaddr[5], sc->sc_link_up ? "up" : "down");
}
