import { createJournal, MirrorGuardError, type Journal } from '@mirrorguard/core';
import { ReplyError } from 'ioredis';
import type { CommandTable } from '../commands/command-table.ts';
import { warnIfOriginUserCanWrite } from '../client/origin-user-check.ts';
import { assertShadowSandboxed, type UnsandboxedShadow } from '../client/shadow-user-check.ts';
import { errorReply, RespError } from '../protocol/resp-frames.ts';
import { ConnectorJournal } from './connector-journal.ts';

/** The part of an ioredis client the checks (shadow-user-check.ts, origin-user-check.ts) use. */
export interface Caller {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** A side of the stream as its own commands reach it: raw replies (Buffers), errors as RespError. */
export interface RawCaller {
  call(name: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** Replies as ioredis' `call` gives them (strings, numbers, arrays, null), errors as its ReplyError: what the checks were written against. */
function asIoredisValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(asIoredisValue);
  return value;
}

/** A stream side, seen by the checks as an ioredis client. */
export function asCaller(raw: RawCaller): Caller {
  return {
    call: (command, ...args) =>
      raw.call(command, ...args).then(asIoredisValue, (error: unknown) => {
        throw error instanceof RespError ? new ReplyError(error.message) : error;
      }),
  };
}

const runId = async (client: Caller): Promise<string> => /run_id:(\w+)/.exec(String(await client.call('INFO', 'server')))?.[1] ?? '';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void; settled: boolean } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => undefined);
  const handle = {
    promise,
    settled: false,
    resolve: (value: T) => {
      handle.settled = true;
      resolve(value);
    },
    reject: (error: unknown) => {
      handle.settled = true;
      reject(error);
    },
  };
  return handle;
}

export interface ConnectorGuardOptions {
  /** Where refusals, suppressed PUBLISH and shadowed writes are journaled; a `mirror` journal with no sinks by default. */
  readonly journal?: Journal;
  /** A shadow whose user could reach beyond it: refuse every command bound for it (the default), or warn and go on. */
  readonly unsandboxedShadow?: UnsandboxedShadow;
}

/**
 * What ShadowRedis' session checks (shadow-session.ts), for one connector and its reconnects: the
 * shadow is not the origin (INFO server run_id), its user is sandboxed (ACL DRYRUN,
 * assertShadowSandboxed) — on every connect, before any app command goes on — and the origin's
 * user is asked once what it could write (warnIfOriginUserCanWrite, a warning). A refusal is for
 * good, as in ShadowRedis: every later command bound for the shadow fails with its code; reads of
 * the origin go on.
 */
export class ConnectorGuards {
  readonly journal: ConnectorJournal;
  readonly #mode: UnsandboxedShadow;
  /** The problems with the shadow's user already warned about ('warn'): once each, not per connect. */
  readonly #warned = new Set<string>();
  #refusal: MirrorGuardError | undefined;
  #originChecked = false;
  readonly #originUser = deferred<string | undefined>();
  readonly #shadow = deferred<void>();

  constructor(options: ConnectorGuardOptions = {}) {
    this.journal = new ConnectorJournal(options.journal ?? createJournal({ profile: 'mirror' }));
    this.#mode = options.unsandboxedShadow ?? 'refuse';
  }

  /** Settles once the origin's user was asked (on the first connection): what it could do beyond the allow-list, or undefined. */
  get originUserChecked(): Promise<string | undefined> {
    return this.#originUser.promise;
  }

  /** Settles with the first connection's shadow check; rejects with its refusal. */
  get shadowChecked(): Promise<void> {
    return this.#shadow.promise;
  }

  /** The refusal every command bound for the shadow gets, as the connector's error reply; undefined while the shadow is accepted. */
  refusalReply(): Buffer | undefined {
    if (this.#refusal === undefined) return undefined;
    // REPLY_CODES (shadow-stream.ts) maps these back to the codes.
    const prefix = this.#refusal.code === 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' ? 'MGSHADOWISORIGIN' : 'MGNOTSANDBOXED';
    return errorReply(`${prefix} ${this.#refusal.message}`);
  }

  get refusal(): MirrorGuardError | undefined {
    return this.#refusal;
  }

  /**
   * This connection's checks, over its own sockets (`shadow` undefined for the memory engine):
   * resolves when app commands may go on (a refusal included: it is answered per command); rejects
   * when the shadow could not be asked (the connection fails, and the next connect asks again).
   */
  async checkConnection(sides: { readonly origin: Caller; readonly shadow: Caller | undefined; readonly table: CommandTable }): Promise<void> {
    const origin = this.#originChecked ? undefined : this.#checkOrigin(sides.origin, sides.table);
    try {
      if (sides.shadow !== undefined && this.#refusal === undefined) await this.#checkShadow(sides.origin, sides.shadow);
      if (!this.#shadow.settled) this.#shadow.resolve();
    } catch (error) {
      if (!(error instanceof MirrorGuardError)) throw error;
      this.#refusal = error;
      if (!this.#shadow.settled) this.#shadow.reject(error);
    } finally {
      await origin;
    }
  }

  async #checkOrigin(origin: Caller, table: CommandTable): Promise<void> {
    const found = await warnIfOriginUserCanWrite(origin, this.journal.journal, () => Promise.resolve(table));
    this.#originChecked = true;
    this.#originUser.resolve(found);
  }

  async #checkShadow(origin: Caller, shadow: Caller): Promise<void> {
    const [originId, shadowId] = await Promise.all([runId(origin), runId(shadow)]);
    if (originId !== '' && originId === shadowId) {
      throw new MirrorGuardError('MG_ERR_REDIS_SHADOW_IS_ORIGIN', `the shadow is the origin's own server (the same run_id ${originId}, under another name); nothing is sent to it`);
    }
    await assertShadowSandboxed(shadow, this.#mode, this.journal.journal, this.#warned);
  }
}
