import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('./bin.ts', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-cli-'));
const line = (requestId: string, action: string, operation: string): string =>
  JSON.stringify({ seq: 1, time: '2026-11-23T10:00:00.000Z', requestId, profile: 'record', dependency: 'db', action, operation, reason: 'x', method: 'POST', path: '/orders' });

function write(name: string, lines: readonly string[]): string {
  const path = join(folder, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('the mirrorguard command', () => {
  const primary = write('primary.jsonl', [line('a', 'recorded', "UPDATE t SET v = 1 WHERE id = 1"), line('b', 'recorded', 'DELETE FROM t WHERE id = 2')]);
  const same = write('same.jsonl', [line('a', 'simulated', "UPDATE t SET v = 1 WHERE id = 1"), line('b', 'simulated', 'DELETE FROM t WHERE id = 2')]);
  const changed = write('changed.jsonl', [line('a', 'simulated', "UPDATE t SET v = 2 WHERE id = 1"), line('b', 'simulated', 'DELETE FROM t WHERE id = 2')]);

  it('diff exits 0 when the mirror would have written the same, 1 with the differences listed when not', () => {
    const ok = run('diff', primary, same);
    expect([ok.status, ok.stdout]).toEqual([0, expect.stringContaining('No difference')]);
    const differs = run('diff', primary, changed);
    expect(differs.status).toBe(1);
    expect(differs.stdout).toContain('1 of 2 request(s) differ.');
    expect(differs.stdout).toContain('other values (db)');
    expect(differs.stdout).toContain('mirror would:  UPDATE t SET v = 2 WHERE id = 1');
    const json = JSON.parse(run('diff', primary, changed, '--json').stdout) as { differing: number };
    expect(json.differing).toBe(1);
  });

  it('report summarizes one journal', () => {
    const report = run('report', changed);
    expect(report.status).toBe(0);
    expect(report.stdout).toContain('2 event(s) over 2 request(s).');
    expect(report.stdout).toMatch(/db\s+simulated\s+2/);
  });

  it('exits 2 with the usage on wrong arguments, and names the file and line of a broken journal', () => {
    expect(run('diff', primary).status).toBe(2);
    expect(run('frobnicate').stderr).toContain('usage:');
    const broken = write('broken.jsonl', [line('a', 'recorded', 'x'), '{"not": "an event"}']);
    const result = run('report', broken);
    expect([result.status, result.stderr]).toEqual([2, expect.stringContaining('broken.jsonl:2: not a journal event')]);
  });
});
