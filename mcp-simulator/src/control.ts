// The /sim test-control API (faults, reset, stats): loopback clients only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { FaultInjector, type FaultKind } from './faults.js';
import { HttpError, readBody, send } from './http.js';

/** Parse a JSON body with parse(); any failure is a 400 invalid_faults. */
async function faultsBody(ctx: SimContext, req: IncomingMessage, parse: (o: unknown) => void): Promise<void> {
  try {
    parse(JSON.parse(await readBody(req, ctx.maxBody)));
  } catch (e) {
    throw new HttpError(400, 'invalid_faults', (e as Error).message);
  }
}

export async function control(ctx: SimContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const { faults } = ctx;
  const remote = req.socket.remoteAddress ?? '';
  if (!/^(127\.|::1$|::ffff:127\.)/.test(remote)) throw new HttpError(403, 'forbidden', 'the /sim control API answers loopback clients only');
  if (path === '/sim/faults' && req.method === 'GET') return send(res, 200, faults.config);
  if (path === '/sim/faults' && req.method === 'PUT') {
    await faultsBody(ctx, req, (o) => faults.set(o));
    return send(res, 200, faults.config);
  }
  if (path === '/sim/faults/next' && req.method === 'POST') {
    await faultsBody(ctx, req, (o) => {
      // Validate through a scratch injector, then queue on the live one.
      const f = new FaultInjector();
      f.set({ next: o });
      faults.addNext(f.config.next as Partial<Record<FaultKind, number>>);
    });
    return send(res, 200, faults.config);
  }
  if (path === '/sim/reset' && req.method === 'POST') {
    ctx.book.reset();
    return send(res, 200, { reset: true });
  }
  if (path === '/sim/stats' && req.method === 'GET') return send(res, 200, ctx.book.stats());
  throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
}
