// The reference fleet deployment (docs/deploy-fleet.md): the exporter's
// Kubernetes DaemonSet and systemd unit. `kubectl apply --dry-run=client`
// needs an API server (it downloads the OpenAPI schema and the resource
// mapping), so the manifest is checked against the Kubernetes schemas that the
// kubernetes-models package compiles (types, required fields, enums), the
// unit by `systemd-analyze verify`, and both for what they must say: only
// flags the exporter knows, one port everywhere, no privilege, a memory limit
// above what the fleet bench measured.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ROOT, readText, type Json } from './helpers.js';

const MANIFEST = join('deploy', 'kubernetes', 'optifiber-exporter.yaml');
const UNIT = join('deploy', 'systemd', 'optifiber-exporter.service');
const docs: Json[] = parseAllDocuments(readText(MANIFEST)).map((d) => d.toJS());
const byKind = (k: string) => docs.filter((d) => d.kind === k);
const ds = byKind('DaemonSet')[0];
const pod = ds?.spec.template.spec;
const exporter = pod?.containers.find((c: Json) => c.name === 'exporter');
const execStart = /^ExecStart=(.*)$/m.exec(readText(UNIT))?.[1] ?? '';
const unitArgs = execStart.split(/\s+/).slice(3); // node, cli.js, "exporter"

let flags: Set<string> | undefined;
/** Every --flag the exporter's `exporter --help` lists (run once: it loads the exporter). */
function exporterFlags(): Set<string> {
  if (flags) return flags;
  const r = spawnSync(process.execPath, [join(ROOT, 'exporter', 'dist', 'cli.js'), 'exporter', '--help'], { encoding: 'utf8' });
  flags = new Set([...`${r.stdout}${r.stderr}`.matchAll(/^\s+(--[a-z0-9.-]+)/gm)].map((m) => m[1]!));
  return flags;
}
const flagOf = (args: string[], name: string) => args.find((a) => a.startsWith(`${name}=`))?.split('=')[1];

describe('Kubernetes DaemonSet (deploy/kubernetes/optifiber-exporter.yaml)', () => {
  const models: Record<string, new (o: Json) => { validate(): void }> = { Namespace, ServiceAccount, DaemonSet };

  test('every document is a known kind that passes its Kubernetes schema', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'DaemonSet']);
    for (const d of docs) expect(() => new models[d.kind]!(d).validate()).not.toThrow();
  });

  test('the schema check can fail: a string port and a missing selector are refused', () => {
    const badPort = structuredClone(ds);
    badPort.spec.template.spec.containers[0].ports[0].containerPort = '9886';
    expect(() => new DaemonSet(badPort).validate()).toThrow(/containerPort must be integer/);
    const noSelector = structuredClone(ds);
    delete noSelector.spec.selector;
    expect(() => new DaemonSet(noSelector).validate()).toThrow(/selector/);
  });

  test('selector, namespace and service account agree', () => {
    const labels = ds.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) expect(labels[k]).toBe(v);
    const ns = byKind('Namespace')[0].metadata.name;
    expect(ds.metadata.namespace).toBe(ns);
    expect(byKind('ServiceAccount')[0].metadata).toEqual({ name: pod.serviceAccountName, namespace: ns });
  });

  test('only flags the exporter knows, the listen port is the declared port, probes use it', () => {
    const known = exporterFlags();
    expect(known.size).toBeGreaterThan(20);
    expect(exporter.args[0]).toBe('exporter');
    for (const a of exporter.args.slice(1)) expect({ flag: a, known: known.has(a.split('=')[0]) }).toEqual({ flag: a, known: true });
    const port = Number(flagOf(exporter.args, '--web.listen-address')!.split(':')[1]);
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: port, protocol: 'TCP' }]);
    expect(exporter.readinessProbe.tcpSocket.port).toBe('metrics');
    expect(exporter.livenessProbe.tcpSocket.port).toBe('metrics');
  });

  test('read-only and unprivileged: restricted pod security, no control token, no host access', () => {
    expect(byKind('Namespace')[0].metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(pod.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }));
    expect(exporter.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.volumes.filter((v: Json) => v.hostPath)).toEqual([]);
    expect(exporter.args.filter((a: string) => a.startsWith('--control.'))).toEqual([]);
    // TLS and basic auth from a Secret mounted where --web.config.file points.
    const web = flagOf(exporter.args, '--web.config.file')!;
    const mount = exporter.volumeMounts.find((m: Json) => web.startsWith(`${m.mountPath}/`));
    expect(pod.volumes.find((v: Json) => v.name === mount.name).secret.secretName).toBeTruthy();
  });

  test('the memory limit leaves room above the exporter RSS the fleet bench measured', () => {
    const bench = join(ROOT, 'bench', 'results', 'fleet.json');
    if (!existsSync(bench)) throw new Error('bench/results/fleet.json is missing: node bench/fleet.mjs');
    const rssMaxMiB: number = JSON.parse(readFileSync(bench, 'utf8')).processes.exporter.rss_mib.max;
    const mi = (q: string) => Number(/^(\d+)Mi$/.exec(q)![1]);
    expect(mi(exporter.resources.limits.memory)).toBeGreaterThanOrEqual(1.5 * rssMaxMiB);
    expect(mi(exporter.resources.requests.memory)).toBeLessThanOrEqual(mi(exporter.resources.limits.memory));
  });
});

describe('systemd unit (deploy/systemd/optifiber-exporter.service)', () => {
  test('systemd-analyze verify has nothing to say (paths pointed at this checkout)', () => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
    if (which.status !== 0) throw new Error('systemd-analyze missing: apt-get install systemd');
    const dir = mkdtempSync(join(tmpdir(), 'optifiber-unit-'));
    try {
      const unit = join(dir, 'optifiber-exporter.service');
      writeFileSync(unit, readText(UNIT).replaceAll('/opt/optifiber', ROOT).replace('/usr/bin/node', process.execPath));
      const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
      expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 0, stderr: '' });
      // the check can fail: a misspelt directive is reported
      writeFileSync(unit, readText(UNIT).replaceAll('/opt/optifiber', ROOT).replace('/usr/bin/node', process.execPath).replace('ProtectHome=', 'ProtectHomes='));
      expect(spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' }).stderr).toMatch(/Unknown key 'ProtectHomes'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the same exporter flags as the DaemonSet, no capability, a memory cap', () => {
    const known = exporterFlags();
    for (const a of unitArgs) expect({ flag: a, known: known.has(a.split('=')[0]!) }).toEqual({ flag: a, known: true });
    const names = (args: string[]) => args.map((a) => a.split('=')[0]).sort();
    expect(names(unitArgs)).toEqual(names(exporter.args.slice(1)));
    expect(flagOf(unitArgs, '--web.listen-address')).toBe(flagOf(exporter.args, '--web.listen-address'));
    const text = readText(UNIT);
    expect(text).toMatch(/^CapabilityBoundingSet=$/m);
    expect(text).toMatch(/^NoNewPrivileges=yes$/m);
    expect(/^MemoryMax=(\d+)M$/m.exec(text)?.[1]).toBe(/^(\d+)Mi$/.exec(exporter.resources.limits.memory)?.[1]);
  });
});
