import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { harStore, type RecordedExchange } from '../../packages/http-stub/src/index.ts';
import { privateDir } from '../support/private-dir.ts';

// Issue 13, class 3: recordings are written with mode 0600, through a new file with an
// unpredictable name, never through a symbolic link — one planted at the recording's path, or at
// any name an attacker could predict for the temporary file, points at a file of the victim's.
const exchange: RecordedExchange = {
  requestId: 'r',
  request: { method: 'GET', url: 'http://api.test/x', headers: [], body: Buffer.alloc(0) },
  response: { status: 200, statusText: 'OK', headers: [['content-type', 'text/plain']], body: Buffer.from('recorded') },
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1,
};

async function recordOne(file: string): Promise<void> {
  const store = harStore({ file });
  store.beginRecording?.();
  await store.record(exchange);
  await store.close();
}

describe('writing a recording file', () => {
  it('writes mode 0600, whatever the umask allows, and leaves no temporary file', async () => {
    const folder = privateDir('mirrorguard-recording-');
    const file = join(folder, 'r.har');
    // An earlier recording readable by all is replaced by one that is not.
    writeFileSync(file, '{"log":{"entries":[]}}', { mode: 0o644 });
    const umask = process.umask(0);
    try {
      await recordOne(file);
    } finally {
      process.umask(umask);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(folder)).toEqual(['r.har']);
    expect(readFileSync(file, 'utf8')).toContain('http://api.test/x');
  });

  it('refuses a symbolic link at the recording path, and writes nothing through it', async () => {
    const folder = privateDir('mirrorguard-recording-');
    const victim = join(folder, 'victim.txt');
    writeFileSync(victim, 'the victim\'s data');
    const file = join(folder, 'r.har');
    symlinkSync(victim, file);
    await expect(recordOne(file)).rejects.toMatchObject({ code: 'MG_ERR_HTTP_RECORDING_UNSAFE', message: expect.stringContaining('symbolic link') });
    expect(readFileSync(victim, 'utf8')).toBe('the victim\'s data');
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    expect(readdirSync(folder).sort()).toEqual(['r.har', 'victim.txt']);
  });

  it('never follows a link planted at a temporary name an attacker could predict', async () => {
    const folder = privateDir('mirrorguard-recording-');
    const victim = join(folder, 'victim.txt');
    writeFileSync(victim, 'the victim\'s data');
    const file = join(folder, 'r.har');
    // The names the store used to write through (`.<file>.<pid>.<n>.tmp`), and a few other guesses.
    const guesses = [...Array.from({ length: 20 }, (_, n) => `.r.har.${process.pid}.${n}.tmp`), '.r.har.tmp', 'r.har.tmp', '.r.har.swp'];
    for (const guess of guesses) symlinkSync(victim, join(folder, guess));
    await recordOne(file);
    await recordOne(file);
    expect(readFileSync(victim, 'utf8')).toBe('the victim\'s data');
    expect(lstatSync(file).isFile()).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('http://api.test/x');
    expect(readdirSync(folder).sort()).toEqual([...guesses, 'r.har', 'victim.txt'].sort());
  });
});
