import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisMonitor } from './redis-monitor.ts';

// Server-side oracles for the Redis sandbox tests: what a server says about itself, before and after.

const hash = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** Every command the server has run or refused, by `name` or `container|sub`: calls + rejected + failed (INFO commandstats). */
export async function commandStats(admin: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of String(await admin.call('INFO', 'commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),.*?rejected_calls=(\d+),failed_calls=(\d+)/.exec(line);
    if (match !== null) stats.set(match[1]!, Number(match[2]) + Number(match[3]) + Number(match[4]));
  }
  return stats;
}

/** Every command the server has executed (refused ones, by ACL or arity, not counted), by `name` or `container|sub`. */
export async function executedStats(admin: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of String(await admin.call('INFO', 'commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),/.exec(line);
    if (match !== null) stats.set(match[1]!, Number(match[2]));
  }
  return stats;
}

/** Every key of the server's selected database, its value (DUMP) and absolute expiry, hashed: any change shows. */
export async function keysDigest(admin: Redis): Promise<string> {
  const keys = (await admin.keys('*')).sort();
  const digest = createHash('sha256');
  for (const key of keys) digest.update(key).update(String(await admin.dumpBuffer(key))).update(String(await admin.call('PEXPIRETIME', key)));
  return `${keys.length}:${digest.digest('hex')}`;
}

/** The commands whose count grew between two commandstats readings. */
export function grown(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): string[] {
  return [...after].filter(([name, count]) => count > (before.get(name) ?? 0)).map(([name]) => name).sort();
}

/** A server's state a mirror must never change: data, configuration, role, users, scripts, functions, logs. */
export interface ServerFingerprint {
  readonly dirty: number;
  readonly data: string;
  readonly config: string;
  readonly role: string;
  readonly acl: string;
  readonly functions: string;
  readonly replicas: string;
  readonly slowlogLength: number;
  /** The events LATENCY LATEST lists: slow commands may add some, a LATENCY RESET clears them all. */
  readonly latencyEvents: readonly string[];
}

export async function fingerprint(admin: Redis): Promise<ServerFingerprint> {
  const persistence = String(await admin.call('INFO', 'persistence'));
  const replication = String(await admin.call('INFO', 'replication'));
  const dumps: Array<[number, string, string | null]> = [];
  const original = Number(/db(\d+)/.exec(String(await admin.call('CLIENT', 'INFO')))?.[1] ?? 0);
  for (let db = 0; db < 16; db += 1) {
    await admin.select(db);
    for (const key of (await admin.keys('*')).sort()) dumps.push([db, key, (await admin.dumpBuffer(key))?.toString('hex') ?? null]);
  }
  await admin.select(original);
  const config = ((await admin.config('GET', '*')) as string[]).reduce<string[][]>((pairs, value, index, all) => (index % 2 === 0 ? [...pairs, [value, all[index + 1]!]] : pairs), []);
  return {
    dirty: Number(/rdb_changes_since_last_save:(\d+)/.exec(persistence)?.[1]),
    data: hash(dumps),
    config: hash(config.sort(([a], [b]) => a!.localeCompare(b!))),
    role: JSON.stringify(await admin.call('ROLE')),
    acl: hash(await admin.call('ACL', 'LIST')),
    functions: hash(await admin.call('FUNCTION', 'LIST')),
    replicas: /connected_slaves:(\d+)/.exec(replication)?.[1] ?? '?',
    slowlogLength: Number(await admin.call('SLOWLOG', 'LEN')),
    latencyEvents: ((await admin.call('LATENCY', 'LATEST')) as unknown[][]).map((event) => String(event[0])).sort(),
  };
}

/** Whether any of these script digests is cached on the server. */
export async function scriptsCached(admin: Redis, shas: readonly string[]): Promise<boolean> {
  if (shas.length === 0) return false;
  return ((await admin.call('SCRIPT', 'EXISTS', ...shas)) as number[]).some((exists) => exists === 1);
}

/** The clients connected to the server that are none of the named ones (a connection another server opened: MIGRATE, REPLICAOF). */
export async function strangers(admin: Redis, names: readonly string[]): Promise<string[]> {
  const list = String(await admin.call('CLIENT', 'LIST')).trim().split('\n');
  return list.filter((line) => !names.includes(/ name=(\S*)/.exec(line)?.[1] ?? ''));
}

/** MONITOR on a server: every command it receives, with its source (`lua` for a script's). */
export async function monitorServer(url: string): Promise<{ received: Array<{ args: string[]; source: string }>; caughtUp(admin: Redis): Promise<void>; stop(): void }> {
  const monitor = await RedisMonitor.open(url);
  const received: Array<{ args: string[]; source: string }> = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => received.push({ args, source }));
  return {
    received,
    // An ECHO as a fence: MONITOR delivers asynchronously.
    async caughtUp(admin: Redis) {
      const fence = `fence-${Math.random()}`;
      const seen = new Promise<void>((resolve) => {
        const listener = (_time: string, args: string[]): void => {
          if (args.includes(fence)) {
            monitor.off('monitor', listener);
            resolve();
          }
        };
        monitor.on('monitor', listener);
      });
      await admin.echo(fence);
      await seen;
    },
    stop: () => monitor.disconnect(),
  };
}
