import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { createJournal, jsonlFileSink, requestContextMiddleware } from '@mirrorguard/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, redisStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { privateDir } from '../support/private-dir.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { PlantedSecrets, type Leak } from '../support/secret-oracle.ts';
import { rawGet } from '../support/raw-http.ts';
import { rng } from '../support/seeded-random.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

// Attack pass 13b on http-stub: the incoming request's path as a client really sends it, through
// node:http and requestContextMiddleware, to an app that reads its path the WHATWG way
// (`new URL(req.url, base)`: `.` and `%2e` segments removed, `\` read as `/`). Each secret is the
// token of a `/reset/<token>` link; the oracle (PlantedSecrets) knows nothing of the redactor.
// An attack that gets through is an `it.fails` asserting the safe behaviour.

const describeLeaks = (leaks: readonly Leak[]): string => leaks.map((leak) => `${leak.place}: ${leak.form} in ${leak.source}: ${leak.excerpt}`).join('\n');


describe('http-stub attacks, pass 13b: the incoming path as the client wrote it', () => {
  const dir = privateDir('mirrorguard-http-attacks-13b-');
  const planted = new PlantedSecrets(rng(0x13_0b));
  const plain = planted.plant('control: /reset/<token>');
  const encodedSlash = planted.plant('control: /reset/%2F<token>');
  const dot = planted.plant('hole: /reset/./<token>');
  const encodedDot = planted.plant('hole: /reset/%2e/<token>');
  const backslash = planted.plant('hole: /reset\\<token>');
  // The request id is copied verbatim from x-request-id: a ghp_ token shape (the redactor hides it "anywhere").
  const idToken = planted.register('request id: a ghp_ token shape', `ghp_${planted.plant('(unused)', 'hex').slice(0, 36).padEnd(36, '0')}`);
  const targets: Array<{ target: string; secret: string; requestId: string }> = [
    { target: `/reset/${plain}`, secret: plain, requestId: 'r13b-plain' },
    { target: `/reset/%2F${encodedSlash}`, secret: encodedSlash, requestId: 'r13b-encoded-slash' },
    { target: `/reset/./${dot}`, secret: dot, requestId: 'r13b-dot' },
    { target: `/reset/%2e/${encodedDot}`, secret: encodedDot, requestId: 'r13b-encoded-dot' },
    { target: `/reset\\${backslash}`, secret: backslash, requestId: 'r13b-backslash' },
  ];
  const prefix = 'attacks-13b:';
  const har = join(dir, 'recorded.har');
  const journalFile = join(dir, 'journal.jsonl');
  let sentinel: SentinelServer;
  let storeServer: ThrowawayRedis;
  let storeRedis: Redis;
  /** The token the app read from each request's path, by request id. */
  const tokensSeen = new Map<string, string>();
  let written = new Map<string, string>();

  /** The app: reads the path the WHATWG way, and on /reset/<token> calls an outbound API through the stub. */
  function startApp(stub: HttpStub): Promise<http.Server> {
    const middleware = requestContextMiddleware();
    const server = http.createServer((request, response) => {
      middleware(request, response, () => {
        const pathname = new URL(request.url ?? '/', 'http://app.test').pathname;
        const match = /^\/reset\/([^/]+)$/.exec(pathname);
        if (match === null) {
          response.statusCode = 404;
          response.end();
          return;
        }
        tokensSeen.set(String(request.headers['x-request-id']), decodeURIComponent(match[1]!));
        void fetch(`${sentinel.origin}/accounts/lookup`, { dispatcher: stub.dispatcher } as unknown as RequestInit)
          .then((answer) => answer.arrayBuffer())
          .then(
            () => response.end('reset'),
            (error: Error) => {
              response.statusCode = 500;
              response.end(error.message);
            },
          );
      });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }

  beforeAll(async () => {
    sentinel = await startSentinelServer();
    storeServer = await startRedisServer();
    storeRedis = new Redis(storeServer.url);
    const journal = createJournal({ profile: 'record', sinks: [jsonlFileSink(journalFile)] });
    const stubs = [createHttpStub({ mode: 'record', store: harStore({ file: har }), journal }), createHttpStub({ mode: 'record', store: redisStore({ redis: storeRedis, prefix }), journal })];
    for (const [index, stub] of stubs.entries()) {
      const app = await startApp(stub);
      const { port } = app.address() as net.AddressInfo;
      for (const { target, requestId } of targets) {
        const answer = await rawGet(port, target, { 'x-request-id': `${requestId}-${index}` });
        expect(answer, target).toMatch(/^HTTP\/1\.1 200/);
      }
      await rawGet(port, '/reset/x', { 'x-request-id': `${idToken}-${index}` });
      await new Promise<void>((resolve) => app.close(() => resolve()));
      await stub.dispose();
    }
    journal.close();
    const keys = await storeRedis.keys(`${prefix}*`);
    const store = (await Promise.all(keys.map(async (key) => `${key}\n${(await storeRedis.lrange(key, 0, -1)).join('\n')}`))).join('\n');
    written = new Map([
      ['HAR', readFileSync(har, 'utf8')],
      ['Redis store', store],
      ['journal', readFileSync(journalFile, 'utf8')],
    ]);
  });

  afterAll(async () => {
    storeRedis.disconnect();
    await storeServer.kill();
    await sentinel.close();
  });

  /** The secret planted at `place`, found in each thing written (each scanned on its own). */
  const leaksOf = (place: string): Leak[] => [...written].flatMap(([source, text]) => planted.findIn(new Map([[source, text]]))).filter((leak) => leak.place === place);

  it('control: node:http hands each path over as written, and the app read the planted token from every one', () => {
    for (const { secret, requestId } of targets) expect(tokensSeen.get(`${requestId}-0`), requestId).toMatch(new RegExp(`^/?${secret}$`));
    expect(written.get('HAR')).toContain('"_incoming"');
    expect(written.get('Redis store')).toContain('"incoming"');
  });

  it('a /reset/<token> path and its %2F spelling are redacted everywhere', () => {
    const leaks = [...leaksOf('control: /reset/<token>'), ...leaksOf('control: /reset/%2F<token>')];
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  // The redactor reads the path's segments as written: `.` (or `%2e`) between /reset/ and the token
  // names no secret, so the token after it stays; `\` is no segment separator to it at all. The app
  // (WHATWG URL) routes every one of them to /reset/<token>.
  it('/reset/./<token> (a dot segment): the token is redacted in the HAR file, the store and the journal', () => {
    const leaks = leaksOf('hole: /reset/./<token>');
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  it('/reset/%2e/<token> (an encoded dot segment): the token is redacted in the HAR file, the store and the journal', () => {
    const leaks = leaksOf('hole: /reset/%2e/<token>');
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  it('/reset\\<token> (a backslash, a separator to WHATWG URL): the token is redacted in the HAR file, the store and the journal', () => {
    const leaks = leaksOf('hole: /reset\\<token>');
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  // The request id is never redacted: HAR `_requestId`, the pairing key, the journal's requestId.
  it('a token-shaped x-request-id is not used as the request id: written nowhere (HAR _requestId, the store key, the journal)', () => {
    const leaks = leaksOf('request id: a ghp_ token shape');
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });
});
