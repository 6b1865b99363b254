/*
 * The `e1000` monitor command: the NIC's registers, the rings and the
 * driver's counters (which `netstat -s` prints too, as group "e1000");
 * and `e1000 send`, which builds test frames and sends them down the
 * stack's raw output path (interface filters, the tap, e1000_output) to
 * watch the transmit side before any protocol uses it.
 */
#include <sys/systm.h>
#include <sys/kpi_mbuf.h>
#include <kern/clock.h>
#include <kern/monitor.h>
#include <net/if_ether.h>
#include <net/kpi_interface.h>
#include <dev/e1000/if_e1000reg.h>
#include <dev/e1000/if_e1000var.h>

#define E1000_TEST_ETHERTYPE	0x88b5	/* IEEE local experimental */
#define E1000_TEST_MAXSEGS	32

/* Fold the clear-on-read statistics registers into the totals. */
static void
e1000_hw_stats_update(struct e1000_softc *sc)
{
	lck_spin_lock(sc->sc_rx_lock);
	sc->sc_hw_gprc += e1000_read(sc, E1000_GPRC);
	sc->sc_hw_gptc += e1000_read(sc, E1000_GPTC);
	sc->sc_hw_mpc += e1000_read(sc, E1000_MPC);
	sc->sc_hw_rnbc += e1000_read(sc, E1000_RNBC);
	lck_spin_unlock(sc->sc_rx_lock);
}

static void
e1000_print_registers(struct e1000_softc *sc)
{
	uint32_t status = e1000_read(sc, E1000_STATUS);
	static const char *const speeds[] = { "10", "100", "1000", "1000" };

	printf("CTRL   0x%08x  STATUS 0x%08x (link %s, %s Mb/s, %s duplex)\n",
	    e1000_read(sc, E1000_CTRL), status,
	    (status & E1000_STATUS_LU) ? "up" : "down",
	    speeds[(status & E1000_STATUS_SPEED_MASK) >>
	    E1000_STATUS_SPEED_SHIFT],
	    (status & E1000_STATUS_FD) ? "full" : "half");
	printf("RCTL   0x%08x  TCTL   0x%08x  IMS 0x%08x\n",
	    e1000_read(sc, E1000_RCTL), e1000_read(sc, E1000_TCTL),
	    e1000_read(sc, E1000_IMS));
	printf("RDH %3u  RDT %3u    TDH %3u  TDT %3u\n",
	    e1000_read(sc, E1000_RDH), e1000_read(sc, E1000_RDT),
	    e1000_read(sc, E1000_TDH), e1000_read(sc, E1000_TDT));
}

static void
e1000_print_counters(struct e1000_softc *sc)
{
	struct e1000_rx_stats rs;
	struct e1000_tx_stats ts;
	uint32_t rx_next, tx_used, intrs;
	uint64_t intr_ns;

	lck_spin_lock(sc->sc_rx_lock);
	rs = sc->sc_rx_stats;
	rx_next = sc->sc_rx_next;
	intr_ns = sc->sc_intr_ns;
	intrs = sc->sc_intr_count;
	lck_spin_unlock(sc->sc_rx_lock);
	lck_spin_lock(sc->sc_tx_lock);
	ts = sc->sc_tx_stats;
	tx_used = sc->sc_tx_used;
	lck_spin_unlock(sc->sc_tx_lock);

	printf("rx ring: %u slots, next %u;  tx ring: %u slots, %u in use\n",
	    E1000_NRXDESC, rx_next, E1000_NTXDESC, tx_used);
	printf("rx: %u frames, %llu bytes, %u interrupts, %u overruns\n",
	    rs.rx_frames, rs.rx_bytes, rs.rx_intrs, rs.rx_overruns);
	printf("rx drops: %u no mbuf, %u bad frame, %u runt, "
	    "%u multi-buffer, %u input refused\n", rs.rx_nombuf,
	    rs.rx_errors, rs.rx_runts, rs.rx_fragmented, rs.rx_input_failed);
	printf("tx: %u packets, %llu bytes, %u doorbells, "
	    "%u descriptors done, %u interrupts, %u copied chains\n",
	    ts.tx_packets, ts.tx_bytes, ts.tx_doorbells, ts.tx_completed,
	    ts.tx_intrs, ts.tx_defrag);
	printf("tx drops: %u ring full, %u link down, %u bad packet, "
	    "%u no mbuf for copy\n", ts.tx_ring_full, ts.tx_link_down,
	    ts.tx_bad_packet, ts.tx_defrag_failed);
	printf("time: %llu ms in %u TDT writes (%llu us each), "
	    "%llu ms in %u interrupts (%llu us each)\n",
	    ts.tx_doorbell_ns / NSEC_PER_MSEC, ts.tx_doorbells,
	    ts.tx_doorbells ? ts.tx_doorbell_ns / ts.tx_doorbells / 1000 : 0,
	    intr_ns / NSEC_PER_MSEC, intrs,
	    intrs ? intr_ns / intrs / 1000 : 0);
	printf("link changes: %u\n", sc->sc_link_changes);
	printf("hardware: %llu good rx, %llu good tx, %llu missed, "
	    "%llu no buffer\n", sc->sc_hw_gprc, sc->sc_hw_gptc,
	    sc->sc_hw_mpc, sc->sc_hw_rnbc);
}

/*
 * One test frame, chained as the framer chains a real one: an mbuf with
 * the Ethernet header (to ff:ff:ff:ff:ff:ff, type 0x88b5), then the
 * payload cut into `segs` mbufs.  The payload is the sequence number (4
 * bytes, big-endian), then bytes counting up from 0.  May sleep.
 */
static errno_t
e1000_test_frame(struct e1000_softc *sc, uint32_t seq, size_t len,
    int segs, mbuf_t *mp)
{
	size_t paylen = len - ETHER_HDR_LEN, off = 0, chunk;
	uint8_t payload[ETHERMTU], *hdr;
	mbuf_t m, last, seg;
	int i;

	for (off = 0; off < paylen; off++)
		payload[off] = (off < 4) ? seq >> (8 * (3 - off)) : off - 4;
	if (mbuf_gethdr(MBUF_WAITOK, MBUF_TYPE_DATA, &m) != 0)
		return ENOMEM;
	hdr = mbuf_data(m);
	memset(hdr, 0xff, ETHER_ADDR_LEN);
	memcpy(hdr + ETHER_ADDR_LEN, sc->sc_macaddr, ETHER_ADDR_LEN);
	hdr[12] = E1000_TEST_ETHERTYPE >> 8;
	hdr[13] = E1000_TEST_ETHERTYPE & 0xff;
	mbuf_setlen(m, ETHER_HDR_LEN);
	mbuf_pkthdr_setlen(m, len);

	last = m;
	for (i = 0, off = 0; i < segs; i++, off += chunk) {
		chunk = (paylen - off) / (segs - i);	/* spread evenly */
		seg = NULL;
		if (mbuf_getcluster(MBUF_WAITOK, MBUF_TYPE_DATA, 2048,
		    &seg) != 0) {
			mbuf_freem(m);
			return ENOMEM;
		}
		memcpy(mbuf_data(seg), payload + off, chunk);
		mbuf_setlen(seg, chunk);
		mbuf_setnext(last, seg);
		last = seg;
	}
	*mp = m;
	return 0;
}

/* e1000 send COUNT [LEN [SEGS]] */
static int
e1000_send(struct e1000_softc *sc, int argc, char **argv)
{
	unsigned long count, len = 60, segs = 1, i, sent = 0, refused = 0;
	mbuf_t m;

	count = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		len = strtoul(argv[3], NULL, 0);
	if (argc > 4)
		segs = strtoul(argv[4], NULL, 0);
	if (count == 0 || len < ETHER_HDR_LEN + 4 ||
	    len > ETHER_HDR_LEN + ETHERMTU || segs < 1 ||
	    segs > E1000_TEST_MAXSEGS || segs > len - ETHER_HDR_LEN) {
		printf("e1000 send: COUNT >= 1, LEN from %d to %d bytes, "
		    "SEGS from 1 to %d payload mbufs\n", ETHER_HDR_LEN + 4,
		    ETHER_HDR_LEN + ETHERMTU, E1000_TEST_MAXSEGS);
		return 1;
	}
	for (i = 0; i < count; i++) {
		if (e1000_test_frame(sc, i, len, segs, &m) != 0) {
			printf("e1000 send: out of mbufs after %lu frames\n", i);
			break;
		}
		/* Consumes the frame whatever happens. */
		if (ifnet_output_raw(sc->sc_ifp, 0, m) == 0)
			sent++;
		else
			refused++;
	}
	printf("sent %lu frames of %lu bytes in %lu+1 mbufs; %lu refused\n",
	    sent, len, segs, refused);
	return refused != 0 || sent != count;
}

static int
mon_e1000(int argc, char **argv)
{
	struct e1000_softc *sc = e1000_sc;
	bool send = argc >= 3 && argc <= 5 && strcmp(argv[1], "send") == 0;

	if (argc != 1 && !send)
		return monitor_usage(argc, argv);
	if (sc == NULL) {
		printf("no e1000: boot QEMU with -device e1000\n");
		return 1;
	}
	if (sc->sc_ifp == NULL) {
		printf("the e1000 is running the echo loop: see e1000echo\n");
		e1000_print_registers(sc);
		return send;
	}
	if (send)
		return e1000_send(sc, argc, argv);
	e1000_hw_stats_update(sc);
	e1000_print_registers(sc);
	e1000_print_counters(sc);
	return 0;
}
MONITOR_COMMAND(e1000, mon_e1000, "e1000 [send COUNT [LEN [SEGS]]]",
    "the e1000's registers, rings and counters; send test frames");
