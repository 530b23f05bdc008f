import type { DemoReport, MirrorReport } from './report.ts';

const COLORS: Readonly<Record<string, string>> = { recorded: '#6b7280', blocked: '#dc2626', simulated: '#f59e0b', shadowed: '#2563eb', replayed: '#16a34a', passed: '#9333ea' };
const ACTIONS = ['recorded', 'blocked', 'simulated', 'shadowed', 'replayed', 'passed'] as const;

const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** One stacked bar per service and dependency: what the primary did for real, what each mirror intercepted. */
function chart(report: DemoReport): string {
  const rows: Array<{ label: string; actions: Readonly<Record<string, number>> }> = [];
  for (const dependency of ['db', 'redis', 'http']) {
    rows.push({ label: `primary · ${dependency}`, actions: report.primary.effects[dependency] ?? {} });
    for (const mirror of report.mirrors) rows.push({ label: `${mirror.name} · ${dependency}`, actions: mirror.effects[dependency] ?? {} });
  }
  const total = (actions: Readonly<Record<string, number>>): number => ACTIONS.reduce((sum, action) => sum + (actions[action] ?? 0), 0);
  const widest = Math.max(1, ...rows.map((row) => total(row.actions)));
  const [labelWidth, barWidth, rowHeight] = [170, 560, 26];
  const height = rows.length * rowHeight + 40;
  const bars = rows.map((row, index) => {
    const y = index * rowHeight + 4;
    let x = labelWidth;
    const segments = ACTIONS.filter((action) => (row.actions[action] ?? 0) > 0).map((action) => {
      const width = ((row.actions[action] ?? 0) / widest) * barWidth;
      const segment = `<rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="18" fill="${COLORS[action]}"><title>${action}: ${row.actions[action]}</title></rect>`;
      x += width;
      return segment;
    });
    return `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${escape(row.label)}</text>${segments.join('')}<text x="${x + 6}" y="${y + 13}">${total(row.actions)}</text>`;
  });
  const legend = ACTIONS.map((action, index) => `<rect x="${labelWidth + index * 95}" y="${height - 22}" width="12" height="12" fill="${COLORS[action]}"/><text x="${labelWidth + index * 95 + 16}" y="${height - 12}">${action}</text>`);
  return `<svg viewBox="0 0 ${labelWidth + barWidth + 60} ${height}" width="100%" role="img" aria-label="side effects per service and dependency" font-size="12" font-family="inherit">${bars.join('')}${legend.join('')}</svg>`;
}

function effectsTable(mirror: MirrorReport): string {
  const rows = Object.entries(mirror.effects).map(([dependency, actions]) => `<tr><td>${escape(dependency)}</td>${['blocked', 'simulated', 'shadowed', 'replayed', 'passed'].map((action) => `<td class="n">${actions[action] ?? 0}</td>`).join('')}</tr>`);
  return `<table><thead><tr><th>dependency</th><th>blocked</th><th>simulated</th><th>shadowed</th><th>replayed</th><th>passed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function diffSection(mirror: MirrorReport): string {
  const env = Object.entries(mirror.env).map(([name, value]) => `${name}=${value}`).join(' ');
  const shown = mirror.diff.differences.slice(0, 12);
  const rows = shown.map((difference) => `<tr><td>${escape(difference.endpoint)}<br><small>${escape(String(difference.requestId))}</small></td><td>${escape(difference.kind)}<br><small>${escape(difference.dependency)}</small></td><td><code>${escape(difference.primary ?? '—')}</code></td><td><code>${escape(difference.mirror ?? '—')}</code></td></tr>`);
  const more = mirror.diff.differences.length > shown.length ? `<p>… and ${mirror.diff.differences.length - shown.length} more differences of the same kind in report.json.</p>` : '';
  const table = shown.length === 0 ? '<p class="ok">No difference: for every request, the mirror would have written what the primary wrote.</p>' : `<table class="diff"><thead><tr><th>request</th><th>difference</th><th>primary wrote</th><th>${escape(mirror.name)} would have written</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
  return `<section><h2>${escape(mirror.name)} <small><code>${escape(env)}</code></small></h2>
<p>Answered ${mirror.answered} of the mirrored requests, ${mirror.answeredAlike} exactly like the primary (generated order ids aside).${mirror.redisCommands === null ? '' : ` Its connections sent the shared Redis ${mirror.redisCommands.commands} commands, ${mirror.redisCommands.writes} of them writes (MONITOR).`} Side-effect diff: <b>${mirror.diff.differing}</b> of ${mirror.diff.requests} requests with effects differ.</p>
${effectsTable(mirror)}${table}</section>`;
}

/** The report as one self-contained HTML page (no script, no external resource). */
export function renderHtml(report: DemoReport): string {
  const checks = report.checks.map((check) => `<tr><td class="${check.ok ? 'pass' : 'fail'}">${check.ok ? 'PASS' : 'FAIL'}</td><td>${escape(check.name)}</td><td>${escape(check.detail)}</td></tr>`);
  const state = (label: string, run: DemoReport['baseline']): string =>
    `<tr><td>${label}</td><td><code>${run.before.database.checksum.slice(0, 12)}</code> → <code>${run.after.database.checksum.slice(0, 12)}</code><br><small>${run.after.database.orders} orders · ${escape(run.after.database.autoIncrement)}</small></td><td><code>${run.before.redis.checksum.slice(0, 12)}</code> → <code>${run.after.redis.checksum.slice(0, 12)}</code><br><small>${run.after.redis.keys} keys · ${run.after.redis.recordings} recorded calls</small></td><td class="n">${run.paymentsRequests}</td><td class="n">${run.seconds.toFixed(1)} s</td></tr>`;
  const workload = Object.entries(report.workload.byKind).map(([kind, n]) => `${n} ${escape(kind)}`).join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mirrorguard demo report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}small{color:#6b7280}
.verdict{padding:10px 14px;border-radius:6px;font-weight:600;margin:14px 0}.verdict.ok{background:#dcfce7;color:#14532d}.verdict.bad{background:#fee2e2;color:#7f1d1d}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border-bottom:1px solid #e5e7eb;padding:5px 8px;text-align:left;vertical-align:top}th{background:#f9fafb;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.pass{color:#15803d;font-weight:700}td.fail{color:#b91c1c;font-weight:700}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}.ok{color:#15803d}svg text{fill:#374151}
</style></head><body>
<h1>mirrorguard — live mirror demo</h1>
<p><small>${escape(report.generatedAt)} · database: ${escape(report.backends.database)} · redis: ${escape(report.backends.redis)}</small></p>
<div class="verdict ${report.ok ? 'ok' : 'bad'}">${report.ok ? 'Every check passed: the shared database and Redis hold what the primary alone wrote, the payments service got no call from a mirror, and the side-effect diff found the candidate\'s change and nothing else.' : 'A check failed: see below.'}</div>
<p>Workload through the mirroring proxy: <b>${report.workload.requests}</b> requests — ${workload}.</p>
<h2>Side effects, per service and dependency</h2>
${chart(report)}
<h2>Checks</h2>
<table><tbody>${checks.join('')}</tbody></table>
<h2>Shared state: before → after the workload</h2>
<table><thead><tr><th>run</th><th>database</th><th>redis</th><th>payments calls</th><th>time</th></tr></thead><tbody>${state(`primary + ${report.mirrors.length} mirrors`, report.mirrored)}${state('primary alone', report.baseline)}</tbody></table>
${report.mirrors.map(diffSection).join('\n')}
</body></html>
`;
}
