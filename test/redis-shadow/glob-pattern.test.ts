import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globMatch } from '../../packages/redis-shadow/src/memory/glob-pattern.ts';
import { MemoryRedis } from '../../packages/redis-shadow/src/memory/memory-redis.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { rng } from '../support/seeded-random.ts';

// The memory engine's glob matcher must answer as Redis' stringmatchlen does. The reference is a
// redis-server of the test's own: every subject is a key of its own database (nothing else there),
// and for each generated pattern the keys Redis' KEYS returns must be the subjects globMatch accepts.
// Then the engine's own KEYS, SCAN and HSCAN/SSCAN/ZSCAN … MATCH (which decide how a lone `*` is
// read) against Redis', on the same subjects as keys, fields and members.

/** The collections whose own scans are compared too; their names are left out of KEYS' answers. */
const COLLECTION = { HSCAN: 'hash\x01', SSCAN: 'set\x01', ZSCAN: 'zset\x01' } as const;
type Command = 'KEYS' | 'SCAN' | keyof typeof COLLECTION;

const latin1 = (value: string): Buffer => Buffer.from(value, 'latin1');
const text = (value: Buffer): string => value.toString('latin1');

/** Bytes that mean something to a pattern, letters on both sides of them, and bytes C reads as negative chars. */
const SUBJECT_BYTES = ['a', 'b', 'c', 'A', '[', ']', '-', '^', '\\', '*', '?', '\x80', '\xff', '\x00'];
const PATTERN_BYTES = ['a', 'b', 'c', 'A', '*', '*', '?', '[', '[', ']', ']', '-', '^', '\\', '\\', '\x80', '\xff'];

/** Redis' edge cases, by hand: unclosed and empty classes, ranges meeting the end, escapes, signed bytes. */
const EDGE_PATTERNS = [
  '', '*', '**', '***', '?', '*?', '?*', '*?*', 'a*', '*a', '*a*', 'a*b*c', '[', '[^', '[]', '[]]', '[]a]', '[^]]', '[a', '[^a', 'a[',
  '[a-]', '[a-', '[-a]', '[a-c', '[c-a]', '[^c-a]', '[a-c-]', '[\\]]', '[\\', '[a\\', '[\\-]', '[a\\-c]', '\\', 'a\\', '\\*', '\\?',
  '\\[', '\\a', '[*]', '[?]', '[\x80-\xff]', '[a-\xff]', '[\xff-a]', '[\x00-a]', '[^a-\xff]', '[!-~]', '*[', '*[a', '*\\', '[]-a]',
  '[a-]]', 'a*a*a*a*a*a*a*a*b', '*[^a]*', '?[', '[[]', '[[-]]',
];

function generate(seed: number): { subjects: string[]; patterns: string[] } {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const subjects = new Set<string>(['']);
  for (const a of ['', 'a', 'b', 'c']) for (const b of ['', 'a', 'b', 'c']) for (const c of ['', 'a', 'b', 'c']) subjects.add(a + b + c);
  while (subjects.size < 400) {
    const length = Math.floor(random() * 9);
    subjects.add(Array.from({ length }, () => pick(SUBJECT_BYTES)).join(''));
  }
  const patterns = new Set<string>(EDGE_PATTERNS);
  while (patterns.size < 3000) {
    const length = Math.floor(random() * 10);
    patterns.add(Array.from({ length }, () => pick(PATTERN_BYTES)).join(''));
  }
  return { subjects: [...subjects], patterns: [...patterns] };
}

describe('the memory engine matches glob patterns as Redis does', () => {
  let server: ThrowawayRedis;
  let real: Redis;
  const { subjects, patterns } = generate(20_261_207);

  beforeAll(async () => {
    server = await startRedisServer();
    real = new Redis(server.url);
    await load(real);
  });
  afterAll(async () => {
    real.disconnect();
    await server.kill();
  });

  /** The subjects a command returns for each pattern, sorted (the collections' own scans hold every subject too). */
  async function matched(client: Redis, command: Command, list: readonly string[]): Promise<string[][]> {
    const pipeline = client.pipeline();
    for (const pattern of list) {
      if (command === 'KEYS') pipeline.callBuffer('KEYS', latin1(pattern));
      else if (command === 'SCAN') pipeline.callBuffer('SCAN', '0', 'MATCH', latin1(pattern), 'COUNT', '100000');
      else pipeline.callBuffer(command, COLLECTION[command], '0', 'MATCH', latin1(pattern), 'COUNT', '100000');
    }
    const replies = (await pipeline.exec())!;
    return replies.map(([error, reply]) => {
      if (error) throw error;
      let items = (command === 'KEYS' ? reply : (reply as [Buffer, Buffer[]])[1]) as Buffer[];
      // HSCAN and ZSCAN answer field, value, field, value, …
      if (command === 'HSCAN' || command === 'ZSCAN') items = items.filter((_item, index) => index % 2 === 0);
      return items.map(text).filter((item) => !(Object.values(COLLECTION) as string[]).includes(item)).sort();
    });
  }

  async function load(client: Redis): Promise<void> {
    const pipeline = client.pipeline();
    for (const subject of subjects) {
      pipeline.set(latin1(subject), '1');
      pipeline.hset(COLLECTION.HSCAN, latin1(subject), '1');
      pipeline.sadd(COLLECTION.SSCAN, latin1(subject));
      pipeline.zadd(COLLECTION.ZSCAN, '1', latin1(subject));
    }
    await pipeline.exec();
  }

  it(`accepts exactly the subjects Redis' KEYS returns (${subjects.length} subjects, each of ${EDGE_PATTERNS.length} edge and ${patterns.length - EDGE_PATTERNS.length} generated patterns)`, async () => {
    // KEYS reads a lone `*` as "every key" before matching; stringmatchlen itself is compared on the rest.
    const compared = patterns.filter((pattern) => pattern !== '*');
    const expected = await matched(real, 'KEYS', compared);
    const mismatches = compared.flatMap((pattern, index) => {
      const actual = subjects.filter((subject) => globMatch(pattern, subject)).sort();
      return JSON.stringify(actual) === JSON.stringify(expected[index]) ? [] : [{ pattern, redis: expected[index], engine: actual }];
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('answers KEYS, SCAN, HSCAN, SSCAN and ZSCAN … MATCH as Redis does, a lone * included', async () => {
    const memory = new MemoryRedis();
    try {
      await load(memory);
      const sample = [...EDGE_PATTERNS, ...patterns.slice(EDGE_PATTERNS.length, EDGE_PATTERNS.length + 500)];
      for (const command of ['KEYS', 'SCAN', 'HSCAN', 'SSCAN', 'ZSCAN'] as const) {
        const [expected, actual] = await Promise.all([matched(real, command, sample), matched(memory, command, sample)]);
        const mismatches = sample.flatMap((pattern, index) => (JSON.stringify(actual[index]) === JSON.stringify(expected[index]) ? [] : [{ command, pattern, redis: expected[index], engine: actual[index] }]));
        expect(mismatches.slice(0, 5)).toEqual([]);
      }
    } finally {
      memory.disconnect();
    }
  });
});
