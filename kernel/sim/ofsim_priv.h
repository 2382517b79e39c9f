/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the simulation core (ofsim.c and ofsim_cmd.c): the per-site
 * state and the model constants.  Hosts use ofsim.h only.
 */
#ifndef _OFSIM_PRIV_H
#define _OFSIM_PRIV_H

#include "ofsim.h"

#define OFSIM_MODULE_CAPACITY_BPS	400000000000ULL	/* 400 Gbit/s */
#define OFSIM_CMD_MODULES_MAX		16	/* CMD slots per chassis */
#define OFSIM_E18			1000000000000000000ULL
#define OFSIM_PPM			1000000

/* Pre-FEC BER above which the link is DEGRADED (and the FEC limit): 1e-4. */
#define OFSIM_FEC_LIMIT_E18		100000000000000ULL
/* Received power below which the receiver declares loss of signal. */
#define OFSIM_LOS_CDBM			(-3000)
#define OFSIM_LOS_RX_CDBM		(-4000)

/* Growth factor cap (Q40): 100x the initial load, to bound the numbers. */
#define OFSIM_Q40			(1ULL << 40)
#define OFSIM_GROWTH_CAP_Q40		(100ULL << 40)

struct ofsim_site {
	/*
	 * Two PRNG streams: rng drives the process noise and draws the same
	 * number of values on every tick whatever happens, frng drives the
	 * faults.  A run with an injected fault therefore has the same noise
	 * as its no-fault twin, and the two agree again once the fault ends.
	 */
	u64	rng;
	u64	frng;

	/* constants derived from (seed, site index) */
	u64	base_bps;		/* mean offered load at tick 0 */
	u64	growth_q40;		/* compounding growth factor, Q40 */
	u32	growth_ppm_day;		/* growth rate per simulated day */
	u32	daily_amp_ppm;		/* day/night swing of the load */
	u32	weekly_amp_ppm;		/* weekday/weekend swing */
	u32	daily_peak_s;		/* time of day of the busy hour (UTC) */
	u32	fiber_km;
	s32	tx_cdbm;
	s32	span_loss_cdb;		/* fiber and connectors */
	s32	amp_gain_cdb;		/* in-line amplifier */
	s32	osnr_ref_cdb;		/* OSNR at the reference rx power */
	s32	temp_off_mc;
	u32	bias_base_ua;

	/* AR(1) noise states */
	s32	load_noise_ppm;
	s32	rx_noise_cdb;
	s32	osnr_noise_cdb;
	s32	temp_noise_mc;

	u32	modules;

	/* faults */
	u32	fault;			/* OPTIFIBER_FAULT_* in effect */
	u32	pend_op;		/* OFSIM_PEND_* from cmd_control */
	u32	pend_fault;
	u32	pend_duration_s;
	s32	fault_mag;		/* kind-specific magnitude */
	u64	fault_start_s;
	u64	fault_end_s;
	u64	faults_total;

	/* counters and the fractions they carry between ticks */
	u64	bytes;
	u64	crc_errors;
	u64	fec_corrected_bits;
	u64	fec_uncorrectable_blocks;
	u64	los_events;
	u64	fec_rem_e18;		/* corrected bits, fraction * 1e18 */
	u64	post_rem_e18;		/* post-FEC error bits, fraction * 1e18 */
	u64	post_bits_acc;		/* post-FEC error bits not yet counted */
	u32	in_los;
};

enum {
	OFSIM_PEND_NONE = 0,
	OFSIM_PEND_START,
	OFSIM_PEND_CLEAR,
};

/* Pre-FEC BER * 1e18 at an OSNR (0.01 dB), through Q; for the tests. */
u64 ofsim_osnr_to_ber_e18(s32 osnr_cdb);
/* Post-FEC BER * 1e18 from pre-FEC BER * 1e18; for the tests. */
u64 ofsim_post_fec_ber_e18(u64 pre_e18);

#endif /* _OFSIM_PRIV_H */
