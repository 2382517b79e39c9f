// What the routes share: one simulator's state, built once by startMcpSimulator.
import type { ServerResponse } from 'node:http';
import type { TokenIssuer } from './auth.js';
import type { FaultInjector } from './faults.js';
import type { JobBook } from './jobs.js';
import type { Timers } from './timers.js';
import type { LogFn } from './types.js';

export interface SimContext {
  faults: FaultInjector;
  timers: Timers;
  book: JobBook;
  auth: TokenIssuer;
  log: LogFn;
  maxBody: number;
  hangMs: number;
  responseDelayMs: [number, number];
  /** Requests a create_timeout* fault holds open; stop() destroys them. */
  hanging: Set<ServerResponse>;
}
