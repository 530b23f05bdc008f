import { isMainThread } from 'node:worker_threads';
import { MirrorGuardError } from '@mirrorguard/core';
import type { ExchangeStore } from '../store/exchange-store.ts';
import { createHttpStub } from './create-http-stub.ts';

// The preload of every worker thread a replaying stub starts (guard-workers.ts). The recordings are
// served in the main thread only, so a worker's outbound calls are all refused, journaled in the
// worker as blocked: its fetch and undici (both global dispatcher symbols, held), node:http and
// node:https, and the workers it starts in turn (guarded the same way).
const refusing: ExchangeStore = {
  description: 'a worker thread',
  exchangesFor: () =>
    Promise.reject(
      new MirrorGuardError('MG_ERR_HTTP_WORKER', 'mirrorguard http-stub: an outbound call from a worker thread is refused in replay: recordings are served in the main thread only'),
    ),
  record: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

if (!isMainThread) createHttpStub({ mode: 'replay', store: refusing }).install();
