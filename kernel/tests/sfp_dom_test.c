// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kernel/common/sfp_dom.c against EEPROM byte layouts built
 * here from the published tables (offsets in sfp_dom.c's header comment):
 * SFF-8472, SFF-8636 and CMIS, present and absent monitors, the power
 * conversion against log10 in double precision.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../common/sfp_dom.h"
#include "../include/uapi/linux/optifiber.h"
#include "of_test.h"

#define DOM_ALL	(OPTIFIBER_ABSENT_TEMPERATURE | OPTIFIBER_ABSENT_LASER_BIAS | \
		 OPTIFIBER_ABSENT_TX_POWER | OPTIFIBER_ABSENT_RX_POWER)

static void put16(u8 *p, unsigned int v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

/* 0.01 dBm from 0.1 uW, the reference (double) conversion */
static int ref_cdbm(unsigned int v)
{
	return (int)lround(1000 * log10(v / 10000.0));
}

static int t_power(void)
{
	unsigned int v;

	for (v = 1; v <= 65535; v++) {
		int got = sfp_dom_power_cdbm((u16)v), want = ref_cdbm(v);

		CHECK(got - want <= 1 && want - got <= 1,
		      "%u x 0.1 uW: %d, want %d", v, got, want);
	}
	CHECK(sfp_dom_power_cdbm(10000) == 0, "1 mW is 0 dBm: %d",
	      sfp_dom_power_cdbm(10000));
	CHECK(sfp_dom_power_cdbm(0) == SFP_DOM_POWER_FLOOR_CDBM, "0 is the floor");
	return 1;
}

static int t_sff8472(void)
{
	u8 a0[128] = { 0 }, a2[128] = { 0 };
	struct sfp_dom_raw raw = { .lower = a0, .a2 = a2 };
	struct sfp_dom d;

	a0[0] = 0x03;
	a0[92] = 0x40 | 0x20 | 0x08;	/* DDM, internal cal, average power */
	put16(a2 + 96, (u16)(s16)(-5 * 256 - 128));	/* -5.5 degC */
	put16(a2 + 100, 3000);		/* 6 mA */
	put16(a2 + 102, 5012);		/* 0.5012 mW = -3.00 dBm */
	put16(a2 + 104, 126);		/* 12.6 uW = -19.00 dBm */
	CHECK(sfp_dom_decode(&raw, 0, &d) == SFP_DOM_SFF8472, "spec %u", d.spec);
	CHECK(d.absent == 0, "absent %#llx", (unsigned long long)d.absent);
	CHECK(d.temperature_mc == -5500, "temp %d", d.temperature_mc);
	CHECK(d.laser_bias_ua == 6000, "bias %u", d.laser_bias_ua);
	CHECK(d.tx_power_cdbm == -300, "tx %d", d.tx_power_cdbm);
	CHECK(d.rx_power_cdbm == -1900, "rx %d", d.rx_power_cdbm);

	a0[92] = 0x40 | 0x10;		/* externally calibrated */
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == DOM_ALL, "external calibration: all absent, %#llx",
	      (unsigned long long)d.absent);
	a0[92] = 0;			/* no DDM */
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == DOM_ALL, "no DDM: all absent");
	a0[92] = 0x60;
	raw.a2 = NULL;			/* the driver gave only A0h */
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == DOM_ALL, "no A2h: all absent");
	return 1;
}

static int t_sff8636(void)
{
	u8 lo[128] = { 0 }, up[128] = { 0 };
	struct sfp_dom_raw raw = { .lower = lo, .upper00 = up };
	static const unsigned int rx[4] = { 10000, 7943, 12589, 9000 };
	struct sfp_dom d;
	int i;

	lo[0] = 0x11;			/* QSFP28 */
	put16(lo + 22, 40 * 256);	/* 40 degC */
	for (i = 0; i < 4; i++) {
		put16(lo + 34 + 2 * i, rx[i]);
		put16(lo + 42 + 2 * i, 2500 + 100 * i);	/* 5.0 .. 5.6 mA */
		put16(lo + 50 + 2 * i, 10000);
	}
	up[220 - 128] = 0x20 | 0x08 | 0x04;	/* temp, avg rx, tx power */
	CHECK(sfp_dom_decode(&raw, 0, &d) == SFP_DOM_SFF8636, "spec %u", d.spec);
	CHECK(d.absent == 0 && d.lanes == 4, "absent %#llx lanes %u",
	      (unsigned long long)d.absent, d.lanes);
	CHECK(d.temperature_mc == 40000, "temp %d", d.temperature_mc);
	CHECK(d.rx_power_cdbm == -100, "lowest lane rx %d (-1.00 dBm)",
	      d.rx_power_cdbm);
	CHECK(d.laser_bias_ua == 5600, "highest lane bias %u", d.laser_bias_ua);
	CHECK(d.tx_power_cdbm == 0, "tx %d", d.tx_power_cdbm);

	up[220 - 128] = 0x08;		/* no temp, no tx power monitor */
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == (OPTIFIBER_ABSENT_TEMPERATURE |
			   OPTIFIBER_ABSENT_TX_POWER),
	      "unadvertised monitors absent: %#llx",
	      (unsigned long long)d.absent);
	raw.upper00 = NULL;
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == DOM_ALL, "no page 00h: all absent");
	return 1;
}

static int t_cmis(void)
{
	u8 lo[128] = { 0 }, p1[128] = { 0 }, p11[128] = { 0 };
	struct sfp_dom_raw raw = { .lower = lo, .upper01 = p1, .upper11 = p11 };
	struct sfp_dom d;
	int i;

	lo[0] = 0x18;			/* QSFP-DD */
	lo[2] = 0;			/* paged memory */
	put16(lo + 14, 55 * 256 + 64);	/* 55.25 degC */
	p1[159 - 128] = 0x01;		/* temperature monitor */
	p1[160 - 128] = 0x01 | 0x02 | 0x04 | 0x08;	/* bias x2, tx, rx */
	for (i = 0; i < 8; i++) {
		put16(p11 + 154 - 128 + 2 * i, 15849);	/* +2.00 dBm */
		put16(p11 + 170 - 128 + 2 * i, 10000 + i);	/* 2 uA x2 */
		put16(p11 + 186 - 128 + 2 * i, i == 5 ? 1000 : 6310);
	}
	CHECK(sfp_dom_decode(&raw, 0, &d) == SFP_DOM_CMIS, "spec %u", d.spec);
	CHECK(d.absent == 0 && d.lanes == 8, "absent %#llx",
	      (unsigned long long)d.absent);
	CHECK(d.temperature_mc == 55250, "temp %d", d.temperature_mc);
	CHECK(d.tx_power_cdbm == 200, "tx %d", d.tx_power_cdbm);
	CHECK(d.laser_bias_ua == (10000 + 7) * 2 * 2, "bias with x2 multiplier %u",
	      d.laser_bias_ua);
	CHECK(d.rx_power_cdbm == -1000, "lane 6 is the lowest rx: %d",
	      d.rx_power_cdbm);
	CHECK(sfp_dom_decode(&raw, 4, &d) == SFP_DOM_CMIS &&
	      d.rx_power_cdbm == -200 && d.lanes == 4,
	      "max_lanes 4 ignores lane 6: %d", d.rx_power_cdbm);

	p1[160 - 128] = 0x04;		/* only rx power advertised */
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == (OPTIFIBER_ABSENT_TX_POWER | OPTIFIBER_ABSENT_LASER_BIAS),
	      "unadvertised lane monitors absent: %#llx",
	      (unsigned long long)d.absent);
	raw.upper11 = NULL;
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == (DOM_ALL & ~OPTIFIBER_ABSENT_TEMPERATURE),
	      "no page 11h: only temperature");
	lo[2] = 0x80;			/* flat memory */
	sfp_dom_decode(&raw, 0, &d);
	CHECK(d.absent == DOM_ALL, "flat memory: all absent");
	return 1;
}

static int t_unknown(void)
{
	u8 lo[128] = { 0x0b };		/* DWDM SFP (not handled): nothing */
	struct sfp_dom_raw raw = { .lower = lo };
	struct sfp_dom d;

	CHECK(sfp_dom_decode(&raw, 0, &d) == SFP_DOM_NONE && d.absent == DOM_ALL,
	      "unknown identifier");
	raw.lower = NULL;
	CHECK(sfp_dom_decode(&raw, 0, &d) == SFP_DOM_NONE && d.absent == DOM_ALL,
	      "no EEPROM");
	return 1;
}

int main(void)
{
	run("sfp_dom_power_conversion_within_0.01_dB", t_power);
	run("sfp_dom_sff8472_a2h", t_sff8472);
	run("sfp_dom_sff8636_lanes", t_sff8636);
	run("sfp_dom_cmis_page_11h", t_cmis);
	run("sfp_dom_unknown_or_missing_eeprom", t_unknown);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
