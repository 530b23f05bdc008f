import { MirrorGuardError, type Redactor } from '@mirrorguard/core';
import type { RecordedRequest } from '../exchange/exchange.ts';
import type { RecordingIndex } from '../exchange/recording-index.ts';

/**
 * The replay miss, saying what was asked and how the nearest recorded requests of the same incoming
 * request differ. `request` and the index's requests are redacted already; the message goes through
 * `redact` once more, so that nothing it quotes (a URL, a body preview cut short) shows a secret.
 */
export function noRecordingError(request: RecordedRequest, requestId: string | null, index: RecordingIndex, store: string, redact: Redactor): MirrorGuardError {
  const within = requestId === null ? 'outside any request' : `for request id ${requestId}`;
  const lines = [`mirrorguard http-stub: no recording of ${request.method} ${request.url} ${within} in ${store}.`];
  const { recorded, served } = index.repeats(requestId, request);
  if (recorded > 0) {
    lines.push(`This call was recorded ${recorded} time(s) and all were answered; this is call ${served + 1}.`);
  } else if (!index.has(requestId)) {
    lines.push(`Nothing was recorded ${within}.`);
  } else {
    lines.push('Nearest recorded requests:');
    for (const [place, { exchange, differences }] of index.nearest(requestId, request).entries()) {
      lines.push(`  ${place + 1}. ${exchange.request.method} ${exchange.request.url} — differs in ${differences.join('; ')}`);
    }
  }
  return new MirrorGuardError('MG_ERR_HTTP_NO_RECORDING', redact(lines.join('\n')));
}
