import { defineProvider, type Provider, type ProviderContext, type Redactor } from '@mirrorguard/core';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import type { MatchOptions } from '../exchange/recording-index.ts';
import type { RedactionOptions } from '../exchange/redact-exchange.ts';
import type { ExchangeStore } from '../store/exchange-store.ts';
import { harStore } from '../store/har-store.ts';
import { createHttpStub, type HttpStub, type MissResponse } from '../stub/create-http-stub.ts';

export interface HttpStubProviderOptions {
  /** The HAR file: `record` writes it (unless `store` is given), `mirror` replays it (unless `store` is given), `test` always replays it. */
  readonly recording: string;
  /** A shared store for a live primary and mirror (`redisStore`): `record` publishes to it, `mirror` replays from it. */
  readonly store?: ExchangeStore;
  readonly match?: MatchOptions;
  /** What is hidden in recordings, the journal and errors: options, or a redactor to share; by default the journal's. */
  readonly redact?: RedactionOptions | Redactor;
  /** mirror and test: answer a miss with this response instead of failing. */
  readonly onMiss?: 'error' | MissResponse;
  /** mirror only: safe requests to these hosts go out on a miss (never in test, which has no network). */
  readonly allowHosts?: readonly string[];
}

/** Where undici keeps the process's dispatcher in the handler API every undici reads (Node's own fetch included). */
const LEGACY_GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/**
 * The live profile's stand-in: the process's own dispatcher, nothing installed. It is the one under
 * undici's legacy global symbol when there is one: npm undici (8) keeps there a wrapper of its own
 * dispatcher that Node's built-in fetch can drive too, which a bare undici 8 Agent is not.
 */
function untouched(): HttpStub {
  const dispatcher = ((globalThis as Record<symbol, unknown>)[LEGACY_GLOBAL_DISPATCHER] as Dispatcher | undefined) ?? getGlobalDispatcher();
  // The interceptor of the live profile lets every call through as it is.
  return { dispatcher, interceptor: (dispatch) => dispatch, install: () => undefined, dispose: () => Promise.resolve(), reopenNetwork: () => undefined };
}

/**
 * What the mirror's egress lockdown must let through: the shared store (the pairing Redis), and
 * each host of `allowHosts` — at the port it names, or at 80 and 443 when it names none (the
 * lockdown allows ports, not "any port"; write `host:port` for another).
 */
function declareDestinations(options: HttpStubProviderOptions, allowDestination: ProviderContext['allowDestination']): void {
  for (const destination of options.store?.destinations ?? []) allowDestination(destination, 'the shared exchange store');
  for (const host of options.allowHosts ?? []) {
    const [, name = host, port] = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host) ?? [];
    for (const each of port === undefined ? [80, 443] : [port]) allowDestination({ host: name, port: each }, 'allowHosts: safe calls let through on a miss');
  }
}

/**
 * A `createGuards` provider of outbound HTTP, installed process-wide (Node's fetch, npm undici,
 * node:http and node:https) for the guards' lifetime:
 * - `live`: nothing installed;
 * - `record`: calls go out and are recorded;
 * - `mirror`: calls are replayed, never sent (safe ones to `allowHosts` excepted);
 * - `test`: replayed from the HAR file only; nothing reaches the network.
 */
export function httpStubProvider(options: HttpStubProviderOptions): Provider<HttpStub> {
  const common = { ...(options.match && { match: options.match }), ...(options.redact && { redact: options.redact }) };
  const installed = (stub: HttpStub): HttpStub => {
    stub.install();
    return stub;
  };
  return defineProvider<HttpStub>({
    live: untouched,
    record: ({ journal }) => installed(createHttpStub({ ...common, mode: 'record', store: options.store ?? harStore({ file: options.recording }), journal })),
    mirror: ({ journal, allowDestination }) => {
      declareDestinations(options, allowDestination);
      return installed(
        createHttpStub({
          ...common,
          mode: 'replay',
          store: options.store ?? harStore({ file: options.recording }),
          journal,
          ...(options.onMiss !== undefined && { onMiss: options.onMiss }),
          ...(options.allowHosts !== undefined && { allowHosts: options.allowHosts }),
        }),
      );
    },
    test: ({ journal }) =>
      installed(createHttpStub({ ...common, mode: 'replay', store: harStore({ file: options.recording }), journal, ...(options.onMiss !== undefined && { onMiss: options.onMiss }) })),
    close: (stub) => stub.dispose(),
  });
}
