// Loaded by mocha (`--require`, after ts-node/register) into the process that runs ioredis' suite:
//
// 1. Keeps the suite off every shared server: each TCP connection to this machine's port 6379 (the
//    suite's default, also that of its global afterEach FLUSHALL / SCRIPT FLUSH / CLIENT KILL) goes
//    to the private origin the runner started; a connection to any other host than this machine
//    goes to a closed port instead (no public address is ever contacted). Other loopback ports (the
//    suite's mock servers, the private shadow) are left alone.
// 2. Swaps the client under test in: the suite's `lib/Redis` and `lib` (index) resolve to
//    client.cts; every other module of the suite's `lib` resolves to the installed ioredis' own
//    compiled module (`built/…`), the one the project's clients extend, so `Command`, `Pipeline`,
//    `utils`, errors … are the very classes the client uses.
// 3. Root hooks: for the guarded clients, the suite's reset after each test applied to the private
//    servers directly (the client under test refuses SCRIPT FLUSH and CLIENT KILL, and its
//    FLUSHALL reaches only the shadow); for `memory`, a new shared engine per test.
import type * as NetModule from 'node:net';
import type * as PathModule from 'node:path';
import type * as FsModule from 'node:fs';

const net: typeof NetModule = require('node:net');
const path: typeof PathModule = require('node:path');
const fs: typeof FsModule = require('node:fs');
const NodeModule: {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
} = require('node:module');

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`conformance preload: ${name} is not set (run through conformance/ioredis-suite/run.ts)`);
  return value;
};

const suiteLib = path.join(env('MG_IOREDIS_SUITE'), 'lib');
const ioredisBuilt = path.join(path.dirname(require.resolve(env('MG_IOREDIS_PACKAGE'))));
const clientModule = path.join(__dirname, 'client.cts');
const kind = env('MG_IOREDIS_CLIENT');
const originPort = Number(env('MG_ORIGIN_PORT'));
const shadowPort = process.env['MG_SHADOW_PORT'] ? Number(process.env['MG_SHADOW_PORT']) : undefined;
const closedPort = Number(env('MG_CLOSED_PORT'));
const redirectedPorts = new Set([6379, 6380]);
const logFile = process.env['MG_CONNECT_LOG'];

// ---- 1. connections ----------------------------------------------------------------------

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

interface Target {
  port?: number | string;
  host?: string;
  path?: string;
}

const log = (line: string): void => {
  if (logFile !== undefined) fs.appendFileSync(logFile, `${line}\n`);
};

function rewrite<T extends Target>(target: T): T {
  if (target.path !== undefined) return target;
  const host = target.host ?? 'localhost';
  const port = Number(target.port ?? 0);
  if (!LOOPBACK.test(host)) {
    log(`blocked ${host}:${port} -> 127.0.0.1:${closedPort}`);
    return { ...target, host: '127.0.0.1', port: closedPort };
  }
  if (redirectedPorts.has(port)) {
    log(`redirected ${host}:${port} -> 127.0.0.1:${originPort}`);
    return { ...target, host: '127.0.0.1', port: originPort };
  }
  return target;
}

const isTarget = (value: unknown): value is Target => typeof value === 'object' && value !== null;

/** Rewrites, in place, the arguments of `Socket#connect` in each of its forms. */
function redirect(args: unknown[]): void {
  const first = args[0];
  // net.connect() / createConnection() / tls.connect() hand over their normalized [options, cb] array.
  if (Array.isArray(first)) {
    if (isTarget(first[0])) first[0] = rewrite(first[0]);
    return;
  }
  if (isTarget(first)) {
    args[0] = rewrite(first);
    return;
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const host = typeof args[1] === 'string' ? args[1] : undefined;
    const target = rewrite({ port: first, ...(host !== undefined && { host }) });
    args[0] = target.port;
    if (typeof args[1] === 'string') args[1] = target.host;
    else args.splice(1, 0, target.host);
  }
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(this: NetModule.Socket, ...args: unknown[]): NetModule.Socket {
  redirect(args);
  return (originalConnect as (...args: unknown[]) => NetModule.Socket).apply(this, args);
} as typeof originalConnect;

// ---- 2. module resolution ----------------------------------------------------------------

const originalResolve = NodeModule._resolveFilename;
NodeModule._resolveFilename = function resolveFilename(request, parent, isMain, options) {
  const resolved = originalResolve.call(this, request, parent, isMain, options);
  if (!resolved.startsWith(suiteLib + path.sep)) return resolved;
  const relative = path.relative(suiteLib, resolved).replace(/\.ts$/, '');
  if (relative === 'Redis' || relative === 'index') return clientModule;
  return originalResolve.call(this, path.join(ioredisBuilt, relative), parent, isMain, options);
};

// ---- 3. root hooks -----------------------------------------------------------------------

type IORedis = typeof import('ioredis').Redis;

/** FLUSHALL, SCRIPT FLUSH and CLIENT KILL TYPE normal on a private server, as the suite's afterEach does on its own. */
async function reset(port: number): Promise<void> {
  if (redirectedPorts.has(port)) throw new Error(`conformance preload: refusing to reset port ${port}`);
  const Redis: IORedis = require(env('MG_IOREDIS_PACKAGE'));
  const admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: true });
  try {
    await admin.connect();
    await admin.pipeline().flushall().script('FLUSH').client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes').exec();
  } finally {
    admin.disconnect();
  }
}

module.exports = {
  mochaHooks: {
    async afterEach(): Promise<void> {
      if (kind === 'memory') {
        const drop = (globalThis as Record<symbol, unknown>)[Symbol.for('mirrorguard.conformance.resetMemoryEngine')];
        if (typeof drop === 'function') drop();
      }
      if (kind === 'shadow' || kind === 'shadow-memory' || kind === 'shadow-connector') {
        await reset(originPort);
        if (shadowPort !== undefined) await reset(shadowPort);
      }
    },
  },
};
