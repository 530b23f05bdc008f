import type { KeyState } from '../shadow/key-state.ts';
import { encodeReply } from '../memory/memory-server.ts';
import type { Reply } from '../memory/replies.ts';
import { mergedKeyspaceRead, type KeyspaceClient } from '../routing/keyspace-reads.ts';
import { sortOverBoth, type SortClient } from '../routing/sort-over-both.ts';
import { errorReply, RespError } from '../protocol/resp-frames.ts';

/** Sends one command on a side of the stream (its own command: the reply is the stream's, never ioredis'). */
export type SideCall = (argv: ReadonlyArray<Buffer | string | number>) => Promise<unknown>;

/** What a read over both sides needs of the stream: its sides' command calls, the database's key state, and a way to own a key (SORT … STORE). */
export interface BothSides {
  readonly origin: SideCall;
  readonly shadow: SideCall;
  readonly state: KeyState;
  readonly own: (key: Buffer) => Promise<void>;
}

/** The routes answered over both sides (routeCommand's `merge` and `sort-over-both`). */
export type OverBothRoute = { readonly target: 'merge'; readonly name: string } | { readonly target: 'sort-over-both'; readonly name: 'sort' | 'sort_ro' };

/**
 * The client interfaces of keyspace-reads.ts and sort-over-both.ts (those ShadowRedis fills with
 * ioredis clients) over a side of the stream. A pipeline is its commands sent back to back, not a
 * transaction: the server runs them in order, and the stream's later commands wait for them.
 */
export function sideClient(call: SideCall): KeyspaceClient & SortClient {
  return {
    callBuffer: (command, ...args) => call([command, ...args]),
    pipeline() {
      const commands: Array<ReadonlyArray<Buffer | string | number>> = [];
      const builder = {
        callBuffer(command: string, ...args: Array<string | Buffer | number>): unknown {
          commands.push([command, ...args]);
          return builder;
        },
        exec: (): Promise<Array<[Error | null, unknown]>> =>
          Promise.all(commands.map((argv) => call(argv).then((value): [Error | null, unknown] => [null, value], (error: Error): [Error | null, unknown] => [error, null]))),
      };
      return builder;
    },
  };
}

/** A JS value of the merge functions (Buffers, decimal strings, numbers, null, arrays) as an engine reply. */
function asReply(value: unknown): Reply {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'bigint' || Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Array.isArray(value)) return value.map(asReply);
  return Buffer.from(String(value), 'utf8');
}

/** Encodes a reply of a read over both sides as RESP2 (what ioredis parses). */
export function encodeMerged(value: unknown): Buffer {
  const parts: Buffer[] = [];
  encodeReply(asReply(value), parts);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * The key state as the stream's queue sees it when a read over both sides runs: every command before
 * it is applied (its keys owned), so a key merely claimed is claimed by a command after it (a write
 * pipelined behind the SORT) and must still be read where it is now, not on the shadow.
 */
function ownedOnly(state: KeyState): Pick<KeyState, 'routesToShadow'> {
  return { routesToShadow: (key) => state.isOwned(key) };
}

/** The server's arity of the commands answered here (exact when positive, a minimum when negative): the merge functions would drop extra arguments. */
const ARITY: Readonly<Record<string, number>> = { keys: 2, dbsize: 1, randomkey: 1, scan: -2, sort: -2, sort_ro: -2 };

/** SCAN's cursor as the server checks it: an unsigned decimal integer. */
const CURSOR = /^\d+$/;

/**
 * Answers SCAN/KEYS/DBSIZE/RANDOMKEY (merged) or SORT/SORT_RO with BY/GET patterns over origin and
 * shadow with ShadowRedis' own functions, as the RESP2 bytes of the app's reply. The server's error
 * replies (a bad SCAN option, WRONGTYPE) are the app's, as a single server would give them; anything
 * else (a side gone) is MGSHADOWFAILED. SCAN's cursor carries its side (2c origin, 2c + 1 shadow), so
 * nothing is kept between calls, as in ShadowRedis.
 */
export async function answerOverBoth(route: OverBothRoute, argv: readonly Buffer[], sides: BothSides): Promise<Buffer> {
  const arity = ARITY[route.name];
  if (arity !== undefined && (arity > 0 ? argv.length !== arity : argv.length < -arity)) return errorReply(`ERR wrong number of arguments for '${route.name}' command`);
  if (route.name === 'scan' && !CURSOR.test(argv[1]?.toString('latin1') ?? '')) return errorReply('ERR invalid cursor');
  const origin = sideClient(sides.origin);
  const shadow = sideClient(sides.shadow);
  try {
    const value =
      route.target === 'merge'
        ? await mergedKeyspaceRead(route.name, argv, origin, shadow, sides.state)
        : await sortOverBoth(route.name, argv, { origin, shadow, state: ownedOnly(sides.state) }, sides.own);
    return encodeMerged(value);
  } catch (error) {
    if (error instanceof RespError || (error as Error).name === 'ReplyError') return errorReply((error as Error).message);
    return errorReply(`MGSHADOWFAILED mirrorguard could not answer ${route.name.toUpperCase()} over origin and shadow: ${(error as Error).message}`);
  }
}
