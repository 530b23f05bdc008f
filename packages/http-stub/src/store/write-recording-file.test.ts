import { lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRecordingFile } from './write-recording-file.ts';

describe('writeRecordingFile', () => {
  it('never opens a temporary path that exists: a link planted there is neither followed nor removed', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-write-'));
    const victim = join(folder, 'victim.txt');
    writeFileSync(victim, 'the victim\'s data');
    // As if the random name had been guessed.
    symlinkSync(victim, join(folder, '.guessed.tmp'));
    await expect(writeRecordingFile(join(folder, 'r.har'), 'recording', '.guessed.tmp')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(victim, 'utf8')).toBe('the victim\'s data');
    expect(lstatSync(join(folder, '.guessed.tmp')).isSymbolicLink()).toBe(true);
    expect(() => lstatSync(join(folder, 'r.har'))).toThrow();
  });
});
