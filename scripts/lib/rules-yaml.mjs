// Minimal reader for OUR Prometheus rule files (no dependencies): the subset
// of YAML they use - `- alert:` / `- record:` items with expr, for, labels and
// annotations whose values are plain, quoted, `|` or `>-` block scalars.
// promtool remains the authority on validity; this only extracts fields for
// docs and convention checks, and throws on anything it does not understand.
import { readFileSync } from 'node:fs';

/** @param {string} s */
function scalar(s) {
  s = s.trim();
  if (s.startsWith('"')) return JSON.parse(s);
  if (s.startsWith("'")) return s.slice(1, -1).replaceAll("''", "'");
  return s;
}

/**
 * @param {string[]} lines @param {number} i index of the first content line
 * @param {number} parentIndent @param {string} style '|' or '>'
 */
function block(lines, i, parentIndent, style) {
  /** @type {string[]} */
  const out = [];
  let indent = -1;
  for (; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === '') { out.push(''); continue; }
    const ind = l.length - l.trimStart().length;
    if (ind <= parentIndent) break;
    if (indent < 0) indent = ind;
    out.push(l.slice(indent));
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  const text = style === '|' ? out.join('\n') : out.join(' ').replace(/ +\n/g, '\n');
  return { text, next: i };
}

/**
 * @param {string} file
 * @returns {{group: string, kind: 'alert'|'record', name: string, expr: string, for?: string,
 *   labels: Record<string,string>, annotations: Record<string,string>}[]}
 */
export function readRules(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  /** @type {any[]} */
  const rules = [];
  let group = '';
  /** @type {any} */
  let cur = null;
  /** @type {string|null} */
  let section = null;
  let sectionIndent = 0;
  for (let i = 0; i < lines.length;) {
    const raw = lines[i];
    const line = raw.replace(/\s+#.*$/, '');
    if (/^\s*(#.*)?$/.test(line)) { i++; continue; }
    const indent = raw.length - raw.trimStart().length;
    let m;
    if ((m = /^\s*- name:\s*(.+)$/.exec(line))) { group = scalar(m[1]); cur = null; i++; continue; }
    if ((m = /^\s*- (alert|record):\s*(.+)$/.exec(line))) {
      cur = { group, kind: m[1], name: scalar(m[2]), expr: '', labels: {}, annotations: {}, indent };
      rules.push(cur); section = null; i++; continue;
    }
    if (!cur) { i++; continue; }
    if (section && indent <= sectionIndent) section = null;
    if ((m = /^(\s*)([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(raw))) {
      const [, , key, rest0] = m;
      const rest = rest0.startsWith('"') || rest0.startsWith("'") ? rest0 : rest0.replace(/\s+#.*$/, '');
      let value;
      if (rest === '|' || rest === '|-' || rest === '>' || rest === '>-') {
        const b = block(lines, i + 1, indent, rest[0]);
        value = b.text; i = b.next;
      } else { value = rest === '' ? null : scalar(rest); i++; }
      if (section) { cur[section][key] = value; continue; }
      if (key === 'labels' || key === 'annotations') {
        if (value !== null) throw new Error(`${file}:${i}: inline ${key} not supported`);
        section = key; sectionIndent = indent; continue;
      }
      if (key === 'expr' || key === 'for' || key === 'keep_firing_for') { cur[key === 'keep_firing_for' ? 'keepFiringFor' : key] = value; continue; }
      throw new Error(`${file}:${i}: unexpected key ${key}`);
    }
    throw new Error(`${file}:${i + 1}: cannot parse: ${raw}`);
  }
  for (const r of rules) delete r.indent;
  return rules;
}
