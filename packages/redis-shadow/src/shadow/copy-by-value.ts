import { MirrorGuardError } from '@mirrorguard/core';
import { whenReady } from '../connection/when-ready.ts';
import type { MemoryValue } from '../memory/keyspace.ts';
import type { MemoryEngine } from '../memory/memory-engine.ts';
import { SortedSet } from '../memory/sorted-set.ts';
import { keyId } from '../memory/key-id.ts';
import type { OriginReader, ShadowWriter } from './materialize-key.ts';

/** The parts of an ioredis client a copy by value uses. */
interface ValueClient {
  readonly status: string;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  multi(): ValueTransaction;
}
interface ValueTransaction {
  callBuffer(command: string, ...args: Array<string | number | Buffer>): ValueTransaction;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

const pairs = (flat: readonly Buffer[]): Array<[Buffer, Buffer]> => {
  const result: Array<[Buffer, Buffer]> = [];
  for (let index = 0; index + 1 < flat.length; index += 2) result.push([flat[index]!, flat[index + 1]!]);
  return result;
};

const score = (raw: Buffer): number => {
  const text = raw.toString('latin1');
  return text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
};

/**
 * Reads a key for the memory engine, which cannot read DUMP payloads: TYPE, PEXPIRETIME and a read
 * of every type the engine holds, in one MULTI, so value and expiry are of one moment (the reads of
 * the other types answer WRONGTYPE and cost nothing). Commands are named in upper case, so ioredis
 * leaves the replies as they are (its HGETALL transform would decode field names as UTF-8).
 * A type the engine cannot hold (a stream, …) fails the copy with MG_ERR_REDIS_UNSUPPORTED.
 */
export function originValueReader(origin: ValueClient): OriginReader<MemoryValue> {
  return {
    async readKey(key) {
      await whenReady(origin);
      const replies = await origin
        .multi()
        .callBuffer('TYPE', key)
        .callBuffer('PEXPIRETIME', key)
        .callBuffer('GET', key)
        .callBuffer('HGETALL', key)
        .callBuffer('LRANGE', key, 0, -1)
        .callBuffer('SMEMBERS', key)
        .callBuffer('ZRANGE', key, 0, -1, 'WITHSCORES')
        .exec();
      if (replies === null) throw new Error('the origin aborted the read of a key to materialize');
      const [typeReply, expiryReply, ...values] = replies as Array<[Error | null, unknown]>;
      if (typeReply![0] ?? expiryReply![0]) throw typeReply![0] ?? expiryReply![0];
      const type = String(typeReply![1]);
      const expiresAt = Number(expiryReply![1]);
      const valueOf = (index: number): Buffer[] => {
        const [error, value] = values[index]!;
        if (error) throw error;
        return value as Buffer[];
      };
      switch (type) {
        case 'none':
          return { payload: null, expiresAt };
        case 'string':
          return { payload: { type: 'string', value: valueOf(0) as unknown as Buffer }, expiresAt };
        case 'hash':
          return { payload: { type: 'hash', value: new Map(pairs(valueOf(1)).map(([field, value]) => [keyId(field), value])) }, expiresAt };
        case 'list':
          return { payload: { type: 'list', value: valueOf(2) }, expiresAt };
        case 'set':
          return { payload: { type: 'set', value: new Set(valueOf(3).map((member) => keyId(member))) }, expiresAt };
        case 'zset': {
          const zset = new SortedSet();
          for (const [member, raw] of pairs(valueOf(4))) zset.add(keyId(member), score(raw));
          return { payload: { type: 'zset', value: zset }, expiresAt };
        }
        default:
          throw new MirrorGuardError('MG_ERR_REDIS_UNSUPPORTED', `the memory shadow cannot hold a ${type}; use a real Redis as the shadow for this key`);
      }
    },
  };
}

/** Writes a copied value, with the origin's absolute expiry, straight into a memory engine's database. */
export function memoryWriter(engine: MemoryEngine, dbIndex: number): ShadowWriter<MemoryValue> {
  return {
    restoreKey(key, value, expiresAt) {
      const db = engine.database(dbIndex);
      const id = keyId(key);
      db.delete(id);
      if (expiresAt <= 0 || expiresAt > db.now()) db.set(id, value, { expiresAt: Math.max(0, expiresAt) });
      db.touch(id);
      return Promise.resolve();
    },
    deleteKey(key) {
      const db = engine.database(dbIndex);
      db.delete(keyId(key));
      db.touch(keyId(key));
      return Promise.resolve();
    },
  };
}
