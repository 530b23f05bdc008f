import type { CommandSpec, CommandTable } from './command-table.ts';
import { findKeys, type KeyRef } from './find-keys.ts';

/**
 * - `write`: flagged write by the server.
 * - `read`: flagged readonly.
 * - `neither`: neither flag (connection, pub/sub, server info, …); allowed only from an explicit list.
 * - `admin`: flagged admin by the server (CONFIG, SHUTDOWN, CLIENT KILL, MONITOR, …). The routing
 *   policy refuses these and more (MIGRATE, SCRIPT FLUSH, …); the `dangerous` ACL category is not a
 *   refusal by itself: it holds KEYS, SORT and FLUSHDB, which the shadow handles.
 * - `unknown`: the server does not know it; always refused.
 */
export type CommandKind = 'write' | 'read' | 'neither' | 'admin' | 'unknown';

export interface CommandClassification {
  readonly kind: CommandKind;
  /** `get`, `object|encoding`, … or the name as sent for an unknown command. */
  readonly name: string;
  readonly spec?: CommandSpec;
  /** The key arguments, or undefined when the key specs cannot say (ask the origin). Found on first use. */
  readonly keys: readonly KeyRef[] | undefined;
}

/** A classification whose keys are found only when asked for: most reads never need them. */
class LazyClassification implements CommandClassification {
  readonly kind: CommandKind;
  readonly name: string;
  readonly spec: CommandSpec;
  readonly #argv: readonly unknown[];
  #keys: readonly KeyRef[] | undefined | null = null;

  constructor(kind: CommandKind, spec: CommandSpec, argv: readonly unknown[]) {
    this.kind = kind;
    this.name = spec.name;
    this.spec = spec;
    this.#argv = argv;
  }

  get keys(): readonly KeyRef[] | undefined {
    if (this.#keys === null) this.#keys = findKeys(this.spec, this.#argv);
    return this.#keys;
  }
}

/** Classifies `argv` (command name first) by the server's own metadata, never by a hand list. */
export function classifyCommand(table: CommandTable, argv: readonly unknown[]): CommandClassification {
  const spec = table.resolve(argv);
  if (spec === undefined) {
    const name = [argv[0], table.get(String(argv[0] ?? ''))?.subcommands.size ? argv[1] : undefined].filter((part) => part !== undefined).join('|');
    return { kind: 'unknown', name: name.toLowerCase(), keys: [] };
  }
  const kind: CommandKind =
    spec.flags.has('admin')
      ? 'admin'
      : spec.flags.has('write')
        ? 'write'
        : spec.flags.has('readonly')
          ? 'read'
          : 'neither';
  return new LazyClassification(kind, spec, argv);
}
