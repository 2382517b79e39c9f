// The control path end to end: real Sampler + PageReader over a page file, a
// fake simulator socket that applies the commands to that file, the
// UnixSocketControlChannel, and read-back through the sampler's ticks.
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFixture, req } from './api-fixture.js';
import type { Fixture } from './api-fixture.js';
import { schemaErrors } from './api-schema.js';
import { buildLine, parseCommand } from '../src/control/grammar.js';
import { ProcfsControlChannel, UnixSocketControlChannel, ControlChannelError, statusForChannelError, parseSimReply } from '../src/control/channel.js';
import { TokenBucket } from '../src/control/ratelimit.js';
import { loadControlToken } from '../src/control/auth.js';
import { Authenticator } from '../src/http/credentials.js';
import { ApiError } from '../src/api/errors.js';

const TOKEN = 'test-token-0123456789abcdef';
const ROUTE = '/api/v1/sites/{site}/commands';
let f: Fixture;
let stopTicks: () => void;

beforeAll(async () => {
  f = await startFixture({ control: { rateLimit: { burst: 1000, perSecond: 1000 } } });
  stopTicks = f.autoTick(40);
});
afterAll(async () => {
  stopTicks();
  await f.close();
});

function post(fx: Fixture, site: string, body: string | object, headers: Record<string, string> = {}) {
  return req(`${fx.base}/api/v1/sites/${site}/commands`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectError(r: Awaited<ReturnType<typeof req>>, status: number, message: RegExp) {
  expect({ status: r.status, message: r.body?.message }).toMatchObject({ status, message: expect.stringMatching(message) });
  expect(r.headers.get('content-type')).toMatch(/application\/json/);
  expect(schemaErrors(ROUTE, 'post', status, r.body)).toEqual([]);
  expect(r.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|Error:/);
}

describe('happy path (written, then seen in the pages)', () => {
  test('cmd_add', async () => {
    const before = f.writer.sites[0]!.cmdModules;
    const r = await post(f, 'paris-1', { cmd_add: 2 });
    expect(r.status).toBe(200);
    expect(schemaErrors(ROUTE, 'post', 200, r.body)).toEqual([]);
    expect(r.body).toMatchObject({ site: 'paris-1', command: 'cmd_add=2', result: 'applied', before: { cmdModules: before }, after: { cmdModules: before + 2 } });
    expect(r.body.channel).toBe(`unix:${f.sim.path}`);
    expect(f.sim.lines.at(-1)).toBe('site=paris-1 cmd_add=2');
    expect(f.sampler.latest()!.sites[0]!.sample.cmdModules).toBe(before + 2);
  });
  test('cmd_remove', async () => {
    const before = f.writer.sites[1]!.cmdModules;
    const r = await post(f, 'lyon-2', { cmd_remove: 1 });
    expect(r.status).toBe(200);
    expect(r.body.after.cmdModules).toBe(before - 1);
    expect(f.sim.lines.at(-1)).toBe('site=lyon-2 cmd_remove=1');
  });
  test('fault with duration, then clear', async () => {
    const r = await post(f, 'nice-3', { fault: 'osnr_degrade', duration: 300 });
    expect(r.status).toBe(200);
    expect(f.sim.lines.at(-1)).toBe('site=nice-3 fault=osnr_degrade duration=300');
    expect(r.body.after.fault).toBe('osnr_degrade');
    const c = await post(f, 'nice-3', { fault: 'clear' });
    expect(c.status).toBe(200);
    expect(f.sim.lines.at(-1)).toBe('site=nice-3 fault=clear');
    expect(c.body).toMatchObject({ command: 'fault=clear', before: { fault: 'osnr_degrade' }, after: { fault: 'none' } });
  });
  test('concurrent commands to one site are serialised and each sees its own change', async () => {
    const start = f.writer.sites[0]!.cmdModules;
    const rs = await Promise.all([1, 2, 3, 4].map(() => post(f, 'paris-1', { cmd_add: 1 })));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const afters = rs.map((r) => r.body.after.cmdModules).sort((a, b) => a - b);
    expect(afters).toEqual([start + 1, start + 2, start + 3, start + 4]);
    expect(f.writer.sites[0]!.cmdModules).toBe(start + 4);
  });
  test('logged: who, what, result; never the token', async () => {
    const applied = f.logs.filter((l) => l.msg === 'control command applied');
    expect(applied.length).toBeGreaterThan(0);
    expect(applied[0]!.fields).toMatchObject({ remote: expect.any(String), site: 'paris-1', command: 'cmd_add=2', result: 'applied', status: 200 });
    await post(f, 'paris-1', { cmd_add: 1 }, { Authorization: 'Bearer wrong-secret-value-123456' });
    const all = JSON.stringify(f.logs);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('wrong-secret-value-123456');
    expect(all).toContain('control command refused');
  });
});

describe('authentication and enablement', () => {
  test('missing token: 401 with WWW-Authenticate', async () => {
    const r = await post(f, 'paris-1', { cmd_add: 1 }, { Authorization: '' });
    await expectError(r, 401, /authentication required/);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
  test('wrong token: 401, nothing written', async () => {
    const n = f.sim.lines.length;
    const r = await post(f, 'paris-1', { cmd_add: 1 }, { Authorization: `Bearer ${TOKEN}x` });
    await expectError(r, 401, /invalid bearer token/);
    const r2 = await post(f, 'paris-1', { cmd_add: 1 }, { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    await expectError(r2, 401, /invalid username or password/);
    expect(f.sim.lines.length).toBe(n);
  });
  test('no token configured: 403 that says how to enable control', async () => {
    const g = await startFixture({ control: { token: undefined } });
    try {
      const r = await post(g, 'paris-1', { cmd_add: 1 });
      await expectError(r, 403, /control is disabled.*--control\.token-file=FILE.*control\.token_file/);
      expect(g.sim.lines).toEqual([]);
    } finally {
      await g.close();
    }
  });
  test('bearer token: exact match only', async () => {
    const a = new Authenticator({ bearer: [{ name: 'control-token', token: TOKEN, scopes: ['read', 'control'] }] });
    const c = async (h: string | undefined) => {
      const r = await a.authenticate({ get: () => h, socket: { remoteAddress: '10.9.9.9' } } as never, 'control');
      return r.ok ? 'ok' : r.reason;
    };
    expect(await c(`Bearer ${TOKEN}`)).toBe('ok');
    expect(await c(`bearer ${TOKEN}`)).toBe('ok');
    expect(await c(`Bearer ${TOKEN.slice(0, -1)}`)).toBe('invalid');
    expect(await c(`Bearer ${TOKEN} extra`)).toBe('missing');
    expect(await c(undefined)).toBe('missing');
    await a.close();
  });
  test('loadControlToken: trims, rejects short/empty/missing, warns on loose mode, never echoes the token', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'oftok-'));
    try {
      const p = path.join(dir, 't');
      writeFileSync(p, `${TOKEN}\n`, { mode: 0o644 });
      const { token, warnings } = loadControlToken(p);
      expect(token).toBe(TOKEN);
      expect(warnings.join()).toMatch(/chmod 600/);
      writeFileSync(p, 'short\n');
      expect(() => loadControlToken(p)).toThrow(/shorter than 16/);
      try {
        loadControlToken(p);
      } catch (e) {
        expect(String(e)).not.toContain('short\n');
        expect((e as Error).message).not.toMatch(/: short$/);
      }
      writeFileSync(p, '\n');
      expect(() => loadControlToken(p)).toThrow(/is empty/);
      expect(() => loadControlToken(path.join(dir, 'none'))).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bad input (nothing is written)', () => {
  let before: number;
  beforeEach(() => {
    before = f.sim.lines.length;
  });
  afterEach(() => {
    expect(f.sim.lines.length).toBe(before);
  });
  const cases: [string, string | object, number, RegExp][] = [
    ['malformed JSON', '{"cmd_add": ', 400, /not valid JSON/],
    ['empty body', '', 400, /empty body|body must be a JSON object/],
    ['not an object', '[1]', 400, /body must be a JSON object/],
    ['no action', {}, 400, /no action/],
    ['unknown key', { cmd_add: 1, force: true }, 400, /unknown key "force"/],
    ['two actions', { cmd_add: 1, cmd_remove: 1 }, 400, /exactly one action.*cmd_add and cmd_remove/],
    ['cmd_add 0', { cmd_add: 0 }, 400, /cmd_add: 0 is out of range 1\.\.64/],
    ['cmd_add 65', { cmd_add: 65 }, 400, /cmd_add: 65 is out of range 1\.\.64/],
    ['cmd_remove 1.5', { cmd_remove: 1.5 }, 400, /cmd_remove: expected an integer 1\.\.64/],
    ['cmd_add "1"', { cmd_add: '1' }, 400, /cmd_add: expected an integer 1\.\.64, got string "1"/],
    ['unknown fault', { fault: 'meteor' }, 400, /fault: unknown kind "meteor" \(one of fiber_cut/],
    ['fault none', { fault: 'none' }, 400, /unknown kind "none"/],
    ['duration 0', { fault: 'ber_creep', duration: 0 }, 400, /duration: 0 is out of range 1\.\.604800/],
    ['duration 604801', { fault: 'ber_creep', duration: 604801 }, 400, /out of range 1\.\.604800/],
    ['duration with cmd_add', { cmd_add: 1, duration: 5 }, 400, /duration is only valid with fault/],
    ['duration with clear', { fault: 'clear', duration: 5 }, 400, /not valid with fault "clear"/],
    ['injection attempt', { fault: 'fiber_cut\nsite=lyon-2 cmd_add=64' }, 400, /unknown kind/],
  ];
  test.each(cases)('%s', async (_n, body, status, msg) => {
    await expectError(await post(f, 'paris-1', body), status, msg);
  });
  test('oversized body: 413', async () => {
    await expectError(await post(f, 'paris-1', JSON.stringify({ cmd_add: 1, pad: 'x'.repeat(4096) })), 413, /larger than 1024 bytes/);
  });
  test('wrong content type: 415', async () => {
    await expectError(await post(f, 'paris-1', 'cmd_add=1', { 'Content-Type': 'text/plain' }), 415, /application\/json/);
  });
  test('unknown site: 404; bad site name: 400', async () => {
    await expectError(await post(f, 'atlantis', { cmd_add: 1 }), 404, /unknown site: atlantis/);
    await expectError(await post(f, 'a%20b', { cmd_add: 1 }), 400, /not a site name/);
  });
  test('GET on the commands URL: 405', async () => {
    const r = await req(`${f.base}/api/v1/sites/paris-1/commands`);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(schemaErrors(ROUTE, 'post', 405, r.body)).toEqual([]);
  });
});

describe('channel errors and read-back', () => {
  afterEach(() => {
    f.sim.reply = undefined;
    f.writer.apply = true;
  });
  test('ERANGE from the simulator: 409', async () => {
    const r = await post(f, 'lyon-2', { cmd_add: 64 });
    await expectError(r, 409, /^ERANGE: cmd_modules would exceed cmd_modules_max/);
  });
  test('EINVAL from the channel: 400', async () => {
    f.sim.reply = () => 'error EINVAL: unknown key';
    await expectError(await post(f, 'lyon-2', { cmd_add: 1 }), 400, /^EINVAL: unknown key/);
  });
  test('garbage reply: 502', async () => {
    f.sim.reply = () => 'maybe';
    await expectError(await post(f, 'lyon-2', { cmd_add: 1 }), 502, /unexpected reply/);
  });
  test('written but not visible: 504 that says so', async () => {
    const g = await startFixture({ control: { readbackTimeoutMs: 400 } });
    const stop = g.autoTick(40);
    try {
      g.writer.apply = false;
      const r = await post(g, 'paris-1', { cmd_add: 1 });
      await expectError(r, 504, /command "cmd_add=1" was written to unix:.* but is not yet visible in the pages after 0\.4 s/);
      expect(g.sim.lines).toEqual(['site=paris-1 cmd_add=1']);
      expect(g.logs.some((l) => l.fields.result === 'written, not visible')).toBe(true);
    } finally {
      stop();
      await g.close();
    }
  });
  test('simulator gone: 502', async () => {
    const g = await startFixture({});
    try {
      await g.sim.close();
      await expectError(await post(g, 'paris-1', { cmd_add: 1 }), 502, /not accepting connections/);
    } finally {
      await g.close().catch(() => {});
    }
  });
  test('rate limit: 429 with Retry-After', async () => {
    const g = await startFixture({ control: { rateLimit: { burst: 2, perSecond: 0.1 }, readbackTimeoutMs: 300 } });
    try {
      g.writer.apply = false; // fast 504s: the limit is what is tested
      const a = await post(g, 'paris-1', { cmd_add: 1 });
      const b = await post(g, 'paris-1', { cmd_add: 1 });
      expect([a.status, b.status]).toEqual([504, 504]);
      const c = await post(g, 'paris-1', { cmd_add: 1 });
      await expectError(c, 429, /rate limit of identity "control-token" exceeded/);
      expect(Number(c.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(g.sim.lines.length).toBe(2);
    } finally {
      await g.close();
    }
  });
});

describe('units', () => {
  test('buildLine is the one grammar of the kernel', () => {
    expect(buildLine('s1', parseCommand({ cmd_add: 3 }))).toBe('site=s1 cmd_add=3\n');
    expect(buildLine('s1', parseCommand({ cmd_remove: 64 }))).toBe('site=s1 cmd_remove=64\n');
    expect(buildLine('s1', parseCommand({ fault: 'fiber_cut' }))).toBe('site=s1 fault=fiber_cut\n');
    expect(buildLine('s1', parseCommand({ fault: 'crc_burst', duration: 604800 }))).toBe('site=s1 fault=crc_burst duration=604800\n');
    expect(buildLine('s1', parseCommand({ fault: 'clear' }))).toBe('site=s1 fault=clear\n');
    expect(() => buildLine('bad name', parseCommand({ cmd_add: 1 }))).toThrow(ApiError);
  });
  test('errno mapping', () => {
    expect(statusForChannelError('EINVAL')).toBe(400);
    expect(statusForChannelError('ERANGE')).toBe(409);
    expect(statusForChannelError('EACCES')).toBe(403);
    expect(statusForChannelError('EPERM')).toBe(403);
    expect(statusForChannelError('ETIMEDOUT')).toBe(504);
    expect(statusForChannelError('ENOENT')).toBe(502);
    expect(parseSimReply('ok', 'x')).toBeUndefined();
    expect(parseSimReply('error ERANGE: too many', 'x')).toMatchObject({ code: 'ERANGE', message: 'too many' });
  });
  test('procfs channel: one write of the exact line; real kernel EINVAL; ENOENT', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ofproc-'));
    try {
      const p = path.join(dir, 'cmd_control');
      writeFileSync(p, '');
      await new ProcfsControlChannel(p).write('site=a cmd_add=1\n');
      expect(readFileSync(p, 'utf8')).toBe('site=a cmd_add=1\n');
      // A real procfs file that answers a line it does not understand with EINVAL.
      await expect(new ProcfsControlChannel('/proc/self/oom_score_adj').write('site=a cmd_add=1\n')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/rejected/) });
      const missing = new ProcfsControlChannel(path.join(dir, 'none'));
      await expect(missing.write('x\n')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/module loaded/) });
      expect(readFileSync(p, 'utf8')).toBe('site=a cmd_add=1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('unix channel: silent peer times out', async () => {
    f.sim.reply = () => null;
    try {
      await expect(new UnixSocketControlChannel(f.sim.path, 200).write('site=paris-1 cmd_add=1\n')).rejects.toBeInstanceOf(ControlChannelError);
    } finally {
      f.sim.reply = undefined;
    }
  });
  test('token bucket', () => {
    let now = 0;
    const b = new TokenBucket(2, 1, () => now);
    expect([b.take(), b.take()]).toEqual([0, 0]);
    expect(b.take()).toBe(1000);
    now = 500;
    expect(b.take()).toBe(500);
    now = 1000;
    expect(b.take()).toBe(0);
  });
});
