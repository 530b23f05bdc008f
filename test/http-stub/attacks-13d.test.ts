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

// Attack pass 13d on http-stub's redaction of the incoming request: dot segments, encoded slashes,
// backslashes and matrix parameters around a `/reset/<token>` path, and request ids the redactor
// might change only with text around them. The redactor is given the service's own secret shape in
// `values` (`acme_` and 32 characters). The oracle (PlantedSecrets) knows nothing of the redactor:
// it finds each planted value in every byte written (HAR, journal). An attack that gets through is an
// `it.fails` asserting the safe behaviour.

const describeLeaks = (leaks: readonly Leak[]): string => leaks.map((leak) => `${leak.place}: ${leak.form} in ${leak.source}: ${leak.excerpt}`).join('\n');

const ACME = /acme_[A-Za-z0-9]{32}/g;

describe('http-stub attacks, pass 13d: the incoming path around /reset/<token>, and request ids', () => {
  const dir = privateDir('mirrorguard-http-attacks-13d-');
  const planted = new PlantedSecrets(rng(0x13_0d));
  const acme = (place: string): string => planted.register(place, `acme_${planted.plant(`(unused: ${place})`, 'hex').slice(0, 32).padEnd(32, '0')}`);
  const token = (place: string): string => planted.plant(place, 'base64url');
  const removedByDots = token('/reset/<token>/..');
  const encodedSlash = token('/a/%2e%2e%2freset/<token>');
  const backslashes = token('/a\\reset\\<token>');
  const matrix = token('/reset;x/<token>');
  const jsession = token('/reset;jsessionid=…/<token>');
  const idInText = acme('an acme_ secret as a request id, in the error text quoting it');
  const targets: Array<{ target: string; requestId: string }> = [
    { target: `/reset/${removedByDots}/..`, requestId: 'r13d-dots' },
    { target: `/a/%2e%2e%2freset/${encodedSlash}`, requestId: 'r13d-encoded-slash' },
    { target: `/a\\reset\\${backslashes}`, requestId: 'r13d-backslashes' },
    { target: `/reset;x/${matrix}`, requestId: 'r13d-matrix' },
    { target: `/reset;jsessionid=0a1b2c3d/${jsession}`, requestId: 'r13d-jsessionid' },
    { target: '/x', requestId: `id-${idInText}` },
    { target: '/x', requestId: '[REDACTED]' },
    { target: '/x', requestId: `${'r'.repeat(190)}${idInText}` },
  ];
  const har = join(dir, 'recorded.har');
  const journalFile = join(dir, 'journal.jsonl');
  let sentinel: SentinelServer;
  const answers = new Map<string, string>();
  let written = new Map<string, string>();

  beforeAll(async () => {
    sentinel = await startSentinelServer();
    const redactor = createRedactor({ values: [ACME] });
    const journal = createJournal({ profile: 'record', sinks: [jsonlFileSink(journalFile)], redact: redactor });
    const stub = createHttpStub({ mode: 'record', store: harStore({ file: har }), journal });
    const middleware = requestContextMiddleware();
    const app = http.createServer((request, response) => {
      middleware(request, response, () => {
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
    for (const { target, requestId } of targets) answers.set(target, await rawGet(port, target, { 'x-request-id': requestId }));
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

  it('control: every request was answered and recorded with its incoming path', () => {
    for (const [target, answer] of answers) expect(answer, target).toMatch(/^HTTP\/1\.1 200/);
    expect(written.get('HAR')).toContain('"_incoming"');
  });

  it('refused: /reset/<token>/.. (the token later removed by ..), /a/%2e%2e%2freset/<token> (an encoded slash) and /a\\reset\\<token> hide the token', () => {
    const leaks = ['/reset/<token>/..', '/a/%2e%2e%2freset/<token>', '/a\\reset\\<token>'].flatMap(leaksOf);
    expect(leaks.map((leak) => `${leak.place}: ${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  // The segment rule compares the whole segment before the secret with its list of names: `reset;x`
  // is not `reset`. Servers that strip matrix parameters (Tomcat, Spring's UrlPathHelper) route
  // /reset;jsessionid=…/<token> as /reset/<token>, and Java services put `;jsessionid=` exactly there.
  it('/reset;x/<token> and /reset;jsessionid=…/<token> (a matrix parameter on the naming segment) hide the token', () => {
    const leaks = ['/reset;x/<token>', '/reset;jsessionid=…/<token>'].flatMap(leaksOf);
    expect(leaks.map((leak) => `${leak.place}: ${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });

  it('refused: an x-request-id holding an acme_ secret with text around it (id-<secret>, 190 characters and the secret: over 200) is no id; [REDACTED] as an id is kept', () => {
    const leaks = leaksOf('an acme_ secret as a request id, in the error text quoting it');
    expect(leaks.map((leak) => `${leak.form} in ${leak.source}`), describeLeaks(leaks)).toEqual([]);
  });
});
