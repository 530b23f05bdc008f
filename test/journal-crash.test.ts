import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '@mirrorguard/core';

const CORE = fileURLToPath(new URL('../packages/core/src/index.ts', import.meta.url));
const EVENTS = 500;

// A writer process journals EVENTS events to a JSON Lines file, then dies in the way named; every
// line it journaled must be in the file, whole.
const writer = (path: string, death: string): string => `
  import { createJournal, jsonlFileSink } from ${JSON.stringify(CORE)};
  const journal = createJournal({ profile: 'mirror', sinks: [jsonlFileSink(${JSON.stringify(path)})] });
  for (let i = 0; i < ${EVENTS}; i++) {
    journal.record({ dependency: 'redis', action: 'shadowed', operation: 'SET key:' + i + ' ' + 'v'.repeat(i % 97), reason: 'crash test' });
  }
  ${death}
  journal.record({ dependency: 'redis', action: 'shadowed', operation: 'never written', reason: 'after death' });
`;

describe('JSON Lines journal when its writer crashes', () => {
  it.each([
    ['SIGKILL', "process.kill(process.pid, 'SIGKILL');", null, 'SIGKILL'],
    ['an uncaught exception', "throw new Error('boom');", 1, null],
    ['process.exit', 'process.exit(3);', 3, null],
    ['abort', 'process.abort();', null, 'SIGABRT'],
  ])('keeps every line on %s', (_death, code, status, signal) => {
    const path = join(mkdtempSync(join(tmpdir(), 'mirrorguard-crash-')), 'effects.jsonl');
    const child = spawnSync(process.execPath, ['--input-type=module', '--eval', writer(path, code)], { encoding: 'utf8' });
    expect({ status: child.status, signal: child.signal }, child.stderr).toEqual({ status, signal });

    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const events = text.trimEnd().split('\n').map((line) => JSON.parse(line) as JournalEvent);
    expect(events).toHaveLength(EVENTS);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
    expect(events[EVENTS - 1]).toMatchObject({ operation: `SET key:${EVENTS - 1} ${'v'.repeat((EVENTS - 1) % 97)}`, profile: 'mirror' });
  });
});
