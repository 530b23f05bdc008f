import { createRedactor } from '@mirrorguard/core';
import { describe, expect, it } from 'vitest';
import type { RecordedExchange } from '../exchange/exchange.ts';
import { RecordingIndex } from '../exchange/recording-index.ts';
import { noRecordingError } from './miss-error.ts';

describe('noRecordingError', () => {
  it('quotes no secret, even of requests that reached it unredacted', () => {
    // The engine redacts both sides before they get here; the message is redacted once more all the same.
    const recorded: RecordedExchange = {
      requestId: 'r',
      request: { method: 'POST', url: 'https://api.test/v1/tokens/Zk81mQp0aa9XqW?api_key=RECORDED-KEY-1&page=1', headers: [], body: Buffer.from('{"password":"RECORDED-PASSWORD-1"}') },
      response: { status: 200, statusText: 'OK', headers: [], body: Buffer.alloc(0) },
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1,
    };
    const index = new RecordingIndex();
    index.add(recorded);
    const asked = { method: 'POST', url: 'https://api.test/v1/tokens/Qq81mQp0aa9XqW?api_key=LIVE-KEY-2&page=2', headers: [], body: Buffer.from('{"password":"LIVE-PASSWORD-2"}') };
    const message = noRecordingError(asked, 'r', index, 'recording.har', createRedactor()).message;
    expect(message).toContain('Nearest recorded requests');
    for (const secret of ['RECORDED-KEY-1', 'RECORDED-PASSWORD-1', 'Zk81mQp0aa9XqW', 'LIVE-KEY-2', 'LIVE-PASSWORD-2', 'Qq81mQp0aa9XqW']) expect(message).not.toContain(secret);
  });
});
