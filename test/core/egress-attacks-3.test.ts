import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';
import { startSentinelServer } from '../support/sentinel-server.ts';

// Attack pass 13b on the egress lockdown. Every mirror is a node process of its own (locked down by
// the preload, or by createGuards); the oracle is a byte sentinel of this file that counts the
// connections, datagrams and bytes it receives. An attack that gets through is an `it.fails`
// asserting the safe behaviour; one refused is an ordinary test.

const PRELOAD = fileURLToPath(new URL('../../packages/core/src/egress/egress-preload.ts', import.meta.url));
const PRELOAD_URL = pathToFileURL(PRELOAD).href;
const CORE = pathToFileURL(fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url))).href;

/** Runs `file` (written from `code`) in a node process of its own, with `args` before it; its stdout. */
function runScript(file: string, code: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<string> {
  writeFileSync(file, code);
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, file], { env: { ...process.env, MIRROR: '', MIRROR_PROFILE: '', MIRROR_STRICT: '', MIRRORGUARD_EGRESS_ALLOW: '', ...env }, timeout: 60_000 }, (_error, out) => resolve(out));
  });
}

/** A program that, if it ever runs, connects to `port` on loopback and writes one line. */
const escapee = (port: number, what: string): string => `require('net').connect(${port}, '127.0.0.1', function () { this.end(${JSON.stringify(what)}); }).on('error', () => {});`;

describe('egress attacks, pass 13b: strict start-up', () => {
  const dir = privateDir('mirrorguard-egress-attacks-3-');

  // The preload counts open sockets with process._getActiveHandles(), which lists only handles that
  // keep the loop alive: an unref()'d socket — every idle socket of an http.Agent with keepAlive, and
  // of undici's pools — is not there. An ESM app that made a keep-alive request, then imported the
  // preload, was taken for preloaded. Now the preload must be the first --require/--import of node's
  // options, and no networking module may have loaded before it (process.moduleLoadList).
  it('closed: the preload loaded late with only an idle keep-alive socket open is not taken for preloaded; strict start-up refuses', async () => {
    const sentinel = await startSentinelServer();
    try {
      const app = `
import http from 'node:http';
import { once } from 'node:events';
const agent = new http.Agent({ keepAlive: true });
const get = (path) => new Promise((resolve, reject) => http.get(${JSON.stringify(sentinel.origin)} + path, { agent }, (response) => { response.resume(); response.on('end', resolve); }).on('error', reject));
// One request before anything is locked down; its socket goes back to the pool (where the agent unref()s it).
const freed = once(agent, 'free');
await get('/before');
await freed;
process.env.MIRROR = '1';
await import(${JSON.stringify(PRELOAD_URL)});
const core = await import(${JSON.stringify(CORE)});
const lockdown = core.getEgressLockdown();
let started;
try { await core.createGuards({ profile: 'mirror', strict: true, providers: {} }); started = 'started'; } catch (error) { started = error.code; }
let after = 'not tried';
if (started === 'started') after = await get('/after-strict-start').then(() => 'reached', (error) => error.code);
process.stdout.write(JSON.stringify({ started, preloaded: lockdown.preloaded, openAtInstall: lockdown.openAtInstall, after }));
process.exit(0);
`;
      const out = await runScript(join(dir, 'strict-keepalive.mjs'), app);
      const report = JSON.parse(out) as { started: string };
      // Control: the request before the lockdown reached the sentinel. The oracle: what else it received.
      expect(sentinel.seen[0]?.url).toBe('/before');
      expect({ started: report.started, seen: sentinel.seen.map((request) => request.url) }).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', seen: ['/before'] });
    } finally {
      await sentinel.close();
    }
  });

  // A module `--require`d before the preload runs first: mainModule is not set yet and no socket is
  // open, so the lockdown was marked preloaded. It took process.execve, which has no handle layer
  // under it. Now the preload must be the first --require/--import node runs, or strict refuses.
  it('closed: with a --require before the preload (which took process.execve), the strict mirror refuses to start', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const early = join(dir, 'early-execve.cjs');
      writeFileSync(early, 'globalThis.execveTaken = process.execve;\n');
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  let started;
  try { await core.createGuards({ profile: 'mirror', strict: true, providers: {} }); started = 'started'; } catch (error) { started = error.code; }
  let spawned;
  try { require('node:child_process').spawnSync(process.execPath, ['-e', '0']); spawned = 'ran'; } catch (error) { spawned = error.code; }
  process.stdout.write(JSON.stringify({ started, preloaded: core.getEgressLockdown().preloaded, spawned }) + '\\n');
  if (started === 'started') globalThis.execveTaken(process.execPath, [process.execPath, '-e', ${JSON.stringify(escapee(sentinel.port, 'execve taken early'))}], { PATH: '' });
});
`;
      const out = await runScript(join(dir, 'strict-early-require.cjs'), app, ['--require', early, '--require', PRELOAD], { MIRROR: '1' });
      const report = JSON.parse(out.split('\n')[0]!) as { started: string; spawned: string };
      // The lockdown was there: an ordinary child process was refused.
      expect(report.spawned).toBe('MG_ERR_EGRESS_REFUSED');
      expect({ started: report.started, connections: sentinel.connections() }).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', connections: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // The preload's first module reads process.moduleLoadList: node's options can be made to say the
  // preload ran first (here the app rewrites them), but what was loaded before it cannot.
  it('networking modules loaded before the preload make it not preloaded, whatever node options say', async () => {
    const app = `
import 'node:http';
import 'node:child_process';
process.execArgv.unshift('--require', ${JSON.stringify(PRELOAD)});
process.env.MIRROR = '1';
await import(${JSON.stringify(PRELOAD_URL)});
const core = await import(${JSON.stringify(CORE)});
const { preloaded, ranBefore } = core.getEgressLockdown();
process.stdout.write(JSON.stringify({ preloaded, ranBefore }));
`;
    const out = await runScript(join(dir, 'strict-modules-before.mjs'), app);
    // (node:http's ESM namespace loads more: undici, tls, …)
    expect(JSON.parse(out) as unknown).toEqual({ preloaded: false, ranBefore: expect.arrayContaining(['node:child_process (loaded before the preload)', 'node:http (loaded before the preload)']) as unknown });
  });

  // Its record is made once: a preload that ran first in another profile (and installed nothing),
  // imported again later under another URL, finds http loaded now, which it never loads itself.
  it('the preload run first in another profile, then again late by another URL, is not preloaded', async () => {
    const app = `
import 'node:http';
process.env.MIRROR = '1';
await import(${JSON.stringify(PRELOAD_URL + '?again')});
const core = await import(${JSON.stringify(CORE)});
const { preloaded, ranBefore } = core.getEgressLockdown();
process.stdout.write(JSON.stringify({ preloaded, ranBefore }));
`;
    const out = await runScript(join(dir, 'strict-preload-again.mjs'), app, ['--require', PRELOAD], { MIRROR: '' });
    expect(JSON.parse(out) as unknown).toEqual({ preloaded: false, ranBefore: expect.arrayContaining(['node:http (loaded before the lockdown)']) as unknown });
  });

  it('control: the same app with the preload first and nothing before it starts strict, and its execve is refused', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const app = `
const taken = process.execve;
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  let replaced;
  try { taken(process.execPath, [process.execPath, '-e', ${JSON.stringify(escapee(sentinel.port, 'execve'))}], { PATH: '' }); } catch (error) { replaced = error.code; }
  process.stdout.write(String(replaced));
});
`;
      const out = await runScript(join(dir, 'strict-preload-first.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      expect(out).toBe('MG_ERR_EGRESS_REFUSED');
      expect(sentinel.connections()).toBe(0);
    } finally {
      await sentinel.close();
    }
  });
});

describe('egress attacks, pass 13b: processes', () => {
  const dir = privateDir('mirrorguard-egress-attacks-3p-');

  // Without the preload, a process.execve taken before createGuards (a module loaded at start-up)
  // is not the patched one, and nothing is below it (its native side is not reachable to patch).
  // A known hole, in the README's list: the preload closes it (see the control above).
  it.fails('KNOWN HOLE (README): a process.execve taken before createGuards (no preload) replaces the mirror with an unguarded program', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const app = `
const taken = process.execve;
const core = await import(${JSON.stringify(CORE)});
await core.createGuards({ profile: 'mirror', providers: {} });
let patched;
try { process.execve(process.execPath, [process.execPath, '-e', '0'], {}); } catch (error) { patched = error.code; }
process.stdout.write(String(patched) + '\\n');
try { taken(process.execPath, [process.execPath, '-e', ${JSON.stringify(escapee(sentinel.port, 'execve taken before createGuards'))}], { PATH: '' }); } catch (error) { process.stdout.write(error.code); }
`;
      const out = await runScript(join(dir, 'execve-taken.mjs'), app);
      if (!out.includes('MG_ERR_EGRESS_REFUSED\nMG_ERR')) await sentinel.bytesAbove(0);
      expect(out.split('\n')[0]).toBe('MG_ERR_EGRESS_REFUSED');
      expect({ out, connections: sentinel.connections() }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED\nMG_ERR_EGRESS_REFUSED', connections: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // Every other way to start a program that was tried: each would connect to the sentinel if it ran.
  it('child_process through getBuiltinModule, createRequire, cluster.fork, the bindings, and execve in a worker, are refused', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const program = escapee(sentinel.port, 'escaped');
      const app = `
import { createRequire } from 'node:module';
import cluster from 'node:cluster';
import { Worker } from 'node:worker_threads';
const results = {};
const attempt = async (name, run) => { try { await run(); results[name] = 'ran'; } catch (error) { results[name] = error.code ?? error.message; } };
const args = ['-e', ${JSON.stringify(program)}];
await attempt('getBuiltinModule spawnSync', () => process.getBuiltinModule('child_process').spawnSync(process.execPath, args));
await attempt('getBuiltinModule spawn', () => new Promise((resolve, reject) => { const child = process.getBuiltinModule('node:child_process').spawn(process.execPath, args); child.on('error', reject); child.on('spawn', resolve); }));
await attempt('createRequire execFileSync', () => createRequire(import.meta.url)('child_process').execFileSync(process.execPath, args));
await attempt('cluster.fork', () => new Promise((resolve, reject) => { cluster.setupPrimary({ exec: '-e', execArgv: [] }); const worker = cluster.fork(); worker.on('error', reject); worker.on('online', resolve); }));
await attempt('process.binding spawn_sync', () => process.binding('spawn_sync').spawn({ file: process.execPath, args: [process.execPath, ...args], envPairs: [], stdio: [{ type: 'ignore' }, { type: 'ignore' }, { type: 'ignore' }] }));
await attempt('process.binding process_wrap', () => { const { Process } = process.binding('process_wrap'); const handle = new Process(); const error = handle.spawn({ file: process.execPath, args: [process.execPath, ...args], envPairs: [], stdio: [{ type: 'ignore' }, { type: 'ignore' }, { type: 'ignore' }] }); if (error !== 0) throw Object.assign(new Error('spawn ' + error), { code: 'errno ' + error }); });
await attempt('execve in a worker', () => new Promise((resolve, reject) => {
  const worker = new Worker(\`const { parentPort } = require('node:worker_threads'); try { process.execve(process.execPath, [process.execPath, ...\${JSON.stringify(args)}], {}); parentPort.postMessage('ran'); } catch (error) { parentPort.postMessage(error.code); }\`, { eval: true });
  worker.once('message', (message) => (message === 'ran' ? resolve() : reject(Object.assign(new Error(message), { code: message }))));
  worker.once('error', reject);
}));
process.stdout.write(JSON.stringify(results));
process.exit(0);
`;
      const out = await runScript(join(dir, 'processes.mjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      const results = JSON.parse(out) as Record<string, string>;
      expect(Object.keys(results)).toHaveLength(7);
      for (const [name, result] of Object.entries(results)) expect(result, name).not.toBe('ran');
      expect(sentinel.connections()).toBe(0);
    } finally {
      await sentinel.close();
    }
  });

  // A signal is no socket and no child process, but it changes a process outside the mirror (a
  // sidecar, the primary on the same host): the lockdown now refuses it (process._kill, below kill).
  it('closed: process.kill of another process from a locked-down mirror is refused', async () => {
    const target = spawn(process.execPath, ['-e', "process.stdin.on('data', () => process.stdout.write('alive')); process.stdout.write('ready');"], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      await once(target.stdout!, 'data');
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  let sent;
  try { process.kill(${target.pid}, 'SIGTERM'); sent = 'sent'; } catch (error) { sent = error.code; }
  process.stdout.write(sent);
});
`;
      const out = await runScript(join(dir, 'kill.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      // The target answers on stdin unless it was killed: the answer or its exit, whichever comes.
      const fate = new Promise<string>((resolve) => {
        target.stdout!.once('data', () => resolve('alive'));
        target.once('exit', (_code, signal) => resolve(`exited ${String(signal)}`));
      });
      if (target.exitCode === null && target.signalCode === null) target.stdin!.write('ping');
      expect({ out, fate: target.signalCode === null ? await fate : `exited ${target.signalCode}` }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED', fate: 'alive' });
    } finally {
      target.kill();
    }
  });
});

describe('egress: process.kill in the mirror', () => {
  const dir = privateDir('mirrorguard-egress-kill-');

  // What passes and what is refused, and what the journal says; the target is a process of the test's own.
  it('the own pid and signal 0 pass; a captured kill, a pid as a string and a process group are refused and journaled; childProcesses lets them through', async () => {
    const target = spawn(process.execPath, ['-e', "process.stdin.on('data', () => process.stdout.write('alive')); process.stdout.write('ready');"], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      await once(target.stdout!, 'data');
      const app = `
const captured = process.kill;
import(${JSON.stringify(CORE)}).then(async (core) => {
  const sink = core.memorySink({ limit: 100 });
  let guards = await core.createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] } });
  const results = {};
  const attempt = (name, run) => { try { results[name] = String(run()); } catch (error) { results[name] = error.code; } };
  process.on('SIGUSR2', () => undefined);
  attempt('own pid', () => process.kill(process.pid, 'SIGUSR2'));
  attempt('signal 0 to the target', () => process.kill(${target.pid}, 0));
  attempt('captured kill', () => captured(${target.pid}, 'SIGTERM'));
  attempt('pid as a string', () => process.kill(${JSON.stringify(String(target.pid))}, 'SIGKILL'));
  attempt('process group', () => process.kill(-${target.pid}, 'SIGTERM'));
  attempt('_kill', () => process._kill(${target.pid}, 15));
  await guards.close();
  guards = await core.createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] }, egress: { childProcesses: true } });
  attempt('with childProcesses, SIGWINCH to the target', () => process.kill(${target.pid}, 'SIGWINCH'));
  results.journal = sink.events().filter((event) => event.dependency === 'process').map((event) => event.action + ' ' + event.operation);
  process.stdout.write(JSON.stringify(results));
});
`;
      const out = await runScript(join(dir, 'kill-cases.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      const fate = new Promise<string>((resolve) => {
        target.stdout!.once('data', () => resolve('alive'));
        target.once('exit', (_code, signal) => resolve(`exited ${String(signal)}`));
      });
      if (target.exitCode === null && target.signalCode === null) target.stdin!.write('ping');
      expect(JSON.parse(out) as unknown).toEqual({
        'own pid': 'true',
        'signal 0 to the target': 'true',
        'captured kill': 'MG_ERR_EGRESS_REFUSED',
        'pid as a string': 'MG_ERR_EGRESS_REFUSED',
        'process group': 'MG_ERR_EGRESS_REFUSED',
        _kill: 'MG_ERR_EGRESS_REFUSED',
        'with childProcesses, SIGWINCH to the target': 'true',
        journal: [
          `blocked signal SIGTERM to process ${target.pid}`,
          `blocked signal SIGKILL to process ${target.pid}`,
          `blocked signal SIGTERM to process group ${target.pid}`,
          `blocked signal SIGTERM to process ${target.pid}`,
          `passed signal SIGWINCH to process ${target.pid}`,
        ],
      });
      expect(target.signalCode === null ? await fate : `exited ${target.signalCode}`).toBe('alive');
    } finally {
      target.kill();
    }
  });
});

describe('egress attacks, pass 13b: threads and datagrams', () => {
  const dir = privateDir('mirrorguard-egress-attacks-3t-');

  const hooksApp = (port: number, strict: boolean, workers = 'lockdown'): string => `
import { register } from 'node:module';
const core = await import(${JSON.stringify(CORE)});
await core.createGuards({ profile: 'mirror', strict: ${strict}, providers: {}, egress: { workers: ${JSON.stringify(workers)} } });
// The hooks of module.register() run on an internal thread of node's, not a worker_threads.Worker.
const hook = ${JSON.stringify(`import net from 'node:net'; import { once } from 'node:events';
const socket = net.connect(PORT, '127.0.0.1'); socket.on('error', () => {});
export const outcome = await once(socket, 'connect').then(() => new Promise((resolve) => socket.end('from the hooks thread', () => resolve('connected'))), (error) => error.code);
export async function resolve(specifier, context, next) { if (specifier === 'hooks:outcome') return { url: 'data:text/javascript,export default ' + JSON.stringify(JSON.stringify(outcome)), shortCircuit: true }; return next(specifier, context); }`).replace('PORT', String(port))};
try { register('data:text/javascript,' + encodeURIComponent(hook)); } catch (error) { process.stdout.write('register: ' + error.code); process.exit(0); }
const { default: outcome } = await import('hooks:outcome');
process.stdout.write(JSON.parse(outcome));
`;

  // Without the preload, createGuards patches worker_threads.Worker, but the loader-hooks thread of
  // module.register() is Node's own internal worker: it started without the lockdown and connected.
  // Now the first register() registers the preload on that thread before the app's hooks.
  it('closed: module.register() hooks, registered after createGuards (no preload), are locked down', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const out = await runScript(join(dir, 'hooks.mjs'), hooksApp(sentinel.port, false));
      if (out === 'connected') await sentinel.bytesAbove(0);
      expect({ out, connections: sentinel.connections() }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED', connections: 0 });
    } finally {
      await sentinel.close();
    }
  });

  it("with egress.workers: 'refuse' (no preload), module.register() is refused", async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const out = await runScript(join(dir, 'hooks-refuse.mjs'), hooksApp(sentinel.port, false, 'refuse'));
      expect({ out, connections: sentinel.connections() }).toEqual({ out: 'register: MG_ERR_EGRESS_REFUSED', connections: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // The hooks thread runs node's --require preloads, not its --import ones: a strict mirror started
  // with --import of the preload has its hooks locked down by the register guard.
  it('with the preload as --import, module.register() hooks are locked down too', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const out = await runScript(join(dir, 'hooks-import.mjs'), hooksApp(sentinel.port, true), ['--import', PRELOAD_URL], { MIRROR: '1' });
      expect({ out, connections: sentinel.connections() }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED', connections: 0 });
    } finally {
      await sentinel.close();
    }
  });

  it('with the preload, module.register() hooks are locked down too', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const out = await runScript(join(dir, 'hooks-preloaded.mjs'), hooksApp(sentinel.port, true), ['--require', PRELOAD], { MIRROR: '1' });
      expect({ out, connections: sentinel.connections() }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED', connections: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // dgram's send reads `send(msg, offset, length, port, address)` when an address is given; the socket
  // layer read the long form only when `length` was a number: with a string length it took the
  // offset (0) for the port, found none, and passed the call on unchecked. It now reads the arguments
  // as lib/dgram.js does (egress-dgram-shapes.test.ts compares the two over generated shapes).
  // The handle layer refuses it too (EACCES) — but under --permission there is no handle layer.
  const udpApp = (port: number): string => `
import dgram from 'node:dgram';
const core = await import(${JSON.stringify(CORE)});
await core.createGuards({ profile: 'mirror', providers: {} });
const socket = dgram.createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
const send = (...args) => new Promise((resolve) => socket.send(...args, (error) => resolve(error ? error.code : 'sent')));
const plain = await send(Buffer.from('plain'), ${port}, '127.0.0.1');
const stringLength = await send(Buffer.from('string length'), 0, '13', ${port}, '127.0.0.1');
const byName = await send(Buffer.from('string length, by name'), 0, '22', ${port}, 'localhost');
process.stdout.write(JSON.stringify({ handleLayer: core.getEgressLockdown().handleLayer, plain, stringLength, byName }));
socket.close();
`;

  it('control: with the handle layer, a send with a string length is refused (at the socket layer now, with the handle below it)', async () => {
    const sentinel = await startByteSentinel('udp');
    try {
      const out = await runScript(join(dir, 'udp-handles.mjs'), udpApp(sentinel.port), ['--require', PRELOAD], { MIRROR: '1' });
      expect(JSON.parse(out) as unknown).toEqual({ handleLayer: true, plain: 'MG_ERR_EGRESS_REFUSED', stringLength: 'MG_ERR_EGRESS_REFUSED', byName: 'MG_ERR_EGRESS_REFUSED' });
      expect(sentinel.bytes()).toBe(0);
    } finally {
      await sentinel.close();
    }
  });

  it('closed: under --permission (socket layer alone), dgram send(msg, 0, "13", port, address) is refused', async () => {
    const sentinel = await startByteSentinel('udp');
    try {
      const out = await runScript(join(dir, 'udp-permission.mjs'), udpApp(sentinel.port), ['--permission', '--allow-fs-read=*', '--require', PRELOAD], { MIRROR: '1' });
      const report = JSON.parse(out) as { handleLayer: boolean; plain: string; stringLength: string; byName: string };
      // Control: the socket layer alone is there, and refuses the ordinary send.
      expect({ handleLayer: report.handleLayer, plain: report.plain }).toEqual({ handleLayer: false, plain: 'MG_ERR_EGRESS_REFUSED' });
      if (report.stringLength === 'sent') await sentinel.bytesAbove(0);
      expect({ stringLength: report.stringLength, byName: report.byName, bytes: sentinel.bytes() }).toEqual({ stringLength: 'MG_ERR_EGRESS_REFUSED', byName: 'MG_ERR_EGRESS_REFUSED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });
});
