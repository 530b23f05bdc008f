import dgram from 'node:dgram';
import dns from 'node:dns';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createGuards, getEgressLockdown, memorySink, type Guards } from '@mirrorguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';

// Attack pass 13 on the egress lockdown. Each attack's oracle is a server of this file that counts
// the connections (or datagrams) it receives, or what a child process says it reached. An attack
// that gets through is an `it.fails` asserting the safe behaviour.

const PRELOAD = fileURLToPath(new URL('../../packages/core/src/egress/egress-preload.ts', import.meta.url));
const CORE = pathToFileURL(fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url))).href;

/** Runs a node script (an ES module) in a process of its own; its stdout. */
function runScript(file: string, code: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<string> {
  writeFileSync(file, code);
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, file], { env: { ...process.env, MIRROR: '', MIRROR_PROFILE: '', MIRROR_STRICT: '', MIRRORGUARD_EGRESS_ALLOW: '', ...env }, timeout: 60_000 }, (_error, out) => resolve(out));
  });
}

/** A TCP server on one address and port that counts the connections it accepts. */
interface Counter {
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

async function countingServer(host: string, port: number): Promise<Counter> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Two servers on one port: one on 127.0.0.1, one on 127.0.0.2 (another loopback address). */
async function serverPair(): Promise<[Counter, Counter]> {
  for (;;) {
    const other = await countingServer('127.0.0.2', 0);
    try {
      return [await countingServer('127.0.0.1', other.port), other];
    } catch {
      await other.close();
    }
  }
}

/** How a connect ended: `connected`, or the error's code. */
function outcome(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    const onError = (error: Error & { code?: string }): void => {
      socket.off('connect', onConnect);
      resolve(error.code ?? error.message);
    };
    const onConnect = (): void => {
      socket.off('error', onError);
      resolve('connected');
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}

// Before the lockdown of this test process: the mirror is a child process of its own, locked down by the preload.
describe('egress attacks, pass 13: a mirror process', () => {
  const dir = privateDir('mirrorguard-egress-attacks-2-');

  // process.execve (Node 22.15+/23.11+) replaces the process image with another program: no child
  // process is made, so neither ChildProcess.prototype.spawn nor process_wrap/spawn_sync sees it,
  // and the program it runs has none of the lockdown. A mirror (locked down by the preload, child
  // processes refused) runs `node -e <connect>`, which reaches an undeclared server.
  it('HOLE (closed): process.execve runs an unguarded program in place of the locked-down mirror', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const escaped = `const s = require('net').connect(${sentinel.port}, '127.0.0.1', () => { process.stdout.write('connected'); s.end('x'); }); s.on('error', (e) => process.stdout.write('error ' + e.code));`;
      const app = join(dir, 'execve.cjs');
      writeFileSync(
        app,
        `const { spawnSync } = require('node:child_process');
let spawned; try { spawnSync(process.execPath, ['-e', '0']); spawned = 'started'; } catch (e) { spawned = e.code; }
process.stdout.write('spawnSync ' + spawned + '\\n');
try { process.execve(process.execPath, [process.execPath, '-e', ${JSON.stringify(escaped)}], { PATH: process.env.PATH ?? '' }); }
catch (e) { process.stdout.write('execve ' + e.code); }
`,
      );
      const stdout = await new Promise<string>((resolve) => {
        execFile(process.execPath, ['--require', PRELOAD, app], { env: { ...process.env, MIRROR: '1', MIRROR_PROFILE: '', MIRRORGUARD_EGRESS_ALLOW: '' }, timeout: 60_000 }, (_error, out) => resolve(out));
      });
      // The lockdown was there: the ordinary child process was refused.
      expect(stdout).toContain('spawnSync MG_ERR_EGRESS_REFUSED');
      expect({ stdout, reached: sentinel.connections() }).toEqual({ stdout: 'spawnSync MG_ERR_EGRESS_REFUSED\nexecve MG_ERR_EGRESS_REFUSED', reached: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // The same refusal journaled as a refused child process is, and held for the named ESM import of
  // node:process (bound before createGuards). With egress.childProcesses, execve runs, as spawn does.
  const execveApp = (childProcesses: boolean, port: number): string => `
import { execve } from 'node:process';
const core = await import(${JSON.stringify(CORE)});
const sink = core.memorySink();
await core.createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] }, egress: { childProcesses: ${childProcesses} } });
const escaped = "const s = require('net').connect(${port}, '127.0.0.1', () => { process.stdout.write('replaced'); s.end('x'); }); s.on('error', (e) => process.stdout.write('error ' + e.code));";
let named;
// Allowed, this replaces the process with the program: nothing after it runs.
try { execve(process.execPath, [process.execPath, '-e', escaped], { PATH: '' }); } catch (error) { named = error.code; }
const events = sink.events().filter((event) => event.dependency === 'process').map(({ action, operation, reason }) => ({ action, operation, reason }));
process.stdout.write(JSON.stringify({ named, events }));
`;

  it('process.execve refused is journaled as a refused child process, also through the ESM named import', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const stdout = await runScript(join(dir, 'execve-journal.mjs'), execveApp(false, sentinel.port), ['--require', PRELOAD], { MIRROR: '1' });
      expect(JSON.parse(stdout) as unknown).toEqual({
        named: 'MG_ERR_EGRESS_REFUSED',
        events: [{ action: 'blocked', operation: expect.stringMatching(/^spawn .*node -e /), reason: 'child processes are refused in the mirror profile (process.execve)' }],
      });
      expect(sentinel.connections()).toBe(0);
    } finally {
      await sentinel.close();
    }
  });

  it('control: with egress.childProcesses, process.execve runs its program, as spawn would', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const stdout = await runScript(join(dir, 'execve-allowed.mjs'), execveApp(true, sentinel.port), ['--require', PRELOAD], { MIRROR: '1' });
      expect(stdout).toBe('replaced');
    } finally {
      await sentinel.close();
    }
  });

  // A strict mirror refuses to start when its lockdown was not installed by the preload, as
  // connections opened before it stay usable. createGuards tells the two apart only by whether a
  // lockdown exists: an app (or a library) that calls installEgressLockdown() from code, after it
  // opened a connection, passes as preloaded.
  const strictApp = (installFirst: boolean | 'late preload', port: number): string => `
import net from 'node:net';
const core = await import(${JSON.stringify(CORE)});
// A connection opened at load, before any lockdown (a client connected at module load).
const early = await new Promise((resolve) => { const socket = net.connect(${port}, '127.0.0.1', () => resolve(socket)); });
${installFirst === 'late preload' ? `process.env.MIRROR = '1'; await import(${JSON.stringify(pathToFileURL(PRELOAD).href)});` : installFirst ? 'core.installEgressLockdown();' : ''}
let started;
try { await core.createGuards({ profile: 'mirror', strict: true, providers: {} }); started = 'started'; } catch (error) { started = error.code; }
if (started === 'started') early.write('after the guards started');
early.end(() => { process.stdout.write(started); process.exit(0); });
`;

  it('control: a strict mirror with no lockdown before createGuards refuses to start (MG_ERR_EGRESS_NOT_PRELOADED)', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const stdout = await runScript(join(dir, 'strict-control.mjs'), strictApp(false, sentinel.port));
      expect(stdout).toBe('MG_ERR_EGRESS_NOT_PRELOADED');
      expect(sentinel.bytes()).toBe(0);
    } finally {
      await sentinel.close();
    }
  });

  it('HOLE (closed): strict takes a lockdown installed from code (installEgressLockdown) for the preload; a connection opened before it keeps sending', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const stdout = await runScript(join(dir, 'strict-installed.mjs'), strictApp(true, sentinel.port));
      // Started: the early connection wrote after the guards were up; wait for its bytes to arrive.
      if (stdout === 'started') await sentinel.bytesAbove(0);
      expect({ stdout, bytes: sentinel.bytes() }).toEqual({ stdout: 'MG_ERR_EGRESS_NOT_PRELOADED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // The preload itself, loaded by the app after it opened a connection (not at start-up): its
  // lockdown counts the socket already open, and is not taken for a preloaded one.
  it('strict refuses a lockdown the preload installed late, with a socket already open', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const stdout = await runScript(join(dir, 'strict-late-preload.mjs'), strictApp('late preload', sentinel.port));
      if (stdout === 'started') await sentinel.bytesAbove(0);
      expect({ stdout, bytes: sentinel.bytes() }).toEqual({ stdout: 'MG_ERR_EGRESS_NOT_PRELOADED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });

  // A CommonJS app that requires the preload from its main module has started already (modules
  // before it may have captured what the lockdown patches): not preloaded either.
  it('strict refuses a lockdown the preload installed from the main module (CommonJS), and accepts the real preload', async () => {
    const app = (requirePreload: boolean): string => `
process.env.MIRROR = '1';
${requirePreload ? `require(${JSON.stringify(PRELOAD)});` : ''}
import(${JSON.stringify(CORE)}).then(async (core) => {
  const lockdown = core.getEgressLockdown();
  let started;
  try { await core.createGuards({ profile: 'mirror', strict: true, providers: {} }); started = 'started'; } catch (error) { started = error.code; }
  process.stdout.write(JSON.stringify({ started, installedBy: lockdown?.installedBy, preloaded: lockdown?.preloaded, openAtInstall: lockdown?.openAtInstall }));
});
`;
    const fromMain = await runScript(join(dir, 'strict-main-require.cjs'), app(true));
    expect(JSON.parse(fromMain) as unknown).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', installedBy: 'preload', preloaded: false, openAtInstall: 0 });
    const preloaded = await runScript(join(dir, 'strict-preloaded.cjs'), app(false), ['--require', PRELOAD], { MIRROR: '1' });
    expect(JSON.parse(preloaded) as unknown).toEqual({ started: 'started', installedBy: 'preload', preloaded: true, openAtInstall: 0 });
  });
});

describe('egress attacks, pass 13', () => {
  const sink = memorySink({ limit: 10_000 });
  let guards: Guards<Record<string, never>> | undefined;
  // TCP: a granted server on 127.0.0.1:P (granted by name, as localhost:P), an undeclared one on 127.0.0.2:P.
  let granted: Counter;
  let undeclared: Counter;
  // UDP: a granted receiver (by name) on 127.0.0.1:U, an undeclared one on 127.0.0.2:U.
  let udpGranted: dgram.Socket;
  let udpUndeclared: dgram.Socket;
  let udpUndeclaredReceived = 0;
  let udpPort = 0;
  let tcpSentinel: ByteSentinel;
  /** dgram's send as a library that copied it at load keeps it: the handle layer is what holds for it. */
  let capturedSend: (this: dgram.Socket, ...args: unknown[]) => void;
  /** net's connect, copied the same way. */
  let capturedConnect: (this: net.Socket, ...args: unknown[]) => net.Socket;
  let unixSentinel: ByteSentinel;

  beforeAll(async () => {
    [granted, undeclared] = await serverPair();
    tcpSentinel = await startByteSentinel('tcp');
    for (;;) {
      udpUndeclared = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => udpUndeclared.bind(0, '127.0.0.2', resolve));
      udpPort = udpUndeclared.address().port;
      udpGranted = dgram.createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        udpGranted.once('error', () => resolve(false));
        udpGranted.bind(udpPort, '127.0.0.1', () => resolve(true));
      });
      if (bound) break;
      udpUndeclared.close();
    }
    udpUndeclared.on('message', () => {
      udpUndeclaredReceived += 1;
    });
    capturedSend = dgram.Socket.prototype.send as unknown as typeof capturedSend;
    capturedConnect = net.Socket.prototype.connect as unknown as typeof capturedConnect;
    unixSentinel = await startByteSentinel('unix');
    guards = await createGuards({
      profile: 'mirror',
      providers: {},
      journal: { sinks: [sink] },
      egress: { allow: [`localhost:${granted.port}`, `localhost:${udpPort}`] },
    });
  });

  afterAll(async () => {
    await guards?.close();
    getEgressLockdown()?.dispose();
    await granted.close();
    await undeclared.close();
    await tcpSentinel.close();
    await unixSentinel.close();
    udpGranted.close();
    udpUndeclared.close();
  });

  it('a lockdown installed by createGuards is not preloaded, and cannot be made so', () => {
    const lockdown = getEgressLockdown()!;
    expect({ installedBy: lockdown.installedBy, preloaded: lockdown.preloaded }).toEqual({ installedBy: 'createGuards', preloaded: false });
    expect(() => {
      (lockdown as { preloaded: boolean }).preloaded = true;
    }).toThrow(TypeError);
    expect(() => Object.defineProperty(lockdown, 'preloaded', { value: true })).toThrow(TypeError);
    expect(lockdown.preloaded).toBe(false);
  });

  // The lockdown an earlier createGuards installed (not strict, warned) is not the preload's either.
  it('a strict createGuards refuses the lockdown an earlier createGuards installed', async () => {
    await expect(createGuards({ profile: 'mirror', strict: true, env: {}, providers: {} })).rejects.toMatchObject({ code: 'MG_ERR_EGRESS_NOT_PRELOADED' });
  });

  it('control: a new socket to the undeclared address on the granted port is refused', async () => {
    const socket = net.connect({ host: '127.0.0.2', port: undeclared.port });
    expect(await outcome(socket)).toBe('MG_ERR_EGRESS_REFUSED');
    expect(undeclared.connections()).toBe(0);
  });

  it('control: the IPv4-mapped IPv6 spelling of the undeclared address is refused', async () => {
    const socket = net.connect({ host: '::ffff:127.0.0.2', port: undeclared.port });
    expect(await outcome(socket)).toBe('MG_ERR_EGRESS_REFUSED');
    expect(undeclared.connections()).toBe(0);
  });

  it('control: the granted name reaches its server', async () => {
    const before = granted.connections();
    const socket = net.connect({ host: 'localhost', port: granted.port, family: 4 });
    expect(await outcome(socket)).toBe('connected');
    socket.destroy();
    expect(granted.connections()).toBeGreaterThanOrEqual(before);
  });

  // The socket layer approves a socket that asked for a granted name for "any address on this
  // port" (WeakMap keyed by the socket), for the handle layer below. net lets a closed socket
  // connect again; the approval is never taken back, so the same socket object then reaches any
  // address on that port, by IP, asking for no name at all.
  it('HOLE (closed): a socket reused after connecting to a name-granted destination reaches any address on that port', async () => {
    const socket = new net.Socket();
    socket.connect({ host: 'localhost', port: granted.port, family: 4 });
    expect(await outcome(socket)).toBe('connected');
    socket.destroy();
    await once(socket, 'close');
    socket.connect({ host: '127.0.0.2', port: undeclared.port });
    const second = await outcome(socket);
    socket.destroy();
    expect({ second, reached: undeclared.connections() }).toEqual({ second: 'MG_ERR_EGRESS_REFUSED', reached: 0 });
  });

  // The same approval on a UDP socket: one send to a granted name approves "any address on this
  // port" for the socket; a send through dgram's send copied before the lockdown (which only the
  // handle layer sees) then reaches an undeclared address on that port.
  it('HOLE (closed): a UDP socket that sent to a name-granted destination, through a send copied before the lockdown, reaches any address on that port', async () => {
    const socket = dgram.createSocket('udp4');
    try {
      const first = await new Promise<Error | null>((resolve) => socket.send('granted', udpPort, 'localhost', (error) => resolve(error ?? null)));
      expect(first).toBeNull();
      const second = await new Promise<Error | null>((resolve) => capturedSend.call(socket, 'escaped', udpPort, '127.0.0.2', (error: Error | null) => resolve(error ?? null)));
      // Sent: the datagram is on its way to the undeclared receiver; wait for it (the event, not a timer).
      if (second === null && udpUndeclaredReceived === 0) await once(udpUndeclared, 'message');
      expect({ refused: second !== null, received: udpUndeclaredReceived }).toEqual({ refused: true, received: 0 });
    } finally {
      socket.close();
    }
  });

  // The same socket again, through a connect copied before the lockdown (which only the handle layer
  // sees, and which asks for no name): what the name approved, for one connect attempt, ended when
  // the socket closed, even for the very address the name resolved to.
  it('a socket closed after connecting to a name-granted destination, connected again by address through a copied connect, is refused', async () => {
    const before = granted.connections();
    const socket = new net.Socket();
    socket.connect({ host: 'localhost', port: granted.port, family: 4 });
    expect(await outcome(socket)).toBe('connected');
    socket.destroy();
    await once(socket, 'close');
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      const again = outcome(socket);
      capturedConnect.call(socket, { host, port: granted.port });
      const result = await again;
      socket.destroy();
      await once(socket, 'close');
      expect({ host, refused: ['EACCES', 'MG_ERR_EGRESS_REFUSED'].includes(result) }).toEqual({ host, refused: true });
    }
    // The one connection the granted server accepted is the name's.
    expect({ granted: granted.connections() - before, undeclared: undeclared.connections() }).toEqual({ granted: 1, undeclared: 0 });
  });

  it('a socket that connected to a name-granted destination is refused a Unix socket not declared', async () => {
    const socket = new net.Socket();
    socket.connect({ host: 'localhost', port: granted.port, family: 4 });
    expect(await outcome(socket)).toBe('connected');
    socket.destroy();
    await once(socket, 'close');
    socket.connect({ path: unixSentinel.path! });
    const second = await outcome(socket);
    socket.destroy();
    expect({ second, reached: unixSentinel.connections() }).toEqual({ second: 'MG_ERR_EGRESS_REFUSED', reached: 0 });
  });

  // A name's grant approves the addresses it resolved to, canonical: a name resolving to the
  // IPv4-mapped spelling of the granted receiver approves that IPv4 address, and not another address
  // in either spelling (a udp6 socket reaches IPv4 receivers through mapped addresses).
  it('a udp6 socket whose granted name resolved to a mapped address is approved for that address only', async () => {
    // Its own lookup: the granted name as the mapped spelling of the granted receiver; anything else (the bind address) as dns says.
    const lookup = (host: string, family: number, callback: (error: Error | null, address: string, family: number) => void): void =>
      host === 'localhost' ? callback(null, '::ffff:127.0.0.1', 6) : dns.lookup(host, family, callback);
    const socket = dgram.createSocket({ type: 'udp6', lookup: lookup as never });
    const before = udpUndeclaredReceived;
    try {
      const first = await new Promise<Error | null>((resolve) => socket.send('granted', udpPort, 'localhost', (error) => resolve(error ?? null)));
      expect(first).toBeNull();
      const second = await new Promise<Error | null>((resolve) => capturedSend.call(socket, 'escaped', udpPort, '::ffff:127.0.0.2', (error: Error | null) => resolve(error ?? null)));
      if (second === null && udpUndeclaredReceived === before) await once(udpUndeclared, 'message');
      expect({ refused: second !== null, received: udpUndeclaredReceived - before }).toEqual({ refused: true, received: 0 });
    } finally {
      socket.close();
    }
  });

  it('control: without the name-granted send first, the copied send to the undeclared address is refused at the handle', async () => {
    const socket = dgram.createSocket('udp4');
    const before = udpUndeclaredReceived;
    try {
      const error = await new Promise<Error | null>((resolve) => capturedSend.call(socket, 'escaped', udpPort, '127.0.0.2', (failure: Error | null) => resolve(failure ?? null)));
      expect(['EACCES', 'MG_ERR_EGRESS_REFUSED']).toContain((error as { code?: string } | null)?.code);
      expect(udpUndeclaredReceived).toBe(before);
    } finally {
      socket.close();
    }
  });

  it('a worker made from a data: URL (ESM, no file) starts locked down', async () => {
    const code = `import net from 'node:net'; import { parentPort } from 'node:worker_threads';
const s = net.connect(${tcpSentinel.port}, '127.0.0.1');
s.on('connect', () => { parentPort.postMessage('connected'); s.destroy(); });
s.on('error', (e) => parentPort.postMessage(e.code));`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
    const [message] = (await once(worker, 'message')) as [string];
    await worker.terminate();
    expect(message).toBe('MG_ERR_EGRESS_REFUSED');
    expect(tcpSentinel.connections()).toBe(0);
  });

  it('a worker given an empty env and no execArgv starts locked down (the grants come as environment data)', async () => {
    const code = `const s = require('net').connect(${tcpSentinel.port}, '127.0.0.1');
s.on('connect', () => { require('worker_threads').parentPort.postMessage('connected'); s.destroy(); });
s.on('error', (e) => require('worker_threads').parentPort.postMessage(e.code));`;
    const worker = new Worker(code, { eval: true, env: {}, execArgv: [] });
    const [message] = (await once(worker, 'message')) as [string];
    await worker.terminate();
    expect(message).toBe('MG_ERR_EGRESS_REFUSED');
    expect(tcpSentinel.connections()).toBe(0);
  });
});
