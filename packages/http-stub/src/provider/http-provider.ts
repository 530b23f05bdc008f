import { defineProvider, type Provider } from '@mirrorguard/core';
import { getGlobalDispatcher } from 'undici';
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
  readonly redact?: RedactionOptions;
  /** mirror and test: answer a miss with this response instead of failing. */
  readonly onMiss?: 'error' | MissResponse;
  /** mirror only: safe requests to these hosts go out on a miss (never in test, which has no network). */
  readonly allowHosts?: readonly string[];
}

/** The live profile's stand-in: the process's own dispatcher, nothing installed. */
function untouched(): HttpStub {
  // The interceptor of the live profile lets every call through as it is.
  return { dispatcher: getGlobalDispatcher(), interceptor: (dispatch) => dispatch, install: () => undefined, dispose: () => Promise.resolve() };
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
    mirror: ({ journal }) =>
      installed(
        createHttpStub({
          ...common,
          mode: 'replay',
          store: options.store ?? harStore({ file: options.recording }),
          journal,
          ...(options.onMiss !== undefined && { onMiss: options.onMiss }),
          ...(options.allowHosts !== undefined && { allowHosts: options.allowHosts }),
        }),
      ),
    test: ({ journal }) =>
      installed(createHttpStub({ ...common, mode: 'replay', store: harStore({ file: options.recording }), journal, ...(options.onMiss !== undefined && { onMiss: options.onMiss }) })),
    close: (stub) => stub.dispose(),
  });
}
