/*
 * CRC-32 (the IEEE 802.3 polynomial, reflected, as zlib and Ethernet
 * compute it).  The host link checks every frame with it.  The 256-entry
 * table is built on first use: entry i is the CRC of the byte i alone.
 */
#include <sys/systm.h>
#include <kern/selftest.h>
#include <libkern/crc32.h>

#define CRC32_POLY	0xedb88320u	/* 0x04c11db7 bit-reversed */

static uint32_t crc32_table[256];
static bool crc32_ready;

static void
crc32_init(void)
{
	uint32_t i, c;
	int k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32_POLY : c >> 1;
		crc32_table[i] = c;
	}
	crc32_ready = true;
}

uint32_t
crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc32_ready)
		crc32_init();
	crc = ~crc;
	while (len-- > 0)
		crc = crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int
test_crc32(void)
{
	ST_ASSERT(crc32(0, "123456789", 9) == 0xcbf43926);  /* the check value */
	ST_ASSERT(crc32(0, "", 0) == 0);
	/* Feeding in pieces gives the same answer as all at once. */
	ST_ASSERT(crc32(crc32(0, "1234", 4), "56789", 5) == 0xcbf43926);
	return 0;
}
SELFTEST(crc32, test_crc32);
