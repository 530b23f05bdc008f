import { Agent, Dispatcher } from 'undici';

// undici keeps the process-wide dispatcher on globalThis under these symbols: `.1` is read by Node's
// own fetch (undici 6 in Node 22, 7 in Node 24), npm undici 6 and 7; `.2` by npm undici ≥ 8, which
// keeps a wrapper in the older handler API under `.1`. Every copy writes both with
// Object.defineProperty (non-configurable, writable) when it loads and in setGlobalDispatcher.
const SYMBOLS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')] as const;
/** The hold, shared by every copy of this package in the process (ESM and CommonJS builds alike). */
const HOLD = Symbol.for('mirrorguard.http-stub.global-dispatcher');

/** Where the process-wide dispatcher sends a call. */
export type GlobalRoute =
  /** To an installed stub. */
  | { readonly kind: 'stub'; readonly dispatcher: Dispatcher }
  /** Nowhere: a closed replay stub refuses it (and journals that). */
  | { readonly kind: 'refuse'; refuse(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void }
  /** To what was there before the first install. */
  | { readonly kind: 'previous' };

interface Hold {
  readonly version: 1;
  route: GlobalRoute;
  /** Whether the symbols hold the fronts read-only, for the rest of the process's life. */
  locked: boolean;
  readonly fronts: readonly [Dispatcher, Dispatcher];
  /** What each symbol held before the fronts took it. */
  readonly previous: [unknown, unknown];
  fallback?: Dispatcher;
}

const global = globalThis as unknown as Record<symbol, unknown>;

/**
 * What undici reads as the process-wide dispatcher once a stub was installed: it sends each call
 * where the hold's route says, so the symbols never have to change again. One per symbol, since
 * what was there before differs per symbol (and `.1`'s readers speak the older handler API).
 */
class GlobalFront extends Dispatcher {
  readonly #hold: () => Hold;
  readonly #slot: 0 | 1;

  constructor(hold: () => Hold, slot: 0 | 1) {
    super();
    this.#hold = hold;
    this.#slot = slot;
  }

  #previous(): Dispatcher {
    const hold = this.#hold();
    const previous = hold.previous[this.#slot] as Dispatcher | undefined;
    return typeof previous?.dispatch === 'function' ? previous : (hold.fallback ??= new Agent());
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const { route } = this.#hold();
    if (route.kind === 'refuse') {
      route.refuse(opts, handler);
      return true;
    }
    if (route.kind === 'stub') {
      // Readers of `.1` cannot drive HTTP/2 (what undici's own Dispatcher1Wrapper enforces too).
      return route.dispatcher.dispatch(this.#slot === 0 ? ({ ...opts, allowH2: false } as Dispatcher.DispatchOptions) : opts, handler);
    }
    return this.#previous().dispatch(opts, handler);
  }

  // Closing the process's dispatcher closes what was there before the stub; a stub is closed by its dispose().
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = this.#hold().route.kind === 'previous' ? this.#previous().close() : Promise.resolve();
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(errorOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const error = typeof errorOrCallback === 'function' ? null : (errorOrCallback ?? null);
    const done = this.#hold().route.kind === 'previous' ? this.#previous().destroy(error) : Promise.resolve();
    const after = typeof errorOrCallback === 'function' ? errorOrCallback : callback;
    if (after === undefined) return done;
    void done.then(after, after);
  }

  // Older undici's WebSocket and EventSource read their limits from the process's dispatcher.
  get webSocketOptions(): unknown {
    const { route } = this.#hold();
    return route.kind === 'previous' ? (this.#previous() as { webSocketOptions?: unknown }).webSocketOptions : undefined;
  }

  get eventSourceOptions(): unknown {
    const { route } = this.#hold();
    return route.kind === 'previous' ? (this.#previous() as { eventSourceOptions?: unknown }).eventSourceOptions : undefined;
  }
}

function theHold(): Hold {
  const existing = global[HOLD] as Hold | undefined;
  if (existing !== undefined) {
    if (existing.version !== 1) throw new Error(`a newer copy of @mirrorguard/http-stub holds the global dispatcher (hold version ${String(existing.version)})`);
    return existing;
  }
  const hold: Hold = {
    version: 1,
    route: { kind: 'previous' },
    locked: false,
    fronts: [new GlobalFront(theHold, 0), new GlobalFront(theHold, 1)],
    previous: [undefined, undefined],
  };
  Object.defineProperty(globalThis, HOLD, { value: hold, enumerable: false, configurable: false, writable: false });
  return hold;
}

/** Why the symbols cannot be held (one is read-only with something else in it), or undefined. */
export function cannotHoldGlobalDispatcher(): string | undefined {
  const hold = global[HOLD] as Hold | undefined;
  for (const [slot, symbol] of SYMBOLS.entries()) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, symbol);
    if (descriptor === undefined ? !Object.isExtensible(globalThis) : descriptor.configurable !== true && descriptor.writable !== true && descriptor.value !== hold?.fronts[slot]) {
      return `${String(symbol)} is read-only with another dispatcher in it`;
    }
  }
  return undefined;
}

/**
 * Puts the fronts under both undici symbols and sends their calls to `route`. `lock` makes them
 * read-only: the properties are non-configurable (undici defines them so), so a read-only one stays
 * read-only for the rest of the process's life — no setGlobalDispatcher, from any copy of undici,
 * can replace the stub again (undici ≥ 8 ignores the attempt, as it does for a frozen globalThis;
 * undici 6 and 7 throw `TypeError: Cannot redefine property`). Unlocked, they are writable as undici
 * leaves them. Throws when a symbol is held read-only by something else.
 */
export function holdGlobalDispatcher(route: GlobalRoute, { lock }: { readonly lock: boolean }): void {
  const hold = theHold();
  for (const [slot, symbol] of SYMBOLS.entries()) {
    const front = hold.fronts[slot]!;
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, symbol);
    const held = descriptor !== undefined && 'value' in descriptor && descriptor.value === front;
    if (held && (descriptor.writable === false || !lock)) continue;
    if (!held) hold.previous[slot] = global[symbol];
    Object.defineProperty(globalThis, symbol, { value: front, writable: !lock, enumerable: false, configurable: false });
  }
  hold.locked ||= lock;
  hold.route = route;
}

/** Whether both symbols still hold the fronts (an unlocked hold can be replaced by setGlobalDispatcher). */
export function globalDispatcherHeld(): boolean {
  const hold = global[HOLD] as Hold | undefined;
  return hold !== undefined && SYMBOLS.every((symbol, slot) => global[symbol] === hold.fronts[slot]);
}

/** Sends the fronts' calls elsewhere; the symbols are left as they are. */
export function routeGlobalDispatcher(route: GlobalRoute): void {
  const hold = global[HOLD] as Hold | undefined;
  if (hold !== undefined) hold.route = route;
}

/**
 * Takes the fronts out and puts back exactly what was there before — when they are not locked and
 * still there (a dispatcher the app set since is left as it is). Locked, they stay, sending every
 * call to what was there before.
 */
export function releaseGlobalDispatcher(): void {
  const hold = global[HOLD] as Hold | undefined;
  if (hold === undefined) return;
  hold.route = { kind: 'previous' };
  if (hold.locked) return;
  for (const [slot, symbol] of SYMBOLS.entries()) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, symbol);
    if (descriptor?.value !== hold.fronts[slot] || hold.previous[slot] === undefined) continue;
    Object.defineProperty(globalThis, symbol, { value: hold.previous[slot], writable: true, enumerable: false, configurable: false });
  }
}
