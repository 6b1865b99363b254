/*
 * PCI: the bus the e1000 sits on.  pci_init() walks the buses once at
 * boot through configuration mechanism #1 (ports 0xcf8/0xcfc) and keeps
 * a table of the functions it found; drivers look themselves up by
 * vendor and device id, then read their BARs and interrupt line.
 */
#ifndef _I386_PCI_H_
#define _I386_PCI_H_

#include <sys/types.h>

/* Configuration space header, type 0 (and the bridge fields of type 1). */
#define PCI_VENDOR_ID		0x00	/* 16 bits; 0xffff: no function */
#define PCI_DEVICE_ID		0x02	/* 16 */
#define PCI_COMMAND		0x04	/* 16 */
#define PCI_STATUS		0x06	/* 16 */
#define PCI_REVISION_ID		0x08	/* 8 */
#define PCI_PROG_IF		0x09	/* 8 */
#define PCI_SUBCLASS		0x0a	/* 8 */
#define PCI_CLASS		0x0b	/* 8 */
#define PCI_HEADER_TYPE		0x0e	/* 8 */
#define PCI_BAR0		0x10	/* six 32-bit BARs, 0x10..0x24 */
#define PCI_SECONDARY_BUS	0x19	/* 8, bridges only */
#define PCI_INTERRUPT_LINE	0x3c	/* 8: IRQ the firmware routed us to */
#define PCI_INTERRUPT_PIN	0x3d	/* 8: 0 none, 1..4 INTA#..INTD# */

#define PCI_COMMAND_IO		0x0001	/* respond to I/O space accesses */
#define PCI_COMMAND_MEMORY	0x0002	/* respond to memory space accesses */
#define PCI_COMMAND_MASTER	0x0004	/* may start DMA (bus mastering) */
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_HEADER_MULTIFUNC	0x80	/* in PCI_HEADER_TYPE */
#define PCI_HEADER_LAYOUT	0x7f
#define PCI_HEADER_NORMAL	0
#define PCI_HEADER_BRIDGE	1	/* PCI-to-PCI bridge */

#define PCI_BAR_IO		0x1	/* bit 0: I/O space BAR */
#define PCI_BAR_MEM_TYPE	0x6	/* bits 1-2 of a memory BAR */
#define PCI_BAR_MEM_64		0x4	/* ... 64-bit: this BAR and the next */
#define PCI_BAR_PREFETCH	0x8
#define PCI_BAR_IO_MASK		0xfffffffcu
#define PCI_BAR_MEM_MASK	0xfffffff0u

#define PCI_NBARS		6
#define PCI_MAX_DEVICES		32	/* functions kept in the table */

struct pci_bar {
	uint32_t	pb_base;	/* bus (= physical) address; 0: unused */
	uint32_t	pb_size;	/* bytes decoded */
	bool		pb_io;		/* I/O ports, not memory */
	bool		pb_prefetch;
	bool		pb_64bit;	/* the next BAR holds the high half */
};

/*
 * One PCI function.  The table is filled by pci_init() during boot,
 * before any other thread runs, and only read afterwards: no lock.
 */
struct pci_device {
	uint8_t		pd_bus;
	uint8_t		pd_slot;	/* "device" number, 0..31 */
	uint8_t		pd_func;	/* 0..7 */
	uint16_t	pd_vendor;
	uint16_t	pd_device;
	uint8_t		pd_class;
	uint8_t		pd_subclass;
	uint8_t		pd_prog_if;
	uint8_t		pd_revision;
	uint8_t		pd_header_type;
	uint8_t		pd_irq_line;	/* 0xff: not routed */
	uint8_t		pd_irq_pin;
	struct pci_bar	pd_bar[PCI_NBARS];
};

/* Walk every bus reachable from bus 0 and fill the device table. */
void	pci_init(void);

/* The `index`-th function (0 first) with this vendor and device id. */
struct pci_device *pci_find_device(uint16_t vendor, uint16_t device,
	    int index);

/* Configuration space accesses; `reg` is a byte offset, aligned to the
 * access size.  Safe from any context (a spin lock pairs 0xcf8/0xcfc). */
uint8_t		pci_config_read8(const struct pci_device *pd, uint8_t reg);
uint16_t	pci_config_read16(const struct pci_device *pd, uint8_t reg);
uint32_t	pci_config_read32(const struct pci_device *pd, uint8_t reg);
void		pci_config_write8(const struct pci_device *pd, uint8_t reg,
		    uint8_t val);
void		pci_config_write16(const struct pci_device *pd, uint8_t reg,
		    uint16_t val);
void		pci_config_write32(const struct pci_device *pd, uint8_t reg,
		    uint32_t val);

/* Turn on decoding of the function's memory BARs / its right to DMA. */
void	pci_enable_memory_space(const struct pci_device *pd);
void	pci_enable_busmaster(const struct pci_device *pd);

#endif /* _I386_PCI_H_ */
