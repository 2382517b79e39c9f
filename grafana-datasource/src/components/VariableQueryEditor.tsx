// Template variable query editor (CustomVariableSupport): what to list
// (sites or metrics) and, for sites, a regex kept exactly as typed.
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { Field, Input, RadioButtonGroup, Stack } from '@grafana/ui';
import React, { useState } from 'react';
import { compileRegex, parseVariableQuery, type OptiFiberVariableQuery, type VariableKind } from '../variables.js';
import { testIds } from '../testIds.js';

type Props = Pick<QueryEditorProps<never, never, never, OptiFiberVariableQuery>, 'query' | 'onChange'>;

const KINDS: Array<SelectableValue<VariableKind>> = [
  { label: 'Sites', value: 'sites', description: 'Site names the exporter serves' },
  { label: 'Metrics', value: 'metrics', description: 'Metric ids of the query editor' },
];

function safeParse(raw: unknown): { q: OptiFiberVariableQuery; error?: string } {
  try {
    return { q: parseVariableQuery(raw) };
  } catch (e) {
    return { q: { refId: 'OptiFiberVariable', kind: 'sites' }, error: (e as Error).message };
  }
}

export function VariableQueryEditor({ query, onChange }: Props) {
  const parsed = safeParse(query);
  const [regex, setRegex] = useState(parsed.q.regex ?? '');
  const regexError = (() => {
    if (!regex) return parsed.error;
    try {
      compileRegex(regex);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  })();
  const save = (patch: Partial<OptiFiberVariableQuery>) => {
    const next: OptiFiberVariableQuery = { ...parsed.q, ...patch };
    if (!next.regex || next.kind !== 'sites') delete next.regex;
    onChange(next);
  };
  return (
    <Stack direction="column" gap={1} data-testid={testIds.variableEditor.container}>
      <Field label="List" htmlFor="optifiber-variable-kind">
        <RadioButtonGroup<VariableKind> id="optifiber-variable-kind" options={KINDS} value={parsed.q.kind} onChange={(kind) => save({ kind })} />
      </Field>
      {parsed.q.kind === 'sites' && (
        <Field label="Site regex" description="Optional. Kept exactly as typed (case-sensitive); write /regex/i for flags." invalid={!!regexError} error={regexError}>
          <Input id="optifiber-variable-regex" width={40} value={regex} placeholder="^Dal" onChange={(e) => setRegex(e.currentTarget.value)}
            onBlur={() => { if (!regexError) save({ regex }); }} />
        </Field>
      )}
    </Stack>
  );
}
