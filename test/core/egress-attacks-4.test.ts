import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';
import { CORE, outcome, PRELOAD, runScript, strictApp } from '../support/strict-start-escape.ts';

// Attack pass 13c on the egress lockdown: strict start-up's "preloaded" check, module.register hooks,
// signals and UDP argument shapes. Every mirror is a node process of its own, started with the real
// preload; the oracle is a byte sentinel of this file (connections, datagrams, bytes it reads) or a
// process of this file's own (its fate, its priority). An attack that gets through is an `it.fails`
// asserting the safe behaviour; one refused is an ordinary test (the four holes found here are closed).

const PRELOAD_URL = pathToFileURL(PRELOAD).href;

/**
 * Code that runs before the app: it keeps process.execve, as any module keeps a reference it took at
 * load. An execve taken before the lockdown replaces the mirror with a program outside it (a known
 * hole — closed when the preload runs first, which is what `preloaded` is meant to tell).
 */
const EARLY = 'globalThis.__execveTaken = process.execve;\n';

describe('egress attacks, pass 13c: what "preloaded" can see', () => {
  const dir = privateDir('mirrorguard-egress-attacks-4-');

  // Node 23.10+/24 reads node's options from a configuration file too (`--experimental-config-file`,
  // or ./node.config.json with `--experimental-default-config-file`): its `nodeOptions.require` and
  // `.import` run before the command line's. They are in neither process.execArgv nor NODE_OPTIONS,
  // so the preload, second in fact, finds itself first: `preloaded`, and strict start-up accepts it.
  // (Node applies a config file's nodeOptions only when NODE_OPTIONS is not set at all.)
  it('closed: a --require in a node config file (--experimental-config-file) runs before the preload unseen; strict start-up refuses any config-file flag', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const early = join(dir, 'config-early.cjs');
      writeFileSync(early, EARLY);
      const config = join(dir, 'node.config.json');
      writeFileSync(config, JSON.stringify({ nodeOptions: { require: [early] } }));
      const out = await runScript(join(dir, 'config-app.mjs'), strictApp(sentinel.port), [`--experimental-config-file=${config}`, '--require', PRELOAD], { MIRROR: '1', NODE_OPTIONS: undefined as unknown as string });
      const { report, bytes } = await outcome(sentinel, out);
      expect({ started: report.started, bytes }).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // isThePreload takes the package specifier `@mirrorguard/core/egress-preload` for the preload without
  // resolving it: node resolves it from the working directory, where another package of that name can
  // answer (a wrapper that does its own things, then requires the real preload).
  it('closed: the bare specifier is resolved from the working directory; a package of that name that runs first, then requires the real preload, is not the preload', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const cwd = join(dir, 'spoof');
      const wrapper = join(cwd, 'node_modules', '@mirrorguard', 'core');
      mkdirSync(wrapper, { recursive: true });
      writeFileSync(join(wrapper, 'package.json'), JSON.stringify({ name: '@mirrorguard/core', exports: { './egress-preload': './wrapper.cjs' } }));
      writeFileSync(join(wrapper, 'wrapper.cjs'), `${EARLY}require(${JSON.stringify(PRELOAD)});\n`);
      const out = await runScript(join(cwd, 'spoof-app.mjs'), strictApp(sentinel.port), ['--require', '@mirrorguard/core/egress-preload'], { MIRROR: '1' }, cwd);
      const { report, bytes } = await outcome(sentinel, out);
      expect({ started: report.started, bytes }).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });

  it('refused: NODE_OPTIONS set by --env-file (a --require ahead of the preload) is read: not preloaded, strict refuses, nothing escapes', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const early = join(dir, 'env-early.cjs');
      writeFileSync(early, EARLY);
      const envFile = join(dir, 'mirror.env');
      writeFileSync(envFile, `NODE_OPTIONS="--require ${early}"\n`);
      const out = await runScript(join(dir, 'env-app.mjs'), strictApp(sentinel.port), [`--env-file=${envFile}`, '--require', PRELOAD], { MIRROR: '1', NODE_OPTIONS: undefined as unknown as string });
      const { report, bytes } = await outcome(sentinel, out);
      expect(report.ranBefore.join('\n')).toContain('env-early.cjs');
      expect({ started: report.started, bytes }).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });

  it('refused: the preload in NODE_OPTIONS runs before the command line’s --require; the execve that --require keeps is already the lockdown’s', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const early = join(dir, 'cli-early.cjs');
      writeFileSync(early, EARLY);
      const out = await runScript(join(dir, 'cli-app.mjs'), strictApp(sentinel.port), ['--require', early], { MIRROR: '1', NODE_OPTIONS: `--require "${PRELOAD}"` });
      const { report, bytes } = await outcome(sentinel, out);
      // The execve it kept is the lockdown's: the strict mirror starts, and replacing itself is refused (the app goes on to the end).
      expect({ started: report.started, bytes, connections: sentinel.connections(), refused: out.includes('execve MG_ERR_EGRESS_REFUSED') }).toEqual({ started: 'started', bytes: 0, connections: 0, refused: true });
    } finally {
      await sentinel.close();
    }
  });

  it('refused: an --import ahead of the preload, as a file URL, makes it not preloaded', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const early = join(dir, 'import-early.mjs');
      writeFileSync(early, 'globalThis.__execveTaken = process.execve;\n');
      const out = await runScript(join(dir, 'import-app.mjs'), strictApp(sentinel.port), [`--import=${pathToFileURL(early).href}`, '--import', PRELOAD_URL], { MIRROR: '1' });
      const { report, bytes } = await outcome(sentinel, out);
      expect({ started: report.started, bytes }).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });
});

describe('egress attacks, pass 13c: module.register hooks', () => {
  const dir = privateDir('mirrorguard-egress-attacks-4-hooks-');

  const hooksApp = (port: number): string => `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const core = await import(${JSON.stringify(CORE)});
await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
const { port1, port2 } = new MessageChannel();
const hooks = \`import net from 'node:net';
export async function initialize(data) { const s = net.connect(${port}, '127.0.0.1', () => s.end('initialize')); s.on('error', (error) => data.port.postMessage(error.code)); }
export async function resolve(specifier, context, next) {
  if (specifier !== 'hooks:outcome') return next(specifier, context);
  const outcome = await fetch('http://127.0.0.1:${port}/resolve').then(() => 'reached', (error) => error.cause?.code ?? error.code);
  return { url: 'data:text/javascript,export default ' + JSON.stringify(outcome), shortCircuit: true };
}\`;
const messages = [];
const initialized = new Promise((resolve) => port1.once('message', (message) => { messages.push(message); resolve(); }));
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const fetched = (await import('hooks:outcome')).default;
await initialized;
port1.close();
process.stdout.write(JSON.stringify({ initialize: messages[0], resolve: fetched }));
`;

  for (const [name, args] of [
    ['--import', ['--import', PRELOAD_URL]],
    ['--require', ['--require', PRELOAD]],
  ] as const) {
    it(`refused: hooks registered from a data: URL (preload as ${name}) connect in initialize and fetch in resolve; both refused`, async () => {
      const sentinel = await startByteSentinel('tcp');
      try {
        const out = await runScript(join(dir, `hooks-${name.slice(2)}.mjs`), hooksApp(sentinel.port), args, { MIRROR: '1' });
        expect({ report: JSON.parse(out) as unknown, connections: sentinel.connections(), bytes: sentinel.bytes() }).toEqual({
          report: { initialize: 'MG_ERR_EGRESS_REFUSED', resolve: 'MG_ERR_EGRESS_REFUSED' },
          connections: 0,
          bytes: 0,
        });
      } finally {
        await sentinel.close();
      }
    });
  }
});

describe('egress attacks, pass 13c: UDP shapes', () => {
  const dir = privateDir('mirrorguard-egress-attacks-4-udp-');

  it('refused: a connected socket (approved) disconnected and sent elsewhere, an array with an address, the long form, broadcast, multicast, sendto', async () => {
    const granted = await startByteSentinel('udp');
    const other = await startByteSentinel('udp');
    try {
      const app = `
import dgram from 'node:dgram';
const core = await import(${JSON.stringify(CORE)});
await core.createGuards({ profile: 'mirror', strict: true, providers: {}, egress: { allow: ['127.0.0.1:${granted.port}'] } });
const socket = dgram.createSocket('udp4');
const results = {};
const attempt = async (name, run) => { try { results[name] = String(await run()); } catch (error) { results[name] = error.code ?? String(error); } };
const sent = (run) => new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve('sent'))));
await attempt('connect to the granted', () => new Promise((resolve, reject) => socket.connect(${granted.port}, '127.0.0.1', (error) => (error ? reject(error) : resolve('connected')))));
await attempt('send connected', () => sent((done) => socket.send('granted', done)));
await attempt('disconnect, then send elsewhere', () => { socket.disconnect(); return sent((done) => socket.send('other', ${other.port}, '127.0.0.1', done)); });
await attempt('array with an address', () => sent((done) => socket.send([Buffer.from('a'), Buffer.from('b')], ${other.port}, '127.0.0.1', done)));
await attempt('long form', () => sent((done) => socket.send(Buffer.from('long'), 0, 4, ${other.port}, '127.0.0.1', done)));
await attempt('port as a string', () => sent((done) => socket.send('string port', String(${other.port}), '127.0.0.1', done)));
await attempt('reconnect elsewhere', () => new Promise((resolve, reject) => socket.connect(${other.port}, '127.0.0.1', (error) => (error ? reject(error) : resolve('connected')))));
await attempt('broadcast', () => { socket.setBroadcast(true); return sent((done) => socket.send('broadcast', ${other.port}, '255.255.255.255', done)); });
await attempt('multicast', () => sent((done) => socket.send('multicast', ${other.port}, '224.0.0.1', done)));
await attempt('sendto', () => sent((done) => socket.sendto('sendto', 0, 6, ${other.port}, '127.0.0.1', done)));
socket.close();
process.stdout.write(JSON.stringify(results));
`;
      const out = await runScript(join(dir, 'udp-shapes.mjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      const results = JSON.parse(out) as Record<string, string>;
      expect(results['connect to the granted']).toBe('connected');
      expect(results['send connected']).toBe('sent');
      await granted.bytesAbove(0);
      const refused = Object.fromEntries(Object.entries(results).filter(([name]) => !['connect to the granted', 'send connected'].includes(name)));
      expect(Object.values(refused).every((outcome) => outcome === 'MG_ERR_EGRESS_REFUSED'), JSON.stringify(refused)).toBe(true);
      expect({ granted: granted.bytes(), other: other.bytes() }).toEqual({ granted: 'granted'.length, other: 0 });
    } finally {
      await granted.close();
      await other.close();
    }
  });
});

describe('egress attacks, pass 13c: other processes', () => {
  const dir = privateDir('mirrorguard-egress-attacks-4-kill-');

  /** A process of this test's own: answers each line on stdin with its own priority (nice value), while it lives. */
  async function startTarget(): Promise<ChildProcess> {
    const target = spawn(process.execPath, ['-e', "process.stdin.on('data', () => process.stdout.write(String(require('os').getPriority()))); process.stdout.write('ready');"], { stdio: ['pipe', 'pipe', 'ignore'] });
    await once(target.stdout!, 'data');
    return target;
  }

  /** The target's own answer: its priority, or how it exited. */
  function fateOf(target: ChildProcess): Promise<string> {
    if (target.exitCode !== null || target.signalCode !== null) return Promise.resolve(`exited ${String(target.signalCode ?? target.exitCode)}`);
    const fate = new Promise<string>((resolve) => {
      target.stdout!.once('data', (chunk: Buffer) => resolve(`alive, priority ${chunk.toString()}`));
      target.once('exit', (code, signal) => resolve(`exited ${String(signal ?? code)}`));
    });
    target.stdin!.write('ping\n');
    return fate;
  }

  // process.kill checks `pid != (pid | 0)` and hands the pid itself to process._kill; the guard reads
  // it with Number(pid), node's native kill with its own conversion: a pid object whose valueOf
  // answers differently each time is the mirror's own pid to the guard and another process to node.
  it('closed: process.kill with a pid whose valueOf changes between the guard’s read and node’s: the pid is converted once, refused', async () => {
    const target = await startTarget();
    try {
      const before = os.getPriority(target.pid!);
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  let reads = 0;
  const pid = { valueOf() { reads += 1; return reads === 3 ? process.pid : ${target.pid}; } };
  let sent;
  try { sent = String(process.kill(pid, 'SIGTERM')); } catch (error) { sent = error.code; }
  process.stdout.write(sent);
});
`;
      const out = await runScript(join(dir, 'kill-valueof.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      expect({ out, fate: await fateOf(target) }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED', fate: `alive, priority ${before}` });
    } finally {
      target.kill();
    }
  });

  // os.setPriority(pid) changes another process's scheduling priority (a nice value raised cannot be
  // lowered again without privilege): no signal, no socket, no child — nothing of the lockdown sees it.
  it('closed: os.setPriority(pid) of another process is refused: the target’s own nice value stays', async () => {
    const target = await startTarget();
    try {
      const before = Number((await fateOf(target)).replace('alive, priority ', ''));
      const lowered = Math.min(before + 5, 19);
      expect(lowered).not.toBe(before);
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  let outcome;
  try { require('node:os').setPriority(${target.pid}, ${lowered}); outcome = 'set'; } catch (error) { outcome = error.code; }
  process.stdout.write(outcome);
});
`;
      const out = await runScript(join(dir, 'set-priority.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      expect({ out, fate: await fateOf(target) }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED', fate: `alive, priority ${before}` });
    } finally {
      target.kill();
    }
  });

  it('refused: os.setPriority of another process through getBuiltinModule, the ESM named export and the native binding; 0 and its own pid pass', async () => {
    const target = await startTarget();
    try {
      const before = Number((await fateOf(target)).replace('alive, priority ', ''));
      const lowered = Math.min(before + 5, 19);
      const app = `
import { setPriority as named, getPriority } from 'node:os';
const core = await import(${JSON.stringify(CORE)});
await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
const results = {};
const attempt = (name, run) => { try { run(); results[name] = 'set'; } catch (error) { results[name] = error.code ?? String(error); } };
attempt('getBuiltinModule', () => process.getBuiltinModule('os').setPriority(${target.pid}, ${lowered}));
attempt('named export', () => named(${target.pid}, ${lowered}));
attempt('binding', () => { const ctx = {}; if (process.binding('os').setPriority(${target.pid}, ${lowered}, ctx) !== 0) throw Object.assign(new Error('failed'), { code: 'native ' + ctx.code }); });
const own = getPriority();
attempt('own, one argument', () => named(own));
attempt('own, pid 0', () => named(0, own));
attempt('own, its pid', () => named(process.pid, own));
process.stdout.write(JSON.stringify(results));
`;
      const out = await runScript(join(dir, 'set-priority-routes.mjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      expect(JSON.parse(out) as unknown).toEqual({
        getBuiltinModule: 'MG_ERR_EGRESS_REFUSED',
        'named export': 'MG_ERR_EGRESS_REFUSED',
        binding: 'MG_ERR_EGRESS_REFUSED',
        'own, one argument': 'set',
        'own, pid 0': 'set',
        'own, its pid': 'set',
      });
      expect(await fateOf(target)).toBe(`alive, priority ${before}`);
    } finally {
      target.kill();
    }
  });

  it('refused: process._kill with a signal whose valueOf is 0 (a probe) to the guard and SIGTERM to node: the probe it was checked as is what is sent', async () => {
    const target = await startTarget();
    try {
      const before = os.getPriority(target.pid!);
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  let reads = 0;
  const signal = { valueOf() { reads += 1; return reads === 1 ? 0 : 15; } };
  let sent;
  try { sent = String(process._kill(${target.pid}, signal)); } catch (error) { sent = error.code; }
  process.stdout.write(sent);
});
`;
      const out = await runScript(join(dir, 'kill-signal-valueof.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      expect({ out, fate: await fateOf(target) }).toEqual({ out: '0', fate: `alive, priority ${before}` });
    } finally {
      target.kill();
    }
  });

  it('refused: process.kill with signal numbers and names, a negative pid, and a pid as a hex string', async () => {
    const target = await startTarget();
    try {
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  const results = {};
  const attempt = (name, run) => { try { results[name] = String(run()); } catch (error) { results[name] = error.code; } };
  attempt('number 15', () => process.kill(${target.pid}, 15));
  attempt('SIGKILL', () => process.kill(${target.pid}, 'SIGKILL'));
  attempt('hex string', () => process.kill('0x' + (${target.pid}).toString(16), 'SIGTERM'));
  attempt('negative', () => process.kill(-${target.pid}, 'SIGTERM'));
  attempt('_kill, signal as a string', () => process._kill(${target.pid}, '15'));
  process.stdout.write(JSON.stringify(results));
});
`;
      const out = await runScript(join(dir, 'kill-shapes.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      const results = JSON.parse(out) as Record<string, string>;
      expect(Object.values(results).every((outcome) => outcome === 'MG_ERR_EGRESS_REFUSED'), out).toBe(true);
      expect(await fateOf(target)).toMatch(/^alive/);
    } finally {
      target.kill();
    }
  });
});
