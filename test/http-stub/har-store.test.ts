import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { harStore } from '../../packages/http-stub/src/index.ts';
import type { RecordedExchange } from '../../packages/http-stub/src/index.ts';

const exchange = (requestId: string | null, path: string, body: Buffer = Buffer.alloc(0)): RecordedExchange => ({
  requestId,
  request: { method: 'POST', url: `http://payments.test${path}`, headers: [['content-type', 'application/octet-stream']], body },
  response: { status: 201, statusText: 'Created', headers: [['content-type', 'application/octet-stream']], body },
  startedAt: '2026-11-23T10:00:00.000Z',
  durationMs: 1.5,
});

describe('the HAR store', () => {
  it('writes atomically, in a deterministic order, binary bodies as base64, and reads back the same exchanges', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-har-'));
    const file = join(folder, 'nested', 'recording.har');
    const binary = Buffer.from([0, 255, 128, 10, 13]);
    const store = harStore({ file });
    await store.record(exchange('b', '/2'));
    await store.record(exchange(null, '/0'));
    await store.record(exchange('a', '/1', binary));
    await store.record(exchange('b', '/3'));
    await store.close();
    expect(readdirSync(join(folder, 'nested'))).toEqual(['recording.har']);
    const har = JSON.parse(readFileSync(file, 'utf8'));
    expect(har.log.entries.map((entry: { request: { url: string } }) => new URL(entry.request.url).pathname)).toEqual(['/0', '/1', '/2', '/3']);
    expect(har.log.entries[1].response.content).toMatchObject({ encoding: 'base64', text: binary.toString('base64'), size: 5 });
    const again = harStore({ file });
    expect(await again.exchangesFor('a')).toEqual([exchange('a', '/1', binary)]);
    expect((await again.exchangesFor(null)).map((item) => item.request.url)).toEqual(['http://payments.test/0']);
    // Reading for replay never writes the file.
    const before = statSync(file).mtimeMs;
    const text = readFileSync(file, 'utf8');
    await again.close();
    expect(statSync(file).mtimeMs).toBe(before);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('reads a missing file as no recordings', async () => {
    const store = harStore({ file: join(tmpdir(), `absent-${Date.now()}.har`) });
    expect(await store.exchangesFor('x')).toEqual([]);
  });

  it.each([
    ['not JSON', '{"log": ', /broken\.har: not JSON/],
    ['no log', '{"entries": []}', /broken\.har: top level: not a HAR file/],
    ['entries not a list', '{"log": {"entries": {}}}', /broken\.har: log: "entries" is not an array/],
    ['no response', '{"log": {"entries": [{"request": {"method": "GET", "url": "http://x.test/"}}]}}', /log\.entries\[0\]: an entry needs "request" and "response"/],
    ['relative URL', '{"log": {"entries": [{"request": {"method": "GET", "url": "/x"}, "response": {"status": 200}}]}}', /log\.entries\[0\]\.request\.url: not an absolute URL/],
    ['bad status', '{"log": {"entries": [{"request": {"method": "GET", "url": "http://x.test/"}, "response": {"status": "ok"}}]}}', /log\.entries\[0\]\.response\.status: not an integer/],
    ['bad headers', '{"log": {"entries": [{"request": {"method": "GET", "url": "http://x.test/", "headers": [{"name": 1}]}, "response": {"status": 200}}]}}', /request\.headers: headers must be a list/],
  ])('fails on a malformed file (%s) with an error naming the file and the problem', async (_what, text, message) => {
    const file = join(mkdtempSync(join(tmpdir(), 'mirrorguard-har-')), 'broken.har');
    writeFileSync(file, text);
    await expect(harStore({ file }).exchangesFor(null)).rejects.toMatchObject({ code: 'MG_ERR_HTTP_RECORDING_INVALID', message: expect.stringMatching(message) });
  });
});
