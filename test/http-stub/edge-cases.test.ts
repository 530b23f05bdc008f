import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withRequestContext } from '@mirrorguard/core';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore } from '../../packages/http-stub/src/index.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-http-edge-'));

describe('http-stub edge cases', () => {
  let server: SentinelServer;
  beforeAll(async () => {
    server = await startSentinelServer();
  });
  afterAll(() => server.close());

  it('reads an async-iterable body in full, and redacts named headers and query parameters (still matching on replay)', async () => {
    const file = join(folder, 'iterable.har');
    const redact = { headers: ['x-tenant-secret'], queryParameters: ['token'] };
    async function* chunks(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"b":');
      yield Buffer.from('2,"a":1}');
    }
    const recorder = createHttpStub({ mode: 'record', store: harStore({ file }), redact });
    await withRequestContext({ requestId: 'edge-1' }, async () => {
      const response = await undiciRequest(`${server.origin}/upload?token=abc123&kind=x`, { method: 'POST', body: chunks() as never, headers: { 'content-type': 'application/json', 'x-tenant-secret': 's3' }, dispatcher: recorder.dispatcher });
      expect(JSON.parse(await response.body.text())).toMatchObject({ body: '{"b":2,"a":1}' });
    });
    await recorder.dispose();
    const entry = JSON.parse(readFileSync(file, 'utf8')).log.entries[0];
    // (The echo server's answer repeats the URL it got; the request as stored holds no secret.)
    expect(JSON.stringify(entry.request)).not.toContain('abc123');
    expect(JSON.stringify(entry.request)).not.toContain('"s3"');
    expect(entry.request.url).toContain('token=[REDACTED]');
    expect(entry.request.headers).toContainEqual({ name: 'x-tenant-secret', value: '[REDACTED]' });
    expect(entry.request.postData.text).toBe('{"b":2,"a":1}');

    const seen = server.seen.length;
    const replayer = createHttpStub({ mode: 'replay', store: harStore({ file }), redact });
    await withRequestContext({ requestId: 'edge-1' }, async () => {
      const response = await undiciRequest(`${server.origin}/upload?kind=x&token=other`, { method: 'POST', body: chunks() as never, headers: { 'content-type': 'application/json' }, dispatcher: replayer.dispatcher });
      expect(JSON.parse(await response.body.text())).toMatchObject({ count: 1 });
    });
    await replayer.dispose();
    expect(server.seen.length).toBe(seen);
  });

  it('replays node:https from a recording, with no TLS connection at all, and fails its misses', async () => {
    const file = join(folder, 'https.har');
    writeFileSync(
      file,
      JSON.stringify({
        log: {
          version: '1.2',
          entries: [
            {
              _requestId: 'edge-2',
              request: { method: 'GET', url: 'https://payments.example.invalid/balance?account=7', headers: [] },
              response: { status: 200, statusText: 'OK', headers: [{ name: 'content-type', value: 'application/json' }], content: { mimeType: 'application/json', text: '{"balance":42}' } },
            },
          ],
        },
      }),
    );
    const get = (url: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const request = httpsRequest(url, (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        });
        request.on('error', reject);
        request.end();
      });
    const replayer = createHttpStub({ mode: 'replay', store: harStore({ file }) });
    replayer.install();
    try {
      await withRequestContext({ requestId: 'edge-2' }, async () => {
        expect(JSON.parse(await get('https://payments.example.invalid/balance?account=7'))).toEqual({ balance: 42 });
        await expect(get('https://payments.example.invalid/balance?account=8')).rejects.toMatchObject({ code: 'MG_ERR_HTTP_NO_RECORDING' });
      });
    } finally {
      await replayer.dispose();
      replayer.reopenNetwork();
    }
  });
});
