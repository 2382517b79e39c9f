/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transceiver diagnostics (DOM / DDM) decoding: module EEPROM bytes ->
 * page units.  One file for the kernel module's interface collector and for
 * the user-space unit test (kernel/tests/sfp_dom_test.c), which builds byte
 * layouts from the published tables.  Integer arithmetic only.
 */
#ifndef _SFP_DOM_H
#define _SFP_DOM_H

#include "../sim/ofsim_compat.h"

#define SFP_DOM_PAGE_LEN	128
/* CMIS VDM: up to four groups of 64 observables (a descriptor page each) */
#define SFP_VDM_GROUPS		4

/*
 * What the collector read.  Each buffer is 128 bytes or NULL when the driver
 * did not provide it (no module EEPROM, a flat-memory module, a page the
 * module does not implement).
 *   SFF-8472 (SFP):   lower = A0h 0..127, a2 = A2h 0..127
 *   SFF-8636 (QSFP):  lower = 0..127, upper00 = page 00h 128..255
 *   CMIS (QSFP-DD, OSFP): lower = 0..127, upper01 = page 01h 128..255,
 *                     upper11 = page 11h 128..255 (bank 0)
 */
struct sfp_dom_raw {
	const u8	*lower;
	const u8	*a2;
	const u8	*upper00;
	const u8	*upper01;
	const u8	*upper11;
	/* CMIS VDM (see sfp_dom_decode_vdm()), each NULL if not read */
	const u8	*upper2f;
	const u8	*vdm_desc[SFP_VDM_GROUPS];	/* pages 20h..23h */
	const u8	*vdm_samples[SFP_VDM_GROUPS];	/* pages 24h..27h */
};

enum sfp_dom_spec {
	SFP_DOM_NONE = 0,	/* unknown identifier or no EEPROM */
	SFP_DOM_SFF8472,
	SFP_DOM_SFF8636,
	SFP_DOM_CMIS,
};

/* Decoded values in the units of struct optifiber_site. */
struct sfp_dom {
	u32	spec;			/* enum sfp_dom_spec */
	u32	lanes;			/* lanes the values were taken from */
	s32	temperature_mc;		/* module temperature, 0.001 degC */
	u32	laser_bias_ua;		/* highest lane bias, uA */
	s32	tx_power_cdbm;		/* lowest lane tx power, 0.01 dBm */
	s32	rx_power_cdbm;		/* lowest lane rx power, 0.01 dBm */
	/* OPTIFIBER_ABSENT_{TEMPERATURE,LASER_BIAS,TX_POWER,RX_POWER} */
	u64	absent;
};

/* Coherent monitors from the CMIS VDM, in the units of struct optifiber_site. */
struct sfp_vdm {
	u32	groups;			/* VDM groups the module advertises */
	u64	pre_fec_ber_e18;	/* worst media lane, BER * 1e18 */
	s32	osnr_cdb;		/* lowest media lane, 0.01 dB */
	s32	cd_ps_nm;		/* first media lane, ps/nm */
	/* OPTIFIBER_ABSENT_{PRE_FEC_BER,OSNR,CD} */
	u64	absent;
};

/* Power of 0 (below the monitor's range) reads as this: -40 dBm. */
#define SFP_DOM_POWER_FLOOR_CDBM	(-4000)

/*
 * Decode what @raw holds.  Fields the module does not implement or
 * advertise, or that need external calibration (SFF-8472 with floating
 * point constants), are marked absent in @out->absent.  Returns the spec.
 */
u32 sfp_dom_decode(const struct sfp_dom_raw *raw, u32 max_lanes,
		   struct sfp_dom *out);

/*
 * Coherent monitors of a CMIS module from its VDM (pages 20h-27h, 2Fh).
 * What the module does not advertise, or a page the collector could not
 * read, is marked absent in @out->absent.  Returns the advertised groups
 * (0: no VDM).
 */
u32 sfp_dom_decode_vdm(const struct sfp_dom_raw *raw, u32 max_lanes,
		       struct sfp_vdm *out);

/* 0.1 uW units -> 0.01 dBm (10 * log10(mW) * 100), floor for 0. */
s32 sfp_dom_power_cdbm(u16 tenth_uw);

#endif /* _SFP_DOM_H */
