import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingRedis } from '../../packages/redis-shadow/src/client/recording-redis.ts';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// Faults aimed at the worst moments: between a copy's DUMP and its RESTORE, during EXEC, while
// calls wait in the offline queue for a server that comes back. Private servers only.

const servers: ThrowawayRedis[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of servers.splice(0)) await server.kill();
});

async function server(persist = false): Promise<ThrowawayRedis> {
  const started = await startRedisServer({ persist });
  servers.push(started);
  return started;
}

function client<T extends Redis>(made: T): T {
  made.on('error', () => undefined);
  clients.push(made);
  return made;
}

async function digest(url: string): Promise<string> {
  const admin = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    const hash = createHash('sha256');
    for (const key of (await admin.keys('*')).sort()) hash.update(key).update((await admin.dumpBuffer(key)) ?? Buffer.alloc(0));
    return hash.digest('hex');
  } finally {
    admin.disconnect();
  }
}

async function settle(call: Promise<unknown>): Promise<{ ms: number; code?: string | undefined; message?: string; value?: unknown }> {
  const started = performance.now();
  return call.then(
    (value) => ({ ms: performance.now() - started, value }),
    (error: Error & { code?: string }) => ({ ms: performance.now() - started, code: error.code, message: error.message }),
  );
}

/** The DUMPs the origin has answered (INFO commandstats, read over a connection of its own). */
async function dumps(url: string): Promise<number> {
  const admin = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    return Number(/cmdstat_dump:calls=(\d+)/.exec(String(await admin.info('commandstats')))?.[1] ?? 0);
  } finally {
    admin.disconnect();
  }
}

describe('faults at the worst moment', () => {
  const options: RedisOptions = { maxRetriesPerRequest: 1 };

  it('the shadow is killed after the copy read the origin, before its RESTORE is answered', async () => {
    const origin = await server();
    const shadow = await server(true);
    const twin = await server(true);
    const seed = new Redis(origin.url);
    await seed.set('k', 'origin');
    seed.disconnect();
    const before = await digest(origin.url);
    const redis = client(new ShadowRedis({ ...options, port: origin.port }, { shadow: shadow.shadowUrl }));
    const raw = client(new Redis({ ...options, port: twin.port }));
    await Promise.all([once(redis, 'ready'), raw.status === 'ready' ? undefined : once(raw, 'ready')]);
    await redis.set('warm', '1');
    const dumped = await dumps(origin.url);
    // The shadow stops; the copy reads the origin (DUMP answered), its RESTORE waits on the frozen shadow.
    await Promise.all([shadow.pause(), twin.pause()]);
    const write = settle(redis.append('k', '+mirror'));
    const baseline = settle(raw.append('k', '+mirror'));
    while ((await dumps(origin.url)) === dumped);
    await Promise.all([shadow.kill(), twin.kill()]);
    const [outcome, rawOutcome] = await Promise.all([write, baseline]);
    expect(outcome.code).toBe('MG_ERR_REDIS_SHADOW_FAILED');
    // No later than raw ioredis, give or take one retry delay (50, then 100 ms) and a round trip.
    expect(outcome.ms).toBeLessThanOrEqual(rawOutcome.ms + 150);

    // Healed: the shadow has the whole copy or nothing, the key is copied again on the next write.
    await shadow.restart();
    const check = new Redis(shadow.url);
    expect([null, 'origin']).toContain(await check.get('k'));
    check.disconnect();
    let appended: unknown;
    for (let attempt = 0; attempt < 50 && appended === undefined; attempt += 1) appended = (await settle(redis.append('k', '+mirror'))).value;
    expect(appended).toBe('origin+mirror'.length);
    expect(await redis.get('k')).toBe('origin+mirror');
    expect(await digest(origin.url)).toBe(before);
  });

  it('the shadow freezes during EXEC and is killed: the transaction is on the shadow whole or not at all', async () => {
    const origin = await server();
    const shadow = await server(true);
    const seed = new Redis(origin.url);
    await seed.mset({ a: '1', b: '1' });
    seed.disconnect();
    const before = await digest(origin.url);
    const redis = client(new ShadowRedis({ ...options, port: origin.port }, { shadow: shadow.shadowUrl }));
    await redis.mset({ a: '2', b: '2' });
    await shadow.pause();
    const transaction = settle(redis.multi().incr('a').incr('b').exec());
    const manual = redis.multi({ pipeline: false });
    const manualSteps = [settle(manual), settle(redis.incr('a')), settle(redis.incr('b')), settle(redis.exec())];
    await shadow.kill();
    const outcome = await transaction;
    expect(outcome.code).toBe('MG_ERR_REDIS_SHADOW_FAILED');
    for (const step of await Promise.all(manualSteps)) expect(step.code).toBe('MG_ERR_REDIS_SHADOW_FAILED');
    await shadow.restart();
    const check = new Redis(shadow.url);
    const [a, b] = await check.mget('a', 'b');
    expect(a).toBe(b);
    check.disconnect();
    expect(await digest(origin.url)).toBe(before);
  });

  it('the origin comes back while calls wait in the offline queue: each settles once, with the right answer', async () => {
    const origin = await server(true);
    const seed = new Redis(origin.url);
    await seed.mset({ n: '10', s: 'origin', p: '5' });
    seed.disconnect();
    const before = await digest(origin.url);
    for (const shadow of ['memory', (await server()).shadowUrl]) {
      const redis = client(new ShadowRedis({ port: origin.port }, { shadow }));
      await once(redis, 'ready');
      await redis.set('warm', '1');
      const closed = once(redis, 'close');
      await origin.kill();
      await closed;
      const calls = [
        settle(redis.get('s')),
        settle(redis.incr('n')),
        settle(redis.pipeline().get('s').incr('p').get('n').exec()),
        settle(redis.multi().incr('n').get('p').exec()),
        settle(redis.scan(0, 'MATCH', '[nps]', 'COUNT', 100)),
      ];
      await origin.restart();
      const outcomes = await Promise.all(calls);
      expect(outcomes.map((outcome) => outcome.code ?? outcome.message)).toEqual([undefined, undefined, undefined, undefined, undefined]);
      expect(outcomes.map((outcome) => outcome.value)).toEqual([
        'origin',
        11,
        [
          [null, 'origin'],
          [null, 6],
          [null, '11'],
        ],
        [
          [null, 12],
          [null, '6'],
        ],
        [expect.any(String), expect.any(Array)],
      ]);
      redis.disconnect();
      expect(await digest(origin.url)).toBe(before);
    }
  });

  it('RecordingRedis settles as raw ioredis does, with the same errors and error events, the origin down', async () => {
    const origin = await server();
    const twin = await server();
    await Promise.all([origin.kill(), twin.kill()]);
    const recording = new RecordingRedis({ ...options, port: origin.port });
    const raw = new Redis({ ...options, port: twin.port });
    const events = { recording: 0, raw: 0 };
    recording.on('error', () => (events.recording += 1));
    raw.on('error', () => (events.raw += 1));
    clients.push(recording, raw);
    const calls = (redis: Redis): Array<Promise<unknown>> => [redis.set('k', 'v'), redis.get('k'), redis.multi().incr('n').exec(), redis.pipeline().get('k').incr('n').exec()];
    const [ours, theirs] = await Promise.all([Promise.all(calls(recording).map(settle)), Promise.all(calls(raw).map(settle))]);
    expect(ours.map((outcome) => outcome.message ?? outcome.value)).toEqual(theirs.map((outcome) => outcome.message ?? outcome.value));
    ours.forEach((outcome, index) => expect(outcome.ms).toBeLessThanOrEqual(theirs[index]!.ms + 150));
    expect(Math.abs(events.recording - events.raw)).toBeLessThanOrEqual(1);
  });

  it('a SELECT made while the shadow is down still moves the shadow connection: writes land in the right database', async () => {
    const origin = await server();
    const shadow = await server(true);
    const seed = new Redis({ port: origin.port, db: 1 });
    await seed.set('counter', '10');
    seed.disconnect();
    const redis = client(new ShadowRedis({ ...options, port: origin.port }, { shadow: shadow.shadowUrl }));
    await redis.set('warm', '1');
    await shadow.kill();
    // The origin answers the SELECT; the shadow's SELECT cannot be sent, and fails.
    expect(await redis.select(1)).toBe('OK');
    expect((await settle(redis.incr('counter'))).code).toBe('MG_ERR_REDIS_SHADOW_FAILED');
    await shadow.restart();
    let value: unknown;
    for (let attempt = 0; attempt < 50 && value === undefined; attempt += 1) value = (await settle(redis.incr('counter'))).value;
    expect(value).toBe(11);
    expect(await redis.get('counter')).toBe('11');
    const check = new Redis({ port: shadow.port, db: 1 });
    expect(await check.get('counter')).toBe('11');
    check.disconnect();
  });

  it('pipelines of origin reads and shadow writes settle while the origin drops its connections under them', async () => {
    const origin = await server();
    const shadow = await server();
    const seed = new Redis(origin.url);
    await seed.mset({ r: 'origin', w: '0' });
    seed.disconnect();
    const before = await digest(origin.url);
    for (const target of ['memory', shadow.shadowUrl]) {
      const redis = client(new ShadowRedis({ port: origin.port }, { shadow: target }));
      await redis.set('warm', '1');
      const outcomes: Array<Promise<{ code?: string | undefined; value?: unknown }>> = [];
      for (let round = 0; round < 10; round += 1) {
        // Sent as the server drops every client: some commands are on the wire, some are resent after the reconnect.
        outcomes.push(settle(redis.pipeline().get('r').incr('w').get('r').set(`k:${round}`, 'v').get('w').exec()));
        await origin.dropClients();
      }
      for (const outcome of await Promise.all(outcomes)) {
        expect(outcome.code).toBeUndefined();
        const replies = outcome.value as Array<[Error | null, unknown]>;
        expect(replies.map(([, value]) => value).filter((value) => value === 'origin')).toHaveLength(2);
      }
      redis.disconnect();
    }
    expect(await digest(origin.url)).toBe(before);
  });
});
