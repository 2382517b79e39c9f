import { startMcpSimulator, type McpSimulator } from '../src/server.js';
import { FaultInjector } from '../src/faults.js';

let sim: McpSimulator;
beforeAll(async () => { sim = await startMcpSimulator({ port: 0, clientSecret: 'secret-0123456789', queuedMs: [5, 10], runningMs: [5, 10], responseDelayMs: [0, 0] }); });
afterAll(() => sim.stop());
const token = async () => ((await (await fetch(`${sim.url}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=optifiber-remediation&client_secret=secret-0123456789' })).json()) as any).access_token as string;
const create = (t: string, key: string | undefined, body: unknown) => fetch(`${sim.url}/api/v1/provisioning/jobs`, { method: 'POST', headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) }, body: JSON.stringify(body) });

test('token: wrong secret 401, right secret issues a bearer token', async () => {
  const bad = await fetch(`${sim.url}/oauth/token`, { method: 'POST', body: 'grant_type=client_credentials&client_id=optifiber-remediation&client_secret=nope' });
  expect(bad.status).toBe(401);
  expect(await token()).toMatch(/^[\w-]{20,}$/);
  expect((await create('bogus', 'k', {})).status).toBe(401);
});
test('idempotency: same key+body -> same job; different body -> 422; no key -> 400; job runs to succeeded', async () => {
  const t = await token();
  const body = { site: 'paris-1', operation: 'cmd_add', count: 1 };
  const a = await create(t, 'key-1', body);
  expect(a.status).toBe(202);
  const ja = (await a.json()) as any;
  const b = await create(t, 'key-1', body);
  expect(b.headers.get('idempotent-replayed')).toBe('true');
  expect(((await b.json()) as any).id).toBe(ja.id);
  expect((await create(t, 'key-1', { ...body, count: 2 })).status).toBe(422);
  expect((await create(t, undefined, body)).status).toBe(400);
  let j: any;
  for (let i = 0; i < 100; i++) {
    j = await (await fetch(`${sim.url}/api/v1/provisioning/jobs/${ja.id}`, { headers: { Authorization: `Bearer ${t}` } })).json();
    if (j.state === 'succeeded') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(j.state).toBe('succeeded');
  expect(sim.stats().jobsCreated).toBe(1);
});
test('faults are seeded and reproducible; control API validates', async () => {
  const draw = () => { const f = new FaultInjector({ seed: 42, probability: { create_5xx: 0.5 } }); return Array.from({ length: 20 }, () => f.hit('create_5xx')); };
  expect(draw()).toEqual(draw());
  const bad = await fetch(`${sim.url}/sim/faults`, { method: 'PUT', body: JSON.stringify({ probability: { nope: 1 } }) });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as any).message).toContain('unknown fault kind');
  await fetch(`${sim.url}/sim/faults/next`, { method: 'POST', body: JSON.stringify({ create_5xx: 1 }) });
  const t = await token();
  expect((await create(t, 'key-f', { site: 'x', operation: 'cmd_add', count: 1 })).status).toBe(503);
  expect((await create(t, 'key-f', { site: 'x', operation: 'cmd_add', count: 1 })).status).toBe(202);
});
