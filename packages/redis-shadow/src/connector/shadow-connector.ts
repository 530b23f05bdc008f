import { MirrorGuardError } from '@mirrorguard/core';
import { AbstractConnector, Redis, type RedisOptions } from 'ioredis';
import { bundledCommandTable, type CommandTable } from '../commands/command-table.ts';
import { createMemoryEngine } from '../memory/families.ts';
import type { MemoryEngine } from '../memory/memory-engine.ts';
import { KeyState } from '../shadow/key-state.ts';
import type { UnsandboxedShadow } from '../client/shadow-user-check.ts';
import type { Journal } from '@mirrorguard/core';
import { ConnectorGuards } from './connector-checks.ts';
import { streamClosed, streamOpened } from './connector-scripts.ts';
import type { ConnectorState, ShadowTarget } from './connector-state.ts';
import { REPLY_CODES, ShadowStream } from './shadow-stream.ts';

/** Where a ShadowRedis2 puts its writes: a real Redis (options or URL) or the memory engine. */
export type ShadowOption = 'memory' | { readonly engine: MemoryEngine } | string | { readonly host?: string; readonly port?: number; readonly username?: string; readonly password?: string; readonly db?: number };

/** The option ShadowConnector reads from the ioredis options it is built with. */
export const SHADOW_CONNECTOR = 'mirrorguardShadowConnector';

interface ConnectorOptions {
  readonly shadow: ShadowTarget;
  readonly state: ConnectorState;
  readonly coalesceWrites?: boolean;
  readonly guards?: ConnectorGuards;
}

type IoredisOptions = RedisOptions & { [SHADOW_CONNECTOR]?: ConnectorOptions; host?: string; port?: number; path?: string; family?: number; username?: string; password?: string };

/** Which keys the shadow owns, per origin database, shared by every connection of the connector. */
export class SharedKeyStates implements ConnectorState {
  readonly table: CommandTable;
  readonly #states = new Map<number, KeyState>();

  constructor(table: CommandTable = bundledCommandTable()) {
    this.table = table;
  }

  stateFor(db: number): KeyState {
    let state = this.#states.get(db);
    if (state === undefined) this.#states.set(db, (state = new KeyState()));
    return state;
  }

  states(): Iterable<KeyState> {
    return this.#states.values();
  }
}

/**
 * An ioredis Connector: instead of a socket, each connect hands ioredis a ShadowStream (an origin
 * socket and a shadow socket, or the memory engine). ioredis keeps every option, event, retry and
 * callback its own.
 */
export class ShadowConnector extends AbstractConnector {
  readonly #options: IoredisOptions;

  constructor(options: IoredisOptions) {
    super(options.disconnectTimeout ?? 2000);
    this.#options = options;
  }

  // ioredis types the stream as a net.Socket; it uses only the part ShadowStream has.
  override connect(): Promise<never> {
    this.connecting = true;
    const connectorOptions = this.#options[SHADOW_CONNECTOR];
    if (connectorOptions === undefined) return Promise.reject(new Error('ShadowConnector: the ioredis options carry no shadow'));
    return new Promise<never>((resolve, reject) => {
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error('Connection is closed.'));
          return;
        }
        const { host, port, path, family, username, password } = this.#options;
        const stream = new ShadowStream({
          origin: {
            ...(host !== undefined && { host }),
            ...(port !== undefined && { port }),
            ...(path !== undefined && path !== null && { path }),
            ...(family !== undefined && { family }),
            ...(username !== undefined && username !== null && { username }),
            ...(password !== undefined && password !== null && { password }),
          },
          originDb: this.#options.db ?? 0,
          shadow: connectorOptions.shadow,
          state: connectorOptions.state,
          ...(connectorOptions.coalesceWrites !== undefined && { coalesceWrites: connectorOptions.coalesceWrites }),
          ...(connectorOptions.guards !== undefined && { guards: connectorOptions.guards }),
        });
        this.stream = stream as never;
        streamOpened(connectorOptions.state);
        stream.once('close', () => streamClosed(connectorOptions.state));
        stream.once('error', (error: Error) => {
          this.firstError = error;
        });
        resolve(stream as never);
      });
    });
  }
}

function shadowTarget(shadow: ShadowOption): ShadowTarget {
  if (shadow === 'memory') return { kind: 'memory', engine: createMemoryEngine() };
  if (typeof shadow === 'object' && 'engine' in shadow) return { kind: 'memory', engine: shadow.engine };
  if (typeof shadow === 'string') {
    const url = new URL(shadow);
    return {
      kind: 'redis',
      host: url.hostname || '127.0.0.1',
      port: Number(url.port || 6379),
      ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
      ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
      db: Number(url.pathname.slice(1) || 0),
    };
  }
  return { kind: 'redis', host: shadow.host ?? '127.0.0.1', port: shadow.port ?? 6379, ...(shadow.username !== undefined && { username: shadow.username }), ...(shadow.password !== undefined && { password: shadow.password }), db: shadow.db ?? 0 };
}

const REPLY_PATTERN = new RegExp(`^(${Object.keys(REPLY_CODES).join('|')}) (.*)$`, 's');

/** The codes of the connector's own error replies (`-MGREFUSED …`), as MirrorGuardError codes. */
function mirrorGuardError(error: Error): MirrorGuardError | undefined {
  const match = REPLY_PATTERN.exec(error.message);
  if (match === null) return undefined;
  return new MirrorGuardError(REPLY_CODES[match[1] as keyof typeof REPLY_CODES], match[2]!, { cause: error });
}

export interface ShadowRedis2Options {
  readonly shadow: ShadowOption;
  /** Commands written in one tick leave in one socket write per side (default true). */
  readonly coalesceWrites?: boolean;
  /** Where refusals, suppressed PUBLISH and shadowed writes are journaled; a `mirror` journal with no sinks by default. */
  readonly journal?: Journal;
  /**
   * A real shadow whose ACL user could reach beyond it (MIGRATE, REPLICAOF, CONFIG SET, … — from a
   * script too): `'refuse'` (the default) fails every command bound for it with
   * MG_ERR_REDIS_SHADOW_NOT_SANDBOXED; `'warn'` journals a `warned` event, emits a process warning and goes on.
   */
  readonly unsandboxedShadow?: UnsandboxedShadow;
}

/**
 * Prototype: a plain ioredis Redis whose connection is a ShadowStream. Only adds the mapping of
 * the connector's refusals to MirrorGuardError (ioredis' ReplyError has no `code`).
 */
export class ShadowRedis2 extends Redis {
  readonly #guards: ConnectorGuards;

  constructor(origin: RedisOptions | string, options: ShadowRedis2Options) {
    const parsed: RedisOptions = typeof origin === 'string' ? parseUrl(origin) : { ...origin };
    const guards = new ConnectorGuards({ ...(options.journal !== undefined && { journal: options.journal }), ...(options.unsandboxedShadow !== undefined && { unsandboxedShadow: options.unsandboxedShadow }) });
    const connectorOptions: ConnectorOptions = {
      shadow: shadowTarget(options.shadow),
      state: new SharedKeyStates(),
      ...(options.coalesceWrites !== undefined && { coalesceWrites: options.coalesceWrites }),
      guards,
    };
    super({ ...parsed, Connector: ShadowConnector as never, [SHADOW_CONNECTOR]: connectorOptions } as RedisOptions);
    this.#guards = guards;
  }

  /** Settles once the origin's user was asked what it could run beyond the allow-list (journaled as `warned`): what, or undefined. */
  get originUserChecked(): Promise<string | undefined> {
    return this.#guards.originUserChecked;
  }

  /** Settles with the first connection's shadow check: rejects with MG_ERR_REDIS_SHADOW_IS_ORIGIN or MG_ERR_REDIS_SHADOW_NOT_SANDBOXED. */
  get shadowChecked(): Promise<void> {
    return this.#guards.shadowChecked;
  }

  /** Where ioredis rejects a command with an error reply (DataHandler → handleReconnection → command.reject). */
  override handleReconnection(error: Error, item: Parameters<Redis['handleReconnection']>[1]): void {
    const mapped = mirrorGuardError(error);
    if (mapped === undefined) {
      super.handleReconnection(error, item);
      return;
    }
    item.command.reject(mapped);
  }
}

function parseUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username !== '' && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password !== '' && { password: decodeURIComponent(parsed.password) }),
    db: Number(parsed.pathname.slice(1) || 0),
  };
}
