// SPDX-License-Identifier: GPL-2.0
/*
 * The one writer of a site page's measurements.  Every source (the
 * simulation, the replay of a recording, the network-interface collector)
 * fills a struct ofsim_sample and publishes it here, so the seqcount
 * protocol of the ABI header and the meaning of each field are kept in one
 * place whatever produced the numbers.
 */
#include "ofsim.h"

/*
 * Fields the source marked absent are written as 0: a reader that ignores
 * optifiber_site.absent (ABI minor 0) sees a zero, never a stale value from
 * an earlier sample.
 */
static u64 ofsim_keep(u64 v, u64 absent, u64 bit)
{
	return absent & bit ? 0 : v;
}

static s32 ofsim_keep_s(s32 v, u64 absent, u64 bit)
{
	return absent & bit ? 0 : v;
}

void ofsim_page_publish(struct optifiber_site *pg,
			const struct ofsim_sample *s)
{
	u64 a = s->absent & OPTIFIBER_ABSENT_ALL;
	u32 seq = pg->seq;

	WRITE_ONCE(pg->seq, seq + 1);
	smp_wmb();	/* odd seq visible before any field changes */
	pg->flags = OPTIFIBER_SITE_F_VALID;
	pg->sample_seq = s->sample_seq;
	pg->update_time_ns = s->update_time_ns;
	pg->sim_time_s = s->sim_time_s;
	pg->throughput_bps = ofsim_keep(s->throughput_bps, a,
					OPTIFIBER_ABSENT_THROUGHPUT);
	pg->offered_bps = ofsim_keep(s->offered_bps, a,
				     OPTIFIBER_ABSENT_OFFERED);
	pg->capacity_bps = ofsim_keep(s->capacity_bps, a,
				      OPTIFIBER_ABSENT_CAPACITY);
	pg->module_capacity_bps = ofsim_keep(s->module_capacity_bps, a,
					     OPTIFIBER_ABSENT_MODULE_CAPACITY);
	pg->cmd_modules = (u32)ofsim_keep(s->cmd_modules, a,
					  OPTIFIBER_ABSENT_CMD_MODULES);
	pg->cmd_modules_max = (u32)ofsim_keep(s->cmd_modules_max, a,
					      OPTIFIBER_ABSENT_CMD_MODULES);
	pg->link_state = (u32)ofsim_keep(s->link_state, a,
					 OPTIFIBER_ABSENT_LINK_STATE);
	pg->bytes = ofsim_keep(s->bytes, a, OPTIFIBER_ABSENT_BYTES);
	pg->crc_errors = ofsim_keep(s->crc_errors, a,
				    OPTIFIBER_ABSENT_CRC_ERRORS);
	pg->fec_corrected_bits = ofsim_keep(s->fec_corrected_bits, a,
					    OPTIFIBER_ABSENT_FEC_CORRECTED);
	pg->fec_uncorrectable_blocks =
		ofsim_keep(s->fec_uncorrectable_blocks, a,
			   OPTIFIBER_ABSENT_FEC_UNCORRECTABLE);
	pg->los_events = ofsim_keep(s->los_events, a,
				    OPTIFIBER_ABSENT_LOS_EVENTS);
	pg->pre_fec_ber_e18 = ofsim_keep(s->pre_fec_ber_e18, a,
					 OPTIFIBER_ABSENT_PRE_FEC_BER);
	pg->post_fec_ber_e18 = ofsim_keep(s->post_fec_ber_e18, a,
					  OPTIFIBER_ABSENT_POST_FEC_BER);
	pg->osnr_cdb = ofsim_keep_s(s->osnr_cdb, a, OPTIFIBER_ABSENT_OSNR);
	pg->q_factor_cdb = ofsim_keep_s(s->q_factor_cdb, a,
					OPTIFIBER_ABSENT_Q_FACTOR);
	pg->rx_power_cdbm = ofsim_keep_s(s->rx_power_cdbm, a,
					 OPTIFIBER_ABSENT_RX_POWER);
	pg->tx_power_cdbm = ofsim_keep_s(s->tx_power_cdbm, a,
					 OPTIFIBER_ABSENT_TX_POWER);
	pg->chromatic_dispersion_ps_nm =
		ofsim_keep_s(s->chromatic_dispersion_ps_nm, a,
			     OPTIFIBER_ABSENT_CD);
	pg->laser_bias_ua = (u32)ofsim_keep(s->laser_bias_ua, a,
					    OPTIFIBER_ABSENT_LASER_BIAS);
	pg->temperature_mc = ofsim_keep_s(s->temperature_mc, a,
					  OPTIFIBER_ABSENT_TEMPERATURE);
	pg->fault = (u32)ofsim_keep(s->fault, a, OPTIFIBER_ABSENT_FAULT);
	pg->fault_start_sim_s = ofsim_keep(s->fault_start_sim_s, a,
					   OPTIFIBER_ABSENT_FAULT);
	pg->fault_end_sim_s = ofsim_keep(s->fault_end_sim_s, a,
					 OPTIFIBER_ABSENT_FAULT);
	pg->faults_total = ofsim_keep(s->faults_total, a,
				      OPTIFIBER_ABSENT_FAULT);
	pg->absent = a;
	smp_wmb();	/* every field stored before the even seq */
	WRITE_ONCE(pg->seq, seq + 2);
}
