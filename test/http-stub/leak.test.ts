import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuards, createJournal, memorySink, withRequestContext, type Profile } from '@mirrorguard/core';
import axios from 'axios';
import { fetch as undiciFetch, getGlobalDispatcher, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStubProvider, type HttpStubProviderOptions } from '../../packages/http-stub/src/index.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

// The sentinel server counts every request it receives. The primary (record) calls it through every
// client; then, in the mirror and test profiles, the same app code must reach it zero times with an
// unsafe request: hits are replayed, misses fail as configured.
interface Answer {
  readonly status: number;
  readonly body: string;
}
type Client = (url: string, method: string, body: string) => Promise<Answer>;

const CLIENTS: Record<string, Client> = {
  'global fetch': async (url, method, body) => {
    const response = await fetch(url, { method, body, headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: await response.text() };
  },
  'undici request': async (url, method, body) => {
    const response = await undiciRequest(url, { method: method as 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: response.statusCode, body: await response.body.text() };
  },
  'undici fetch': async (url, method, body) => {
    const response = await undiciFetch(url, { method, body, headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: await response.text() };
  },
  'node:http': (url, method, body) =>
    new Promise((resolve, reject) => {
      const request = httpRequest(url, { method, headers: { 'content-type': 'application/json' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      request.on('error', reject);
      request.end(body);
    }),
  axios: async (url, method, body) => {
    const response = await axios.request({ url, method, data: body, headers: { 'content-type': 'application/json' }, transformResponse: (data: string) => data, validateStatus: () => true });
    return { status: response.status, body: response.data as string };
  },
};

/** Each client's unsafe call, distinct per client. */
const UNSAFE = Object.keys(CLIENTS).map((name, index) => ({ name, method: ['POST', 'PUT', 'DELETE', 'PATCH', 'POST'][index]!, path: `/payments/${index}`, body: JSON.stringify({ client: name, amount: index + 1 }) }));

const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;

describe('leak test: outbound HTTP through every client in every profile', () => {
  let sentinel: SentinelServer;
  const recording = join(mkdtempSync(join(tmpdir(), 'mirrorguard-leak-')), 'payments.har');
  const recorded = new Map<string, Answer>();
  const options = (): HttpStubProviderOptions => ({ recording });

  async function run(profile: Profile, extra: Partial<HttpStubProviderOptions>, work: () => Promise<void>): Promise<ReturnType<typeof memorySink>> {
    const sink = memorySink({ limit: 1_000 });
    const guards = await createGuards({ profile, providers: { http: httpStubProvider({ ...options(), ...extra }) }, journal: createJournal({ profile, sinks: [sink] }) });
    try {
      await work();
    } finally {
      await guards.close();
      // A closed mirror or test stub keeps the process refusing: taken out, for the next profile's run.
      guards.http.reopenNetwork();
    }
    return sink;
  }

  beforeAll(async () => {
    sentinel = await startSentinelServer();
    const before = getGlobalDispatcher();
    await run('record', {}, () =>
      withRequestContext({ requestId: 'checkout-1' }, async () => {
        for (const call of UNSAFE) recorded.set(call.name, await CLIENTS[call.name]!(`${sentinel.origin}${call.path}`, call.method, call.body));
      }),
    );
    expect(getGlobalDispatcher()).toBe(before);
  });

  afterAll(() => sentinel.close());

  it('recorded: every client reached the server once', () => {
    expect(sentinel.seen.map((request) => `${request.method} ${request.url}`)).toEqual(UNSAFE.map((call) => `${call.method} ${call.path}`));
  });

  it.each(['mirror', 'test'] as const)('%s: hits are replayed, misses fail closed, and nothing reaches the server', async (profile) => {
    const reached = sentinel.seen.length;
    const sink = await run(profile, {}, async () => {
      await withRequestContext({ requestId: 'checkout-1' }, async () => {
        for (const call of UNSAFE) expect(await CLIENTS[call.name]!(`${sentinel.origin}${call.path}`, call.method, call.body), call.name).toEqual(recorded.get(call.name));
      });
      await withRequestContext({ requestId: 'checkout-2' }, async () => {
        for (const call of UNSAFE) {
          const error = await CLIENTS[call.name]!(`${sentinel.origin}${call.path}`, call.method, call.body).then(() => undefined, (caught: unknown) => caught);
          expect(codeOf(error), call.name).toBe('MG_ERR_HTTP_NO_RECORDING');
        }
      });
    });
    expect(sentinel.seen.length).toBe(reached);
    expect(sink.events().filter((event) => event.action === 'replayed').length).toBe(UNSAFE.length);
    expect(sink.events().filter((event) => event.action === 'blocked').length).toBe(UNSAFE.length);
  });

  it('mirror with an allow-list: unsafe misses still never go out; a configured miss answer is given instead', async () => {
    const reached = sentinel.seen.length;
    await run('mirror', { allowHosts: [new URL(sentinel.origin).host] }, () =>
      withRequestContext({ requestId: 'checkout-3' }, async () => {
        for (const call of UNSAFE) {
          const error = await CLIENTS[call.name]!(`${sentinel.origin}${call.path}`, call.method, call.body).then(() => undefined, (caught: unknown) => caught);
          expect(codeOf(error), call.name).toBe('MG_ERR_HTTP_UNSAFE');
        }
      }),
    );
    await run('test', { onMiss: { status: 503, body: 'no recording' } }, () =>
      withRequestContext({ requestId: 'checkout-3' }, async () => {
        for (const call of UNSAFE) expect(await CLIENTS[call.name]!(`${sentinel.origin}${call.path}`, call.method, call.body), call.name).toEqual({ status: 503, body: 'no recording' });
      }),
    );
    expect(sentinel.seen.length).toBe(reached);
  });

  it('live: nothing is installed, calls go out as they are', async () => {
    const reached = sentinel.seen.length;
    const before = getGlobalDispatcher();
    await run('live', {}, async () => {
      expect(getGlobalDispatcher()).toBe(before);
      expect((await CLIENTS['global fetch']!(`${sentinel.origin}/live`, 'POST', '{}')).status).toBe(200);
    });
    expect(sentinel.seen.length).toBe(reached + 1);
  });
});
