import { whenReady, type Connectable } from '../connection/when-ready.ts';
import type { KeyState } from './key-state.ts';
import { keyId, type KeyId } from '../memory/key-id.ts';

/**
 * Reads a key's value and absolute expiry from the origin, together (one MULTI). The payload is a
 * DUMP for a Redis shadow, the value itself for the memory engine.
 */
export interface OriginReader<Payload = Buffer> {
  readKey(key: Buffer): Promise<{ readonly payload: Payload | null; readonly expiresAt: number }>;
}

/** Writes a value read from the origin (or its absence) into the shadow. */
export interface ShadowWriter<Payload = Buffer> {
  restoreKey(key: Buffer, payload: Payload, expiresAt: number): Promise<void>;
  deleteKey(key: Buffer): Promise<void>;
}

/** A copy read from the origin for the caller to send (see Materializer.readForCopy). */
export interface CopyToFinish<Payload = Buffer> {
  readonly key: Buffer;
  /** The origin's value; null when the origin has no such key (the shadow's is deleted). */
  readonly payload: Payload | null;
  /** Absolute expiry in Unix milliseconds; 0 or below for none. */
  readonly expiresAt: number;
  settle(outcome: 'applied' | 'refused' | 'unknown'): void;
}

/** The command that finishes a copy on the shadow: RESTORE … REPLACE [ABSTTL], or DEL for a key the origin lacks. */
export function restoreCommand(key: Buffer, payload: Buffer | null, expiresAt: number): [string, ...Array<Buffer | number | string>] {
  if (payload === null) return ['DEL', key];
  return expiresAt > 0 ? ['RESTORE', key, expiresAt, payload, 'REPLACE', 'ABSTTL'] : ['RESTORE', key, 0, payload, 'REPLACE'];
}

/** The parts of an ioredis client the readers and writers use. */
interface Transaction {
  dumpBuffer(key: Buffer): Transaction;
  pexpiretime(key: Buffer): Transaction;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}
export interface Client extends Connectable {
  multi(): Transaction;
  call(command: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/** DUMP and PEXPIRETIME in one MULTI, with Buffer replies: string decoding would corrupt the payload. */
export function originReader(origin: Client): OriginReader {
  return {
    async readKey(key) {
      await whenReady(origin);
      const replies = await origin.multi().dumpBuffer(key).pexpiretime(key).exec();
      if (replies === null) throw new Error('the origin aborted the read of a key to materialize');
      const [[dumpError, payload], [expiryError, expiresAt]] = replies as [[Error | null, Buffer | null], [Error | null, number]];
      if (dumpError ?? expiryError) throw dumpError ?? expiryError;
      return { payload, expiresAt: Number(expiresAt) };
    },
  };
}

/** RESTORE … REPLACE ABSTTL (the origin's absolute expiry, or none), or DEL when the origin has no such key. */
export function shadowWriter(shadow: Client): ShadowWriter {
  return {
    async restoreKey(key, payload, expiresAt) {
      await whenReady(shadow);
      const [name, ...args] = restoreCommand(key, payload, expiresAt);
      await shadow.call(name, ...args);
    },
    async deleteKey(key) {
      await whenReady(shadow);
      await shadow.call('DEL', key);
    },
  };
}

/**
 * Copy-on-write: makes the shadow own a key before its first write. The origin's value and expiry
 * are copied (a write that replaces the whole key copies nothing: ownOnceWritten); a key the origin does not have is
 * removed from the shadow (so nothing left from an earlier life shows through). At most one copy of
 * a key runs at a time; callers for the same key wait for it.
 */
export class Materializer<Payload = Buffer> {
  readonly #reader: OriginReader<Payload>;
  readonly #writer: ShadowWriter<Payload>;
  readonly #state: KeyState;
  readonly #inFlight = new Map<KeyId, Promise<void>>();

  constructor(reader: OriginReader<Payload>, writer: ShadowWriter<Payload>, state: KeyState) {
    this.#reader = reader;
    this.#writer = writer;
    this.#state = state;
  }

  /** A copy of `key` (or a write that replaces it whole, not yet confirmed) is running. */
  isBusy(key: Buffer | string): boolean {
    return this.#inFlight.has(keyId(key));
  }

  /** Resolves once nothing runs for `key`: no copy, no unconfirmed whole write (their failures are theirs). */
  async whenIdle(key: Buffer | string): Promise<void> {
    const id = keyId(key);
    for (let running = this.#inFlight.get(id); running !== undefined; running = this.#inFlight.get(id)) {
      await running.catch(() => undefined);
    }
  }

  /**
   * For a write that replaces `key` whole, sent now with nothing copied (call it when the key is
   * neither owned nor busy, right before the write goes out): the key reads from the shadow from now
   * on, and commands that need it owned wait. Call the function returned when the write is answered,
   * before anything else hears of it: `'applied'` owns the key as it is; `'refused'` (the server
   * answered with an error: nothing was written) leaves it the origin's, as a Redis that refused the
   * write still holds it (a command that waited for it copies it then); `'unknown'` (no answer: a
   * timeout, a lost connection) distrusts it, since the write may or may not have landed.
   */
  ownOnceWritten(key: Buffer | string): (outcome: 'applied' | 'refused' | 'unknown') => void {
    const id = keyId(key);
    this.#state.claim(id);
    let settle!: () => void;
    const pending = new Promise<void>((resolve) => (settle = resolve));
    this.#inFlight.set(id, pending);
    let answered = false;
    return (outcome) => {
      if (answered) return;
      answered = true;
      if (outcome === 'applied') this.#state.markOwned(id);
      else if (outcome === 'unknown') this.#state.distrust(id);
      this.#state.release(id);
      if (this.#inFlight.get(id) === pending) this.#inFlight.delete(id);
      settle();
    };
  }

  /**
   * The first half of a copy the caller finishes itself, on the connection its write goes on, right
   * before that write (so the copy costs the write one round trip, not two): reads the origin's
   * value and absolute expiry, holding the key as ownOnceWritten does (readers of it and other
   * copies wait). The caller sends the RESTORE (or, for `payload: null`, the DEL), then its write,
   * and calls `settle` with the RESTORE's outcome as soon as it is answered, before the write's
   * answer reaches anyone: `'applied'` owns the key; `'refused'` (nothing sent, the RESTORE refused,
   * its connection lost — the caller then fails its write) leaves it the origin's, to be copied again
   * by the next write (RESTORE … REPLACE: whatever the shadow holds of it is overwritten);
   * `'unknown'` (no answer, yet the RESTORE may still run: a timeout) distrusts it. Undefined
   * when the shadow owns the key already (after whatever ran for it). Throws, holding nothing, when
   * the origin cannot be read.
   */
  async readForCopy(key: Buffer | string): Promise<CopyToFinish<Payload> | undefined> {
    const id = keyId(key);
    for (;;) {
      await this.whenIdle(key);
      if (this.#state.isOwned(id)) return undefined;
      // Something started for the key between whenIdle's answer and now: wait for it too.
      if (!this.#inFlight.has(id)) break;
    }
    const settle = this.ownOnceWritten(key);
    const raw = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    try {
      const { payload, expiresAt } = await this.#reader.readKey(raw);
      return { key: raw, payload, expiresAt, settle };
    } catch (error) {
      settle('refused');
      throw error;
    }
  }

  async #copy(raw: Buffer): Promise<void> {
    const { payload, expiresAt } = await this.#reader.readKey(raw);
    if (payload === null) await this.#writer.deleteKey(raw);
    else await this.#writer.restoreKey(raw, payload, expiresAt);
  }

  /**
   * Resolves once the shadow owns `key`, its origin value copied first: with true when this call
   * made the copy, false when the key was owned already, or became so by what was running for it.
   */
  ensureOwned(key: Buffer | string): Promise<boolean> {
    const id = keyId(key);
    if (this.#state.isOwned(id)) return Promise.resolve(false);
    const running = this.#inFlight.get(id);
    // Once it is done, as if called then: a whole write the shadow refused leaves the key to copy.
    if (running !== undefined) return running.then(() => this.ensureOwned(key));
    const raw = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    const copying = (async () => {
      await this.#copy(raw);
      this.#state.markOwned(id);
    })().finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, copying);
    return copying.then(() => true);
  }
}
