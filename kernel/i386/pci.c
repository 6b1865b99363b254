/*
 * PCI enumeration through configuration mechanism #1: write the address
 * of a configuration register to port 0xcf8, then move its data through
 * 0xcfc.  pci_init() probes every slot of bus 0 (and the buses behind
 * PCI-to-PCI bridges), sizes each BAR and keeps what it found for
 * drivers and the `lspci` command.  The firmware (SeaBIOS under QEMU)
 * has already assigned addresses and interrupt lines; we only read them.
 */
#include <sys/systm.h>
#include <i386/pci.h>
#include <i386/pio.h>
#include <kern/monitor.h>
#include <kern/simple_lock.h>

#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_CONFIG_ENABLE	0x80000000u	/* bit 31 of the address */

#define PCI_MAX_BUSES		256
#define PCI_SLOTS_PER_BUS	32
#define PCI_FUNCS_PER_SLOT	8

/*
 * An access is two port operations (address, then data); the lock keeps
 * another CPU or an interrupt handler from moving the address between
 * them.
 */
static simple_lock_data_t pci_config_lock =
    SIMPLE_LOCK_INITIALIZER("pci_config");

/* Filled by pci_init() at boot, read-only afterwards (see pci.h). */
static struct pci_device pci_devices[PCI_MAX_DEVICES];
static int pci_ndevices;
static int pci_nskipped;		/* functions beyond the table */
static bool pci_bus_scanned[PCI_MAX_BUSES];

/* ---------------------------------------------------------------- */
/* Configuration space access                                        */

static uint32_t
pci_config_address(const struct pci_device *pd, uint8_t reg)
{
	return PCI_CONFIG_ENABLE | (uint32_t)pd->pd_bus << 16 |
	    (uint32_t)pd->pd_slot << 11 | (uint32_t)pd->pd_func << 8 |
	    (reg & 0xfc);
}

/* The data port for `reg`: 0xcfc plus the byte offset in the dword. */
#define PCI_DATA_PORT(reg)	(PCI_CONFIG_DATA + ((reg) & 3))

uint8_t
pci_config_read8(const struct pci_device *pd, uint8_t reg)
{
	uint8_t v;

	simple_lock(&pci_config_lock);
	outl(PCI_CONFIG_ADDRESS, pci_config_address(pd, reg));
	v = inb(PCI_DATA_PORT(reg));
	simple_unlock(&pci_config_lock);
	return v;
}

uint16_t
pci_config_read16(const struct pci_device *pd, uint8_t reg)
{
	uint16_t v;

	simple_lock(&pci_config_lock);
	outl(PCI_CONFIG_ADDRESS, pci_config_address(pd, reg));
	v = inw(PCI_DATA_PORT(reg));
	simple_unlock(&pci_config_lock);
	return v;
}

uint32_t
pci_config_read32(const struct pci_device *pd, uint8_t reg)
{
	uint32_t v;

	simple_lock(&pci_config_lock);
	outl(PCI_CONFIG_ADDRESS, pci_config_address(pd, reg));
	v = inl(PCI_CONFIG_DATA);
	simple_unlock(&pci_config_lock);
	return v;
}

void
pci_config_write8(const struct pci_device *pd, uint8_t reg, uint8_t val)
{
	simple_lock(&pci_config_lock);
	outl(PCI_CONFIG_ADDRESS, pci_config_address(pd, reg));
	outb(PCI_DATA_PORT(reg), val);
	simple_unlock(&pci_config_lock);
}

void
pci_config_write16(const struct pci_device *pd, uint8_t reg, uint16_t val)
{
	simple_lock(&pci_config_lock);
	outl(PCI_CONFIG_ADDRESS, pci_config_address(pd, reg));
	outw(PCI_DATA_PORT(reg), val);
	simple_unlock(&pci_config_lock);
}

void
pci_config_write32(const struct pci_device *pd, uint8_t reg, uint32_t val)
{
	simple_lock(&pci_config_lock);
	outl(PCI_CONFIG_ADDRESS, pci_config_address(pd, reg));
	outl(PCI_CONFIG_DATA, val);
	simple_unlock(&pci_config_lock);
}

static void
pci_command_set(const struct pci_device *pd, uint16_t bits)
{
	uint16_t cmd = pci_config_read16(pd, PCI_COMMAND);

	if ((cmd & bits) != bits)
		pci_config_write16(pd, PCI_COMMAND, cmd | bits);
}

void
pci_enable_memory_space(const struct pci_device *pd)
{
	pci_command_set(pd, PCI_COMMAND_MEMORY);
}

/* Without this the device's DMA (descriptor and buffer reads) is refused. */
void
pci_enable_busmaster(const struct pci_device *pd)
{
	pci_command_set(pd, PCI_COMMAND_MASTER);
}

/* ---------------------------------------------------------------- */
/* Enumeration                                                       */

/*
 * A BAR's size: write all ones, read back which address bits stuck (the
 * device hard-wires the bits below its size to zero), put the address
 * back.  Decoding is off meanwhile, so that nothing answers at the
 * bogus address of all ones.  Returns the index of the next BAR.
 */
static int
pci_size_bar(struct pci_device *pd, int i)
{
	struct pci_bar *bar = &pd->pd_bar[i];
	uint8_t reg = PCI_BAR0 + 4 * i;
	uint16_t cmd = pci_config_read16(pd, PCI_COMMAND);
	uint32_t orig, probe, mask;

	pci_config_write16(pd, PCI_COMMAND,
	    cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	orig = pci_config_read32(pd, reg);
	pci_config_write32(pd, reg, 0xffffffffu);
	probe = pci_config_read32(pd, reg);
	pci_config_write32(pd, reg, orig);
	pci_config_write16(pd, PCI_COMMAND, cmd);

	if (probe == 0 || probe == 0xffffffffu)
		return i + 1;			/* not implemented */
	bar->pb_io = (orig & PCI_BAR_IO) != 0;
	mask = bar->pb_io ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK;
	if (bar->pb_io)
		probe |= 0xffff0000u;	/* I/O BARs may decode 16 bits only */
	bar->pb_base = orig & mask;
	bar->pb_size = ~(probe & mask) + 1;
	if (!bar->pb_io) {
		bar->pb_prefetch = (orig & PCI_BAR_PREFETCH) != 0;
		/* A 64-bit BAR uses the next slot for its high half; an
		 * i386 kernel can only reach it if that half is zero. */
		if ((orig & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_64) {
			bar->pb_64bit = true;
			return i + 2;
		}
	}
	return i + 1;
}

static void pci_scan_bus(uint8_t bus);

/* Record one function; follow it if it is a bridge to another bus. */
static void
pci_probe_function(uint8_t bus, uint8_t slot, uint8_t func)
{
	struct pci_device probe = { .pd_bus = bus, .pd_slot = slot,
	    .pd_func = func };
	struct pci_device *pd;
	int i;

	if (pci_ndevices == PCI_MAX_DEVICES) {
		pci_nskipped++;
		return;
	}
	pd = &pci_devices[pci_ndevices++];
	*pd = probe;
	pd->pd_vendor = pci_config_read16(pd, PCI_VENDOR_ID);
	pd->pd_device = pci_config_read16(pd, PCI_DEVICE_ID);
	pd->pd_class = pci_config_read8(pd, PCI_CLASS);
	pd->pd_subclass = pci_config_read8(pd, PCI_SUBCLASS);
	pd->pd_prog_if = pci_config_read8(pd, PCI_PROG_IF);
	pd->pd_revision = pci_config_read8(pd, PCI_REVISION_ID);
	pd->pd_header_type = pci_config_read8(pd, PCI_HEADER_TYPE);
	pd->pd_irq_line = pci_config_read8(pd, PCI_INTERRUPT_LINE);
	pd->pd_irq_pin = pci_config_read8(pd, PCI_INTERRUPT_PIN);

	switch (pd->pd_header_type & PCI_HEADER_LAYOUT) {
	case PCI_HEADER_NORMAL:
		for (i = 0; i < PCI_NBARS;)
			i = pci_size_bar(pd, i);
		break;
	case PCI_HEADER_BRIDGE:
		/* Two BARs, then the bus numbers the firmware assigned. */
		for (i = 0; i < 2;)
			i = pci_size_bar(pd, i);
		pci_scan_bus(pci_config_read8(pd, PCI_SECONDARY_BUS));
		break;
	}
}

static bool
pci_function_present(uint8_t bus, uint8_t slot, uint8_t func)
{
	struct pci_device probe = { .pd_bus = bus, .pd_slot = slot,
	    .pd_func = func };

	/* No device answers: the host bridge returns all ones. */
	return pci_config_read16(&probe, PCI_VENDOR_ID) != 0xffff;
}

static void
pci_scan_slot(uint8_t bus, uint8_t slot)
{
	struct pci_device probe = { .pd_bus = bus, .pd_slot = slot };
	uint8_t func, nfuncs = 1;

	if (!pci_function_present(bus, slot, 0))
		return;
	if (pci_config_read8(&probe, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNC)
		nfuncs = PCI_FUNCS_PER_SLOT;
	for (func = 0; func < nfuncs; func++)
		if (pci_function_present(bus, slot, func))
			pci_probe_function(bus, slot, func);
}

static void
pci_scan_bus(uint8_t bus)
{
	uint8_t slot;

	/* A misconfigured bridge could point back at a bus seen already. */
	if (pci_bus_scanned[bus])
		return;
	pci_bus_scanned[bus] = true;
	for (slot = 0; slot < PCI_SLOTS_PER_BUS; slot++)
		pci_scan_slot(bus, slot);
}

void
pci_init(void)
{
	pci_scan_bus(0);
	printf("pci: %d function(s) found", pci_ndevices);
	if (pci_nskipped > 0)
		printf(", %d more not recorded (table full)", pci_nskipped);
	printf("\n");
}

struct pci_device *
pci_find_device(uint16_t vendor, uint16_t device, int index)
{
	int i;

	for (i = 0; i < pci_ndevices; i++) {
		struct pci_device *pd = &pci_devices[i];

		if (pd->pd_vendor == vendor && pd->pd_device == device &&
		    index-- == 0)
			return pd;
	}
	return NULL;
}

/* ---------------------------------------------------------------- */
/* lspci                                                             */

static const struct {
	uint8_t		class, subclass;
	const char	*name;
} pci_class_names[] = {
	{ 0x01, 0x01, "IDE controller" },
	{ 0x01, 0x06, "SATA controller" },
	{ 0x02, 0x00, "Ethernet controller" },
	{ 0x03, 0x00, "VGA controller" },
	{ 0x06, 0x00, "host bridge" },
	{ 0x06, 0x01, "ISA bridge" },
	{ 0x06, 0x04, "PCI bridge" },
	{ 0x06, 0x80, "bridge" },
	{ 0x0c, 0x03, "USB controller" },
};

static const char *
pci_class_name(const struct pci_device *pd)
{
	size_t i;

	for (i = 0; i < sizeof(pci_class_names) / sizeof(pci_class_names[0]);
	    i++)
		if (pci_class_names[i].class == pd->pd_class &&
		    pci_class_names[i].subclass == pd->pd_subclass)
			return pci_class_names[i].name;
	return "other";
}

static void
pci_print_bars(const struct pci_device *pd)
{
	int i;

	for (i = 0; i < PCI_NBARS; i++) {
		const struct pci_bar *bar = &pd->pd_bar[i];

		if (bar->pb_size == 0)
			continue;
		printf("        BAR%d %s 0x%08x size 0x%x%s%s\n", i,
		    bar->pb_io ? "io " : "mem", bar->pb_base, bar->pb_size,
		    bar->pb_64bit ? " 64-bit" : "",
		    bar->pb_prefetch ? " prefetchable" : "");
	}
}

static int
mon_lspci(int argc, char **argv)
{
	int i;

	if (argc != 1)
		return monitor_usage(argc, argv);
	for (i = 0; i < pci_ndevices; i++) {
		const struct pci_device *pd = &pci_devices[i];
		uint16_t cmd = pci_config_read16(pd, PCI_COMMAND);

		printf("%02x:%02x.%x %04x:%04x class %02x%02x%02x rev %02x %s\n",
		    pd->pd_bus, pd->pd_slot, pd->pd_func, pd->pd_vendor,
		    pd->pd_device, pd->pd_class, pd->pd_subclass,
		    pd->pd_prog_if, pd->pd_revision, pci_class_name(pd));
		if (pd->pd_irq_pin != 0)
			printf("        IRQ %u (INT%c#)", pd->pd_irq_line,
			    'A' + pd->pd_irq_pin - 1);
		else
			printf("        no interrupt");
		printf(", command 0x%04x:%s%s%s\n", cmd,
		    (cmd & PCI_COMMAND_IO) ? " io" : "",
		    (cmd & PCI_COMMAND_MEMORY) ? " memory" : "",
		    (cmd & PCI_COMMAND_MASTER) ? " busmaster" : "");
		pci_print_bars(pd);
	}
	if (pci_nskipped > 0)
		printf("(%d more function(s) did not fit the table)\n",
		    pci_nskipped);
	return 0;
}
MONITOR_COMMAND(lspci, mon_lspci, "lspci",
    "PCI functions: ids, class, interrupt line, BARs");
