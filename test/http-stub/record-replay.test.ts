import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withRequestContext } from '@mirrorguard/core';
import { fetch as undiciFetch, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

/** Node's fetch with a stub's dispatcher for this one call (its types come from another copy of undici). */
const via = (stub: HttpStub): RequestInit => ({ dispatcher: stub.dispatcher }) as unknown as RequestInit;

// A primary records its outbound calls (per incoming request id) into a HAR file; a mirror replays
// them. The sentinel server counts what reaches it: in replay, nothing may.
describe('record, then replay, through the undici interceptor', () => {
  let server: SentinelServer;
  const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-http-'));
  const file = join(folder, 'payments.har');

  const charge = (body: unknown): Promise<Response> =>
    fetch(`${server.origin}/charge?currency=EUR&idempotent=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token', 'x-trace-id': String(Math.random()) },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    server = await startSentinelServer();
    const recorder = createHttpStub({ mode: 'record', store: harStore({ file }), redact: { jsonFields: ['card'] } });
    recorder.install();
    try {
      await withRequestContext({ requestId: 'order-1' }, async () => {
        expect((await charge({ amount: 5, card: '4111', currency: 'EUR' })).status).toBe(200);
        // The same call twice: the server answers each differently (its counter); replay keeps the order.
        await (await fetch(`${server.origin}/stock/lamp`)).text();
        await (await fetch(`${server.origin}/stock/lamp`)).text();
        const { body } = await undiciRequest(`${server.origin}/via-undici-request`, { method: 'PUT', body: 'plain text' });
        await body.text();
        await (await undiciFetch(`${server.origin}/via-undici-fetch`)).text();
        // A streamed body is read in full before it is recorded.
        const stream = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"streamed":'));
            controller.enqueue(new TextEncoder().encode('true}'));
            controller.close();
          },
        });
        await (await fetch(`${server.origin}/upload`, { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit)).text();
      });
      await withRequestContext({ requestId: 'order-2' }, async () => {
        await (await fetch(`${server.origin}/stock/lamp`)).text();
      });
    } finally {
      await recorder.dispose();
    }
  });

  afterAll(() => server.close());

  it('went out while recording, and wrote a HAR 1.2 file with secrets redacted', () => {
    expect(server.seen.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /charge?currency=EUR&idempotent=1',
      'GET /stock/lamp',
      'GET /stock/lamp',
      'PUT /via-undici-request',
      'GET /via-undici-fetch',
      'POST /upload',
      'GET /stock/lamp',
    ]);
    const har = JSON.parse(readFileSync(file, 'utf8'));
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.map((entry: { _requestId: string }) => entry._requestId)).toEqual(['order-1', 'order-1', 'order-1', 'order-1', 'order-1', 'order-1', 'order-2']);
    const first = har.log.entries[0];
    expect(first.request.headers).toContainEqual({ name: 'authorization', value: '[REDACTED]' });
    expect(JSON.parse(first.request.postData.text)).toEqual({ amount: 5, card: '[REDACTED]', currency: 'EUR' });
    expect(first.request.queryString).toEqual([{ name: 'currency', value: 'EUR' }, { name: 'idempotent', value: '1' }]);
    expect(JSON.parse(har.log.entries[5].request.postData.text)).toEqual({ streamed: true });
    expect(readFileSync(file, 'utf8')).not.toContain('secret-token');
  });

  it('replays each call for its own request id and never reaches the server', async () => {
    const replayer = createHttpStub({ mode: 'replay', store: harStore({ file }), redact: { jsonFields: ['card'] } });
    replayer.install();
    const seenBefore = server.seen.length;
    try {
      await withRequestContext({ requestId: 'order-1' }, async () => {
        // Same call: JSON keys in another order, query parameters in another order, a new trace header.
        const response = await fetch(`${server.origin}/charge?idempotent=1&currency=EUR`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer other', 'x-trace-id': 'new' },
          body: JSON.stringify({ currency: 'EUR', card: '4111', amount: 5 }),
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ method: 'POST', count: 1 });
        expect(await (await fetch(`${server.origin}/stock/lamp`)).json()).toMatchObject({ count: 2 });
        expect(await (await fetch(`${server.origin}/stock/lamp`)).json()).toMatchObject({ count: 3 });
        const { statusCode, body } = await undiciRequest(`${server.origin}/via-undici-request`, { method: 'PUT', body: 'plain text' });
        expect(statusCode).toBe(200);
        expect(await body.json()).toMatchObject({ body: 'plain text' });
        expect(await (await undiciFetch(`${server.origin}/via-undici-fetch`)).json()).toMatchObject({ url: '/via-undici-fetch' });
        const stream = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"streamed": true}'));
            controller.close();
          },
        });
        expect(await (await fetch(`${server.origin}/upload`, { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit)).json()).toMatchObject({ count: 6 });
        // A third identical call was never recorded: it misses, and says so.
        await expect(fetch(`${server.origin}/stock/lamp`)).rejects.toMatchObject({ cause: { code: 'MG_ERR_HTTP_NO_RECORDING', message: expect.stringContaining('recorded 2 time(s)') } });
      });
      await withRequestContext({ requestId: 'order-2' }, async () => {
        expect(await (await fetch(`${server.origin}/stock/lamp`)).json()).toMatchObject({ count: 7 });
      });
    } finally {
      await replayer.dispose();
    }
    expect(server.seen.length).toBe(seenBefore);
    // Disposed, a replay stub keeps refusing (a mirror shutting down never reaches the network)…
    await expect(fetch(`${server.origin}/stock/lamp`)).rejects.toMatchObject({ cause: { code: 'MG_ERR_HTTP_STUB_CLOSED' } });
    expect(server.seen.length).toBe(seenBefore);
    // …until it is taken out on purpose.
    replayer.reopenNetwork();
    await (await fetch(`${server.origin}/after-reopen`)).text();
    expect(server.seen.length).toBe(seenBefore + 1);
  });

  it('fails a miss closed, naming the nearest recorded requests and how they differ', async () => {
    const replayer = createHttpStub({ mode: 'replay', store: harStore({ file }), redact: { jsonFields: ['card'] } });
    const seenBefore = server.seen.length;
    try {
      const error = await withRequestContext({ requestId: 'order-1' }, () =>
        fetch(`${server.origin}/charge?currency=EUR&idempotent=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":6,"card":"4111","currency":"EUR"}', ...via(replayer) }).catch((caught: Error) => caught.cause),
      );
      expect(error).toMatchObject({ code: 'MG_ERR_HTTP_NO_RECORDING' });
      expect((error as Error).message).toContain(`POST ${server.origin}/charge`);
      expect((error as Error).message).toContain('body');
      expect((error as Error).message).toContain('"amount":6');
      const unknown = await withRequestContext({ requestId: 'never-seen' }, () => fetch(`${server.origin}/stock/lamp`, via(replayer)).catch((caught: Error) => caught.cause));
      expect((unknown as Error).message).toContain('Nothing was recorded for request id never-seen');
    } finally {
      await replayer.dispose();
    }
    expect(server.seen.length).toBe(seenBefore);
  });

  it('answers a miss with a configured response, or lets safe requests to allowed hosts through; unsafe ones never', async () => {
    const synthetic = createHttpStub({ mode: 'replay', store: harStore({ file }), onMiss: { status: 503, headers: { 'content-type': 'text/plain' }, body: 'mirror: no recording' } });
    const allowing = createHttpStub({ mode: 'replay', store: harStore({ file }), allowHosts: [new URL(server.origin).host] });
    const seenBefore = server.seen.length;
    try {
      const response = await fetch(`${server.origin}/unrecorded`, via(synthetic));
      expect([response.status, await response.text()]).toEqual([503, 'mirror: no recording']);
      expect((await fetch(`${server.origin}/catalog`, via(allowing))).status).toBe(200);
      expect(server.seen.length).toBe(seenBefore + 1);
      await expect(fetch(`${server.origin}/catalog`, { method: 'DELETE', ...via(allowing) })).rejects.toMatchObject({ cause: { code: 'MG_ERR_HTTP_UNSAFE' } });
    } finally {
      await synthetic.dispose();
      await allowing.dispose();
    }
    expect(server.seen.length).toBe(seenBefore + 1);
  });
});
