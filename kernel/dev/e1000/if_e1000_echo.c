/*
 * Boot option e1000echo: the ceiling of the NIC path.  Instead of
 * attaching en0, e1000_init hands the NIC to this loop, which polls the
 * receive ring and sends every frame back unchanged: no interrupts, no
 * mbufs, no stack.  A host peer measures it against the full stack on
 * the same QEMU (`make bench`).  The monitor keeps running beside it.
 */
#include <sys/systm.h>
#include <kern/monitor.h>
#include <kern/thread.h>
#include <kern/vm_page.h>
#include <i386/pmap.h>
#include <dev/e1000/if_e1000reg.h>
#include <dev/e1000/if_e1000var.h>

/*
 * Buffers are swapped, never copied: a received buffer moves to the
 * transmit ring as it is and the receive slot takes a free one; when the
 * NIC has sent it, it goes back to the free list.  Enough buffers for
 * both rings full means the free list is empty only when the transmit
 * ring is full too.
 */
#define ECHO_NBUFS	(E1000_NRXDESC + E1000_NTXDESC)
#define ECHO_BUF_PAGES	(ECHO_NBUFS * E1000_RXBUF_SIZE / PAGE_SIZE)

/*
 * The loop's state.  Only the echo thread writes it; `e1000echo` reads
 * the 32-bit counters without a lock (each read is atomic on i386).
 */
struct e1000_echo {
	struct e1000_softc	*ec_sc;
	uint8_t			*ec_rx_buf[E1000_NRXDESC];
	uint8_t			*ec_tx_buf[E1000_NTXDESC];
	uint8_t			*ec_free[ECHO_NBUFS];
	uint32_t		ec_nfree;
	uint32_t		ec_rx_next;	/* next slot the NIC fills */
	uint32_t		ec_tx_head;	/* oldest slot in flight */
	uint32_t		ec_tx_tail;	/* next free slot = TDT */
	uint32_t		ec_tx_used;

	volatile uint32_t	ec_frames;	/* echoed */
	volatile uint32_t	ec_bytes_kb;	/* ... their size, KiB */
	volatile uint32_t	ec_bad;		/* dropped: NIC error or
						 * multi-buffer frame */
	volatile uint32_t	ec_tx_full;	/* passes stalled on a full
						 * transmit ring */
	uint32_t		ec_bytes_rem;	/* bytes below 1 KiB */
};

static struct e1000_echo e1000_echo0;
static struct e1000_echo *e1000_echo_running;

/* Give the NIC back the buffers of the frames it has sent. */
static void
echo_reclaim(struct e1000_echo *ec)
{
	volatile struct e1000_tx_desc *ring = ec->ec_sc->sc_tx_ring;

	while (ec->ec_tx_used > 0 &&
	    (ring[ec->ec_tx_head].status & E1000_TXD_STAT_DD) != 0) {
		ec->ec_free[ec->ec_nfree++] = ec->ec_tx_buf[ec->ec_tx_head];
		ec->ec_tx_head = E1000_TX_NEXT(ec->ec_tx_head);
		ec->ec_tx_used--;
	}
}

/* Move the buffer of receive slot i to the transmit ring, unchanged. */
static void
echo_send(struct e1000_echo *ec, uint32_t i, uint16_t len)
{
	volatile struct e1000_tx_desc *td =
	    &ec->ec_sc->sc_tx_ring[ec->ec_tx_tail];
	volatile struct e1000_rx_desc *rd = &ec->ec_sc->sc_rx_ring[i];
	uint8_t *fresh = ec->ec_free[--ec->ec_nfree];

	td->addr = (uint32_t)ec->ec_rx_buf[i];
	td->length = len;
	td->status = 0;
	td->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	ec->ec_tx_buf[ec->ec_tx_tail] = ec->ec_rx_buf[i];
	ec->ec_tx_tail = E1000_TX_NEXT(ec->ec_tx_tail);
	ec->ec_tx_used++;

	ec->ec_rx_buf[i] = fresh;
	rd->addr = (uint32_t)fresh;
	rd->status = 0;

	ec->ec_frames++;
	ec->ec_bytes_rem += len;
	ec->ec_bytes_kb += ec->ec_bytes_rem / 1024;
	ec->ec_bytes_rem %= 1024;
}

/* Echo every frame that has arrived; returns how many slots moved. */
static uint32_t
echo_bounce(struct e1000_echo *ec)
{
	volatile struct e1000_rx_desc *rd;
	uint32_t moved = 0;

	for (;;) {
		rd = &ec->ec_sc->sc_rx_ring[ec->ec_rx_next];
		if ((rd->status & E1000_RXD_STAT_DD) == 0)
			break;
		if (ec->ec_tx_used == E1000_NTXDESC - 1 || ec->ec_nfree == 0) {
			ec->ec_tx_full++;	/* wait for the NIC to send */
			break;
		}
		if ((rd->status & E1000_RXD_STAT_EOP) == 0 ||
		    (rd->errors & E1000_RXD_ERR_FRAME) != 0) {
			ec->ec_bad++;
			rd->status = 0;		/* keep the buffer */
		} else {
			echo_send(ec, ec->ec_rx_next, rd->length);
		}
		ec->ec_rx_next = E1000_RX_NEXT(ec->ec_rx_next);
		moved++;
	}
	return moved;
}

/* The echo thread: poll, bounce, tell the NIC once per batch. */
static void
echo_loop(void *arg, int wait_result __unused)
{
	struct e1000_echo *ec = arg;
	struct e1000_softc *sc = ec->ec_sc;

	for (;;) {
		echo_reclaim(ec);
		if (echo_bounce(ec) == 0)
			continue;
		__asm__ volatile("" ::: "memory");
		e1000_write(sc, E1000_TDT, ec->ec_tx_tail);
		e1000_write(sc, E1000_RDT,
		    (ec->ec_rx_next + E1000_NRXDESC - 1) % E1000_NRXDESC);
	}
}

/* Rings and buffers; a buffer in every receive slot. */
static bool
echo_setup(struct e1000_echo *ec, struct e1000_softc *sc)
{
	uint8_t *bufs;
	uint32_t i;

	ec->ec_sc = sc;
	sc->sc_rx_ring = e1000_ring_alloc();
	sc->sc_tx_ring = e1000_ring_alloc();
	bufs = vm_page_alloc_contig(ECHO_BUF_PAGES);
	if (sc->sc_rx_ring == NULL || sc->sc_tx_ring == NULL || bufs == NULL)
		return false;
	for (i = 0; i < ECHO_NBUFS; i++)
		ec->ec_free[ec->ec_nfree++] = bufs + i * E1000_RXBUF_SIZE;
	for (i = 0; i < E1000_NRXDESC; i++) {
		ec->ec_rx_buf[i] = ec->ec_free[--ec->ec_nfree];
		sc->sc_rx_ring[i].addr = (uint32_t)ec->ec_rx_buf[i];
	}
	return true;
}

void
e1000_echo_start(struct e1000_softc *sc)
{
	struct e1000_echo *ec = &e1000_echo0;
	thread_t thread;

	if (!echo_setup(ec, sc)) {
		printf("e1000echo: out of memory for rings and buffers\n");
		return;
	}
	e1000_hw_init_tx(sc);
	/* Promiscuous: echo whatever the peer sends, to any address. */
	e1000_hw_init_rx(sc, E1000_RCTL_UPE | E1000_RCTL_MPE);
	if (kernel_thread_start(echo_loop, ec, &thread) != KERN_SUCCESS) {
		printf("e1000echo: cannot start the echo thread\n");
		return;
	}
	thread_deallocate(thread);
	e1000_echo_running = ec;
	printf("e1000echo: echoing every frame, polling (no stack, no en0); "
	    "address %02x:%02x:%02x:%02x:%02x:%02x\n", sc->sc_macaddr[0],
	    sc->sc_macaddr[1], sc->sc_macaddr[2], sc->sc_macaddr[3],
	    sc->sc_macaddr[4], sc->sc_macaddr[5]);
}

static int
mon_e1000echo(int argc, char **argv)
{
	struct e1000_echo *ec = e1000_echo_running;

	if (argc != 1)
		return monitor_usage(argc, argv);
	if (ec == NULL) {
		printf("the echo loop is off: boot with -append e1000echo "
		    "and -device e1000\n");
		return 1;
	}
	printf("echoed %u frames, %u KiB; dropped %u bad; "
	    "%u stalls on a full transmit ring\n", ec->ec_frames,
	    ec->ec_bytes_kb, ec->ec_bad, ec->ec_tx_full);
	return 0;
}
MONITOR_COMMAND(e1000echo, mon_e1000echo, "e1000echo",
    "counters of the e1000 echo loop (boot option e1000echo)");
