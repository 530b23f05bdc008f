import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { SHADOW_USER_ACL } from '../../packages/redis-shadow/src/client/shadow-user-check.ts';
import { freePort } from './free-port.ts';
import { privateDir } from './private-dir.ts';

export interface ThrowawayRedis {
  /** As the server's `default` user, which can do anything: for the test's own set-up and oracles. */
  readonly url: string;
  readonly port: number;
  /** As a user confined to this server, as the README has a shadow's: for ShadowRedis' `shadow`. */
  readonly shadowUrl: string;
  readonly shadowUser: { readonly username: string; readonly password: string };
  /** Kills the server (SIGKILL: for fault tests too). */
  kill(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. Resolves once it is stopped. */
  pause(): Promise<void>;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /** Starts the server again on the same port (after kill); with `persist`, with the data it had written. */
  restart(): Promise<void>;
  /** Drops every client connection (CLIENT KILL TYPE normal), from a connection of its own. */
  dropClients(): Promise<number>;
}

export interface RedisServerOptions {
  /** More configuration (`['--busy-reply-threshold', '100']`, `['--enable-debug-command', 'yes']`, …). */
  readonly args?: readonly string[];
  /**
   * Keep every write in an append-only file synced on each write, in a directory of its own: a
   * server killed (SIGKILL) and restarted has exactly what it had acknowledged, so a fault test can
   * compare its data before and after.
   */
  readonly persist?: boolean;
}

/** Waits until the server answers on `port`, and checks it is the process started (not another one on that port). */
async function waitUntilServing(url: string, port: number, pid: number | undefined): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  // Refused connections are expected until the server listens.
  probe.on('error', () => undefined);
  for (let attempt = 0; ; attempt += 1) {
    try {
      await probe.connect();
      const serving = Number(/process_id:(\d+)/.exec(String(await probe.info('server')))?.[1]);
      probe.disconnect();
      if (serving !== pid) throw new Error(`port ${port} is served by process ${serving}, not by the redis-server started (${pid})`);
      return;
    } catch (error) {
      if ((error as Error).message.includes('is served by process') || attempt > 200) throw new Error(`redis-server on port ${port} did not start: ${(error as Error).message}`);
      probe.disconnect();
      await sleep(25);
    }
  }
}

/** Servers a failed test left running, stopped (and their files removed) when the test process exits. */
const cleanups: Array<() => void> = [];
process.once('exit', () => {
  for (const cleanup of cleanups) cleanup();
});

/** The README's shadow user (shadow-user-check.ts), with the test's password. */
const SHADOW_USER = { username: 'mirror-shadow', password: 'shadow-pw' };
const SHADOW_ACL = SHADOW_USER_ACL.replace(/^ACL SETUSER mirror-shadow on >CHANGE-ME /, '').split(' ');

/**
 * Starts a redis-server of its own on a free loopback port, keeping nothing on disk (unless
 * `persist`); for shadows, private origins and fault tests. It has the README's confined shadow
 * user (`shadowUrl`).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<ThrowawayRedis> {
  const port = await freePort();
  // A directory of its own: a dump.rdb another process left in a shared one would be loaded at start.
  const dir = privateDir('mg-redis-');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push(...(options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always', '--appenddirname', 'aof'] : ['--appendonly', 'no']));
  args.push('--user', SHADOW_USER.username, 'on', `>${SHADOW_USER.password}`, ...SHADOW_ACL, ...(options.args ?? []));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    // A server left running by a failed test is stopped with the test process.
    child.unref();
    await waitUntilServing(url, port, child.pid);
  };
  await start();
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  cleanups.push(() => {
    if (running()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url,
    port,
    shadowUrl: `redis://${SHADOW_USER.username}:${SHADOW_USER.password}@127.0.0.1:${port}`,
    shadowUser: SHADOW_USER,
    async kill() {
      if (!running()) return;
      // SIGKILL ends a stopped process too (a SIGCONT first would let it answer what it holds).
      // Waiting for the exit keeps the process alive: the child is unref'd, and a script (the
      // benchmarks) with nothing else left to do would end with this await unsettled.
      child.ref();
      child.kill('SIGKILL');
      await once(child, 'exit');
      // Nothing to keep for a restart unless the server persists its writes.
      if (!options.persist) rmSync(dir, { recursive: true, force: true });
    },
    async pause() {
      child.kill('SIGSTOP');
      // The signal is taken when the process is next scheduled: until then it may still answer.
      while (!/^\d+ \(.*\) T/.test(readFileSync(`/proc/${child.pid}/stat`, 'utf8'))) await new Promise((resolve) => setImmediate(resolve));
    },
    resume() {
      child.kill('SIGCONT');
    },
    async restart() {
      if (running()) throw new Error(`redis-server on port ${port} is still running`);
      mkdirSync(dir, { recursive: true });
      await start();
    },
    async dropClients() {
      const admin = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      admin.on('error', () => undefined);
      try {
        return Number(await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
      } finally {
        admin.disconnect();
      }
    },
  };
}

/** A private origin and shadow, each with an unconfined admin connection named `oracle` for the test's own checks. */
export interface OriginAndShadow {
  readonly origin: ThrowawayRedis;
  readonly shadow: ThrowawayRedis;
  readonly originAdmin: Redis;
  readonly shadowAdmin: Redis;
  /** Disconnects the admins and kills both servers. */
  stop(): Promise<void>;
}

/** Starts an origin and a shadow of the test's own, with `origin` and `shadow` options each. */
export async function startOriginAndShadow(options: { origin?: RedisServerOptions; shadow?: RedisServerOptions } = {}): Promise<OriginAndShadow> {
  const [origin, shadow] = await Promise.all([startRedisServer(options.origin), startRedisServer(options.shadow)]);
  const originAdmin = new Redis(origin.url, { connectionName: 'oracle' });
  const shadowAdmin = new Redis(shadow.url, { connectionName: 'oracle' });
  return {
    origin,
    shadow,
    originAdmin,
    shadowAdmin,
    async stop() {
      originAdmin.disconnect();
      shadowAdmin.disconnect();
      await Promise.all([origin.kill(), shadow.kill()]);
    },
  };
}
