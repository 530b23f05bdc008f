import type { JournalDiff } from '../diff/diff-journals.ts';
import type { JournalSummary } from '../diff/summarize-journal.ts';

/** The diff as a person reads it: the verdict first, then per endpoint, then each differing request. */
export function formatDiff(diff: JournalDiff): string {
  const lines = [
    diff.differing === 0
      ? `No difference: the mirror would have done what the primary did, in all ${diff.requests.length} request(s).`
      : `${diff.differing} of ${diff.requests.length} request(s) differ.`,
    '',
    'endpoint                                  requests  differing',
  ];
  for (const endpoint of diff.endpoints) lines.push(`${endpoint.endpoint.padEnd(40)}  ${String(endpoint.requests).padStart(8)}  ${String(endpoint.differing).padStart(9)}`);
  for (const request of diff.requests.filter((entry) => entry.differences.length > 0)) {
    lines.push('', `${request.endpoint}  request ${request.requestId ?? '(none)'}`);
    for (const difference of request.differences) {
      const detail =
        difference.kind === 'missing'
          ? `primary did:   ${difference.primary}`
          : difference.kind === 'extra'
            ? `mirror would:  ${difference.mirror}`
            : `primary did:   ${difference.primary}\n      mirror would:  ${difference.mirror}`;
      lines.push(`  ${difference.kind} (${difference.dependency})`, `      ${detail}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One journal's summary as a person reads it. */
export function formatSummary(summary: JournalSummary): string {
  const lines = [`${summary.events} event(s) over ${summary.requests} request(s).`, '', 'dependency  action      count'];
  for (const [dependency, actions] of Object.entries(summary.byDependency)) {
    for (const [action, count] of Object.entries(actions)) lines.push(`${dependency.padEnd(10)}  ${action.padEnd(10)}  ${String(count).padStart(5)}`);
  }
  lines.push('', 'endpoint                                  requests  events');
  for (const endpoint of summary.endpoints) lines.push(`${endpoint.endpoint.padEnd(40)}  ${String(endpoint.requests).padStart(8)}  ${String(endpoint.events).padStart(6)}`);
  if (summary.blockedReasons.length > 0) {
    lines.push('', 'blocked, because');
    for (const { reason, count } of summary.blockedReasons) lines.push(`  ${String(count).padStart(5)}  ${reason}`);
  }
  return `${lines.join('\n')}\n`;
}
