// Alertmanager v4 webhook payload: JSON schema (ajv) and authentication.
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
import { createHash, timingSafeEqual } from 'node:crypto';
import AjvModule from 'ajv';
import type { AlertIn } from './policy.js';

const Ajv = AjvModule as unknown as typeof AjvModule.default;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const time = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const WEBHOOK_SCHEMA = {
  type: 'object',
  required: ['version', 'groupKey', 'status', 'receiver', 'alerts'],
  properties: {
    version: { const: '4' },
    groupKey: { type: 'string', maxLength: 4096 },
    truncatedAlerts: { type: 'integer', minimum: 0 },
    status: { enum: ['firing', 'resolved'] },
    receiver: { type: 'string', maxLength: 1024 },
    groupLabels: stringMap,
    commonLabels: stringMap,
    commonAnnotations: stringMap,
    externalURL: { type: 'string', maxLength: 4096 },
    alerts: {
      type: 'array',
      maxItems: 10000,
      items: {
        type: 'object',
        required: ['status', 'labels', 'startsAt', 'fingerprint'],
        properties: {
          status: { enum: ['firing', 'resolved'] },
          labels: stringMap,
          annotations: stringMap,
          startsAt: time,
          endsAt: time,
          generatorURL: { type: 'string', maxLength: 8192 },
          fingerprint: { type: 'string', pattern: '^[0-9a-fA-F]{1,64}$' },
        },
      },
    },
  },
} as const;

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts?: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels?: Record<string, string>;
  commonLabels?: Record<string, string>;
  commonAnnotations?: Record<string, string>;
  externalURL?: string;
  alerts: Partial<AlertIn>[];
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateFn = ajv.compile(WEBHOOK_SCHEMA);

/** Validates a parsed payload; returns precise problems (at most 10). */
export function validateWebhook(body: unknown): { ok: true; payload: WebhookPayload } | { ok: false; problems: string[] } {
  if (validateFn(body)) {
    const p = body as unknown as WebhookPayload;
    const problems: string[] = [];
    p.alerts.forEach((a, i) => {
      if (!Number.isFinite(Date.parse(a.startsAt!))) problems.push(`/alerts/${i}/startsAt: not an RFC 3339 time`);
    });
    return problems.length ? { ok: false, problems } : { ok: true, payload: p };
  }
  const problems = (validateFn.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}${e.params && 'allowedValue' in e.params ? ` (${JSON.stringify(e.params.allowedValue)})` : ''}`);
  return { ok: false, problems };
}

/** Normalizes an alert of a validated payload. */
export function toAlert(a: Partial<AlertIn>): AlertIn {
  return {
    status: a.status!,
    labels: a.labels ?? {},
    annotations: a.annotations ?? {},
    startsAt: a.startsAt!,
    endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
    generatorURL: a.generatorURL ?? '',
    fingerprint: a.fingerprint!.toLowerCase(),
  };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

export interface WebhookAuth {
  bearerToken?: string;
  basicUser?: string;
  basicPassword?: string;
}

/** Checks the Authorization header against the configured bearer token or basic-auth pair. */
export function checkWebhookAuth(cfg: WebhookAuth, header: string | undefined): 'ok' | 'missing' | 'wrong' {
  if (!header) return 'missing';
  const bearer = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  if (bearer) return cfg.bearerToken !== undefined && same(bearer[1]!, cfg.bearerToken) ? 'ok' : 'wrong';
  const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (basic) {
    if (cfg.basicUser === undefined || cfg.basicPassword === undefined) return 'wrong';
    const dec = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) return 'wrong';
    // Evaluate both comparisons: no early exit on the user name.
    const u = same(dec.slice(0, i), cfg.basicUser);
    const p = same(dec.slice(i + 1), cfg.basicPassword);
    return u && p ? 'ok' : 'wrong';
  }
  return 'missing';
}
