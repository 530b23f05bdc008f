import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/workspace-packages.ts';

// The published preload, as a deployment uses it: `--require @mirrorguard/core/egress-preload` from
// an installed copy (its CommonJS bundle), shared with the ESM build the app imports, and found
// again by the worker guard in dist/ to lock a worker down.
describe('@mirrorguard/core/egress-preload as published', () => {
  let server: Server;
  let connections = 0;
  let app: string;

  beforeAll(async () => {
    server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    app = mkdtempSync(join(tmpdir(), 'mirrorguard-preload-'));
    const target = join(app, 'node_modules', '@mirrorguard', 'core');
    for (const entry of ['package.json', 'dist', 'egress-preload']) cpSync(join(ROOT, 'packages', 'core', entry), join(target, entry), { recursive: true });
    const port = (server.address() as AddressInfo).port;
    writeFileSync(
      join(app, 'main.mjs'),
      `
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { getEgressLockdown } from '@mirrorguard/core';
const code = (socket) => new Promise((resolve) => socket.once('connect', () => { socket.destroy(); resolve('connected'); }).once('error', (error) => resolve(error.code)));
const inWorker = () => new Promise((resolve) => new Worker("const s = require('net').connect(${port}, '127.0.0.1'); s.on('connect', () => require('worker_threads').parentPort.postMessage('connected')); s.on('error', (e) => require('worker_threads').parentPort.postMessage(e.code));", { eval: true }).once('message', resolve));
const lockdown = getEgressLockdown();
console.log(JSON.stringify({ main: await code(net.connect(${port}, '127.0.0.1')), worker: await inWorker(), layers: lockdown?.layers.length ?? 0 }));
process.exit(0);
`,
    );
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('locks the process and its workers down with MIRROR=1; does nothing without', () => {
    const run = (env: Record<string, string>): unknown =>
      JSON.parse(execFileSync(process.execPath, ['--require', '@mirrorguard/core/egress-preload', 'main.mjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, MIRROR: '', MIRROR_PROFILE: '', ...env } }));
    expect(run({ MIRROR: '1' })).toMatchObject({ main: 'MG_ERR_EGRESS_REFUSED', worker: 'MG_ERR_EGRESS_REFUSED' });
    expect(connections).toBe(0);
    expect(run({})).toEqual({ main: 'connected', worker: 'connected', layers: 0 });
  });
});
