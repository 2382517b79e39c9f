#!/usr/bin/env node
// Fault injection to webhook receipt, and clear to resolved notification,
// with the real exporter, simulator, Prometheus and Alertmanager on loopback.
// The measurement lives in prometheus/e2e.mjs (also run once by npm test);
// this runs it more times for a sturdier median. Writes bench/results/alerting.json.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(process.execPath, [join(root, 'prometheus/e2e.mjs'), '--runs', process.env.OPTIFIBER_BENCH_RUNS ?? '5'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
