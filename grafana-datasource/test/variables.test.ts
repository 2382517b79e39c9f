import { lastValueFrom } from 'rxjs';
import { compileRegex, OptiFiberVariableSupport, parseVariableQuery, variableValues } from '../src/variables.js';

const SITES = ['Dallas', 'Dobbins', 'MicrosoftDC', 'Stone', 'dal-2', 'site7'];

describe('template variables (CustomVariableSupport)', () => {
  test('legacy string queries keep the regex exactly as typed (no lowercasing)', () => {
    expect(parseVariableQuery('sites')).toMatchObject({ kind: 'sites' });
    expect(parseVariableQuery('')).toMatchObject({ kind: 'sites' });
    expect(parseVariableQuery('Metrics')).toMatchObject({ kind: 'metrics' });
    expect(parseVariableQuery('SITES(^Dal)')).toMatchObject({ kind: 'sites', regex: '^Dal' });
    expect(parseVariableQuery({ query: 'sites(\\D+$)' })).toMatchObject({ kind: 'sites', regex: '\\D+$' });
    expect(parseVariableQuery({ refId: 'V', kind: 'sites', regex: '^S' })).toEqual({ refId: 'V', kind: 'sites', regex: '^S' });
    expect(() => parseVariableQuery('what')).toThrow(/Unknown variable query "what"/);
  });

  test('regex semantics: case-sensitive, \\D stays \\D, /re/i sets flags, bad regex is a readable error', () => {
    const names = (regex: string) => variableValues({ refId: 'V', kind: 'sites', regex }, SITES).map((v) => v.value);
    expect(names('^Dal')).toEqual(['Dallas']);
    expect(names('/^dal/i')).toEqual(['Dallas', 'dal-2']);
    // \D = non-digit: the old lowercasing turned it into \d (digit)
    expect(names('^\\D+$')).toEqual(['Dallas', 'Dobbins', 'MicrosoftDC', 'Stone']);
    expect(names('\\d$')).toEqual(['dal-2', 'site7']);
    expect(() => compileRegex('(')).toThrow(/Invalid site regex "\(":/);
  });

  test('metrics list the query editor\'s metric ids', () => {
    const v = variableValues({ refId: 'V', kind: 'metrics' }, SITES);
    expect(v.map((m) => m.value)).toContain('osnrDb');
    expect(v.find((m) => m.value === 'osnrDb')?.text).toBe('OSNR');
  });

  test('the variable support answers Grafana\'s request with MetricFindValue rows from the data source', async () => {
    const vs = new OptiFiberVariableSupport({ siteNames: async () => SITES });
    const res = await lastValueFrom(vs.query({ targets: [{ refId: 'V', kind: 'sites', regex: 'o' }] } as never));
    expect(res.data).toEqual([{ text: 'Dobbins', value: 'Dobbins' }, { text: 'MicrosoftDC', value: 'MicrosoftDC' }, { text: 'Stone', value: 'Stone' }]);
    expect(vs.getType()).toBe('custom');
    expect(vs.editor).toBeDefined();
  });
});
