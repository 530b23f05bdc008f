import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { createJournal, createRedactor, jsonlFileSink, requestContextMiddleware } from '@mirrorguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore } from '../../packages/http-stub/src/index.ts';
import { privateDir } from '../support/private-dir.ts';
import { PlantedSecrets, type Leak } from '../support/secret-oracle.ts';
import { rawGet } from '../support/raw-http.ts';
import { rng } from '../support/seeded-random.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

// Attack pass 13c on http-stub's redaction of the incoming request: its path (read the WHATWG way
// by the app, `new URL(req.url, base)`) and its request id. The redactor is given a shape of the
// service's own secrets in `values` (`acme_` and 32 characters), as the README says to do for a
// secret in no known shape. The oracle (PlantedSecrets) knows nothing of the redactor: it finds each
// planted value in every byte written. An attack that gets through is an `it.fails` asserting the
// safe behaviour.

const describeLeaks = (leaks: readonly Leak[]): string => leaks.map((leak) => `${leak.place}: ${leak.form} in ${leak.source}: ${leak.excerpt}`).join('\n');


const ACME = /acme_[A-Za-z0-9]{32}/g;

describe('http-stub attacks, pass 13c: the incoming path and request id, with the service’s own secret shape', () => {
  const dir = privateDir('mirrorguard-http-attacks-13c-');
  const planted = new PlantedSecrets(rng(0x13_0c));
  const acme = (place: string): string => planted.register(place, `acme_${planted.plant(`(unused: ${place})`, 'hex').slice(0, 32).padEnd(32, '0')}`);
  const inPath = acme('control: an acme_ secret in the path');
  const asRequestId = acme('hole: an acme_ secret as x-request-id');
  const climbed = planted.plant('/x/../reset/<token>');
  const climbedEncoded = planted.plant('/x/%2E%2E/reset/<token>');
  const upper = planted.plant('/RESET/<token>');
  const targets: Array<{ target: string; requestId: string }> = [
    { target: `/files/${inPath}`, requestId: 'r13c-path' },
    { target: '/x', requestId: asRequestId },
    { target: `/x/../reset/${climbed}`, requestId: 'r13c-climbed' },
    { target: `/x/%2E%2E/reset/${climbedEncoded}`, requestId: 'r13c-climbed-encoded' },
    { target: `/RESET/${upper}`, requestId: 'r13c-upper' },
  ];
  const har = join(dir, 'recorded.har');
  const journalFile = join(dir, 'journal.jsonl');
  let sentinel: SentinelServer;
  const pathsSeen = new Map<string, string>();
  let written = new Map<string, string>();

  beforeAll(async () => {
    sentinel = await startSentinelServer();
    const redactor = createRedactor({ values: [ACME] });
    const journal = createJournal({ profile: 'record', sinks: [jsonlFileSink(journalFile)], redact: redactor });
    const stub = createHttpStub({ mode: 'record', store: harStore({ file: har }), journal });
    const middleware = requestContextMiddleware();
    // The app: reads its path the WHATWG way, and calls an outbound API through the stub on every request.
    const app = http.createServer((request, response) => {
      middleware(request, response, () => {
        pathsSeen.set(String(request.headers['x-request-id']), new URL(request.url ?? '/', 'http://app.test').pathname);
        void fetch(`${sentinel.origin}/accounts/lookup`, { dispatcher: stub.dispatcher } as unknown as RequestInit)
          .then((answer) => answer.arrayBuffer())
          .then(
            () => response.end('ok'),
            (error: Error) => {
              response.statusCode = 500;
              response.end(error.message);
            },
          );
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { port } = app.address() as net.AddressInfo;
    for (const { target, requestId } of targets) {
      const answer = await rawGet(port, target, { 'x-request-id': requestId });
      expect(answer, target).toMatch(/^HTTP\/1\.1 200/);
    }
    await new Promise<void>((resolve) => app.close(() => resolve()));
    await stub.dispose();
    journal.close();
    written = new Map([
      ['HAR', readFileSync(har, 'utf8')],
      ['journal', readFileSync(journalFile, 'utf8')],
    ]);
  });

  afterAll(async () => {
    await sentinel.close();
  });

  const leaksOf = (place: string): Leak[] => [...written].flatMap(([source, text]) => planted.findIn(new Map([[source, text]]))).filter((leak) => leak.place === place);

  it('control: the app saw each path, and the redactor given `values` hides an acme_ secret in a path', () => {
    expect(pathsSeen.get('r13c-climbed')).toBe(`/reset/${climbed}`);
    expect(pathsSeen.get('r13c-climbed-encoded')).toBe(`/reset/${climbedEncoded}`);
    expect(written.get('HAR')).toContain('"_incoming"');
    const leaks = leaksOf('control: an acme_ secret in the path');
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  it('refused: /x/../reset/<token>, /x/%2E%2E/reset/<token> (upper-case encoded dots) and /RESET/<token> hide the token', () => {
    const leaks = ['/x/../reset/<token>', '/x/%2E%2E/reset/<token>', '/RESET/<token>'].flatMap(leaksOf);
    expect(leaks.map((leak) => `${leak.place}: ${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  // isValidRequestId asks the default redactor only: an id in the service's own secret shape (in
  // `values`) is taken as the request id and written as it is — HAR `_requestId`, the journal's
  // requestId — though the same value anywhere else in the exchange is hidden.
  it('an x-request-id in a shape of the redactor’s `values` is written nowhere (HAR _requestId, journal): the stub treats it as no id, the journal redacts it', () => {
    const leaks = leaksOf('hole: an acme_ secret as x-request-id');
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });
});
