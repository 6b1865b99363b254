/*
 * The e1000 driver's private state (its softc): where the registers
 * are, the two descriptor rings and the mbuf behind each descriptor,
 * and the counters that `netstat -s` and the `e1000` command print.
 * if_e1000_hw.c brings the NIC up; if_e1000.c drives it for the network
 * stack; if_e1000_echo.c bounces frames back without the stack
 * (e1000echo).
 */
#ifndef _DEV_E1000_IF_E1000VAR_H_
#define _DEV_E1000_IF_E1000VAR_H_

#include <sys/types.h>
#include <sys/kpi_mbuf.h>
#include <kern/locks.h>
#include <net/if_ether.h>
#include <net/kpi_interface.h>
#include <i386/pci.h>
#include <dev/e1000/if_e1000reg.h>

/* Ring sizes: a multiple of 8 (RDLEN/TDLEN must be 128-byte multiples). */
#define E1000_NRXDESC		128
#define E1000_NTXDESC		128
#define E1000_RXBUF_SIZE	2048	/* RCTL.BSIZE; one frame per buffer */
#define E1000_TX_MAXSEGS	8	/* longer chains are copied first */
#define E1000_TX_BATCH		64	/* queued descriptors that ring the
					 * doorbell at once (if_e1000.c) */

/* One step around a ring. */
#define E1000_RX_NEXT(i)	(((i) + 1) % E1000_NRXDESC)
#define E1000_TX_NEXT(i)	(((i) + 1) % E1000_NTXDESC)

/*
 * Receive counters: every frame the ring hands us ends in exactly one of
 * them (rx_frames or one drop reason).  Written under sc_rx_lock; the
 * counts are 32-bit words so that `netstat -s` (group "e1000", in
 * if_e1000.c) can read them without the lock, as it reads every
 * protocol's counters.
 */
struct e1000_rx_stats {
	uint32_t	rx_frames;	/* passed to ifnet_input */
	uint64_t	rx_bytes;
	uint32_t	rx_nombuf;	/* drop: no mbuf to refill the slot */
	uint32_t	rx_errors;	/* drop: the NIC flagged a bad frame */
	uint32_t	rx_runts;	/* drop: shorter than an Ethernet header */
	uint32_t	rx_fragmented;	/* drop: frame spread over descriptors */
	uint32_t	rx_input_failed; /* drop: ifnet_input refused the chain */
	uint32_t	rx_overruns;	/* RXO interrupts: the ring was full */
	uint32_t	rx_intrs;	/* interrupts that harvested the ring */
};

/*
 * Transmit counters: every packet given to e1000_output ends in
 * tx_packets or one drop reason.  Written under sc_tx_lock; 32-bit
 * counts, as above.
 */
struct e1000_tx_stats {
	uint32_t	tx_packets;	/* queued on the ring */
	uint64_t	tx_bytes;
	uint32_t	tx_completed;	/* descriptors the NIC reported done */
	uint32_t	tx_ring_full;	/* drop: not enough free descriptors */
	uint32_t	tx_defrag;	/* long chains copied into one cluster */
	uint32_t	tx_defrag_failed; /* drop: no mbuf for that copy */
	uint32_t	tx_bad_packet;	/* drop: empty, oversized or unmappable */
	uint32_t	tx_link_down;	/* drop: no link */
	uint32_t	tx_intrs;	/* TXDW interrupts */
	uint32_t	tx_doorbells;	/* TDT writes */
	uint64_t	tx_doorbell_ns;	/* time inside them (QEMU sending) */
};

struct e1000_softc {
	/* Set once by attach; read-only afterwards. */
	struct pci_device	*sc_pci;
	volatile uint8_t	*sc_regs;	/* BAR0, identity-mapped, uncached */
	int			sc_irq;
	uint8_t			sc_macaddr[ETHER_ADDR_LEN];
	ifnet_t			sc_ifp;		/* NULL in echo mode */
	lck_grp_t		*sc_lck_grp;

	/*
	 * Receive ring.  Slots from sc_rx_next up to RDT belong to the
	 * NIC; sc_rx_next is the next one it will fill.  Each slot always
	 * holds one mbuf (a packet-header mbuf with a 2 KB cluster), so
	 * the ring is never short of buffers: a slot whose frame cannot be
	 * replaced keeps its old mbuf.
	 */
	lck_spin_t		*sc_rx_lock;
	volatile struct e1000_rx_desc *sc_rx_ring; /* (r) one page */
	mbuf_t			sc_rx_mbuf[E1000_NRXDESC];	/* (r) */
	uint32_t		sc_rx_next;	/* (r) */
	bool			sc_rx_discard;	/* (r) inside a multi-slot frame */
	struct e1000_rx_stats	sc_rx_stats;	/* (r) */

	/*
	 * Transmit ring.  Slots sc_tx_head .. sc_tx_tail-1 are queued or
	 * in flight (sc_tx_used of them); one slot always stays empty so
	 * that TDT == TDH means "nothing to send".  Slots from sc_tx_rung
	 * (the TDT last written) up to sc_tx_tail are queued but not yet
	 * told to the NIC: the doorbell thread writes TDT for them.  A
	 * packet's mbuf chain is kept at the slot of its last descriptor
	 * and freed when that descriptor is done.
	 */
	lck_spin_t		*sc_tx_lock;
	volatile struct e1000_tx_desc *sc_tx_ring; /* (t) one page */
	mbuf_t			sc_tx_mbuf[E1000_NTXDESC];	/* (t) */
	uint32_t		sc_tx_head;	/* (t) oldest slot in use */
	uint32_t		sc_tx_tail;	/* (t) next free slot */
	uint32_t		sc_tx_rung;	/* (t) TDT as last written */
	uint32_t		sc_tx_used;	/* (t) */
	bool			sc_tx_bell_asked; /* (t) thread woken */
	struct e1000_tx_stats	sc_tx_stats;	/* (t) */

	/*
	 * Time in the interrupt handler and how often it ran: written by
	 * the handler alone; read under either spin lock, which holds the
	 * handler off.
	 */
	uint64_t		sc_intr_ns;
	uint32_t		sc_intr_count;

	/* Link state: written by the interrupt handler (and attach). */
	volatile bool		sc_link_up;
	uint32_t		sc_link_changes;

	/* Hardware statistics (clear-on-read registers), summed by the
	 * `e1000` command under sc_rx_lock. */
	uint64_t		sc_hw_gprc, sc_hw_gptc, sc_hw_mpc, sc_hw_rnbc;
};

/* Register access: 32-bit loads and stores into the MMIO window. */
static inline uint32_t
e1000_read(struct e1000_softc *sc, uint32_t reg)
{
	return *(volatile uint32_t *)(sc->sc_regs + reg);
}

static inline void
e1000_write(struct e1000_softc *sc, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(sc->sc_regs + reg) = val;
}

/*
 * The hardware half (if_e1000_hw.c), shared with the echo loop.
 * e1000_hw_attach finds the NIC, maps it, resets it and reads its MAC;
 * ENXIO when there is no 82540EM.  The rings' memory comes from
 * e1000_ring_alloc; e1000_hw_init_{rx,tx} program the rings (RCTL is
 * written there, once: see if_e1000.c).
 */
errno_t	e1000_hw_attach(struct e1000_softc *sc);
void	*e1000_ring_alloc(void);
void	e1000_hw_init_rx(struct e1000_softc *sc, uint32_t rctl_extra);
void	e1000_hw_init_tx(struct e1000_softc *sc);
bool	e1000_hw_link_up(struct e1000_softc *sc);

/* The driver's start routine (kern/startup.c). */
void	e1000_init(void);

/* The NIC e1000_init found (NULL: none); set once at boot. */
extern struct e1000_softc *e1000_sc;

/* Boot option e1000echo: echo every frame back, without the stack. */
void	e1000_echo_start(struct e1000_softc *sc);

#endif /* _DEV_E1000_IF_E1000VAR_H_ */
