import { channel } from 'node:diagnostics_channel';
import { getRequestContext, type RequestContext } from '../context/request-context.ts';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import { resolveProfile, type Profile } from '../profile/resolve-profile.ts';
import type { JournalEntry, JournalEvent, JournalSink } from './journal-event.ts';
import { createRedactor, isRedactor, type RedactOptions, type Redactor } from '../redact/create-redactor.ts';

/** Every journal publishes each event on this `diagnostics_channel`, whatever its sinks. */
export const EFFECT_CHANNEL = 'mirrorguard:effect';

const effectChannel = channel(EFFECT_CHANNEL);

export interface JournalOptions {
  /** The profile stamped on each event; resolved from the environment when omitted. */
  readonly profile?: Profile;
  /** Where events go besides the `mirrorguard:effect` channel. None by default. */
  readonly sinks?: readonly JournalSink[];
  /** A redactor to share (with the HTTP stub's recordings), or options for the journal's own (`createRedactor`). */
  readonly redact?: RedactOptions | Redactor;
}

let lastMillisecond = -1;
let lastIso = '';

/** The time as an ISO string, formatted once per millisecond (formatting costs about 1 µs; a busy mirror journals many events per millisecond). */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMillisecond) {
    lastMillisecond = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/**
 * The side-effect journal: one typed event per intercepted side effect, stamped with a sequence
 * number, the time, the profile and the id of the request being handled, with secrets redacted,
 * handed synchronously to every sink and published on `mirrorguard:effect`.
 */
export class Journal {
  readonly profile: Profile;
  readonly #sinks: readonly JournalSink[];
  readonly #redactedRequests = new WeakMap<RequestContext, { readonly requestId: string; readonly path: string | undefined }>();
  /** What hides secrets in the operations this journal keeps; guards that keep operations elsewhere use it too. */
  readonly redactor: Redactor;
  #seq = 0;
  #lost = 0;
  #failedSinks = new WeakSet<JournalSink>();
  #closed: Promise<void> | undefined;

  constructor(options: JournalOptions = {}) {
    this.profile = options.profile ?? resolveProfile();
    this.#sinks = [...(options.sinks ?? [])];
    this.redactor = isRedactor(options.redact) ? options.redact : createRedactor(options.redact);
  }

  /**
   * The request's id and path as journaled, redacted once per request rather than once per event:
   * an id in a secret's shape (your own `values`; the defaults are refused when the id is read),
   * a path with a secret segment (`/reset/<token>`).
   */
  #redactedRequest(context: RequestContext): { readonly requestId: string; readonly path: string | undefined } {
    let redacted = this.#redactedRequests.get(context);
    if (redacted === undefined) {
      redacted = { requestId: this.redactor(context.requestId), path: context.path === undefined ? undefined : this.redactor.url(context.path) };
      this.#redactedRequests.set(context, redacted);
    }
    return redacted;
  }

  /**
   * Whether an event recorded now reaches anyone: a sink, or a subscriber of `mirrorguard:effect`.
   * A guard on a hot path may skip describing an effect nobody will read; it must still record
   * every refusal.
   */
  get observed(): boolean {
    return this.#sinks.length > 0 || effectChannel.hasSubscribers;
  }

  /** Journals one side effect. Reads the request context synchronously, here at the interception point. */
  record(entry: JournalEntry): JournalEvent {
    const context = getRequestContext();
    const request = context === undefined ? undefined : this.#redactedRequest(context);
    this.#seq += 1;
    const event: JournalEvent = Object.freeze({
      seq: this.#seq,
      time: isoNow(),
      requestId: request?.requestId ?? null,
      profile: this.profile,
      dependency: entry.dependency,
      action: entry.action,
      operation: this.redactor(entry.operation),
      reason: this.redactor(entry.reason),
      ...(context?.method !== undefined && { method: context.method }),
      ...(request?.path !== undefined && { path: request.path }),
    });
    for (const sink of this.#sinks) {
      try {
        sink.write(event);
      } catch (error) {
        this.#lost += 1;
        this.#warnOnce(sink, error);
      }
    }
    if (effectChannel.hasSubscribers) effectChannel.publish(event);
    return event;
  }

  /** How many times a sink failed to take an event. */
  get lostEvents(): number {
    return this.#lost;
  }

  /** Redacts text the way `record` does, for guards that keep operations elsewhere (recordings). */
  redact(operation: string): string {
    return this.redactor(operation);
  }

  /** Closes every sink; every close is attempted. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const errors: unknown[] = [];
      for (const sink of this.#sinks) {
        try {
          await sink.close?.();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length > 0) {
        throw new MirrorGuardError('MG_ERR_CLOSE', `${errors.length} journal sink(s) failed to close`, { errors });
      }
    })();
    return this.#closed;
  }

  // A journal that cannot write must not take the service down, but it must not be silent either.
  #warnOnce(sink: JournalSink, error: unknown): void {
    if (this.#failedSinks.has(sink)) return;
    this.#failedSinks.add(sink);
    process.emitWarning(`mirrorguard: a journal sink failed and its events are being lost: ${(error as Error)?.message ?? String(error)}`, {
      code: 'MG_ERR_JOURNAL_SINK',
    });
  }
}

export function createJournal(options?: JournalOptions): Journal {
  return new Journal(options);
}
