// Alert links rendered by Debian's amtool (`amtool template render`): one NOC
// notification holding every alert of prometheus/rules, rendered with the
// Slack templates the noc receiver uses, against
//   - the checked-in templates (docker-compose mounts them),
//   - the local stack's runtime copy (localLinks(), what `npm start` writes),
//   - a runtime copy with other bases, as a deployment would set them.
// Every alert's runbook and dashboard link must be absolute and built from the
// bases in use, so changing a base changes every link. A base that is not an
// absolute http(s)/file URL is refused.
// Used by prometheus/test.mjs; returns [{name, ok, why}].
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkedInLinks, localLinks, renderLinksTemplate, REPO_ROOT, writeAlertmanagerTemplates } from '../../scripts/stack/prometheus.mjs';

const CHECKED_IN = join(REPO_ROOT, 'alertmanager', 'templates');
const OTHER = { grafanaUrl: 'https://grafana.example.net/noc/', runbookUrl: 'https://wiki.example.net/optifiber/runbooks/' };
const LABELS = { site: 'Dallas', instance: 'e1', model: 'forecast', job: 'optifiber' };

/** A rule annotation as Prometheus would expand it for LABELS; null if it uses more than $labels.X | urlquery. @param {string} v */
function expand(v) {
  const out = v.replace(/\{\{\s*\$labels\.(\w+)\s*\|\s*urlquery\s*\}\}/g, (_, k) => encodeURIComponent(LABELS[/** @type {'site'} */ (k)] ?? ''));
  return out.includes('{{') ? null : out;
}

/** Template data of one firing notification with every alert (amtool --template.data). @param {any[]} alerts */
function notification(alerts) {
  return {
    receiver: 'noc', status: 'firing', externalURL: 'http://127.0.0.1:9093',
    groupLabels: {}, commonLabels: {}, commonAnnotations: {},
    alerts: alerts.map((a) => ({
      status: 'firing', labels: { alertname: a.name, ...LABELS, ...a.labels },
      annotations: { summary: a.name, description: '-', runbook_path: a.annotations.runbook_path, dashboard_path: expand(a.annotations.dashboard_path ?? '') },
      startsAt: '2026-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: '',
    })),
  };
}

/**
 * title_link and the (runbook, dashboard) pair of each alert, in order, as amtool renders them.
 * @param {string} templatesDir @param {string} dataFile
 */
function render(templatesDir, dataFile) {
  const r = spawnSync('amtool', ['template', 'render', `--template.glob=${join(templatesDir, '*.tmpl')}`, `--template.data=${dataFile}`,
    '--template.text={{ template "optifiber.slack.titlelink" . }}\n{{ template "optifiber.slack.text" . }}'], { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) throw new Error(`amtool template render: ${r.stderr || r.error}`);
  const [titleLink = '', ...rest] = r.stdout.split('\n');
  const links = rest.map((l) => /^runbook: (\S*) · dashboard: (\S*)$/.exec(l)).filter((m) => m !== null).map((m) => ({ runbook: m[1], dashboard: m[2] }));
  return { titleLink, links, text: r.stdout };
}

/** @param {{name: string, labels: Record<string,string>, annotations: Record<string,string>}[]} alerts prometheus/rules' alerts */
export async function runLinkTemplateCases(alerts) {
  /** @type {{name: string, ok: boolean, why?: string}[]} */
  const results = [];
  const tmp = mkdtempSync(join(tmpdir(), 'optifiber-links-'));
  try {
    const data = notification(alerts);
    const unexpanded = data.alerts.filter((a) => a.annotations.dashboard_path === null).map((a) => a.labels.alertname);
    results.push({ name: 'amtool links: every dashboard_path expands with $labels.X | urlquery only', ok: unexpanded.length === 0, why: unexpanded.join(', ') });
    const dataFile = join(tmp, 'data.json');
    writeFileSync(dataFile, JSON.stringify(data));
    const sets = [
      { what: 'checked-in bases (docker-compose)', dir: CHECKED_IN, want: checkedInLinks() },
      { what: 'npm start defaults (localLinks)', dir: writeAlertmanagerTemplates(join(tmp, 'local'), {}), want: localLinks() },
      { what: `other bases (${OTHER.grafanaUrl}, ${OTHER.runbookUrl})`, dir: writeAlertmanagerTemplates(join(tmp, 'other'), OTHER), want: { grafanaUrl: OTHER.grafanaUrl.replace(/\/$/, ''), runbookUrl: OTHER.runbookUrl.replace(/\/$/, '') } },
    ];
    /** @type {Map<string, ReturnType<typeof render>>} */
    const rendered = new Map();
    for (const s of sets) {
      const name = `amtool links (${s.what}): each of the ${alerts.length} alerts renders <runbook base>/<alertname>.md and <Grafana base>/<dashboard_path>`;
      try {
        const out = render(s.dir, dataFile);
        rendered.set(s.what, out);
        const why = data.alerts.flatMap((a, i) => {
          const want = { runbook: `${s.want.runbookUrl}/${a.annotations.runbook_path}`, dashboard: `${s.want.grafanaUrl}/${a.annotations.dashboard_path}` };
          const got = out.links[i];
          return got?.runbook === want.runbook && got.dashboard === want.dashboard ? [] : [`${a.labels.alertname}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`];
        });
        if (out.links.length !== data.alerts.length) why.push(`${out.links.length} link lines for ${data.alerts.length} alerts`);
        const first = `${s.want.grafanaUrl}/${data.alerts[0]?.annotations.dashboard_path}`;
        if (out.titleLink !== first) why.push(`title_link ${out.titleLink} != ${first}`);
        results.push({ name, ok: why.length === 0, why: why.join('\n') });
      } catch (e) {
        results.push({ name, ok: false, why: String(/** @type {any} */ (e).message ?? e) });
      }
    }
    const local = rendered.get(sets[1].what);
    const missing = (local?.links ?? []).map((l) => l.runbook).filter((u) => !u.startsWith('file:') || !existsSync(fileURLToPath(u)));
    results.push({ name: 'amtool links: every runbook link of the local stack opens a file of docs/runbooks', ok: !!local && local.links.length > 0 && missing.length === 0, why: local ? missing.map((u) => u || '(empty link)').join(', ') : 'not rendered' });
    const other = rendered.get(sets[2].what);
    const left = [checkedInLinks(), localLinks()].flatMap((b) => [b.grafanaUrl, b.runbookUrl]).filter((b) => !other || other.text.includes(b));
    results.push({ name: 'amtool links: other bases leave no default base in the message', ok: left.length === 0, why: `still present: ${left.join(', ')}` });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  results.push(badBasesCase());
  return results;
}

/** A base that is not an absolute http(s)/file URL is refused by name; template syntax cannot get in. */
function badBasesCase() {
  const why = [];
  for (const [key, url] of [['grafanaUrl', '127.0.0.1:3000'], ['grafanaUrl', 'localhost:3000'], ['runbookUrl', 'docs/runbooks'], ['runbookUrl', 'https://wiki/?page=1'], ['grafanaUrl', 'https://user:pw@grafana']]) {
    try { renderLinksTemplate({ [key]: url }); why.push(`${key} ${url} accepted`); } catch (e) {
      if (!/link base: /.test(String(/** @type {any} */ (e).message))) why.push(`${key} ${url}: ${String(e)}`);
    }
  }
  const injected = renderLinksTemplate({ grafanaUrl: 'https://grafana/{{ .ExternalURL }}' });
  if (injected.includes('{{ .ExternalURL }}')) why.push('template syntax reached links.tmpl');
  return { name: 'links: a base that is not an absolute http(s)/file URL without query or credentials is refused', ok: why.length === 0, why: why.join('; ') };
}
