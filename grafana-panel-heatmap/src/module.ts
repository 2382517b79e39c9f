import { FieldConfigProperty, PanelPlugin } from '@grafana/data';
import { SiteHealthPanel } from './SiteHealthPanel.js';
import { DEFAULT_OPTIONS, type PanelOptions } from './types.js';
import { DEFAULT_THRESHOLDS } from './state.js';

export const plugin = new PanelPlugin<PanelOptions>(SiteHealthPanel)
  .useFieldConfig({
    standardOptions: {
      [FieldConfigProperty.Min]: { defaultValue: 0 },
      [FieldConfigProperty.Max]: { defaultValue: 1 },
      [FieldConfigProperty.Thresholds]: { defaultValue: DEFAULT_THRESHOLDS },
    },
  })
  .setPanelOptions((builder) =>
    builder
      .addTextInput({ path: 'siteUrl', name: 'Site link', description: 'Opened when a site is clicked; ${site} is the site name. Dashboard variables and ${__url_time_range} work too.', defaultValue: DEFAULT_OPTIONS.siteUrl })
      .addBooleanSwitch({ path: 'showGauges', name: 'Show gauges', defaultValue: DEFAULT_OPTIONS.showGauges })
      .addSliderInput({ path: 'gaugeShare', name: 'Gauge area (share of height)', defaultValue: DEFAULT_OPTIONS.gaugeShare, settings: { min: 0.1, max: 0.8, step: 0.05 } })
      .addNumberInput({ path: 'buckets', name: 'Time buckets', description: '0 = one per sample (at most 500)', defaultValue: DEFAULT_OPTIONS.buckets, settings: { min: 0, max: 2000, integer: true } })
      .addNumberInput({ path: 'rowHeight', name: 'Heat-map row height (px)', defaultValue: DEFAULT_OPTIONS.rowHeight, settings: { min: 4, max: 40, integer: true } })
      .addNumberInput({ path: 'topContributions', name: 'Contributions in tooltip', defaultValue: DEFAULT_OPTIONS.topContributions, settings: { min: 0, max: 10, integer: true } }),
  );
