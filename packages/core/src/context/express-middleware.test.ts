import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestContextMiddleware } from './express-middleware.ts';
import { getRequestContext } from './request-context.ts';

// A plain node:http server stands in for Express here; the Express test lives in test/.
describe('requestContextMiddleware', () => {
  let generated = 0;
  const middleware = requestContextMiddleware({ generateRequestId: () => `generated-${++generated}` });
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      middleware(request, response, () => {
        const outer = getRequestContext();
        // Mounted twice, as when both an app and a router use it: the first context stays.
        middleware(request, response, async () => {
          await sleep(1);
          const inner = getRequestContext();
          response.setHeader('content-type', 'application/json');
          response.setHeader('x-same-context', String(inner === outer));
          response.end(JSON.stringify(inner));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('runs the request in a context keyed by x-request-id, with method and path', async () => {
    const response = await fetch(`${base}/orders/7?expand=items`, { method: 'POST', headers: { 'x-request-id': 'rid-1' } });
    expect(await response.json()).toEqual({ requestId: 'rid-1', requestIdSource: 'x-request-id', method: 'POST', path: '/orders/7' });
    expect(response.headers.get('x-same-context')).toBe('true');
  });

  it('falls back to traceparent, then to the generator', async () => {
    const traced = await fetch(base, { headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } });
    expect(await traced.json()).toMatchObject({ requestId: '4bf92f3577b34da6a3ce929d0e0e4736', requestIdSource: 'traceparent' });
    const before = generated;
    const bare = await fetch(base);
    expect(await bare.json()).toMatchObject({ requestId: `generated-${before + 1}`, requestIdSource: 'generated' });
    expect(bare.headers.get('x-same-context')).toBe('true');
    expect(generated).toBe(before + 1);
  });

  it('leaves no context behind once the request is handled', () => {
    expect(getRequestContext()).toBeUndefined();
  });
});
