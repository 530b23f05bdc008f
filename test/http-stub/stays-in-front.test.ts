import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJournal, memorySink, withRequestContext } from '@mirrorguard/core';
import * as undici from 'undici';
import * as undici6 from 'undici6';
import * as undici7 from 'undici7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { clientTakes, HTTP_CLIENTS, wireMethod, type Call, type Framing, type HttpClient, type Outcome } from '../support/http-stub-clients.ts';
import { privateDir } from '../support/private-dir.ts';
import { rng } from '../support/seeded-random.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';

// The stub stays in front (issue 13, class 1). Random (client × method × path × body framing ×
// timing × allow-list) against a sentinel that counts, at the socket, every connection it accepts
// and every byte it reads. Each sample first makes its call with no stub installed, which the
// sentinel must see (the oracle sees that client, and the call leaves a kept-alive socket behind);
// then a replaying stub with an empty recording is installed, and the same call must reach the
// sentinel with 0 connections and 0 bytes, journaled as blocked — unless the model below says it
// may go out (a safe method, exactly, with no body, to an allowed host, readable, not closed), in
// which case it must reach it. Framings the parser rejects after a request's headers (a body longer
// than its Content-Length, a Transfer-Encoding that is not chunked) are written on a connection
// before the stub's connection guard hears of it: the request's own passthrough is refused too. Worker threads: test/package/http-stub-workers.test.ts.

const SEED = Number(process.env.STUB_FRONT_SEED ?? 20_261_207);
const SAMPLES = Number(process.env.STUB_FRONT_SAMPLES ?? 160);

const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND', 'M-SEARCH', 'get', 'post', 'options', 'FOO'] as const;
const PATHS = ['/plain', '/caf\u00e9', '/%2e%2e/admin', '//double/slash', '/q?token=abc&a=%ZZ'] as const;
const FRAMINGS: readonly Framing[] = ['none', 'content-length', 'chunked', 'conflicting', 'overlong', 'identity'];
const TIMINGS = ['installed', 'after a setGlobalDispatcher', 'closed'] as const;

/** Everything that writes the process-wide dispatcher after install(): none may replace the stub. */
const SETTERS: Record<string, () => void> = {
  'undici 8 setGlobalDispatcher(Agent)': () => undici.setGlobalDispatcher(new undici.Agent()),
  'undici 8 setGlobalDispatcher(MockAgent)': () => {
    const agent = new undici.MockAgent();
    agent.enableNetConnect();
    undici.setGlobalDispatcher(agent);
  },
  'undici 8 setGlobalDispatcher(EnvHttpProxyAgent)': () => undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent()),
  'undici 7 setGlobalDispatcher(Agent)': () => undici7.setGlobalDispatcher(new undici7.Agent()),
  'undici 6 setGlobalDispatcher(Agent)': () => undici6.setGlobalDispatcher(new undici6.Agent()),
  'Object.defineProperty of the legacy symbol': () => Object.defineProperty(globalThis, Symbol.for('undici.globalDispatcher.1'), { value: new undici.Agent(), writable: true }),
  'assignment to the current symbol': () => {
    (globalThis as unknown as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.2')] = new undici.Agent();
  },
  'Reflect.defineProperty of both symbols': () => {
    for (const symbol of [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')]) Reflect.defineProperty(globalThis, symbol, { value: new undici.Agent() });
  },
};

interface Sample {
  readonly client: HttpClient;
  readonly protocol: Call['protocol'];
  readonly method: string;
  readonly path: string;
  readonly framing: Framing;
  readonly timing: (typeof TIMINGS)[number];
  readonly setter: string;
  readonly allow: boolean;
  readonly pooled: boolean;
}

function draw(seed: number, count: number): Sample[] {
  const random = rng(seed);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  return Array.from({ length: count }, () => {
    const client = pick(HTTP_CLIENTS);
    const method = pick(METHODS.filter((candidate) => clientTakes(client, candidate)));
    // Only node:http sends what it is told; the others frame a body with a content-length.
    const framing = client.upgrade || client.name.includes('EventSource') ? 'none' : client.raw ? pick(FRAMINGS) : pick(FRAMINGS.slice(0, 2));
    return { client, protocol: pick(client.protocols), method, path: pick(PATHS), framing, timing: pick(TIMINGS), setter: pick(Object.keys(SETTERS)), allow: random() < 0.5, pooled: random() < 0.5 };
  });
}

/**
 * The model, independent of the stub's code: what HTTP says a mirror may send an allowed host — a
 * GET, HEAD or OPTIONS exactly as written on the wire, with no body, that starts no upgrade — and
 * what the stub can read to know that (node:http sends a method outside http.METHODS, a Latin-1
 * byte in the path and conflicting framing as it is told, which its parser rejects).
 */
function mayGoOut(sample: Sample): boolean {
  const wire = wireMethod(sample.client.methodCase, sample.method);
  const readable = !sample.client.raw || (http.METHODS.includes(wire) && /^[\x21-\x7e]*$/.test(sample.path) && ['none', 'content-length', 'chunked'].includes(sample.framing));
  return sample.allow && sample.timing !== 'closed' && ['GET', 'HEAD', 'OPTIONS'].includes(wire) && sample.framing === 'none' && !sample.client.upgrade && readable;
}

const describeSample = (sample: Sample, index: number): string =>
  `#${index} seed ${SEED}: ${sample.client.name} ${sample.protocol} ${sample.method} ${JSON.stringify(sample.path)} ${sample.framing}, ${sample.timing}${sample.timing === 'after a setGlobalDispatcher' ? ` (${sample.setter})` : ''}${sample.allow ? ', host allowed' : ''}${sample.pooled ? ', kept-alive agent' : ''}`;

describe('the stub stays in front: generated calls against a byte-counting sentinel', () => {
  const sentinels = new Map<Call['protocol'], ByteSentinel>();
  const certificate = selfSignedCert();
  const empty = join(privateDir('mirrorguard-stays-in-front-'), 'empty.har');
  writeFileSync(empty, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '0' }, entries: [] } }));
  const agents = { http: new http.Agent({ keepAlive: true }) };
  let previous: HttpStub | undefined;
  let reached = 0;
  let lateCheck: { readonly sentinel: ByteSentinel; readonly counts: [number, number]; readonly name: string } | undefined;

  beforeAll(async () => {
    sentinels.set('http', await startByteSentinel('http'));
    sentinels.set('https', await startByteSentinel('https', certificate));
  });
  afterAll(async () => {
    agents.http.destroy();
    for (const sentinel of sentinels.values()) await sentinel.close();
  });

  const samples = draw(SEED, SAMPLES);
  it.each(samples.map((sample, index) => [describeSample(sample, index), sample] as const))('%s', async (_name, sample) => {
    const sentinel = sentinels.get(sample.protocol)!;
    const authority = `127.0.0.1:${sentinel.port}`;
    const call: Call = {
      protocol: sample.protocol,
      authority,
      method: sample.method,
      path: sample.path,
      body: sample.framing === 'none' ? undefined : 'amount=5',
      framing: sample.framing,
      ca: sample.protocol === 'https' ? certificate.cert : undefined,
      ...(sample.pooled && sample.protocol === 'http' && { agent: agents.http }),
    };
    const counts = (): [number, number] => [sentinel.connections(), sentinel.bytes()];
    // The previous sample's refused call: nothing of it reached its sentinel since.
    if (lateCheck !== undefined) expect([lateCheck.sentinel.connections(), lateCheck.sentinel.bytes()], `late: ${lateCheck.name}`).toEqual(lateCheck.counts);
    lateCheck = undefined;

    // With nothing installed, the sentinel sees the call (and a kept-alive socket stays behind).
    previous?.reopenNetwork();
    const unreached = counts();
    await sample.client.run(call);
    const controlReached = sentinel.bytes() > unreached[1];

    const sink = memorySink({ limit: 100 });
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), allowHosts: sample.allow ? [authority] : [], journal: createJournal({ profile: 'mirror', sinks: [sink] }) });
    previous = stub;
    stub.install();
    if (sample.timing === 'after a setGlobalDispatcher') {
      try {
        SETTERS[sample.setter]!();
      } catch {
        // Some of them throw (the symbols are read-only): the stub stays either way.
      }
    }
    if (sample.timing === 'closed') await stub.dispose();
    const before = counts();
    let outcome: Outcome;
    try {
      outcome = await withRequestContext({ requestId: 'r-1', method: 'POST', path: '/checkout' }, () => sample.client.run(call));
    } finally {
      await stub.dispose();
    }
    reached += controlReached ? 1 : 0;
    if (mayGoOut(sample)) {
      if (controlReached) await sentinel.bytesAbove(before[1]);
      expect(sentinel.connections() + sentinel.bytes() > before[0] + before[1] || !controlReached).toBe(true);
      expect(sink.events().map((event) => event.action)).toContain('passed');
    } else {
      expect(outcome.status, `answered: ${JSON.stringify(outcome)}`).toBeUndefined();
      expect(counts(), `the sentinel was reached (${JSON.stringify(outcome)})`).toEqual(before);
      // Refused by the stub (journaled), or by the client itself before anything was sent.
      if (outcome.code?.startsWith('MG_ERR_') === true || sample.client.upgrade) expect(sink.events().map((event) => event.action)).toContain('blocked');
    }
    // Nothing arrives late either: with the next sample's control call made, still nothing more.
    if (!mayGoOut(sample)) lateCheck = { sentinel, counts: before, name: describeSample(sample, samples.indexOf(sample)) };
  });

  it('reached the sentinel with nothing installed for most samples (the oracle sees the clients), and nothing arrived late', () => {
    if (lateCheck !== undefined) expect([lateCheck.sentinel.connections(), lateCheck.sentinel.bytes()], `late: ${lateCheck.name}`).toEqual(lateCheck.counts);
    expect(reached).toBeGreaterThan(samples.length * 0.8);
    // The model let some through, and refused most: both sides of it were drawn.
    expect(samples.filter(mayGoOut).length).toBeGreaterThan(3);
  });
});
