// The cmd_control grammar, mirrored from kernel/sim/ofsim.h (ofsim_cmd_parse):
//   site=NAME cmd_add=1..64 | cmd_remove=1..64 | fault=KIND [duration=1..604800] | fault=clear
// A JSON body is validated here and turned into one line by buildLine(), the
// only place that line is built. Validation is complete before anything is
// written, so the kernel's own check never sees a line we did not accept.
import { ApiError } from '../api/errors.js';
import { SITE_NAME_RE, SITE_NAME_RULE } from '../abi/site-name.js';

export const CMD_MAX_MODULES = 64; // OFSIM_CMD_MAX_MODULES
export const CMD_MAX_DURATION_S = 7 * 86400; // OFSIM_CMD_MAX_DURATION
export const CMD_MAX_LINE = 256; // OFSIM_CMD_MAX_LINE, bytes including '\n'
export const CONTROL_FAULT_KINDS = ['fiber_cut', 'osnr_degrade', 'ber_creep', 'amp_failure', 'crc_burst', 'traffic_surge'] as const;
export type ControlFaultKind = (typeof CONTROL_FAULT_KINDS)[number];

export type ControlCommand =
  | { op: 'cmd_add'; count: number }
  | { op: 'cmd_remove'; count: number }
  | { op: 'fault'; kind: ControlFaultKind; durationS?: number }
  | { op: 'fault_clear' };

const KEYS = ['cmd_add', 'cmd_remove', 'fault', 'duration'] as const;

function intIn(key: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ApiError(400, `${key}: expected an integer ${min}..${max}, got ${describe(v)}`);
  }
  if (v < min || v > max) throw new ApiError(400, `${key}: ${v} is out of range ${min}..${max}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 32 ? `${v.slice(0, 32)}...` : v)}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Validates a parsed JSON body. Throws ApiError(400) with a precise message. */
export function parseCommand(body: unknown): ControlCommand {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'body must be a JSON object such as {"cmd_add": 1}');
  }
  const obj = body as Record<string, unknown>;
  const keys = Object.keys(obj);
  for (const k of keys) {
    if (!(KEYS as readonly string[]).includes(k)) {
      throw new ApiError(400, `unknown key "${k.length > 32 ? `${k.slice(0, 32)}...` : k}" (allowed: cmd_add, cmd_remove, fault, duration)`);
    }
  }
  const actions = keys.filter((k) => k !== 'duration');
  if (actions.length === 0) throw new ApiError(400, 'no action: give exactly one of cmd_add, cmd_remove, fault');
  if (actions.length > 1) throw new ApiError(400, `exactly one action per command, got ${actions.join(' and ')}`);
  const action = actions[0]!;
  if (action !== 'fault' && 'duration' in obj) throw new ApiError(400, 'duration is only valid with fault');
  switch (action) {
    case 'cmd_add':
      return { op: 'cmd_add', count: intIn('cmd_add', obj.cmd_add, 1, CMD_MAX_MODULES) };
    case 'cmd_remove':
      return { op: 'cmd_remove', count: intIn('cmd_remove', obj.cmd_remove, 1, CMD_MAX_MODULES) };
    default: {
      const f = obj.fault;
      if (typeof f !== 'string') throw new ApiError(400, `fault: expected a fault kind string, got ${describe(f)}`);
      if (f === 'clear') {
        if ('duration' in obj) throw new ApiError(400, 'duration is not valid with fault "clear"');
        return { op: 'fault_clear' };
      }
      if (!(CONTROL_FAULT_KINDS as readonly string[]).includes(f)) {
        throw new ApiError(400, `fault: unknown kind ${describe(f).replace(/^string /, '')} (one of ${CONTROL_FAULT_KINDS.join(', ')}, clear)`);
      }
      const cmd: ControlCommand = { op: 'fault', kind: f as ControlFaultKind };
      if ('duration' in obj) cmd.durationS = intIn('duration', obj.duration, 1, CMD_MAX_DURATION_S);
      return cmd;
    }
  }
}

/** A 400 unless `site` is a site name. */
export function checkSiteName(site: string): void {
  if (!SITE_NAME_RE.test(site)) throw new ApiError(400, `site: not a site name (${SITE_NAME_RULE})`);
}

/** The one place a cmd_control line is built. */
export function buildLine(site: string, cmd: ControlCommand): string {
  checkSiteName(site);
  let action: string;
  switch (cmd.op) {
    case 'cmd_add':
      action = `cmd_add=${cmd.count}`;
      break;
    case 'cmd_remove':
      action = `cmd_remove=${cmd.count}`;
      break;
    case 'fault':
      action = `fault=${cmd.kind}${cmd.durationS !== undefined ? ` duration=${cmd.durationS}` : ''}`;
      break;
    case 'fault_clear':
      action = 'fault=clear';
      break;
  }
  const line = `site=${site} ${action}\n`;
  if (Buffer.byteLength(line) > CMD_MAX_LINE) throw new ApiError(400, 'command line too long');
  return line;
}

/** Human/log form: the JSON command without the site, e.g. "cmd_add=1". */
export function describeCommand(cmd: ControlCommand): string {
  return buildLine('x', cmd).slice('site=x '.length, -1);
}
