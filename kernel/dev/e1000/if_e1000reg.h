/*
 * The Intel 82540EM's registers and descriptor formats, as far as Finch
 * uses them, named as in the "PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual" (8254x SDM; chapter 13 for the
 * registers, chapter 3 for the descriptors).  Offsets are bytes into
 * BAR0's memory window; every register is 32 bits wide.
 */
#ifndef _DEV_E1000_IF_E1000REG_H_
#define _DEV_E1000_IF_E1000REG_H_

#include <sys/types.h>

#define E1000_VENDOR_INTEL	0x8086
#define E1000_DEV_82540EM	0x100e	/* what QEMU's -device e1000 is */

/* General */
#define E1000_CTRL	0x0000	/* Device Control */
#define E1000_STATUS	0x0008	/* Device Status (read-only) */
#define E1000_EERD	0x0014	/* EEPROM Read */

/* Interrupts */
#define E1000_ICR	0x00c0	/* Interrupt Cause Read: reading clears it */
#define E1000_ITR	0x00c4	/* Interrupt Throttling */
#define E1000_ICS	0x00c8	/* Interrupt Cause Set */
#define E1000_IMS	0x00d0	/* Interrupt Mask Set (reads the mask) */
#define E1000_IMC	0x00d8	/* Interrupt Mask Clear */

/* Receive */
#define E1000_RCTL	0x0100	/* Receive Control */
#define E1000_RDBAL	0x2800	/* Receive Descriptor Base Address Low */
#define E1000_RDBAH	0x2804	/* ... High */
#define E1000_RDLEN	0x2808	/* ... ring length in bytes (128-aligned) */
#define E1000_RDH	0x2810	/* Receive Descriptor Head (the NIC's) */
#define E1000_RDT	0x2818	/* Receive Descriptor Tail (ours) */
#define E1000_RDTR	0x2820	/* Receive Delay Timer */
#define E1000_RADV	0x282c	/* Receive Interrupt Absolute Delay Timer */

/* Transmit */
#define E1000_TCTL	0x0400	/* Transmit Control */
#define E1000_TIPG	0x0410	/* Transmit Inter Packet Gap */
#define E1000_TDBAL	0x3800	/* Transmit Descriptor Base Address Low */
#define E1000_TDBAH	0x3804	/* ... High */
#define E1000_TDLEN	0x3808	/* ... ring length in bytes (128-aligned) */
#define E1000_TDH	0x3810	/* Transmit Descriptor Head (the NIC's) */
#define E1000_TDT	0x3818	/* Transmit Descriptor Tail (ours) */
#define E1000_TIDV	0x3820	/* Transmit Interrupt Delay Value */
#define E1000_TADV	0x382c	/* Transmit Absolute Interrupt Delay Value */

/* Address filters */
#define E1000_MTA	0x5200	/* Multicast Table Array, 128 registers */
#define E1000_MTA_SIZE	128
#define E1000_RAL0	0x5400	/* Receive Address Low, entry 0 */
#define E1000_RAH0	0x5404	/* Receive Address High, entry 0 */

/* Statistics: each clears when read */
#define E1000_MPC	0x4010	/* Missed Packets Count (no room) */
#define E1000_GPRC	0x4074	/* Good Packets Received Count */
#define E1000_GPTC	0x4080	/* Good Packets Transmitted Count */
#define E1000_RNBC	0x40a0	/* Receive No Buffers Count */

/* CTRL bits */
#define E1000_CTRL_FD		(1u << 0)	/* full duplex */
#define E1000_CTRL_ASDE		(1u << 5)	/* auto-speed detection */
#define E1000_CTRL_SLU		(1u << 6)	/* set link up */
#define E1000_CTRL_RST		(1u << 26)	/* device reset, self-clearing */
#define E1000_CTRL_PHY_RST	(1u << 31)

/* STATUS bits */
#define E1000_STATUS_FD		(1u << 0)	/* full duplex */
#define E1000_STATUS_LU		(1u << 1)	/* link up */
#define E1000_STATUS_SPEED_SHIFT 6		/* 00 10, 01 100, 1x 1000 Mb/s */
#define E1000_STATUS_SPEED_MASK	(3u << 6)

/* EERD: start a read of one 16-bit EEPROM word, poll DONE, take DATA */
#define E1000_EERD_START	(1u << 0)
#define E1000_EERD_DONE		(1u << 4)
#define E1000_EERD_ADDR_SHIFT	8
#define E1000_EERD_DATA_SHIFT	16
#define E1000_EEPROM_MAC	0	/* words 0-2: the Ethernet address */

/* Interrupt causes: ICR, ICS, IMS and IMC share these bits */
#define E1000_ICR_TXDW		(1u << 0)	/* transmit descriptor written back */
#define E1000_ICR_TXQE		(1u << 1)	/* transmit queue empty */
#define E1000_ICR_LSC		(1u << 2)	/* link status change */
#define E1000_ICR_RXSEQ		(1u << 3)	/* receive sequence error */
#define E1000_ICR_RXDMT0	(1u << 4)	/* receive descriptors below threshold */
#define E1000_ICR_RXO		(1u << 6)	/* receiver overrun */
#define E1000_ICR_RXT0		(1u << 7)	/* receiver timer: frames arrived */

/* RCTL bits */
#define E1000_RCTL_EN		(1u << 1)	/* receiver enable */
#define E1000_RCTL_SBP		(1u << 2)	/* store bad packets */
#define E1000_RCTL_UPE		(1u << 3)	/* unicast promiscuous */
#define E1000_RCTL_MPE		(1u << 4)	/* multicast promiscuous */
#define E1000_RCTL_LPE		(1u << 5)	/* long packets (> 1522 bytes) */
#define E1000_RCTL_RDMTS_HALF	(0u << 8)	/* RXDMT0 at 1/2 of the ring free */
#define E1000_RCTL_BAM		(1u << 15)	/* accept broadcast */
#define E1000_RCTL_BSIZE_2048	(0u << 16)	/* with BSEX clear */
#define E1000_RCTL_SECRC	(1u << 26)	/* strip the Ethernet CRC */

/* TCTL bits */
#define E1000_TCTL_EN		(1u << 1)	/* transmitter enable */
#define E1000_TCTL_PSP		(1u << 3)	/* pad short packets to 64 bytes */
#define E1000_TCTL_CT_SHIFT	4		/* collision threshold */
#define E1000_TCTL_COLD_SHIFT	12		/* collision distance */
#define E1000_TCTL_CT_DEFAULT	0x10		/* SDM's recommended value */
#define E1000_TCTL_COLD_FD	0x40		/* ... for full duplex */

/* TIPG: the SDM's recommended inter-packet gap for the 82540EM's copper PHY */
#define E1000_TIPG_IPGT		10
#define E1000_TIPG_IPGR1_SHIFT	10
#define E1000_TIPG_IPGR1	8
#define E1000_TIPG_IPGR2_SHIFT	20
#define E1000_TIPG_IPGR2	6

/* RAH */
#define E1000_RAH_AV		(1u << 31)	/* address valid */

/*
 * Legacy receive descriptor (SDM 3.2.3).  We fill `addr`; the NIC writes
 * the rest and sets DD in `status` when the buffer holds a frame.
 */
struct e1000_rx_desc {
	uint64_t	addr;		/* physical address of the buffer */
	uint16_t	length;		/* bytes written into the buffer */
	uint16_t	csum;		/* packet checksum */
	uint8_t		status;		/* E1000_RXD_STAT_* */
	uint8_t		errors;		/* E1000_RXD_ERR_* */
	uint16_t	special;	/* VLAN tag */
} __packed;

#define E1000_RXD_STAT_DD	(1u << 0)	/* descriptor done */
#define E1000_RXD_STAT_EOP	(1u << 1)	/* end of packet */

#define E1000_RXD_ERR_CE	(1u << 0)	/* CRC or alignment error */
#define E1000_RXD_ERR_SE	(1u << 1)	/* symbol error */
#define E1000_RXD_ERR_SEQ	(1u << 2)	/* sequence error */
#define E1000_RXD_ERR_CXE	(1u << 4)	/* carrier extension error */
#define E1000_RXD_ERR_RXE	(1u << 7)	/* RX data error */
/* The errors that mean the frame is damaged (not the checksum bits). */
#define E1000_RXD_ERR_FRAME	(E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | \
	E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

/*
 * Legacy transmit descriptor (SDM 3.3.3).  We fill addr, length and cmd;
 * the NIC sets DD in `status` once it has sent the buffer (only if we
 * asked with RS).
 */
struct e1000_tx_desc {
	uint64_t	addr;		/* physical address of the data */
	uint16_t	length;		/* bytes in this buffer */
	uint8_t		cso;		/* checksum offset (unused) */
	uint8_t		cmd;		/* E1000_TXD_CMD_* */
	uint8_t		status;		/* E1000_TXD_STAT_* */
	uint8_t		css;		/* checksum start (unused) */
	uint16_t	special;	/* VLAN tag */
} __packed;

#define E1000_TXD_CMD_EOP	(1u << 0)	/* last buffer of the frame */
#define E1000_TXD_CMD_IFCS	(1u << 1)	/* append the Ethernet CRC */
#define E1000_TXD_CMD_RS	(1u << 3)	/* report status: write DD back */

#define E1000_TXD_STAT_DD	(1u << 0)	/* descriptor done */

#endif /* _DEV_E1000_IF_E1000REG_H_ */
