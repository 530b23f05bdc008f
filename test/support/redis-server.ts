import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { SHADOW_USER_ACL } from '../../packages/redis-shadow/src/client/shadow-user-check.ts';

export interface ThrowawayRedis {
  /** As the server's `default` user, which can do anything: for the test's own set-up and oracles. */
  readonly url: string;
  readonly port: number;
  /** As a user confined to this server, as the README has a shadow's: for ShadowRedis' `shadow`. */
  readonly shadowUrl: string;
  readonly shadowUser: { readonly username: string; readonly password: string };
  /** Kills the server (SIGKILL: for fault tests too). */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The README's shadow user (shadow-user-check.ts), with the test's password. */
const SHADOW_USER = { username: 'mirror-shadow', password: 'shadow-pw' };
const SHADOW_ACL = SHADOW_USER_ACL.replace(/^ACL SETUSER mirror-shadow on >CHANGE-ME /, '').split(' ');

/**
 * Starts a redis-server of its own on a free loopback port, keeping nothing on disk; for shadows,
 * private origins and fault tests. It has the README's confined shadow user (`shadowUrl`).
 * `args` are more configuration (`['--user', …]`, `['--enable-debug-command', 'yes']`, …).
 */
export async function startRedisServer(args: readonly string[] = []): Promise<ThrowawayRedis> {
  // The port is free when chosen, but another process may take it before the server binds it.
  for (let attempt = 0; ; attempt += 1) {
    const server = await tryStartRedisServer(args);
    if (server !== undefined) return server;
    if (attempt > 5) throw new Error('redis-server lost its port to another process, again and again');
  }
}

/** A server of its own, or undefined when the port it was given answers as another process. */
async function tryStartRedisServer(args: readonly string[]): Promise<ThrowawayRedis | undefined> {
  const port = await freePort();
  const user = ['--user', SHADOW_USER.username, 'on', `>${SHADOW_USER.password}`, ...SHADOW_ACL];
  // A directory of its own: a SAVE (or a dump left by another server) in a shared one would load into the next server started there.
  const dir = await mkdtemp(join(tmpdir(), 'mirrorguard-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...user, ...args], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  // Refused connections are expected until the server listens.
  probe.on('error', () => undefined);
  for (let attempt = 0; ; attempt += 1) {
    try {
      await probe.connect();
      const processId = Number(/process_id:(\d+)/.exec(String(await probe.call('INFO', 'server')))?.[1]);
      probe.disconnect();
      if (processId !== child.pid) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await once(child, 'exit');
        }
        await rm(dir, { recursive: true, force: true });
        return undefined;
      }
      break;
    } catch (error) {
      if (attempt > 100) throw new Error(`redis-server on port ${port} did not start: ${(error as Error).message}`);
      probe.disconnect();
      await sleep(50);
    }
  }
  return {
    url,
    port,
    shadowUrl: `redis://${SHADOW_USER.username}:${SHADOW_USER.password}@127.0.0.1:${port}`,
    shadowUser: SHADOW_USER,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
