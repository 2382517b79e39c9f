// Per-site values from the latest tick: one family at a time, one line per
// site. Invalid pages appear only in optifiber_site_page_valid (value 0).
import * as abi from '../../abi/layout.js';
import type { SiteState } from '../../sampler/types.js';
import { escapeLabelValue, type MetricDesc, type Writer } from '../format.js';
import { KeyedLines, ValueLines } from '../lines.js';
import type { CollectContext, Collector } from '../registry.js';

interface Value {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  get: (s: SiteState) => number;
  /** OPTIFIBER_ABSENT_* bit: sites whose writer lacks the field get no line. */
  absent?: number;
}

export const SITE_VALUES: Value[] = [
  { name: 'optifiber_throughput_bytes_per_second', type: 'gauge', help: 'Carried traffic, bytes per second (ABI throughput_bps, bit/s, divided by 8).', get: (s) => s.sample.throughputBps / 8, absent: abi.OPTIFIBER_ABSENT_THROUGHPUT },
  { name: 'optifiber_offered_load_bytes_per_second', type: 'gauge', help: 'Offered traffic demand, bytes per second (ABI offered_bps, bit/s, divided by 8); above capacity means congestion.', get: (s) => s.sample.offeredBps / 8, absent: abi.OPTIFIBER_ABSENT_OFFERED },
  { name: 'optifiber_capacity_bytes_per_second', type: 'gauge', help: 'Link capacity, bytes per second (ABI capacity_bps, bit/s, divided by 8).', get: (s) => s.sample.capacityBps / 8, absent: abi.OPTIFIBER_ABSENT_CAPACITY },
  { name: 'optifiber_cmd_module_capacity_bytes_per_second', type: 'gauge', help: 'Capacity one CMD module adds, bytes per second (ABI module_capacity_bps, bit/s, divided by 8).', get: (s) => s.sample.moduleCapacityBps / 8, absent: abi.OPTIFIBER_ABSENT_MODULE_CAPACITY },
  { name: 'optifiber_cmd_modules', type: 'gauge', help: 'CMD mux/demux modules in service (ABI cmd_modules).', get: (s) => s.sample.cmdModules, absent: abi.OPTIFIBER_ABSENT_CMD_MODULES },
  { name: 'optifiber_cmd_modules_max', type: 'gauge', help: 'CMD module slots in the chassis (ABI cmd_modules_max).', get: (s) => s.sample.cmdModulesMax, absent: abi.OPTIFIBER_ABSENT_CMD_MODULES },
  { name: 'optifiber_link_up', type: 'gauge', help: 'Link carries traffic: 1 when up or degraded, 0 when down (ABI link_state).', get: (s) => (s.sample.linkState === 'up' || s.sample.linkState === 'degraded' ? 1 : 0), absent: abi.OPTIFIBER_ABSENT_LINK_STATE },
  { name: 'optifiber_transferred_bytes_total', type: 'counter', help: 'Carried bytes since the writer was loaded (ABI bytes).', get: (s) => s.sample.bytes, absent: abi.OPTIFIBER_ABSENT_BYTES },
  { name: 'optifiber_crc_errors_total', type: 'counter', help: 'Frames failing CRC since the writer was loaded (ABI crc_errors).', get: (s) => s.sample.crcErrors, absent: abi.OPTIFIBER_ABSENT_CRC_ERRORS },
  { name: 'optifiber_fec_corrected_bit_errors_total', type: 'counter', help: 'Bit errors corrected by FEC since the writer was loaded, a count of bits (ABI fec_corrected_bits). Not _bits_total: promtool lint rejects bits as a non-base unit.', get: (s) => s.sample.fecCorrectedBits, absent: abi.OPTIFIBER_ABSENT_FEC_CORRECTED },
  { name: 'optifiber_fec_uncorrectable_blocks_total', type: 'counter', help: 'FEC blocks beyond correction since the writer was loaded (ABI fec_uncorrectable_blocks).', get: (s) => s.sample.fecUncorrectableBlocks, absent: abi.OPTIFIBER_ABSENT_FEC_UNCORRECTABLE },
  { name: 'optifiber_loss_of_signal_events_total', type: 'counter', help: 'Loss-of-signal events since the writer was loaded (ABI los_events).', get: (s) => s.sample.losEvents, absent: abi.OPTIFIBER_ABSENT_LOS_EVENTS },
  { name: 'optifiber_pre_fec_bit_error_ratio', type: 'gauge', help: 'Pre-FEC bit error ratio, 0..1 (ABI pre_fec_ber_e18, ratio * 1e18).', get: (s) => s.sample.preFecBer, absent: abi.OPTIFIBER_ABSENT_PRE_FEC_BER },
  { name: 'optifiber_post_fec_bit_error_ratio', type: 'gauge', help: 'Post-FEC bit error ratio, 0..1 (ABI post_fec_ber_e18, ratio * 1e18).', get: (s) => s.sample.postFecBer, absent: abi.OPTIFIBER_ABSENT_POST_FEC_BER },
  { name: 'optifiber_osnr_db', type: 'gauge', help: 'Optical signal-to-noise ratio, dB at 0.1 nm reference bandwidth (ABI osnr_cdb, 0.01 dB).', get: (s) => s.sample.osnrDb, absent: abi.OPTIFIBER_ABSENT_OSNR },
  { name: 'optifiber_q_factor_db', type: 'gauge', help: 'Q-factor, dB (ABI q_factor_cdb, 0.01 dB).', get: (s) => s.sample.qFactorDb, absent: abi.OPTIFIBER_ABSENT_Q_FACTOR },
  { name: 'optifiber_rx_power_dbm', type: 'gauge', help: 'Received optical power, dBm (ABI rx_power_cdbm, 0.01 dBm).', get: (s) => s.sample.rxPowerDbm, absent: abi.OPTIFIBER_ABSENT_RX_POWER },
  { name: 'optifiber_tx_power_dbm', type: 'gauge', help: 'Launched optical power, dBm (ABI tx_power_cdbm, 0.01 dBm).', get: (s) => s.sample.txPowerDbm, absent: abi.OPTIFIBER_ABSENT_TX_POWER },
  { name: 'optifiber_chromatic_dispersion_ps_per_nm', type: 'gauge', help: 'Residual chromatic dispersion, ps/nm (ABI chromatic_dispersion_ps_nm).', get: (s) => s.sample.chromaticDispersionPsNm, absent: abi.OPTIFIBER_ABSENT_CD },
  { name: 'optifiber_laser_bias_current_amperes', type: 'gauge', help: 'Laser bias current, amperes (ABI laser_bias_ua, microamperes).', get: (s) => s.sample.laserBiasAmperes, absent: abi.OPTIFIBER_ABSENT_LASER_BIAS },
  { name: 'optifiber_module_temperature_celsius', type: 'gauge', help: 'Transceiver module temperature, degrees Celsius (ABI temperature_mc, 0.001 degC).', get: (s) => s.sample.temperatureCelsius, absent: abi.OPTIFIBER_ABSENT_TEMPERATURE },
  { name: 'optifiber_site_sample_timestamp_seconds', type: 'gauge', help: 'Wall-clock time of the site sample, seconds since the epoch (ABI update_time_ns, ns).', get: (s) => s.sample.updateTimeMs / 1000 },
];

const INFO: MetricDesc = { name: 'optifiber_site_info', type: 'info', help: 'One series per site in the mapping, value 1 (ABI name, site_index).', labels: ['site', 'index'] };
const LINK_STATE: MetricDesc = { name: 'optifiber_link_state', type: 'gauge', help: 'Link state as a state set: 1 for the current state, 0 for the others (ABI link_state: 0 down, 1 up, 2 degraded).', labels: ['site', 'state'] };
const FAULT: MetricDesc = { name: 'optifiber_simulated_fault_info', type: 'info', help: 'Fault injected by the simulation, ground truth for scoring detectors; fault="none" when none (ABI fault).', labels: ['site', 'fault'] };
// Commands (cmd_add) can change this site's capacity only when the page is written by
// the simulation: a replayed recording (source-wide) or a real interface (per site, ABI
// OPTIFIBER_SITE_F_INTERFACE) refuses them, and the remediation service dry-runs it.
const REMEDIABLE: MetricDesc = { name: 'optifiber_site_remediable', type: 'gauge', help: 'Whether commands can change the site (1); 0 for a site fed by a network interface (ABI site flag INTERFACE) or a replayed recording (ABI dir flag REPLAY): commands are refused with 409.', labels: ['site'] };
const VALID: MetricDesc = { name: 'optifiber_site_page_valid', type: 'gauge', help: 'Whether the site page passed validation (magic, ABI version); an invalid page keeps only this series, value 0.', labels: ['site'] };
const STATES = ['down', 'up', 'degraded'] as const;

export class SiteCollector implements Collector {
  readonly name = 'site';
  private lastName = new Map<number, string>();
  private readonly values = SITE_VALUES.map((v) => new ValueLines(v.name));
  private readonly states = STATES.map((k) => new ValueLines('optifiber_link_state', `,state="${k}"`));
  private sites: SiteState[] = [];
  private readonly info = new KeyedLines(
    (i) => `optifiber_site_info{site="${escapeLabelValue(this.sites[i]!.sample.name)}",index="${this.sites[i]!.sample.index}"} 1`,
  );
  private readonly fault = new KeyedLines(
    (i) => `optifiber_simulated_fault_info{site="${escapeLabelValue(this.sites[i]!.sample.name)}",fault="${escapeLabelValue(this.sites[i]!.sample.fault)}"} 1`,
  );
  private readonly valid = new ValueLines('optifiber_site_page_valid');
  private readonly remediable = new ValueLines('optifiber_site_remediable');

  describe(): MetricDesc[] {
    return [
      INFO,
      ...SITE_VALUES.map((v) => ({ name: v.name, type: v.type, help: v.help, labels: ['site'] })),
      LINK_STATE,
      FAULT,
      REMEDIABLE,
      VALID,
    ];
  }

  collect(w: Writer, ctx: CollectContext): void {
    const sites = (this.sites = ctx.tick?.sites ?? []);
    const invalid = ctx.tick?.invalid ?? [];
    const n = sites.length;
    const name = (i: number) => sites[i]!.sample.name;
    for (let i = 0; i < n; i++) this.lastName.set(sites[i]!.sample.index, sites[i]!.sample.name);
    if (n > 0 || invalid.length > 0) {
      w.header(INFO);
      w.raw(this.info.render(n, (i) => `${sites[i]!.sample.name}\0${sites[i]!.sample.index}`));
    }
    if (n > 0) {
      // absent fields (a replayed recording, a NIC without FEC or EEPROM) get no line at all
      const anyAbsent = sites.some((s) => (s.sample.absent ?? 0) !== 0);
      const has = (bit: number | undefined) => (bit === undefined || !anyAbsent ? undefined : (i: number) => ((sites[i]!.sample.absent ?? 0) & bit) === 0);
      const some = (bit: number) => !anyAbsent || sites.some((s) => ((s.sample.absent ?? 0) & bit) === 0);
      SITE_VALUES.forEach((v, k) => {
        if (v.absent !== undefined && !some(v.absent)) return;
        w.header({ name: v.name, type: v.type, help: v.help, labels: ['site'] });
        w.raw(this.values[k]!.render(n, name, (i) => v.get(sites[i]!), has(v.absent)));
      });
      if (some(abi.OPTIFIBER_ABSENT_LINK_STATE)) {
        w.header(LINK_STATE);
        // grouped by state value, which promtool and Prometheus accept (one family, any order)
        STATES.forEach((st, k) => w.raw(this.states[k]!.render(n, name, (i) => (sites[i]!.sample.linkState === st ? 1 : 0), has(abi.OPTIFIBER_ABSENT_LINK_STATE))));
      }
      if (!anyAbsent) {
        w.header(FAULT);
        w.raw(this.fault.render(n, (i) => `${sites[i]!.sample.name}\0${sites[i]!.sample.fault}`));
      } else if (some(abi.OPTIFIBER_ABSENT_FAULT)) {
        // KeyedLines caches by position: render the subset through plain lines
        w.header(FAULT);
        w.raw(sites.filter((s) => ((s.sample.absent ?? 0) & abi.OPTIFIBER_ABSENT_FAULT) === 0).map((s) => `optifiber_simulated_fault_info{site="${escapeLabelValue(s.sample.name)}",fault="${escapeLabelValue(s.sample.fault)}"} 1\n`).join(''));
      }
    }
    if (n > 0) {
      const replay = ctx.tick?.source.dir?.replay === true;
      w.header(REMEDIABLE);
      w.raw(this.remediable.render(n, name, (i) => (replay || sites[i]!.sample.interface ? 0 : 1)));
    }
    if (n > 0 || invalid.length > 0) {
      w.header(VALID);
      const m = n + invalid.length;
      const invName = (j: number) => this.lastName.get(invalid[j]!.index) ?? `index-${invalid[j]!.index}`;
      w.raw(this.valid.render(m, (i) => (i < n ? name(i) : invName(i - n)), (i) => (i < n ? 1 : 0)));
    }
  }
}
