// Query editor: site(s) (multi, template variables), metric, mode, step.
// Pure UI: options come from props/datasource, changes go through onChange.
import { type QueryEditorProps, type SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { Alert, InlineField, InlineFieldRow, Input, MultiSelect, RadioButtonGroup, Select } from '@grafana/ui';
import React, { useEffect, useMemo, useState } from 'react';
import { FORECAST_METRICS, METRICS } from '../metrics.js';
import type { DataSource } from '../datasource.js';
import { validateQuery, withDefaults } from '../query.js';
import type { MetricId, OptiFiberOptions, OptiFiberQuery, QueryMode } from '../types.js';
import { testIds } from '../testIds.js';

type Props = QueryEditorProps<DataSource, OptiFiberQuery, OptiFiberOptions>;

export const MODE_OPTIONS: Array<SelectableValue<QueryMode>> = [
  { label: 'History', value: 'history', description: 'Samples from the exporter history ring over the panel time range' },
  { label: 'Live', value: 'live', description: 'A new sample per tick, long-polled through the data-source proxy' },
  { label: 'Forecast', value: 'forecast', description: '+15 min trajectory with its p10-p90 interval (future timestamps)' },
  { label: 'Events', value: 'events', description: 'Link state changes and faults (for annotations and tables)' },
];

function variableNames(): string[] {
  try {
    return getTemplateSrv().getVariables().map((v) => `$${v.name}`);
  } catch {
    return [];
  }
}

export function QueryEditor(props: Props) {
  const { onChange, onRunQuery, datasource } = props;
  const query = withDefaults(props.query);
  const [sites, setSites] = useState<string[]>([]);
  const [loadError, setLoadError] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    datasource.siteNames().then((s: string[]) => live && setSites(s), (e: Error) => live && setLoadError(e.message));
    return () => { live = false; };
  }, [datasource]);

  const siteOptions = useMemo<Array<SelectableValue<string>>>(() => [
    ...variableNames().map((v) => ({ label: v, value: v, description: 'Template variable' })),
    ...sites.map((s) => ({ label: s, value: s })),
    ...query.sites.filter((s) => !sites.includes(s) && !s.startsWith('$')).map((s) => ({ label: s, value: s })),
  ], [sites, query.sites]);
  const metricOptions = METRICS
    .filter((m) => query.mode !== 'forecast' || FORECAST_METRICS.includes(m.id))
    .map((m) => ({ label: m.label, value: m.id, description: m.unit }));

  const update = (patch: Partial<OptiFiberQuery>) => {
    const next = { ...query, ...patch };
    if (next.mode === 'forecast' && !FORECAST_METRICS.includes(next.metric)) next.metric = 'utilization';
    onChange(next);
    if (validateQuery(next).length === 0) onRunQuery();
  };
  const problems = validateQuery(query);

  return (
    <div data-testid={testIds.queryEditor.container}>
      <InlineFieldRow>
        <InlineField label="Mode" labelWidth={10} tooltip="history: stored samples; live: a new sample every tick; forecast: the next 15 minutes; events: link/fault changes">
          <RadioButtonGroup<QueryMode> options={MODE_OPTIONS} value={query.mode} onChange={(mode) => update({ mode })} />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Sites" labelWidth={10} grow tooltip="Empty = all sites. Template variables ($site) expand to their values." error={loadError} invalid={!!loadError}>
          <MultiSelect<string>
            inputId="optifiber-sites"
            aria-label="Sites"
            options={siteOptions}
            value={query.sites}
            placeholder="All sites"
            allowCustomValue
            onChange={(v) => update({ sites: v.map((x) => x.value!).filter(Boolean) })}
          />
        </InlineField>
      </InlineFieldRow>
      {query.mode !== 'events' && (
        <InlineFieldRow>
          <InlineField label="Metric" labelWidth={10}>
            <Select<MetricId> inputId="optifiber-metric" aria-label="Metric" width={28} options={metricOptions} value={query.metric} onChange={(v) => update({ metric: v.value! })} />
          </InlineField>
          {query.mode === 'history' && (
            <InlineField label="Step" labelWidth={8} tooltip="Seconds or a duration (30s, 1m); empty = the panel interval">
              <Input aria-label="Step" width={12} placeholder="auto" defaultValue={query.step ?? ''} onBlur={(e) => update({ step: e.currentTarget.value.trim() || undefined })} />
            </InlineField>
          )}
        </InlineFieldRow>
      )}
      {query.mode === 'live' && <div data-testid={testIds.queryEditor.modeHelp}>Live: one long-poll request held by the exporter until its next tick; a new sample per tick.</div>}
      {query.mode === 'forecast' && <div data-testid={testIds.queryEditor.modeHelp}>Forecast: the +15 min trajectory (p50) with its p10-p90 interval as future timestamps.</div>}
      {query.mode === 'events' && <div data-testid={testIds.queryEditor.modeHelp}>Events: link state changes and faults of the selected sites.</div>}
      {problems.length > 0 && (
        <Alert severity="error" title="Query problem">
          {problems.map((p) => <div key={p}>{p}</div>)}
        </Alert>
      )}
    </div>
  );
}
