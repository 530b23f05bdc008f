import { ReplyError } from 'ioredis';
import { parseSortOptions, patternTarget, sortElements, type PatternLookup } from '../memory/commands/sort-commands.ts';
import { CommandFailed } from '../memory/replies.ts';
import type { KeyState } from '../shadow/key-state.ts';
import { keyId } from '../memory/key-id.ts';

/** The parts of an ioredis client SORT over both sides uses (Buffer replies, so binary data survives). */
export interface SortClient {
  callBuffer(command: string, ...args: Array<string | Buffer | number>): Promise<unknown>;
  pipeline(): { callBuffer(command: string, ...args: Array<string | Buffer | number>): unknown; exec(): Promise<Array<[Error | null, unknown]> | null> };
}

const asBuffer = (part: unknown): Buffer => (Buffer.isBuffer(part) ? part : Buffer.from(String(part), 'utf8'));

/** The elements of SORT's source and its type, read together from the side that holds it; WRONGTYPE for a type SORT cannot sort. */
async function readSource(client: SortClient, key: Buffer): Promise<{ elements: string[]; type: 'list' | 'set' | 'zset' | undefined }> {
  const type = String(await client.callBuffer('TYPE', key));
  if (type === 'none') return { elements: [], type: undefined };
  const read = type === 'list' ? ['LRANGE', key, 0, -1] : type === 'set' ? ['SMEMBERS', key] : type === 'zset' ? ['ZRANGE', key, 0, -1] : undefined;
  if (read === undefined) throw new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value');
  const [command, ...args] = read as [string, ...Array<string | Buffer | number>];
  const elements = (await client.callBuffer(command, ...args)) as Buffer[];
  return { elements: elements.map((element) => element.toString('latin1')), type: type as 'list' | 'set' | 'zset' };
}

/**
 * SORT and SORT_RO with BY or GET patterns once the shadow owns keys: the patterns name keys only
 * the data can tell, some the shadow's, some the origin's. So the source is read from its side, every
 * key a pattern names is read from its own side (a missing key or another type reads nil, as on the
 * server), and the sort runs here with the memory engine's SORT rules, which the conformance suite
 * holds to the server's. STORE writes the result into the shadow (`own` first makes the shadow own the
 * destination). Unlike the server's, the reads are not one atomic step.
 */
export async function sortOverBoth(
  name: 'sort' | 'sort_ro',
  argv: readonly unknown[],
  sides: { readonly origin: SortClient; readonly shadow: SortClient; readonly state: Pick<KeyState, 'routesToShadow'> },
  own: (key: Buffer) => Promise<void>,
): Promise<unknown> {
  const args = argv.slice(1).map(asBuffer);
  const sideOf = (key: Buffer | string): SortClient => (sides.state.routesToShadow(keyId(key)) ? sides.shadow : sides.origin);
  let options;
  try {
    options = parseSortOptions(args, name === 'sort');
  } catch (error) {
    throw error instanceof CommandFailed ? error.reply : error;
  }
  const { elements, type } = await readSource(sideOf(args[0]!), args[0]!);
  // Every key a pattern names, read once, from its side.
  const wanted = new Map<string, { key: string; field?: string }>();
  for (const pattern of [...(options.by === undefined ? [] : [options.by]), ...options.gets]) {
    for (const element of elements) {
      const target = patternTarget(pattern, element);
      if (target === undefined || target === '#') continue;
      wanted.set(`${target.field === undefined ? 's' : 'h'}${target.key}\u0000${target.field ?? ''}`, target);
    }
  }
  const values = new Map<string, Buffer | null>();
  await Promise.all(
    [...wanted].map(async ([id, { key, field }]) => {
      const raw = Buffer.from(key, 'latin1');
      const client = sideOf(raw);
      const value = await (field === undefined ? client.callBuffer('GET', raw) : client.callBuffer('HGET', raw, Buffer.from(field, 'latin1'))).catch(() => null);
      values.set(id, (value as Buffer | null) ?? null);
    }),
  );
  const lookup: PatternLookup = (pattern, element) => {
    const target = patternTarget(pattern, element);
    if (target === '#') return Buffer.from(element, 'latin1');
    if (target === undefined) return null;
    return values.get(`${target.field === undefined ? 's' : 'h'}${target.key}\u0000${target.field ?? ''}`) ?? null;
  };
  let result;
  try {
    result = sortElements(elements, type, options, lookup);
  } catch (error) {
    throw error instanceof CommandFailed ? error.reply : error;
  }
  if (options.store === undefined) return result;
  await own(options.store);
  // A pipeline, not MULTI: the app's connection may hold a WATCH of its own, which an EXEC would end.
  const writes = sides.shadow.pipeline();
  writes.callBuffer('DEL', options.store);
  if (result.length > 0) writes.callBuffer('RPUSH', options.store, ...result.map((value) => value ?? Buffer.alloc(0)));
  const failed = (await writes.exec())?.find(([error]) => error !== null)?.[0];
  if (failed) throw failed;
  return result.length;
}
