import snapshot from './command-snapshot.json' with { type: 'json' };

/** Where a key spec starts looking: a fixed argument, or after a keyword. */
export type BeginSearch =
  | { readonly type: 'index'; readonly index: number }
  | { readonly type: 'keyword'; readonly keyword: string; readonly startFrom: number }
  | { readonly type: 'unknown' };

/** How a key spec finds its keys from there: a range, or a count read from an argument. */
export type FindKeys =
  | { readonly type: 'range'; readonly lastKey: number; readonly keyStep: number; readonly limit: number }
  | { readonly type: 'keynum'; readonly keyNumIndex: number; readonly firstKey: number; readonly keyStep: number }
  | { readonly type: 'unknown' };

/** One key spec of a command, as the server describes it (Redis 7). */
export interface KeySpec {
  /** Upper-case: RW, RO, OW, RM, ACCESS, UPDATE, INSERT, DELETE, NOT_KEY, INCOMPLETE, VARIABLE_FLAGS. */
  readonly flags: ReadonlySet<string>;
  readonly beginSearch: BeginSearch;
  readonly findKeys: FindKeys;
}

/** A command (or a subcommand, named `container|sub`) as the server describes it. */
export interface CommandSpec {
  /** Lower-case, as COMMAND names it. */
  readonly name: string;
  readonly arity: number;
  /** Lower-case: write, readonly, admin, pubsub, noscript, blocking, movablekeys, … */
  readonly flags: ReadonlySet<string>;
  /** ACL categories, lower-case without `@`: write, read, dangerous, … */
  readonly categories: ReadonlySet<string>;
  readonly keySpecs: readonly KeySpec[];
  readonly subcommands: ReadonlyMap<string, CommandSpec>;
}

type Raw = unknown[];

/** A flat [name, value, name, value, …] reply as an object. */
function fields(raw: unknown): Record<string, unknown> {
  const list = Array.isArray(raw) ? raw : [];
  const result: Record<string, unknown> = {};
  for (let index = 0; index + 1 < list.length; index += 2) result[String(list[index])] = list[index + 1];
  return result;
}

const words = (raw: unknown, upper: boolean): Set<string> =>
  new Set((Array.isArray(raw) ? raw : []).map((word) => (upper ? String(word).toUpperCase() : String(word).toLowerCase().replace(/^@/, ''))));

function parseKeySpec(raw: unknown): KeySpec {
  const spec = fields(raw);
  const begin = fields(spec.begin_search);
  const beginSpec = fields(begin.spec);
  const find = fields(spec.find_keys);
  const findSpec = fields(find.spec);
  const beginSearch: BeginSearch =
    begin.type === 'index'
      ? { type: 'index', index: Number(beginSpec.index) }
      : begin.type === 'keyword'
        ? { type: 'keyword', keyword: String(beginSpec.keyword).toUpperCase(), startFrom: Number(beginSpec.startfrom) }
        : { type: 'unknown' };
  const findKeys: FindKeys =
    find.type === 'range'
      ? { type: 'range', lastKey: Number(findSpec.lastkey), keyStep: Number(findSpec.keystep), limit: Number(findSpec.limit) }
      : find.type === 'keynum'
        ? { type: 'keynum', keyNumIndex: Number(findSpec.keynumidx), firstKey: Number(findSpec.firstkey), keyStep: Number(findSpec.keystep) }
        : { type: 'unknown' };
  return { flags: words(spec.flags, true), beginSearch, findKeys };
}

function parseCommand(raw: unknown): CommandSpec {
  const [name, arity, flags, , , , categories, , keySpecs, subcommands] = raw as Raw;
  const children = new Map<string, CommandSpec>();
  for (const child of Array.isArray(subcommands) ? subcommands : []) {
    const spec = parseCommand(child);
    children.set(spec.name.slice(spec.name.indexOf('|') + 1), spec);
  }
  return {
    name: String(name).toLowerCase(),
    arity: Number(arity),
    flags: words(flags, false),
    categories: words(categories, false),
    keySpecs: (Array.isArray(keySpecs) ? keySpecs : []).map(parseKeySpec),
    subcommands: children,
  };
}

/** The server's description of every command it knows, by name; subcommands under their containers. */
export class CommandTable {
  /** Where it came from: `origin` (asked at connect) or `snapshot Redis x.y.z`. */
  readonly source: string;
  readonly #commands = new Map<string, CommandSpec>();

  constructor(reply: readonly unknown[], source: string) {
    this.source = source;
    for (const raw of reply) {
      const spec = parseCommand(raw);
      this.#commands.set(spec.name, spec);
    }
  }

  get size(): number {
    return this.#commands.size;
  }

  get(name: string): CommandSpec | undefined {
    return this.#commands.get(name.toLowerCase());
  }

  /** The spec that governs `argv` (command name first): the subcommand's when the command is a container. */
  resolve(argv: readonly unknown[]): CommandSpec | undefined {
    const command = this.get(String(argv[0] ?? ''));
    if (command === undefined || command.subcommands.size === 0) return command;
    return command.subcommands.get(String(argv[1] ?? '').toLowerCase());
  }

  names(): IterableIterator<string> {
    return this.#commands.keys();
  }
}

/** The table bundled with the package, generated from a real Redis 7 by scripts/generate-redis-command-snapshot.ts. */
export function bundledCommandTable(): CommandTable {
  return new CommandTable(snapshot.commands, `snapshot Redis ${snapshot.redisVersion}`);
}

/** The origin's own table, from its COMMAND reply. */
export async function loadCommandTable(origin: { call(command: string): Promise<unknown> }): Promise<CommandTable> {
  const reply = await origin.call('COMMAND');
  if (!Array.isArray(reply) || reply.length === 0) throw new TypeError('COMMAND returned no commands');
  return new CommandTable(reply, 'origin');
}
