import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '@mirrorguard/core';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';

// The preload locks a mirror down before its first import, so that a connection made at module
// load is refused too; createGuards, later, declares the providers' destinations on the same
// lockdown. Each case is a child node process (this test process is never locked down).

const PRELOAD = fileURLToPath(new URL('../../packages/core/src/egress/egress-preload.ts', import.meta.url));
const CORE = pathToFileURL(fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url))).href;

interface Report {
  readonly atLoad: Record<string, string>;
  readonly afterGuards: Record<string, string>;
  readonly events: JournalEvent[];
  readonly layers: readonly string[];
  readonly handleLayer: boolean;
}

describe('egress preload: a mirror locked down from its first line', () => {
  const dir = privateDir('mirrorguard-egress-preload-');
  let locked: ByteSentinel;
  let lockedUnix: ByteSentinel;
  let early: ByteSentinel;
  let provided: ByteSentinel;
  let app: string;

  beforeAll(async () => {
    [locked, early, provided, lockedUnix] = [await startByteSentinel('tcp'), await startByteSentinel('tcp'), await startByteSentinel('tcp'), await startByteSentinel('unix')];
    // An app that connects at module load (and in a worker it starts then), then builds its guards.
    app = join(dir, 'app.mjs');
    writeFileSync(
      app,
      `
import net from 'node:net';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
// A worker class captured at load, the way a CommonJS module destructures it.
const { Worker } = createRequire(import.meta.url)('node:worker_threads');

const connect = (port, host = '127.0.0.1') => new Promise((resolve) => {
  const socket = net.connect(port, host, () => { socket.end('x'); resolve('connected'); });
  socket.on('error', (error) => resolve(error.code));
});
const inWorker = (port) => new Promise((resolve) => {
  const worker = new Worker(\`const s = require('net').connect(\${port}, '127.0.0.1', () => { s.end('x'); require('worker_threads').parentPort.postMessage('connected'); }); s.on('error', (e) => require('worker_threads').parentPort.postMessage(e.code));\`, { eval: true });
  worker.once('message', (message) => { void worker.terminate(); resolve(message); });
});

const child = () => { try { return spawnSync(process.execPath, ['-e', '0']).status === 0 ? 'started' : 'failed'; } catch (error) { return error.code; } };
const atLoad = { locked: await connect(${locked.port}), early: await connect(${early.port}), provided: await connect(${provided.port}), worker: await inWorker(${locked.port}), child: child(), byName: await connect(${locked.port}, 'localhost'), unix: await new Promise((resolve) => net.connect(${JSON.stringify(lockedUnix.path)}).once('connect', () => resolve('connected')).once('error', (error) => resolve(error.code))) };

const core = await import(${JSON.stringify(CORE)});
const sink = core.memorySink();
const service = core.defineProvider({
  live: () => 'live',
  mirror: ({ allowDestination }) => { allowDestination('127.0.0.1:${provided.port}', 'the service'); return 'mirror'; },
});
const guards = await core.createGuards({ providers: { service }, journal: { sinks: [sink] } });
const afterGuards = { locked: await connect(${locked.port}), provided: await connect(${provided.port}) };
const lockdown = core.getEgressLockdown();
process.stdout.write(JSON.stringify({ atLoad, afterGuards, events: sink.events(), layers: lockdown?.layers ?? [], handleLayer: lockdown?.handleLayer ?? false }));
process.exit(0);
`,
    );
  });

  afterAll(async () => {
    for (const sentinel of [locked, early, provided, lockedUnix]) await sentinel.close();
  });

  function run(args: readonly string[], env: Record<string, string>): Promise<{ report?: Report; code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [...args, app], { env: { ...process.env, MIRROR: '', MIRROR_PROFILE: '', MIRRORGUARD_EGRESS_ALLOW: '', ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ ...(error === null && { report: JSON.parse(stdout) as Report }), code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stderr }),
      );
    });
  }

  it.each([
    ['--require', ['--require', PRELOAD]],
    ['--import', ['--import', pathToFileURL(PRELOAD).href]],
  ])('MIRROR=1 with %s: refused at module load and in its workers, allowed as declared, journaled once a journal is there', async (_name, args) => {
    const lockedBefore = locked.connections();
    const { report, stderr } = await run(args, { MIRROR: '1', MIRRORGUARD_EGRESS_ALLOW: `127.0.0.1:${early.port}` });
    expect(report, stderr).toBeDefined();
    expect(report!.atLoad).toEqual({ locked: 'MG_ERR_EGRESS_REFUSED', early: 'connected', provided: 'MG_ERR_EGRESS_REFUSED', worker: 'MG_ERR_EGRESS_REFUSED', child: 'MG_ERR_EGRESS_REFUSED', byName: 'MG_ERR_EGRESS_REFUSED', unix: 'MG_ERR_EGRESS_REFUSED' });
    expect(report!.afterGuards).toEqual({ locked: 'MG_ERR_EGRESS_REFUSED', provided: 'connected' });
    expect(locked.connections()).toBe(lockedBefore);
    expect(lockedUnix.connections()).toBe(0);
    const blocked = report!.events.filter((event) => event.action === 'blocked');
    // Module load: locked, provided, the worker's (over its channel); after createGuards: locked.
    expect(blocked.map((event) => event.operation)).toEqual(
      expect.arrayContaining([`connect tcp 127.0.0.1:${locked.port}`, `connect tcp 127.0.0.1:${provided.port}`]),
    );
    expect(blocked.filter((event) => event.operation === `connect tcp 127.0.0.1:${locked.port}`).length).toBeGreaterThanOrEqual(2);
    // Installed before the app: no warning that connections escaped it.
    expect(report!.events.filter((event) => event.action === 'warned')).toEqual([]);
    expect(report!.handleLayer).toBe(true);
  });

  it('without MIRROR, the preload does nothing', async () => {
    const before = locked.connections();
    const { report } = await run(['--require', PRELOAD], {});
    expect(report!.atLoad).toEqual({ locked: 'connected', early: 'connected', provided: 'connected', worker: 'connected', child: 'started', byName: 'connected', unix: 'connected' });
    expect(report!.layers).toEqual([]);
    await locked.bytesAbove(0);
    expect(locked.connections()).toBeGreaterThan(before);
  });

  it('a mirror without the preload is locked down by createGuards, which warns that what connected before it escaped', async () => {
    const before = locked.connections();
    const { report } = await run([], { MIRROR: '1' });
    expect(report!.atLoad.locked).toBe('connected');
    expect(report!.afterGuards).toEqual({ locked: 'MG_ERR_EGRESS_REFUSED', provided: 'connected' });
    expect(report!.events.find((event) => event.action === 'warned')).toMatchObject({ dependency: 'network', operation: 'egress lockdown installed by createGuards' });
    await locked.bytesAbove(0);
    expect(locked.connections()).toBeGreaterThan(before);
  });

  it('a strict mirror without the preload refuses to start; with it, it starts', async () => {
    const without = await run([], { MIRROR: '1', MIRROR_STRICT: '1' });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('MG_ERR_EGRESS_NOT_PRELOADED');
    const withPreload = await run(['--require', PRELOAD], { MIRROR: '1', MIRROR_STRICT: '1' });
    expect(withPreload.report?.afterGuards).toEqual({ locked: 'MG_ERR_EGRESS_REFUSED', provided: 'connected' });
  });

  it('an unreadable MIRRORGUARD_EGRESS_ALLOW stops the start, naming the variable', async () => {
    const { code, stderr } = await run(['--require', PRELOAD], { MIRROR: '1', MIRRORGUARD_EGRESS_ALLOW: 'localhost' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('MG_ERR_EGRESS_INVALID');
    expect(stderr).toContain('MIRRORGUARD_EGRESS_ALLOW: egress destination "localhost" is not accepted: the port is missing');
  });

  it('under --permission (no process.binding) the socket layer refuses by itself, and the child_process exports', async () => {
    const before = locked.connections();
    const { report, stderr } = await run(['--permission', '--allow-fs-read=*', '--allow-worker', '--allow-child-process', '--require', PRELOAD], { MIRROR: '1', MIRRORGUARD_EGRESS_ALLOW: `127.0.0.1:${early.port}` });
    expect(report, stderr).toBeDefined();
    expect(report!.handleLayer).toBe(false);
    expect(report!.layers).not.toContain('tcp_wrap TCP.prototype.connect');
    const unixBefore = lockedUnix.connections();
    expect(report!.atLoad).toMatchObject({ locked: 'MG_ERR_EGRESS_REFUSED', early: 'connected', worker: 'MG_ERR_EGRESS_REFUSED', child: 'MG_ERR_EGRESS_REFUSED', byName: 'MG_ERR_EGRESS_REFUSED', unix: 'MG_ERR_EGRESS_REFUSED' });
    expect(lockedUnix.connections()).toBe(unixBefore);
    expect(report!.afterGuards).toEqual({ locked: 'MG_ERR_EGRESS_REFUSED', provided: 'connected' });
    expect(report!.events.find((event) => event.action === 'blocked')).toMatchObject({ reason: 'not a declared destination (net.Socket.prototype.connect)' });
    expect(locked.connections()).toBe(before);
  });
});
