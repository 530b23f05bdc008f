import type { DemoReport } from './report.ts';

const ACTIONS = ['blocked', 'simulated', 'shadowed', 'replayed', 'passed'] as const;

/** The report as a person reads it in a terminal. */
export function renderText(report: DemoReport): string {
  const lines: string[] = [''];
  lines.push(`database: ${report.backends.database}`, `redis:    ${report.backends.redis}`);
  lines.push(`workload: ${report.workload.requests} requests — ${Object.entries(report.workload.byKind).map(([kind, n]) => `${n} ${kind}`).join(', ')}`);
  lines.push(`primary (record) wrote: ${Object.entries(report.primary.effects).map(([dependency, actions]) => `${dependency} ${actions.recorded ?? 0}`).join(', ')}`);
  lines.push('');
  for (const mirror of report.mirrors) {
    lines.push(`${mirror.name} (${Object.entries(mirror.env).map(([name, value]) => `${name}=${value}`).join(' ')}): answered ${mirror.answered}, ${mirror.answeredAlike} like the primary`);
    for (const [dependency, actions] of Object.entries(mirror.effects)) {
      lines.push(`  ${dependency.padEnd(6)} ${ACTIONS.filter((action) => actions[action] !== undefined).map((action) => `${action} ${actions[action]}`).join(', ')}`);
    }
    if (mirror.redisCommands !== null) lines.push(`  its connections sent the shared Redis ${mirror.redisCommands.commands} commands, ${mirror.redisCommands.writes} writes (MONITOR)`);
    lines.push(`  diff: ${mirror.diff.differing} of ${mirror.diff.requests} requests with effects differ`);
    for (const difference of mirror.diff.differences.slice(0, 3)) {
      lines.push(`    ${difference.endpoint} ${difference.requestId}: ${difference.kind} (${difference.dependency})`, `      primary: ${difference.primary ?? '—'}`, `      ${mirror.name}: ${difference.mirror ?? '—'}`);
    }
    if (mirror.diff.differences.length > 3) lines.push(`    … and ${mirror.diff.differences.length - 3} more`);
  }
  lines.push('');
  for (const check of report.checks) lines.push(`${check.ok ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}`);
  lines.push('', report.ok ? 'every check passed: nothing leaked, and the diff found the change and nothing else' : 'FAILED: see the checks above');
  return lines.join('\n');
}
