import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore } from '../../packages/http-stub/src/index.ts';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';

// In a file of its own: it makes a global dispatcher symbol read-only for the rest of the process.
describe('a process-wide dispatcher held read-only by something else', () => {
  let sentinel: ByteSentinel;
  beforeAll(async () => {
    sentinel = await startByteSentinel('http');
  });
  afterAll(() => sentinel.close());

  it('fails install() with MG_ERR_HTTP_STUB_OPTIONS, and changes nothing', async () => {
    const empty = join(privateDir('mirrorguard-held-elsewhere-'), 'empty.har');
    writeFileSync(empty, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '0' }, entries: [] } }));
    const theirs = new Agent();
    Object.defineProperty(globalThis, Symbol.for('undici.globalDispatcher.1'), { value: theirs, writable: false });
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }) });
    expect(() => stub.install()).toThrow(expect.objectContaining({ code: 'MG_ERR_HTTP_STUB_OPTIONS' }));
    // Nothing of it was put in place: node:http and the other symbol are as they were.
    expect((globalThis as unknown as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')]).toBe(theirs);
    const status = await new Promise<number>((resolve, reject) => http.get(`http://127.0.0.1:${sentinel.port}/`, (response) => resolve(response.resume().statusCode ?? 0)).on('error', reject));
    expect(status).toBe(200);
    await stub.dispose();
  });
});
