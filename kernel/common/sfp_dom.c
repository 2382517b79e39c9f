// SPDX-License-Identifier: GPL-2.0
/*
 * Transceiver diagnostics decoding, from the published tables:
 *   SFF-8472 rev 12.4: A0h byte 0 identifier 03h; byte 92 diagnostic
 *     monitoring type (bit 6 implemented, bit 5 internally calibrated, bit 4
 *     externally calibrated); A2h bytes 96-97 temperature (s16, 1/256 degC),
 *     100-101 Tx bias (u16, 2 uA), 102-103 Tx power (u16, 0.1 uW), 104-105
 *     Rx power (u16, 0.1 uW).
 *   SFF-8636 rev 2.10: byte 0 identifier 0Ch/0Dh/11h; bytes 22-23
 *     temperature; 34-41 Rx power lanes 1-4, 42-49 Tx bias, 50-57 Tx power
 *     (units as SFF-8472); page 00h byte 220 diagnostic monitoring type (bit 5
 *     temperature, bit 2 Tx power supported).
 *   CMIS 5.x: byte 0 identifier 18h/19h/1Eh; byte 2 bit 7 flat memory; bytes
 *     14-15 module temperature; page 01h byte 159 module monitors (bit 0
 *     temperature), byte 160 lane monitors (bit 0 Tx bias, 1 Tx power, 2 Rx
 *     power, bits 4-3 bias multiplier x1/x2/x4); page 11h bytes 154-169 Tx
 *     power lanes 1-8, 170-185 Tx bias, 186-201 Rx power.
 * CMIS 5.0 VDM (versatile diagnostics monitoring, section 8.14 / table
 *   8-119) with the C-CMIS 1.1 (OIF-C-CMIS-01.1) coherent observables, as
 *   SONiC's sonic-platform-common (sonic_xcvr cmisVDM.py, the C-CMIS support
 *   design doc) reads them: page 01h byte 142 bit 6 VDM supported; page 2Fh
 *   byte 128 bits 1-0 groups - 1; group g's descriptors at page 20h+g bytes
 *   128 + 2i (even byte: bits 7-4 threshold set, bits 3-0 lane - 1; odd
 *   byte: observable type, 0 unused) and its samples at page 24h+g bytes
 *   128 + 2i.  Observable types used: 15 pre-FEC BER current value, media
 *   input (F16: bits 15-11 exponent e, 10-0 mantissa m, m * 10^(e - 24));
 *   134 CD high granularity, short link (S16, ps/nm); 135 CD low
 *   granularity, long link (S16, 20 ps/nm); 139 OSNR (U16, 0.1 dB).
 * All multi-byte values are big-endian.
 */
#include "sfp_dom.h"
#include "../include/uapi/linux/optifiber.h"

#define DOM_ALL		(OPTIFIBER_ABSENT_TEMPERATURE | \
			 OPTIFIBER_ABSENT_LASER_BIAS | \
			 OPTIFIBER_ABSENT_TX_POWER | OPTIFIBER_ABSENT_RX_POWER)

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

/* s16 in 1/256 degC -> 0.001 degC */
static s32 temp_mc(const u8 *p)
{
	return (s32)(s16)be16(p) * 1000 / 256;
}

/*
 * log2(x) in Q16 for x >= 1, by the digit-by-digit method: normalise to
 * [1, 2) in Q30, then each squaring yields one fractional bit.
 */
static u32 log2_q16(u32 x)
{
	u32 ip = 0, frac = 0, i;
	u64 m;

	while (x >> (ip + 1))
		ip++;
	m = ((u64)x << 30) >> ip;		/* [1, 2) in Q30 */
	for (i = 0; i < 16; i++) {
		m = (m * m) >> 30;
		frac <<= 1;
		if (m >= (2ULL << 30)) {
			m >>= 1;
			frac |= 1;
		}
	}
	return ip << 16 | frac;
}

s32 sfp_dom_power_cdbm(u16 tenth_uw)
{
	/* dBm = 10 log10(v / 10000 mW) = 10 log10(2) log2(v) - 40 */
	u64 l;

	if (!tenth_uw)
		return SFP_DOM_POWER_FLOOR_CDBM;
	/* 1000 * log10(2) = 301.02999566, in Q16: 19728302 */
	l = (u64)log2_q16(tenth_uw) * 19728302ULL;
	return (s32)((l + (1ULL << 31)) >> 32) - 4000;
}

/* Lanes at @p (stride 2): lowest power, highest bias. */
static s32 min_power(const u8 *p, u32 lanes)
{
	s32 best = 0x7fffffff, v;
	u32 i;

	for (i = 0; i < lanes; i++) {
		v = sfp_dom_power_cdbm(be16(p + 2 * i));
		if (v < best)
			best = v;
	}
	return best;
}

static u32 max_bias_ua(const u8 *p, u32 lanes, u32 mul)
{
	u32 best = 0, v, i;

	for (i = 0; i < lanes; i++) {
		v = (u32)be16(p + 2 * i) * 2 * mul;
		if (v > best)
			best = v;
	}
	return best;
}

static void decode_sff8472(const struct sfp_dom_raw *r, struct sfp_dom *d)
{
	u8 type = r->lower[92];
	const u8 *a2 = r->a2;

	/* implemented and internally calibrated; external needs floats */
	if (!a2 || !(type & 0x40) || !(type & 0x20))
		return;
	d->lanes = 1;
	d->temperature_mc = temp_mc(a2 + 96);
	d->laser_bias_ua = (u32)be16(a2 + 100) * 2;
	d->tx_power_cdbm = sfp_dom_power_cdbm(be16(a2 + 102));
	d->rx_power_cdbm = sfp_dom_power_cdbm(be16(a2 + 104));
	d->absent &= ~DOM_ALL;
}

static void decode_sff8636(const struct sfp_dom_raw *r, struct sfp_dom *d,
			   u32 lanes)
{
	const u8 *lo = r->lower;
	u8 type;

	/* without page 00h the monitors' presence is not advertised */
	if (!r->upper00)
		return;
	type = r->upper00[220 - 128];
	d->lanes = lanes;
	if (type & 0x20) {
		d->temperature_mc = temp_mc(lo + 22);
		d->absent &= ~OPTIFIBER_ABSENT_TEMPERATURE;
	}
	/* Rx power and Tx bias monitors are mandatory in SFF-8636 */
	d->rx_power_cdbm = min_power(lo + 34, lanes);
	d->laser_bias_ua = max_bias_ua(lo + 42, lanes, 1);
	d->absent &= ~(OPTIFIBER_ABSENT_RX_POWER | OPTIFIBER_ABSENT_LASER_BIAS);
	if (type & 0x04) {
		d->tx_power_cdbm = min_power(lo + 50, lanes);
		d->absent &= ~OPTIFIBER_ABSENT_TX_POWER;
	}
}

static void decode_cmis(const struct sfp_dom_raw *r, struct sfp_dom *d,
			u32 lanes)
{
	const u8 *lo = r->lower, *p1 = r->upper01, *p11 = r->upper11;
	u8 mods, mons;
	u32 mul;

	/* flat memory: no page 01h advertising monitors, nothing to trust */
	if ((lo[2] & 0x80) || !p1)
		return;
	mods = p1[159 - 128];
	mons = p1[160 - 128];
	if (mods & 0x01) {
		d->temperature_mc = temp_mc(lo + 14);
		d->absent &= ~OPTIFIBER_ABSENT_TEMPERATURE;
	}
	if (!p11)
		return;
	d->lanes = lanes;
	if (mons & 0x02) {
		d->tx_power_cdbm = min_power(p11 + 154 - 128, lanes);
		d->absent &= ~OPTIFIBER_ABSENT_TX_POWER;
	}
	if (mons & 0x01) {
		mul = 1U << ((mons >> 3) & 0x3);
		if (mul <= 4) {
			d->laser_bias_ua = max_bias_ua(p11 + 170 - 128, lanes,
						       mul);
			d->absent &= ~OPTIFIBER_ABSENT_LASER_BIAS;
		}
	}
	if (mons & 0x04) {
		d->rx_power_cdbm = min_power(p11 + 186 - 128, lanes);
		d->absent &= ~OPTIFIBER_ABSENT_RX_POWER;
	}
}

u32 sfp_dom_decode(const struct sfp_dom_raw *raw, u32 max_lanes,
		   struct sfp_dom *out)
{
	u8 id;

	*out = (struct sfp_dom){ .absent = DOM_ALL };
	if (!raw->lower)
		return SFP_DOM_NONE;
	id = raw->lower[0];
	switch (id) {
	case 0x03:			/* SFP/SFP+/SFP28 */
		out->spec = SFP_DOM_SFF8472;
		decode_sff8472(raw, out);
		break;
	case 0x0c: case 0x0d: case 0x11:	/* QSFP, QSFP+, QSFP28 */
		out->spec = SFP_DOM_SFF8636;
		decode_sff8636(raw, out, max_lanes && max_lanes < 4 ?
			       max_lanes : 4);
		break;
	case 0x18: case 0x19: case 0x1e:	/* QSFP-DD, OSFP, QSFP+ CMIS */
		out->spec = SFP_DOM_CMIS;
		decode_cmis(raw, out, max_lanes && max_lanes < 8 ?
			    max_lanes : 8);
		break;
	}
	return out->spec;
}

/* ------------------------------------------------------------- CMIS VDM */

#define VDM_PRE_FEC_BER_MEDIA	15
#define VDM_CD_SHORT		134
#define VDM_CD_LONG		135
#define VDM_OSNR		139
#define VDM_ALL			(OPTIFIBER_ABSENT_PRE_FEC_BER | \
				 OPTIFIBER_ABSENT_OSNR | OPTIFIBER_ABSENT_CD)
#define E18			1000000000000000000ULL

/*
 * F16 (m * 10^(e - 24)) as BER * 1e18 = m * 10^(e - 6).  -ERANGE when it
 * is not a ratio (above 1): a malformed sample, not a measurement.
 */
static int f16_ber_e18(u16 v, u64 *out)
{
	u32 e = v >> 11, i;
	u64 x = v & 0x7ff, div = 1;

	if (e < 6) {
		for (i = e; i < 6; i++)
			div *= 10;
		*out = (x + div / 2) / div;
		return 0;
	}
	for (i = 6; i < e; i++) {
		x *= 10;
		if (x > E18)
			return -ERANGE;
	}
	*out = x;
	return 0;
}

/* What the observables seen so far gave. */
struct vdm_acc {
	struct sfp_vdm	*d;
	u8		cd_type;	/* the CD observable kept, 0: none */
};

static void vdm_take(struct vdm_acc *a, u8 type, u16 v)
{
	struct sfp_vdm *d = a->d;
	u64 ber;

	switch (type) {
	case VDM_PRE_FEC_BER_MEDIA:
		if (f16_ber_e18(v, &ber))
			break;
		if ((d->absent & OPTIFIBER_ABSENT_PRE_FEC_BER) ||
		    ber > d->pre_fec_ber_e18)
			d->pre_fec_ber_e18 = ber;
		d->absent &= ~OPTIFIBER_ABSENT_PRE_FEC_BER;
		break;
	case VDM_OSNR:
		if ((d->absent & OPTIFIBER_ABSENT_OSNR) ||
		    (s32)v * 10 < d->osnr_cdb)
			d->osnr_cdb = (s32)v * 10;
		d->absent &= ~OPTIFIBER_ABSENT_OSNR;
		break;
	case VDM_CD_SHORT:
	case VDM_CD_LONG:
		/* the first lane's; the finer (short-link) observable wins */
		if (a->cd_type == VDM_CD_SHORT ||
		    (a->cd_type == VDM_CD_LONG && type == VDM_CD_LONG))
			break;
		d->cd_ps_nm = (s32)(s16)v * (type == VDM_CD_LONG ? 20 : 1);
		d->absent &= ~OPTIFIBER_ABSENT_CD;
		a->cd_type = type;
		break;
	}
}

static void vdm_group(struct vdm_acc *a, const u8 *desc, const u8 *smp,
		      u32 lanes)
{
	u32 i;

	for (i = 0; i < SFP_DOM_PAGE_LEN; i += 2) {
		if (!desc[i + 1] || (desc[i] & 0x0f) >= lanes)
			continue;
		vdm_take(a, desc[i + 1], be16(smp + i));
	}
}

u32 sfp_dom_decode_vdm(const struct sfp_dom_raw *raw, u32 max_lanes,
		       struct sfp_vdm *out)
{
	struct vdm_acc a = { .d = out };
	u32 g, lanes = max_lanes ? max_lanes : 16;

	*out = (struct sfp_vdm){ .absent = VDM_ALL };
	if (!raw->lower || !raw->upper01 || !raw->upper2f)
		return 0;
	switch (raw->lower[0]) {
	case 0x18: case 0x19: case 0x1e:	/* CMIS */
		break;
	default:
		return 0;
	}
	if ((raw->lower[2] & 0x80) || !(raw->upper01[142 - 128] & 0x40))
		return 0;
	out->groups = (raw->upper2f[128 - 128] & 0x03) + 1;
	/* a group whose pages could not be read gives nothing */
	for (g = 0; g < out->groups; g++)
		if (raw->vdm_desc[g] && raw->vdm_samples[g])
			vdm_group(&a, raw->vdm_desc[g], raw->vdm_samples[g],
				  lanes);
	return out->groups;
}
