import { Command, type RedisOptions } from 'ioredis';
import { SideConnection } from '../connection/side-connection.ts';
import { whenReady } from '../connection/when-ready.ts';
import { keyId, type KeyId } from '../memory/key-id.ts';

/** The channel a RESP2 client hears a tracking redirect's invalidations on. */
const INVALIDATE = '__redis__:invalidate';

/** What the shadow server says was modified while a script ran. */
export interface ScriptWrites {
  /** The keys modified, in any database (the server does not say which). */
  readonly keys: ReadonlySet<KeyId>;
  /** A FLUSHDB or FLUSHALL ran: every key of some database went. */
  readonly flushed: boolean;
  /** Tracking was lost during the script (a connection dropped, the script's answer never came): what it wrote cannot be known. */
  readonly lost: boolean;
}

/**
 * Learns which keys a script wrote on a real shadow: the server's own client tracking, in
 * broadcasting mode (CLIENT TRACKING ON BCAST) on one connection, its invalidations redirected
 * (REDIRECT) to another subscribed to `__redis__:invalidate`. A PING on that connection before
 * the script and another after its answer fence the invalidations the server sent meanwhile: it is
 * single-threaded, and a connection's replies keep their order. One script at a time
 * (`exclusively`), so two windows never share an invalidation; the caller's own follow-up (marking
 * keys owned, dropping copies) runs inside the same turn. Connections are opened on the first script.
 */
export class ScriptWriteTracker {
  readonly #options: RedisOptions;
  #listener: SideConnection | undefined;
  #tracker: SideConnection | undefined;
  /** Invalidation messages heard so far. */
  #heard = 0;
  /** The messages heard while a window is open: [message number, keys (null: a flush)]. */
  #log: Array<readonly [number, Buffer[] | null]> = [];
  #open = false;
  /** The sockets (and the listener's client id) tracking was set up on. */
  #setUp: { listener: unknown; tracker: unknown } | undefined;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: RedisOptions) {
    this.#options = options;
  }

  /** Runs `task` alone: no other task of this tracker (and so no other script's window) runs meanwhile. */
  exclusively<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#turn.then(task);
    this.#turn = result.catch(() => undefined);
    return result;
  }

  /**
   * Inside an exclusive task: sends the script (`run` resolves once it is answered — with false if
   * it sent nothing — or rejects when the answer will not come) with tracking on, and resolves with
   * what the server modified meanwhile.
   */
  async track(run: () => Promise<boolean>): Promise<ScriptWrites> {
    const { listener, tracker } = await this.#ready();
    const sockets = [listener.stream, tracker.stream];
    this.#open = true;
    this.#log = [];
    try {
      const start = await this.#fence(listener);
      let answered = true;
      const sent = await run().catch(() => {
        answered = false;
        return true;
      });
      if (!sent) return { keys: new Set(), flushed: false, lost: false };
      // A listener that cannot answer the fence may have missed invalidations: lost.
      const end = await this.#fence(listener).catch(() => undefined);
      const lost = !answered || end === undefined || listener.stream !== sockets[0] || tracker.stream !== sockets[1];
      const keys = new Set<KeyId>();
      let flushed = false;
      for (const [number, message] of this.#log) {
        if (number <= start || number > (end ?? 0)) continue;
        if (message === null) flushed = true;
        else for (const key of message) keys.add(keyId(key));
      }
      return { keys, flushed, lost };
    } finally {
      this.#open = false;
      this.#log = [];
    }
  }

  /** The listener subscribed and the tracker's invalidations redirected to it, on the sockets they have now. */
  async #ready(): Promise<{ listener: SideConnection; tracker: SideConnection }> {
    if (this.#listener === undefined || this.#tracker === undefined) {
      // Resubscribed by hand: a listener on a new socket has a new client id to redirect to. RESP2
      // (ioredis 6 speaks RESP3 by default): invalidations then come as messages on the channel.
      const options = { ...this.#options, protocol: 2, lazyConnect: false, db: 0 } as RedisOptions;
      this.#listener = new SideConnection({ ...options, autoResubscribe: false }, 'shadow');
      this.#tracker = new SideConnection(options, 'shadow');
      for (const connection of [this.#listener, this.#tracker]) connection.on('error', () => undefined);
      this.#listener.on('messageBuffer', (_channel: Buffer, message: unknown) => {
        this.#heard += 1;
        // The server's invalidations are an array of keys, or null for a flush; a string is someone's PUBLISH (a script's, say), not the server's.
        if (!this.#open || !(Array.isArray(message) || message === null)) return;
        this.#log.push([this.#heard, message as Buffer[] | null]);
      });
    }
    const listener = this.#listener;
    const tracker = this.#tracker;
    await Promise.all([whenReady(listener), whenReady(tracker)]);
    if (this.#setUp?.listener === listener.stream && this.#setUp.tracker === tracker.stream) return { listener, tracker };
    const listenerSocket = listener.stream;
    const trackerSocket = tracker.stream;
    // CLIENT ID first: a RESP2 connection that has subscribed runs nothing but pub/sub and PING.
    const id = String(await listener.call('CLIENT', 'ID'));
    await listener.subscribe(INVALIDATE);
    // Already on (redirected to a listener that has gone): off first, as the server will not move a redirect.
    if (this.#setUp?.tracker === trackerSocket) await tracker.call('CLIENT', 'TRACKING', 'OFF');
    await tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id, 'BCAST');
    if (listener.stream !== listenerSocket || tracker.stream !== trackerSocket) throw new Error('a tracking connection of the shadow was lost while it was set up');
    this.#setUp = { listener: listenerSocket, tracker: trackerSocket };
    return { listener, tracker };
  }

  /** A PING on the listener: resolves with the number of invalidations heard before its answer. */
  async #fence(listener: SideConnection): Promise<number> {
    const ping = new Command('ping', []);
    const resolve = ping.resolve;
    let heard = 0;
    // Read when the answer is parsed, before any message parsed after it.
    ping.resolve = (value: unknown) => {
      heard = this.#heard;
      return resolve(value);
    };
    listener.sendCommand(ping);
    // A subscribed RESP2 connection answers PING with ["pong", ""]: anything else, and the
    // invalidations may not be reaching it — fail rather than learn nothing.
    const answer: unknown = await ping.promise;
    if (!Array.isArray(answer) || String(answer[0]).toLowerCase() !== 'pong') throw new Error('the shadow\'s tracking listener is not subscribed to its invalidations');
    return heard;
  }

  close(): void {
    this.#listener?.disconnect();
    this.#tracker?.disconnect();
  }
}
