import type { JournalEvent, JournalSink } from './journal-event.ts';

export interface MemorySinkOptions {
  /** How many events it keeps; older ones are dropped first. 10,000 by default. */
  readonly limit?: number;
}

/** Keeps the latest events in memory, for tests and for inspection. Bounded: a ring of `limit` events. */
export class MemorySink implements JournalSink {
  readonly limit: number;
  #ring: JournalEvent[] = [];
  #next = 0;
  #dropped = 0;

  constructor(options: MemorySinkOptions = {}) {
    const limit = options.limit ?? 10_000;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`MemorySink limit must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  write(event: JournalEvent): void {
    if (this.#ring.length < this.limit) {
      this.#ring.push(event);
      return;
    }
    this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % this.limit;
    this.#dropped += 1;
  }

  /** The kept events, oldest first. */
  events(): JournalEvent[] {
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  /** How many events were dropped to stay within `limit`. */
  get dropped(): number {
    return this.#dropped;
  }

  clear(): void {
    this.#ring = [];
    this.#next = 0;
    this.#dropped = 0;
  }
}

export function memorySink(options?: MemorySinkOptions): MemorySink {
  return new MemorySink(options);
}
