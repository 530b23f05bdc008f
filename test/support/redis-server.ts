import { spawn } from 'node:child_process';
import { once } from 'node:events';
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
  const port = await freePort();
  const user = ['--user', SHADOW_USER.username, 'on', `>${SHADOW_USER.password}`, ...SHADOW_ACL];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp', ...user, ...args], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  // Refused connections are expected until the server listens.
  probe.on('error', () => undefined);
  for (let attempt = 0; ; attempt += 1) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
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
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}
