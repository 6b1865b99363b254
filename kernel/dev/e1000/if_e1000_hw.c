/*
 * The e1000's hardware half, shared by the driver (if_e1000.c) and the
 * echo loop (if_e1000_echo.c): find the 82540EM on the PCI bus, map its
 * registers, reset it, read its Ethernet address, and point it at the
 * descriptor rings.  Nothing here knows about mbufs or interfaces.
 */
#include <sys/systm.h>
#include <kern/clock.h>
#include <kern/vm_page.h>
#include <i386/pci.h>
#include <i386/pmap.h>
#include <dev/e1000/if_e1000reg.h>
#include <dev/e1000/if_e1000var.h>

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "SDM 3.2.3: 16 bytes");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "SDM 3.3.3: 16 bytes");
_Static_assert(E1000_NRXDESC * sizeof(struct e1000_rx_desc) <= PAGE_SIZE &&
    E1000_NTXDESC * sizeof(struct e1000_tx_desc) <= PAGE_SIZE,
    "each ring lives in one page");

#define E1000_RESET_WAIT_US	10	/* per poll of CTRL.RST */
#define E1000_RESET_POLLS	1000
#define E1000_EERD_POLLS	10000

/* Global reset (SDM 14.5): all registers to defaults, DMA stopped. */
static void
e1000_reset(struct e1000_softc *sc)
{
	int i;

	e1000_write(sc, E1000_IMC, 0xffffffffu);
	e1000_write(sc, E1000_CTRL, e1000_read(sc, E1000_CTRL) | E1000_CTRL_RST);
	for (i = 0; i < E1000_RESET_POLLS; i++) {
		delay(E1000_RESET_WAIT_US);
		if ((e1000_read(sc, E1000_CTRL) & E1000_CTRL_RST) == 0)
			break;
	}
	/* A reset leaves every interrupt masked; mask anyway (the NIC may
	 * ignore writes while resetting), and read ICR to throw away the
	 * causes raised before. */
	e1000_write(sc, E1000_IMC, 0xffffffffu);
	(void)e1000_read(sc, E1000_ICR);

	/* Let the MAC follow the PHY's autonegotiated speed and link
	 * (SDM 14.3: SLU and ASDE for the 82540EM's internal PHY). */
	e1000_write(sc, E1000_CTRL, (e1000_read(sc, E1000_CTRL) |
	    E1000_CTRL_SLU | E1000_CTRL_ASDE) & ~E1000_CTRL_PHY_RST);
}

/* One 16-bit word of the EEPROM through EERD; false on timeout. */
static bool
e1000_eeprom_read(struct e1000_softc *sc, uint8_t word, uint16_t *out)
{
	uint32_t v;
	int i;

	e1000_write(sc, E1000_EERD,
	    E1000_EERD_START | (uint32_t)word << E1000_EERD_ADDR_SHIFT);
	for (i = 0; i < E1000_EERD_POLLS; i++) {
		v = e1000_read(sc, E1000_EERD);
		if (v & E1000_EERD_DONE) {
			*out = v >> E1000_EERD_DATA_SHIFT;
			return true;
		}
	}
	return false;
}

/*
 * The Ethernet address: EEPROM words 0-2, low byte first (SDM 5.6.1).
 * Should the EEPROM not answer, take what the NIC loaded from it into
 * receive address 0 at reset.
 */
static void
e1000_read_macaddr(struct e1000_softc *sc)
{
	uint16_t w;
	uint32_t ral, rah;
	int i;

	for (i = 0; i < 3; i++) {
		if (!e1000_eeprom_read(sc, E1000_EEPROM_MAC + i, &w))
			break;
		sc->sc_macaddr[2 * i] = w & 0xff;
		sc->sc_macaddr[2 * i + 1] = w >> 8;
	}
	if (i == 3)
		return;
	ral = e1000_read(sc, E1000_RAL0);
	rah = e1000_read(sc, E1000_RAH0);
	for (i = 0; i < 4; i++)
		sc->sc_macaddr[i] = ral >> (8 * i);
	sc->sc_macaddr[4] = rah;
	sc->sc_macaddr[5] = rah >> 8;
}

/* Accept frames sent to our address; no multicast hash filter (MTA). */
static void
e1000_init_filters(struct e1000_softc *sc)
{
	const uint8_t *a = sc->sc_macaddr;
	int i;

	e1000_write(sc, E1000_RAL0, a[0] | a[1] << 8 | a[2] << 16 |
	    (uint32_t)a[3] << 24);
	e1000_write(sc, E1000_RAH0, a[4] | a[5] << 8 | E1000_RAH_AV);
	for (i = 0; i < E1000_MTA_SIZE; i++)
		e1000_write(sc, E1000_MTA + 4 * i, 0);
}

errno_t
e1000_hw_attach(struct e1000_softc *sc)
{
	struct pci_device *pd;
	struct pci_bar *bar;

	pd = pci_find_device(E1000_VENDOR_INTEL, E1000_DEV_82540EM, 0);
	if (pd == NULL)
		return ENXIO;
	bar = &pd->pd_bar[0];
	if (bar->pb_size == 0 || bar->pb_io || pd->pd_irq_pin == 0 ||
	    pd->pd_irq_line >= 16) {
		printf("e1000: %02x:%02x.%x has no memory BAR0 or no IRQ; "
		    "not using it\n", pd->pd_bus, pd->pd_slot, pd->pd_func);
		return ENXIO;
	}
	sc->sc_pci = pd;
	sc->sc_irq = pd->pd_irq_line;

	/* RAM is identity-mapped; the registers get the same treatment,
	 * uncached, at their bus address. */
	pmap_map_device(bar->pb_base, bar->pb_size);
	sc->sc_regs = (volatile uint8_t *)bar->pb_base;
	pci_enable_memory_space(pd);
	pci_enable_busmaster(pd);

	e1000_reset(sc);
	e1000_read_macaddr(sc);
	e1000_init_filters(sc);
	return 0;
}

/* A zeroed page for a descriptor ring (physical == virtual). */
void *
e1000_ring_alloc(void)
{
	void *page = vm_page_alloc();

	if (page != NULL)
		bzero(page, PAGE_SIZE);
	return page;
}

/*
 * Point the NIC at the receive ring (its descriptors already hold
 * buffers) and turn the receiver on.  RCTL is written here and only
 * here, once: QEMU's e1000 holds back received frames for a second of
 * guest time after every RCTL write.
 */
void
e1000_hw_init_rx(struct e1000_softc *sc, uint32_t rctl_extra)
{
	e1000_write(sc, E1000_RDBAL, (uint32_t)sc->sc_rx_ring);
	e1000_write(sc, E1000_RDBAH, 0);
	e1000_write(sc, E1000_RDLEN,
	    E1000_NRXDESC * sizeof(struct e1000_rx_desc));
	e1000_write(sc, E1000_RDH, 0);
	/* All slots but one are the NIC's (see e1000_rxeof on RDT). */
	e1000_write(sc, E1000_RDT, E1000_NRXDESC - 1);
	/* Interrupt as soon as a frame is in, no delay timers. */
	e1000_write(sc, E1000_RDTR, 0);
	e1000_write(sc, E1000_RADV, 0);
	e1000_write(sc, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM |
	    E1000_RCTL_BSIZE_2048 | E1000_RCTL_SECRC | E1000_RCTL_RDMTS_HALF |
	    rctl_extra);
}

void
e1000_hw_init_tx(struct e1000_softc *sc)
{
	e1000_write(sc, E1000_TDBAL, (uint32_t)sc->sc_tx_ring);
	e1000_write(sc, E1000_TDBAH, 0);
	e1000_write(sc, E1000_TDLEN,
	    E1000_NTXDESC * sizeof(struct e1000_tx_desc));
	e1000_write(sc, E1000_TDH, 0);
	e1000_write(sc, E1000_TDT, 0);
	e1000_write(sc, E1000_TIPG, E1000_TIPG_IPGT |
	    E1000_TIPG_IPGR1 << E1000_TIPG_IPGR1_SHIFT |
	    E1000_TIPG_IPGR2 << E1000_TIPG_IPGR2_SHIFT);
	e1000_write(sc, E1000_TIDV, 0);
	e1000_write(sc, E1000_TADV, 0);
	e1000_write(sc, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
	    E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT |
	    E1000_TCTL_COLD_FD << E1000_TCTL_COLD_SHIFT);
}

bool
e1000_hw_link_up(struct e1000_softc *sc)
{
	return (e1000_read(sc, E1000_STATUS) & E1000_STATUS_LU) != 0;
}
