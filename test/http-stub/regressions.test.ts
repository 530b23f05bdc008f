import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createGuards, createJournal, memorySink, withRequestContext } from '@mirrorguard/core';
import { Agent, FormData as UndiciFormData, fetch as undiciFetch, getGlobalDispatcher, request as undiciRequest, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createHttpStub, harStore, httpStubProvider, type ExchangeStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

// Each case is a defect found in review, kept from coming back.
const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-http-regressions-'));
// A recording with no exchange: replay reads its file at start-up, and every call misses.
writeFileSync(join(folder, 'none.har'), JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '0' }, entries: [] } }));
const via = (stub: HttpStub, init: RequestInit = {}): RequestInit => ({ ...init, dispatcher: stub.dispatcher }) as unknown as RequestInit;
const codeOf = (error: unknown): unknown => (error as { cause?: { code?: unknown } }).cause?.code ?? (error as { code?: unknown }).code;

describe('http-stub regressions', () => {
  let server: SentinelServer;
  beforeAll(async () => {
    server = await startSentinelServer((request, count) => {
      if (request.url === '/gzip') return { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"token":"SECRET-TOKEN","ok":true}') };
      if (request.url === '/slow') return { body: 'slow answer' };
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: request.url, body: request.body, count }) };
    });
  });
  afterAll(() => server.close());

  // First: a replay stub installed by a later case holds the process's dispatcher for good.
  // Found by the orders example's live test: the live profile handed out npm undici's own (v2) global
  // dispatcher, which Node's built-in fetch (undici 7's handler API) fails to drive when npm undici set
  // up the process dispatcher first ("invalid onRequestStart method"): every charge answered 500.
  it('live: guards.http.dispatcher drives Node\'s fetch, npm undici\'s fetch and request', async () => {
    // The process's dispatcher as npm undici sets it up when it is first (a fresh undici 8 Agent), the
    // objects there now put back afterwards.
    const symbols = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')];
    const previous = symbols.map((symbol) => (globalThis as Record<symbol, unknown>)[symbol]);
    setGlobalDispatcher(new Agent());
    onTestFinished(() => symbols.forEach((symbol, index) => Object.defineProperty(globalThis, symbol, { value: previous[index], writable: true })));
    const guards = await createGuards({ profile: 'live', providers: { http: httpStubProvider({ recording: join(mkdtempSync(join(tmpdir(), 'mirrorguard-live-')), 'unused.har') }) } });
    try {
      const { dispatcher } = guards.http;
      const builtIn = await fetch(`${server.origin}/live-builtin`, { method: 'POST', body: '{}', dispatcher } as unknown as RequestInit);
      expect(builtIn.status).toBe(200);
      await builtIn.text();
      expect((await undiciFetch(`${server.origin}/live-undici`, { dispatcher })).status).toBe(200);
      const answer = await undiciRequest(`${server.origin}/live-request`, { dispatcher });
      await answer.body.text();
      expect(answer.statusCode).toBe(200);
    } finally {
      await guards.close();
    }
  });

  /** Records `work` into a fresh HAR file and returns the file. */
  async function record(name: string, work: (stub: HttpStub) => Promise<unknown>, options: Partial<Parameters<typeof createHttpStub>[0]> = {}): Promise<string> {
    const file = join(folder, name);
    const stub = createHttpStub({ mode: 'record', store: harStore({ file }), ...options });
    await withRequestContext({ requestId: 'r' }, () => work(stub));
    await stub.dispose();
    return file;
  }

  it('reads a path starting with "//" as a path, not a host: the allow-list cannot be fooled', async () => {
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file: join(folder, 'none.har') }), allowHosts: ['users'] });
    const seen = server.seen.length;
    const error = await withRequestContext({ requestId: 'r' }, () => fetch(`${server.origin}//users/7`, via(stub)).catch((caught: unknown) => caught));
    await stub.dispose();
    expect(codeOf(error)).toBe('MG_ERR_HTTP_NO_RECORDING');
    expect((error as { cause: Error }).cause.message).toContain(`${server.origin}//users/7`);
    expect(server.seen.length).toBe(seen);
  });

  it('installs one stub at a time, all or nothing; record puts the process\'s dispatcher back as it was', async () => {
    const before = getGlobalDispatcher();
    const first = createHttpStub({ mode: 'record', store: harStore({ file: join(folder, 'one-at-a-time.har') }) });
    const second = createHttpStub({ mode: 'replay', store: harStore({ file: join(folder, 'none.har') }) });
    first.install();
    expect(() => second.install()).toThrow(expect.objectContaining({ code: 'MG_ERR_HTTP_STUB_OPTIONS' }));
    await second.dispose();
    await first.dispose();
    expect(getGlobalDispatcher()).toBe(before);
  });

  it('matches FormData bodies by their fields (the boundary aside), and JSON numbers past 2^53 exactly', async () => {
    const form = (user: string) => {
      const data = new UndiciFormData();
      data.set('user', user);
      return data as never;
    };
    const file = await record('bodies.har', async (stub) => {
      await (await undiciRequest(`${server.origin}/grant`, { method: 'POST', body: form('alice'), dispatcher: stub.dispatcher })).body.text();
      await (await fetch(`${server.origin}/transfer`, via(stub, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"from":12345678901234567891}' }))).text();
    });
    expect(server.seen.at(-2)!.body).toContain('alice');
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file }) });
    await withRequestContext({ requestId: 'r' }, async () => {
      const mallory = await undiciRequest(`${server.origin}/grant`, { method: 'POST', body: form('mallory'), dispatcher: stub.dispatcher }).catch((caught: unknown) => caught);
      expect(codeOf(mallory)).toBe('MG_ERR_HTTP_NO_RECORDING');
      expect((await undiciRequest(`${server.origin}/grant`, { method: 'POST', body: form('alice'), dispatcher: stub.dispatcher })).statusCode).toBe(200);
      const other = await fetch(`${server.origin}/transfer`, via(stub, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"from":12345678901234567892}' })).catch((caught: unknown) => caught);
      expect(codeOf(other)).toBe('MG_ERR_HTTP_NO_RECORDING');
    });
    await stub.dispose();
  });

  it('stores bodies decoded (gzip), redacts their JSON fields, and replays them to fetch and node:http', async () => {
    const file = await record('gzip.har', async (stub) => expect(await (await fetch(`${server.origin}/gzip`, via(stub))).json()).toEqual({ token: 'SECRET-TOKEN', ok: true }), {
      redact: { jsonFields: ['token'] },
    });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('SECRET-TOKEN');
    const entry = JSON.parse(text).log.entries[0];
    expect(entry.response.headers.map((header: { name: string }) => header.name)).not.toContain('content-encoding');
    expect(JSON.parse(entry.response.content.text)).toEqual({ token: '[REDACTED]', ok: true });
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file }) });
    stub.install();
    try {
      await withRequestContext({ requestId: 'r' }, async () => {
        expect(await (await fetch(`${server.origin}/gzip`)).json()).toEqual({ token: '[REDACTED]', ok: true });
      });
    } finally {
      await stub.dispose();
      stub.reopenNetwork();
    }
  });

  it('keeps content-length true to a body redaction changed, so node:http replay completes', async () => {
    const file = await record('length.har', (stub) => fetch(`${server.origin}/account`, via(stub, { method: 'POST', body: '{"password":"hunter2"}', headers: { 'content-type': 'application/json' } })).then((response) => response.text()), {
      redact: { jsonFields: ['body'] },
    });
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file }), redact: { jsonFields: ['body'] } });
    stub.install();
    try {
      const body = await withRequestContext(
        { requestId: 'r' },
        () =>
          new Promise<string>((resolve, reject) => {
            const request = httpRequest(`${server.origin}/account`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
              const parts: Buffer[] = [];
              response.on('data', (part: Buffer) => parts.push(part));
              response.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
            });
            request.on('error', reject);
            request.end('{"password":"hunter2"}');
          }),
      );
      expect(JSON.parse(body)).toMatchObject({ body: '[REDACTED]' });
    } finally {
      await stub.dispose();
      stub.reopenNetwork();
    }
  });

  it('records a HEAD through node:http without hanging, and dispose() waits for calls still in flight', async () => {
    const file = join(folder, 'inflight.har');
    const stub = createHttpStub({ mode: 'record', store: harStore({ file }) });
    stub.install();
    const status = await withRequestContext({ requestId: 'r' }, () => new Promise<number>((resolve, reject) => httpRequest(`${server.origin}/head`, { method: 'HEAD' }, (response) => resolve(response.statusCode ?? 0)).on('error', reject).end()));
    expect(status).toBe(200);
    const inFlight = withRequestContext({ requestId: 'r' }, () => fetch(`${server.origin}/slow`).then((response) => response.text()));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await stub.dispose();
    expect(await inFlight).toBe('slow answer');
    const urls = JSON.parse(readFileSync(file, 'utf8')).log.entries.map((entry: { request: { url: string } }) => new URL(entry.request.url).pathname);
    expect(urls).toEqual(['/head', '/slow']);
  });

  it('journals each recorded call under the request that made it, also on a reused connection', async () => {
    const sink = memorySink();
    const stub = createHttpStub({ mode: 'record', store: harStore({ file: join(folder, 'context.har') }), journal: createJournal({ profile: 'record', sinks: [sink] }) });
    for (const requestId of ['first', 'second', 'third']) {
      await withRequestContext({ requestId }, () => fetch(`${server.origin}/charge`, via(stub, { method: 'POST', body: requestId })).then((response) => response.text()));
    }
    await stub.dispose();
    expect(sink.events().map((event) => event.requestId)).toEqual(['first', 'second', 'third']);
  });

  it('answers the call when the store fails, journaling that it was not stored; a new recording replaces the old', async () => {
    const failing: ExchangeStore = { description: 'a broken store', exchangesFor: async () => [], record: () => Promise.reject(new Error('disk full')), close: async () => {} };
    const sink = memorySink();
    const stub = createHttpStub({ mode: 'record', store: failing, journal: createJournal({ profile: 'record', sinks: [sink] }) });
    expect((await fetch(`${server.origin}/anything`, via(stub))).status).toBe(200);
    await stub.dispose();
    expect(sink.events().find((event) => event.action === 'warned')?.reason).toContain('not stored in a broken store: disk full');
    await record('again.har', (recorder) => fetch(`${server.origin}/first`, via(recorder)).then((response) => response.text()));
    const file = await record('again.har', (recorder) => fetch(`${server.origin}/second`, via(recorder)).then((response) => response.text()));
    expect(JSON.parse(readFileSync(file, 'utf8')).log.entries.map((entry: { request: { url: string } }) => new URL(entry.request.url).pathname)).toEqual(['/second']);
  });

});
