import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createJournal, jsonlFileSink, withRequestContext, type Journal } from '@mirrorguard/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, redisStore, type ExchangeStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { privateDir } from '../support/private-dir.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { PlantedSecrets, type Leak } from '../support/secret-oracle.ts';
import { rng } from '../support/seeded-random.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';
import { secretCases, type SecretCase } from './secret-cases.ts';

// Issue 13, class 3: secrets never reach a recording or a log. Outbound calls carry random secrets
// planted in every place HTTP carries one (see secret-cases.ts); a primary records them — into a HAR
// file and into the shared Redis store — with a journal file; a mirror replays the same calls with
// other secrets (every one must still match), and calls no recording matches (each must fail with
// an error that quotes the call). Then every byte written — the HAR file, the journal file, every
// Redis entry, every error message — is searched for every planted secret, in every form a writer
// could turn it into (see secret-oracle.ts). The oracle knows what it planted, not how redaction works.
const CASES = 40;
const REDIS_PREFIX = 'secrets:';
/** Fixed seeds: the same calls and secrets on every machine. MIRRORGUARD_SECRETS_SEED runs another. */
const SEEDS = process.env.MIRRORGUARD_SECRETS_SEED === undefined ? [1, 2, 3] : [Number(process.env.MIRRORGUARD_SECRETS_SEED)];

const describeLeaks = (leaks: readonly Leak[]): string => leaks.map((leak) => `- ${leak.place}: found ${leak.form} in ${leak.source}: ${leak.excerpt}`).join('\n');

/** One call of a case, through Node's fetch or node:http (both go through the installed stub); its status, or the error it failed with. */
async function call(origin: string, planned: SecretCase): Promise<{ status: number; body: Buffer } | { error: Error }> {
  const url = `${origin}${planned.path}`;
  try {
    if (planned.client === 'fetch') {
      const response = await fetch(url, { method: planned.method, headers: planned.headers, ...(planned.body !== undefined && { body: planned.body }) });
      return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
    }
    return await new Promise((resolve, reject) => {
      const request = httpRequest(url, { method: planned.method, headers: planned.headers }, (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts) }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(planned.body);
    });
  } catch (error) {
    return { error: error as Error };
  }
}

/** An error and its causes, as text: what a log would show. */
const errorText = (error: unknown): string => {
  const parts: string[] = [];
  for (let current = error as { message?: unknown; cause?: unknown; stack?: unknown; code?: unknown } | undefined; current !== undefined && current !== null; current = current.cause as typeof current) {
    parts.push(`${current.code === undefined ? '' : `[${String(current.code)}] `}${String(current.stack ?? current.message)}`);
  }
  return parts.join('\ncaused by: ');
};

describe.each(SEEDS)('secrets never reach a recording or a log (seed %i)', (seed) => {
  let server: SentinelServer;
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  const folder = privateDir('mirrorguard-secrets-');
  const harFile = join(folder, 'recording.har');
  const journalFile = join(folder, 'journal.jsonl');
  /** What was written or shown, by where: the oracle searches all of it. */
  const outputs = new Map<string, string | Buffer>();
  const planted = new PlantedSecrets(rng(seed * 7919 + 1));
  const recorded = secretCases(CASES, rng(seed), planted);

  beforeAll(async () => {
    server = await startSentinelServer((request) => {
      const planned = recorded[Number(request.headers['x-case'])]!;
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of planned.response.headers) headers[name] = headers[name] === undefined ? value : [headers[name]!, value].flat();
      return { status: planned.response.status, headers: headers as Record<string, string>, body: planned.response.body };
    });
    redisServer = await startRedisServer();
    redis = new Redis(redisServer.url);
  });

  afterAll(async () => {
    redis.disconnect();
    await redisServer.kill();
    await server.close();
  });

  /** Records every case into `store` (each under its own incoming request id), journaled into `journal`. */
  async function record(store: ExchangeStore, journal: Journal): Promise<void> {
    const stub = createHttpStub({ mode: 'record', store, journal });
    stub.install();
    try {
      for (const planned of recorded) {
        const result = await withRequestContext({ requestId: `case-${planned.id}` }, () => call(server.origin, planned));
        expect(result, `case ${planned.id} (seed ${seed})`).toMatchObject({ status: planned.response.status });
      }
    } finally {
      await stub.dispose();
    }
  }

  /**
   * Replays into `stub`: the same calls with rotated secrets (each must be answered from the
   * recording: redaction must not break matching), then the same calls with one more query
   * parameter and rotated secrets again (each must miss, with an error that quotes it).
   */
  async function replay(stub: HttpStub, label: string): Promise<void> {
    const seen = server.seen.length;
    const rotated = secretCases(CASES, rng(seed), planted);
    const missing = secretCases(CASES, rng(seed), planted, true);
    stub.install();
    try {
      for (const planned of rotated) {
        const result = await withRequestContext({ requestId: `case-${planned.id}` }, () => call(server.origin, planned));
        expect('status' in result ? result.status : errorText(result.error), `${label}: case ${planned.id} (${planned.client} ${planned.method} ${planned.bodyKind ?? ''}), seed ${seed}`).toBe(planned.response.status);
      }
      for (const planned of missing) {
        const result = await withRequestContext({ requestId: `case-${planned.id}` }, () => call(server.origin, planned));
        expect('error' in result, `${label}: the variant of case ${planned.id} missed`).toBe(true);
        if ('error' in result) {
          expect(errorText(result.error)).toContain('MG_ERR_HTTP_NO_RECORDING');
          outputs.set(`${label} miss error of case ${planned.id}`, errorText(result.error));
        }
      }
    } finally {
      await stub.dispose();
    }
    expect(server.seen.length, `${label}: no call reached the server`).toBe(seen);
  }

  it('records into a HAR file (mode 0600), with a journal file', async () => {
    const journal = createJournal({ profile: 'record', sinks: [jsonlFileSink(journalFile)] });
    await record(harStore({ file: harFile }), journal);
    await journal.close();
    outputs.set('HAR file', readFileSync(harFile));
    outputs.set('record journal', readFileSync(journalFile));
    expect(statSync(harFile).mode & 0o777).toBe(0o600);
    // The oracle looks at what was really written: each case's plain marker is there.
    const har = readFileSync(harFile, 'utf8');
    for (const planned of recorded) expect(har).toContain(`nonce=case${planned.id}`);
  });

  it('replays from the HAR file: rotated secrets match, variants miss', async () => {
    const mirrorJournalFile = join(folder, 'mirror-journal.jsonl');
    const mirrorJournal = createJournal({ profile: 'mirror', sinks: [jsonlFileSink(mirrorJournalFile)] });
    try {
      await replay(createHttpStub({ mode: 'replay', store: harStore({ file: harFile }), journal: mirrorJournal }), 'HAR replay');
    } finally {
      await mirrorJournal.close();
      outputs.set('mirror journal', readFileSync(mirrorJournalFile));
    }
  });

  it('records into the shared Redis store, with a journal file', async () => {
    const redisJournalFile = join(folder, 'redis-journal.jsonl');
    const journal = createJournal({ profile: 'record', sinks: [jsonlFileSink(redisJournalFile)] });
    await record(redisStore({ redis, prefix: REDIS_PREFIX, ttlSeconds: 60 }), journal);
    await journal.close();
    outputs.set('record journal (Redis)', readFileSync(redisJournalFile));
    const keys = (await redis.keys('*')).sort();
    expect(keys).toHaveLength(CASES);
    for (const key of keys) outputs.set(`Redis ${key}`, (await redis.lrange(key, 0, -1)).join('\n'));
  });

  it('replays from the shared Redis store: rotated secrets match, variants miss', async () => {
    await replay(createHttpStub({ mode: 'replay', store: redisStore({ redis, prefix: REDIS_PREFIX, waitMs: 0 }) }), 'Redis replay');
  });

  it('leaves no planted secret, in any form, in any byte written or shown', () => {
    // Not vacuous: every output is there (a failed step above leaves one out, and this fails too).
    expect([...outputs.keys()].filter((key) => !key.startsWith('Redis secrets:') && !key.includes('miss error')).sort()).toEqual(['HAR file', 'mirror journal', 'record journal', 'record journal (Redis)']);
    expect([...outputs.keys()].filter((key) => key.startsWith('Redis secrets:'))).toHaveLength(CASES);
    expect([...outputs.keys()].filter((key) => key.includes('miss error'))).toHaveLength(2 * CASES);
    expect(planted.size).toBeGreaterThan(CASES * 20);
    const leaks = planted.findIn(outputs);
    expect(leaks, `seed ${seed}: ${leaks.length} planted secret(s) written:\n${describeLeaks(leaks)}`).toEqual([]);
  });
});

describe('a recording written before redaction (or by hand)', () => {
  it('still matches calls whose secrets changed, and no miss error quotes its secrets', async () => {
    const file = join(privateDir('mirrorguard-secrets-'), 'old.har');
    const planted = new PlantedSecrets(rng(99));
    const oldKey = planted.plant('older recording: query api_key');
    const oldPassword = planted.plant('older recording: JSON password');
    const oldToken = planted.plant('older recording: x-auth-token header');
    writeFileSync(
      file,
      JSON.stringify({
        log: {
          version: '1.2',
          entries: [
            {
              _requestId: 'old-1',
              request: {
                method: 'POST',
                url: `https://api.example.invalid/v1/login?api_key=${oldKey}&lang=en`,
                headers: [{ name: 'content-type', value: 'application/json' }, { name: 'x-auth-token', value: oldToken }],
                postData: { mimeType: 'application/json', text: JSON.stringify({ user: 'bob', password: oldPassword }) },
              },
              response: { status: 200, statusText: 'OK', headers: [{ name: 'content-type', value: 'application/json' }], content: { mimeType: 'application/json', text: '{"ok":true}' } },
            },
          ],
        },
      }),
    );
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file }) });
    const login = (key: string, password: string, lang: string): Promise<Response> =>
      fetch(`https://api.example.invalid/v1/login?api_key=${key}&lang=${lang}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-auth-token': planted.plant('live: x-auth-token header') }, body: JSON.stringify({ user: 'bob', password }), dispatcher: stub.dispatcher } as unknown as RequestInit);
    const messages = new Map<string, string>();
    await withRequestContext({ requestId: 'old-1' }, async () => {
      // Other secrets, the same call: it matches.
      expect(await (await login(planted.plant('live: query api_key'), planted.plant('live: JSON password'), 'en')).json()).toEqual({ ok: true });
      // Another call: it misses, and its error quotes the recorded request as redacted.
      const error = await login(planted.plant('live miss: query api_key'), planted.plant('live miss: JSON password'), 'fr').catch((caught: unknown) => caught);
      expect(errorText(error)).toContain('MG_ERR_HTTP_NO_RECORDING');
      expect(errorText(error)).toContain('Nearest recorded requests');
      messages.set('miss error', errorText(error));
    });
    await stub.dispose();
    const leaks = planted.findIn(messages);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });
});

describe('errors about a broken recording', () => {
  it('quote no secret of it (a relative URL, the JSON parser\'s excerpt)', async () => {
    const folder = privateDir('mirrorguard-secrets-');
    const planted = new PlantedSecrets(rng(98));
    const messages = new Map<string, string>();
    const relative = join(folder, 'relative.har');
    writeFileSync(relative, JSON.stringify({ log: { entries: [{ request: { method: 'GET', url: `/v1/tokens/${planted.plant('broken HAR: relative URL path')}?access_token=${planted.plant('broken HAR: relative URL query')}` }, response: { status: 200 } }] } }));
    const broken = join(folder, 'broken.har');
    writeFileSync(broken, `{"log":{"entries":[{"request":{"headers":[{"name":"authorization","value":"Bearer ${planted.plant('broken HAR: header near a JSON fault')}"} "x"`);
    for (const file of [relative, broken]) {
      const error = await harStore({ file }).exchangesFor(null).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'MG_ERR_HTTP_RECORDING_INVALID' });
      messages.set(file, errorText(error));
    }
    const leaks = planted.findIn(messages);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });
});
