import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, workspacePackages } from '../support/workspace-packages.ts';

const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);
const run = (command: string, args: string[], cwd: string): string =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// Every package packed once: a package's tarball installs beside its siblings', as from the registry.
const out = mkdtempSync(join(tmpdir(), 'mirrorguard-pack-'));
const packed = workspacePackages().map((workspace) => ({
  ...workspace,
  tarball: join(out, run('npm', ['pack', '--silent', '--pack-destination', out], workspace.dir).trim().split('\n').at(-1)!),
}));

describe.each(packed)('$name as published', ({ name, dir, tarball }) => {

  it('passes publint (strict)', () => {
    const report = run(bin('publint'), ['--strict', dir], ROOT);
    expect(report).toContain('All good!');
  });

  it('resolves with types for node10, node16 (CJS and ESM) and bundlers (attw)', () => {
    const report = JSON.parse(run(bin('attw'), [tarball, '--format', 'json'], ROOT)) as {
      problems?: unknown[];
      analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> };
    };
    expect(report.analysis.problems).toEqual([]);
    const main = report.analysis.entrypoints['.']!.resolutions;
    expect(Object.keys(main).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm']);
    expect(main['node16-esm']?.resolution?.fileName).toMatch(/\.d\.mts$/);
    expect(main['node16-cjs']?.resolution?.fileName).toMatch(/\.d\.cts$/);
  });

  it('loads through import and require in a project that installs the tarball', () => {
    const app = mkdtempSync(join(tmpdir(), 'mirrorguard-consumer-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // Peers (the drivers) are not installed, so loading a package must not need them — except
    // ioredis, which redis-shadow's clients subclass, undici, whose Agent http-stub composes, and
    // @nestjs/common (with its own peers), whose decorators the Nest module applies as it loads.
    run('npm', ['install', '--silent', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', 'ioredis@^5', 'undici@^8', '@nestjs/common@^12', 'reflect-metadata@^0.2', 'rxjs@^7', ...packed.map((p) => p.tarball)], app);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
    const esm = run(process.execPath, ['--input-type=module', '-e', `import * as m from '${manifest.name}'; console.log(JSON.stringify(Object.keys(m).sort()))`], app);
    const cjs = run(process.execPath, ['-e', `console.log(JSON.stringify(Object.keys(require('${manifest.name}')).sort()))`], app);
    expect(JSON.parse(esm)).toEqual(JSON.parse(cjs));
    expect(JSON.parse(esm).length).toBeGreaterThan(0);
  });

  it(`publishes only dist and the README (${name})`, () => {
    const files = run('tar', ['-tzf', tarball], ROOT).trim().split('\n').sort();
    // Besides dist: core's egress-preload/package.json, where resolvers that ignore "exports" (node10) find the preload.
    expect(files.filter((file) => !/^package\/(dist\/|README\.md$|package\.json$|LICENSE$|egress-preload\/package\.json$)/.test(file))).toEqual([]);
    expect(files).toContain('package/README.md');
  });
});
