// Template variable query: sites, sites(<regex>) or metrics.
import { Input, InlineField } from '@grafana/ui';
import React from 'react';

interface Props { query: string | { query?: string }; onChange: (query: { query: string }, definition: string) => void }

export function VariableQueryEditor({ query, onChange }: Props) {
  const value = typeof query === 'string' ? query : query?.query ?? 'sites';
  return (
    <InlineField label="Query" labelWidth={12} tooltip="sites, sites(<regex>) or metrics">
      <Input aria-label="Variable query" width={32} defaultValue={value || 'sites'} onBlur={(e) => onChange({ query: e.currentTarget.value }, e.currentTarget.value)} />
    </InlineField>
  );
}
