import RedisMock from 'ioredis-mock';
import { Redis, type Command } from 'ioredis';
import { MemoryRedis } from '@mirrorguard/redis-shadow';
import { CONFORMANCE_CASES } from '../../test/redis-shadow/memory-cases/all-cases.ts';
import { alternatingRounds, operationsPerSecond } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';
import { startRedisServer } from '../../test/support/redis-server.ts';

const KEYS = 1_000;

export interface MemoryEngineResult {
  /** Of the conformance suite's commands, how many each engine answers exactly as the real Redis. */
  readonly conformance: { readonly commands: number; readonly memory: number; readonly ioredisMock: number; readonly ioredisMockMissing: number };
  readonly mixedPerSecond: Throughput;
  readonly bigHashPerSecond: Throughput;
  /** Each operation class of the mixed workload on its own: none should be below 1×. */
  readonly byClass: Readonly<Record<string, Throughput>>;
}

interface Throughput {
  readonly memory: number;
  readonly ioredisMock: number;
  /** memory / ioredis-mock (median of per-round ratios). */
  readonly ratio: number;
  /**
   * An ioredis client whose sendCommand answers at once, no engine behind it: what ioredis' own
   * API (its Command objects, promises and reply transforms) costs per call. Any client that is an
   * ioredis Redis, as the memory engine's must be, runs at most this fast; `floorRatio` is this
   * ceiling over ioredis-mock (which is no ioredis subclass and skips that layer).
   */
  readonly floor: number;
  readonly floorRatio: number;
}

/** A reply of each measured command's shape (any other: OK). */
const FLOOR_REPLIES: Readonly<Record<string, unknown>> = { get: null, incr: 1, hset: 1, hgetall: [], lpush: 1, zadd: 1, zrange: [] };

/** The ioredis API with nothing behind it (see Throughput.floor): each command answered at once with a reply of its shape. */
class IoredisApiFloor extends Redis {
  constructor() {
    super({ lazyConnect: true, enableAutoPipelining: false });
  }

  override sendCommand(command: Command): unknown {
    command.resolve(command.name in FLOOR_REPLIES ? FLOOR_REPLIES[command.name] : 'OK');
    return command.promise;
  }
}

/** The operation classes of the mixed workload, each one command (or two) an app's unit test sends. */
const OPERATION_CLASSES: ReadonlyArray<readonly [string, (client: Redis, n: number) => Promise<unknown>]> = [
  ['SET', (client, n) => client.set(`s:${n}`, `value-${n}`)],
  ['GET', (client, n) => client.get(`s:${n - 1}`)],
  ['INCR', (client, n) => client.incr(`c:${n % 100}`)],
  ['HSET', (client, n) => client.hset(`h:${n % 100}`, `f${n % 20}`, String(n))],
  ['HGETALL (20 fields)', (client, n) => client.hgetall(`h:${n % 100}`)],
  ['LPUSH + LTRIM', (client, n) => client.lpush(`l:${n % 50}`, String(n)).then(() => client.ltrim(`l:${n % 50}`, 0, 49))],
  ['ZADD', (client, n) => client.zadd(`z:${n % 50}`, n, `m${n % 200}`)],
  ['ZRANGE', (client, n) => client.zrange(`z:${n % 50}`, 0, 9)],
];

/** A cache-and-counters mix, as an app's unit test drives its Redis: one command per step. */
const mixed = (client: Redis, n: number): Promise<unknown> => OPERATION_CLASSES[n % OPERATION_CLASSES.length]![1](client, n);

type Invoke = (name: string, args: readonly string[]) => Promise<unknown>;
const outcome = (reply: Promise<unknown>): Promise<unknown> => reply.catch((error: Error) => `error: ${error.message}`);
const sorted = (reply: unknown): unknown => (Array.isArray(reply) ? [...reply].map(String).sort() : reply);

/**
 * The conformance suite's command sequences (the memory engine's test cases) replayed on the real
 * Redis, the memory engine and ioredis-mock: how many replies of each equal the real one. ioredis-mock
 * has no `call`, so its methods are called by name; a command it has no method for, or refuses as
 * unsupported, counts as missing.
 */
async function conformance(): Promise<MemoryEngineResult['conformance']> {
  // A private server: every case starts from empty databases.
  const server = await startRedisServer();
  const real = new Redis(server.url, { db: 14 });
  const other = new Redis(server.url, { db: 6 });
  const mock = new RedisMock() as unknown as Record<string, (...args: string[]) => Promise<unknown>> & { flushall(): Promise<unknown>; disconnect(): void };
  let commands = 0;
  let memoryAgrees = 0;
  let mockAgrees = 0;
  let mockMissing = 0;
  try {
    for (const testCase of CONFORMANCE_CASES) {
      await real.flushdb();
      await other.flushdb();
      await mock.flushall();
      const memory = new MemoryRedis({ db: 14 });
      const invokeMemory: Invoke = (name, args) => memory.call(name, ...args);
      const invokeMock: Invoke = (name, args) =>
        // Some of its methods throw rather than reject ("Unsupported command").
        new Promise((resolve) => resolve(mock[name.toLowerCase()]!.apply(mock, [...args])));
      for (const [name, ...args] of testCase.commands as Array<[string, ...string[]]>) {
        const unordered = testCase.unordered?.includes(name.toUpperCase()) ?? false;
        // ioredis-mock answers some commands with objects of its own (MULTI with a Pipeline): those never match.
        const comparable = (reply: unknown): string => {
          try {
            return JSON.stringify(unordered ? sorted(reply) : reply);
          } catch {
            return `unserializable ${Math.random()}`;
          }
        };
        const expected = comparable(await outcome(real.call(name, ...args)));
        commands += 1;
        if (comparable(await outcome(invokeMemory(name, args))) === expected) memoryAgrees += 1;
        const fromMock = typeof mock[name.toLowerCase()] === 'function' ? await outcome(invokeMock(name, args)) : 'error: Unsupported command';
        if (String(fromMock).startsWith('error: Unsupported command')) mockMissing += 1;
        else if (comparable(fromMock) === expected) mockAgrees += 1;
      }
      memory.disconnect();
    }
  } finally {
    real.disconnect();
    other.disconnect();
    mock.disconnect();
    await server.kill();
  }
  return { commands, memory: memoryAgrees, ioredisMock: mockAgrees, ioredisMockMissing: mockMissing };
}

async function measure(clients: { memory: Redis; ioredisMock: Redis; floor: Redis }, operation: (client: Redis, n: number) => Promise<unknown>, rounds: number, seconds: number): Promise<Throughput> {
  const results = { memory: [] as number[], ioredisMock: [] as number[], floor: [] as number[] };
  for (const client of Object.values(clients)) await operationsPerSecond((n) => operation(client, n), { seconds: 0.5, workers: 1, keys: KEYS });
  await alternatingRounds(['memory', 'ioredisMock', 'floor'] as const, rounds, async (name) => {
    results[name].push(await operationsPerSecond((n) => operation(clients[name], n), { seconds, workers: 1, keys: KEYS }));
  });
  return {
    memory: median(results.memory),
    ioredisMock: median(results.ioredisMock),
    ratio: pairedRatio(results.ioredisMock, results.memory),
    floor: median(results.floor),
    floorRatio: pairedRatio(results.ioredisMock, results.floor),
  };
}

/**
 * The embedded engine vs ioredis-mock, both behind ioredis' API in this process: a mixed workload
 * over strings, counters, hashes, lists and sorted sets, and HSET + HGETALL of one 1,000-field hash
 * (ioredis-mock copies a whole value on every access).
 */
export async function memoryEngineBench({ rounds = 6, seconds = 2 } = {}): Promise<MemoryEngineResult> {
  const clients = { memory: new MemoryRedis() as Redis, ioredisMock: new RedisMock() as unknown as Redis, floor: new IoredisApiFloor() as Redis };
  try {
    // First: every ioredis-mock instance shares one keyspace, and the conformance run flushes it.
    const agreement = await conformance();
    const bigHash: Record<string, string> = {};
    for (let field = 0; field < 1_000; field += 1) bigHash[`field-${field}`] = `value-${field}`;
    for (const client of [clients.memory, clients.ioredisMock]) await client.hset('big', bigHash);
    printTable(
      `The conformance suite's ${agreement.commands} commands (strings, keys, hashes, lists, sets, sorted sets, SORT, transactions): replies equal to the real Redis's`,
      ['engine', 'same reply', 'share', 'no such command'],
      [
        ['memory engine', String(agreement.memory), `${((100 * agreement.memory) / agreement.commands).toFixed(1)} %`, '0'],
        ['ioredis-mock', String(agreement.ioredisMock), `${((100 * agreement.ioredisMock) / agreement.commands).toFixed(1)} %`, String(agreement.ioredisMockMissing)],
      ],
    );
    const mixedPerSecond = await measure(clients, mixed, rounds, seconds);
    const bigHashPerSecond = await measure(clients, (client, n) => (n % 2 === 0 ? client.hset('big', `field-${n % 1_000}`, String(n)) : client.hgetall('big')), rounds, seconds);
    // What was measured was the big hash, not an empty key.
    for (const [name, client] of Object.entries({ memory: clients.memory, ioredisMock: clients.ioredisMock })) {
      const fields = Object.keys(await client.hgetall('big')).length;
      if (fields !== 1_000) throw new Error(`the big-hash bench measured ${name} over ${fields} fields, not 1,000`);
    }
    const byClass: Record<string, Throughput> = {};
    for (const [name, operation] of OPERATION_CLASSES) byClass[name] = await measure(clients, operation, Math.max(2, Math.floor(rounds / 2)), Math.max(0.5, seconds / 2));
    printTable(
      `The memory engine vs ioredis-mock, one loop, ${rounds} alternating rounds of ${seconds} s ("ratio" is the median of per-round memory / ioredis-mock; "ioredis API floor": an ioredis client answering every command at once with no engine, the ceiling of any ioredis Redis)`,
      ['workload', 'memory engine ops / s', 'ioredis-mock ops / s', 'ratio', 'ioredis API floor ops / s', 'floor / mock'],
      ([
        ['mixed (strings, counters, hashes, lists, sorted sets)', mixedPerSecond],
        ['HSET / HGETALL of a 1,000-field hash', bigHashPerSecond],
        ...Object.entries(byClass).map(([name, result]) => [`  ${name} alone`, result] as const),
      ] as ReadonlyArray<readonly [string, Throughput]>).map(([name, result]) => [name, result.memory.toFixed(0), result.ioredisMock.toFixed(0), `${result.ratio.toFixed(2)}x`, result.floor.toFixed(0), `${result.floorRatio.toFixed(2)}x`]),
    );
    return { conformance: agreement, mixedPerSecond, bigHashPerSecond, byClass };
  } finally {
    for (const client of Object.values(clients)) client.disconnect();
  }
}
