import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { createJournal, jsonlFileSink, memorySink, withRequestContext } from '@mirrorguard/core';
import axios from 'axios';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, redisStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { outcomeOf, type Outcome } from '../support/http-stub-clients.ts';
import { privateDir } from '../support/private-dir.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { PlantedSecrets, type Leak } from '../support/secret-oracle.ts';
import { rng } from '../support/seeded-random.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

// Attack pass 13 on http-stub: where the incoming request's own path goes (recordings, the pairing
// store, the journal), and node:http requests that bring their own connection. An attack that gets
// through is an `it.fails` asserting the safe behaviour; one refused is an ordinary test.

const describeLeaks = (leaks: readonly Leak[]): string => leaks.map((leak) => `${leak.place}: ${leak.form} in ${leak.source}: ${leak.excerpt}`).join('\n');

describe('http-stub attacks, pass 13: the incoming request\'s path is recorded', () => {
  const dir = privateDir('mirrorguard-http-attacks-13-');
  const planted = new PlantedSecrets(rng(0x13_13));
  // Places the redactor's URL rules name: a secret-looking segment after /api-keys/ and /reset/, and a GitHub token shape anywhere.
  const incomingKey = planted.plant('incoming path, after /api-keys/');
  const incomingReset = planted.plant('incoming path, after /reset/');
  const incomingToken = planted.register('incoming path, a ghp_ token', `ghp_${planted.plant('(unused)', 'hex').slice(0, 36).padEnd(36, '0')}`);
  const outboundKey = planted.plant('outbound URL, after /api-keys/');
  const outboundToken = planted.register('outbound URL, a ghp_ token', `ghp_${planted.plant('(unused 2)', 'hex').slice(0, 36).padEnd(36, '0')}`);
  const prefix = 'attacks-13:';
  const requestId = 'attack-13-request';
  const har = join(dir, 'recorded.har');
  const journalFile = join(dir, 'journal.jsonl');
  let sentinel: SentinelServer;
  let storeServer: ThrowawayRedis;
  let storeRedis: Redis;
  let harText = '';
  let storeText = '';
  let journalText = '';

  beforeAll(async () => {
    sentinel = await startSentinelServer();
    storeServer = await startRedisServer();
    storeRedis = new Redis(storeServer.url);
    const journal = createJournal({ profile: 'record', sinks: [jsonlFileSink(journalFile)] });
    const toHar = createHttpStub({ mode: 'record', store: harStore({ file: har }), journal });
    const toRedis = createHttpStub({ mode: 'record', store: redisStore({ redis: storeRedis, prefix }), journal });
    // The incoming request (a password reset link, an API key rotation) carries its secret in its path.
    const contexts = [
      { requestId, method: 'POST', path: `/v1/api-keys/${incomingKey}/rotate` },
      { requestId: `${requestId}-2`, method: 'GET', path: `/reset/${incomingReset}` },
      { requestId: `${requestId}-3`, method: 'GET', path: `/callback/${incomingToken}` },
    ];
    for (const stub of [toHar, toRedis]) {
      for (const context of contexts) {
        await withRequestContext(context, async () => {
          const response = await fetch(`${sentinel.origin}/api-keys/${outboundKey}/x/${outboundToken}`, { dispatcher: stub.dispatcher } as unknown as RequestInit);
          await response.arrayBuffer();
        });
      }
      await stub.dispose();
    }
    journal.close();
    harText = readFileSync(har, 'utf8');
    const keys = await storeRedis.keys(`${prefix}*`);
    storeText = (await Promise.all(keys.map(async (key) => `${key}\n${(await storeRedis.lrange(key, 0, -1)).join('\n')}`))).join('\n');
    journalText = readFileSync(journalFile, 'utf8');
  });

  afterAll(async () => {
    storeRedis.disconnect();
    await storeServer.kill();
    await sentinel.close();
  });

  const leaksIn = (source: string, text: string, places: RegExp): Leak[] => planted.findIn(new Map([[source, text]])).filter((leak) => places.test(leak.place));

  it('control: the recordings were written, bound to the incoming requests', () => {
    expect(harText).toContain('"_incoming"');
    expect(storeText).toContain('"incoming"');
    expect(journalText).toContain('"recorded"');
  });

  it('the outbound URL\'s secrets (after /api-keys/, a ghp_ token) are redacted in the HAR file, the store and the journal', () => {
    const leaks = [...leaksIn('HAR', harText, /^outbound/), ...leaksIn('Redis store', storeText, /^outbound/), ...leaksIn('journal', journalText, /^outbound/)];
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });

  // toHar writes `_incoming: { method, path }` as the request context holds it; the redactor runs
  // over the outbound request only.
  it('the incoming request\'s path is redacted in the HAR file (_incoming.path)', () => {
    const leaks = leaksIn('HAR', harText, /^incoming/);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });

  it('the incoming request\'s path is redacted in the pairing store\'s entries (incoming.path)', () => {
    const leaks = leaksIn('Redis store', storeText, /^incoming/);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });

  it('replay still pairs a call with its recording when the incoming path held a secret (both sides redacted alike)', async () => {
    const before = sentinel.seen.length;
    for (const store of [harStore({ file: har }), redisStore({ redis: storeRedis, prefix })]) {
      const mirror = createHttpStub({ mode: 'replay', store });
      try {
        const status = await withRequestContext({ requestId: `${requestId}-2`, method: 'GET', path: `/reset/${incomingReset}` }, async () => {
          const response = await fetch(`${sentinel.origin}/api-keys/${outboundKey}/x/${outboundToken}`, { dispatcher: mirror.dispatcher } as unknown as RequestInit);
          await response.arrayBuffer();
          return response.status;
        });
        expect(status).toBe(200);
        // Bound to its incoming request: another path with the same id gets no answer.
        const other = await withRequestContext({ requestId: `${requestId}-2`, method: 'GET', path: '/reset/another' }, () =>
          fetch(`${sentinel.origin}/api-keys/${outboundKey}/x/${outboundToken}`, { dispatcher: mirror.dispatcher } as unknown as RequestInit).then(
            () => 'answered',
            () => 'refused',
          ),
        );
        expect(other).toBe('refused');
      } finally {
        await mirror.dispose();
      }
    }
    expect(sentinel.seen.length).toBe(before);
  });

  // The journal redacts `operation` only; every event in a request carries the context's `path`.
  it('the incoming request\'s path is redacted in every journal event (path)', () => {
    const leaks = leaksIn('journal', journalText, /^incoming/);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });
});

/** node:http through `options`, to `origin`; its status, or the error it failed with. */
function nodeRequest(origin: string, options: http.RequestOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = http.request(`${origin}/pay`, { method: 'GET', ...options }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
    });
    request.on('error', (error) => resolve(outcomeOf(error)));
    request.end();
  });
}

describe('http-stub attacks, pass 13: node:http with a connection of its own', () => {
  const folder = privateDir('mirrorguard-http-attacks-13-own-');
  const empty = join(folder, 'empty.har');
  writeFileSync(empty, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '0' }, entries: [] } }));
  let sentinel: ByteSentinel;
  let origin: string;
  const stubs: HttpStub[] = [];
  const counts = (): [number, number] => [sentinel.connections(), sentinel.bytes()];

  function replay(): void {
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), journal: createJournal({ profile: 'mirror', sinks: [memorySink()] }) });
    stub.install();
    stubs.push(stub);
  }

  beforeAll(async () => {
    sentinel = await startByteSentinel('http');
    origin = `http://127.0.0.1:${sentinel.port}`;
  });
  afterEach(async () => {
    for (const stub of stubs.splice(0)) {
      await stub.dispose();
      stub.reopenNetwork();
    }
  });
  afterAll(async () => {
    await sentinel.close();
  });

  const ownConnection = (): net.Socket => net.connect(sentinel.port, '127.0.0.1');
  const clients: Record<string, () => http.RequestOptions> = {
    'agent: false with createConnection': () => ({ agent: false, createConnection: ownConnection } as http.RequestOptions),
    'createConnection with the default agent': () => ({ createConnection: ownConnection } as http.RequestOptions),
    'a duck-typed agent (addRequest only) that hands the request its own socket': () => ({
      agent: { addRequest: (request: http.ClientRequest) => request.onSocket(ownConnection()) } as unknown as http.Agent,
    }),
    'an Agent subclass whose createConnection opens its own socket': () => ({
      agent: new (class extends http.Agent {
        override createConnection(): net.Socket {
          return ownConnection();
        }
      })(),
    }),
  };

  it.each(Object.keys(clients))('control, nothing installed: %s reaches the sentinel', async (name) => {
    const [connections] = counts();
    expect(await nodeRequest(origin, clients[name]!())).toEqual({ status: 200 });
    expect(sentinel.connections()).toBeGreaterThan(connections);
  });

  it.each(Object.keys(clients))('replay: %s sends nothing', async (name) => {
    replay();
    const before = counts();
    const outcome = await nodeRequest(origin, clients[name]!());
    expect(outcome).toMatchObject({ code: expect.stringMatching(/^MG_ERR_HTTP_/) });
    expect(counts()).toEqual(before);
  });

  // install() guards the workers started after it (a Worker subclass, a refused hand-over for a
  // class taken before). A worker already running — a thread pool started at boot, before the
  // guards — keeps its own fetch, undici and node:http, none of which the stub is in front of.
  it.fails('HOLE: a worker started before install() calls out unguarded after it', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
parentPort.once('message', async (url) => {
  try { const response = await fetch(url); await response.arrayBuffer(); parentPort.postMessage('status ' + response.status); }
  catch (error) { parentPort.postMessage('error ' + (error.cause?.code ?? error.code)); }
});
parentPort.postMessage('ready');`,
      { eval: true },
    );
    try {
      expect((await once(worker, 'message'))[0]).toBe('ready');
      replay();
      const before = counts();
      worker.postMessage(`${origin}/from-a-worker`);
      const [outcome] = (await once(worker, 'message')) as [string];
      expect({ outcome, counts: counts() }).toEqual({ outcome: expect.stringMatching(/^error MG_ERR_HTTP_/), counts: before });
    } finally {
      await worker.terminate();
    }
  });

  // A safe miss to an allowed host goes out; its redirect to a host not allowed is a new call,
  // decided anew (fetch follows it through the dispatcher, axios through node:http again).
  it('replay with allowHosts: a redirect from an allowed host to another host is not followed out', async () => {
    const allowed = await startSentinelServer(() => ({ status: 302, headers: { location: `${origin}/redirected` } }));
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), allowHosts: [new URL(allowed.origin).host], journal: createJournal({ profile: 'mirror', sinks: [memorySink()] }) });
    stub.install();
    stubs.push(stub);
    try {
      const before = counts();
      const viaFetch = await fetch(`${allowed.origin}/start`).then((response) => ({ status: response.status }), outcomeOf);
      const viaAxios = await axios.get(`${allowed.origin}/start`).then((response) => ({ status: response.status }), outcomeOf);
      expect(allowed.seen.map((request) => request.url)).toEqual(['/start', '/start']);
      expect([viaFetch, viaAxios]).toEqual([expect.objectContaining({ code: 'MG_ERR_HTTP_NO_RECORDING' }), expect.objectContaining({ code: 'MG_ERR_HTTP_NO_RECORDING' })]);
      expect(counts()).toEqual(before);
    } finally {
      await allowed.close();
    }
  });
});
