import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DemoReport } from '../../demo/report.ts';

// `npm run demo` itself runs in CI, both on the servers and embedded; its checks are the proof there.
// Here: that those checks can fail. A mirror started with plain clients (the live profile) writes to
// the shared database and Redis and charges the payments service — the demo must say so and exit 1.
// It runs the built packages (this project builds first), on the embedded backends: SQLite and the
// memory engine, so that it shares no server with the tests running beside it.
describe('npm run demo', () => {
  it('fails, naming what leaked, when a mirror runs unguarded', () => {
    const out = mkdtempSync(join(tmpdir(), 'mirrorguard-demo-test-'));
    const run = spawnSync(process.execPath, ['demo/main.ts'], {
      env: { ...process.env, DEMO_BACKENDS: 'embedded', DEMO_FAULT: 'unguarded-mirror', DEMO_REQUESTS: '40', DEMO_OUT: out, MIRROR: '', MIRROR_PROFILE: '' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as DemoReport;
    const failed = report.checks.filter((check) => !check.ok).map((check) => check.name);
    expect(failed).toEqual(expect.arrayContaining(['database: the mirrors changed nothing', 'redis: the mirrors changed nothing', 'payments: no call from a mirror']));
    expect(report.ok).toBe(false);
    expect(run.stdout).toMatch(/FAIL {2}payments: no call from a mirror: [1-9]\d* calls from the mirrors/);
    // The guarded candidate beside it still leaked nothing of its own and still shows its change.
    expect(report.checks.find((check) => check.name.startsWith('candidate: the diff finds the change'))?.ok).toBe(true);
  }, 150_000);
});
