// `npm run demo`: a live mirror, end to end. Starts the payments service, a primary orders service
// (MIRROR_PROFILE=record), two mirrors of it (MIRROR=1; the second also runs with a change being
// tried out, ORDERS_PAID_STATUS=captured) and an Envoy-like mirroring proxy in front; drives a
// realistic workload through the proxy; then does it again without mirrors, and shows that the
// shared database and Redis hold exactly what the primary alone wrote, that the payments service
// got no call from a mirror, and what the side-effect diff finds. Writes the report as JSON and HTML.
// Exits 1 when a check fails (something leaked, or the diff did not find what it should).
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJournal, type JournalEvent } from '@mirrorguard/core';
import { createPaymentsApp } from '../examples/orders-express/payments-service.ts';
import { KEY_PREFIX, openBackends } from './backends.ts';
import { startMirroringProxy } from './mirroring-proxy.ts';
import { buildReport, type MirrorSpec, type RunResult } from './report.ts';
import { renderHtml } from './report-html.ts';
import { renderText } from './report-text.ts';
import type { ServiceConfig } from './service-config.ts';
import { drive, WARM_UP, workload } from './workload.ts';

const REQUESTS = Number(process.env.DEMO_REQUESTS ?? 300);
const OUT = resolve(process.env.DEMO_OUT ?? 'demo-report');
const work = mkdtempSync(join(tmpdir(), 'mirrorguard-demo-'));
/** `mirrorguard`, the command line of @mirrorguard/core (its `bin`). */
const MIRRORGUARD_CLI = fileURLToPath(import.meta.resolve('@mirrorguard/core/package.json').replace(/package\.json$/, 'dist/cli.mjs'));

// DEMO_FAULT=unguarded-mirror starts the first mirror in the live profile, with plain clients: the
// leak the checks are there to catch (the demo's own test runs it and expects exit code 1).
const unguarded = process.env.DEMO_FAULT === 'unguarded-mirror';
const MIRRORS: readonly MirrorSpec[] = [
  { name: 'mirror', env: unguarded ? { MIRROR_PROFILE: 'live' } : { MIRROR: '1' }, expect: { differences: 'none' } },
  {
    name: 'candidate',
    env: { MIRROR: '1', ORDERS_PAID_STATUS: 'captured' },
    expect: {
      differences: 'only',
      describe: "a paid order's status written 'captured' instead of 'paid'",
      matches: (difference) => difference.kind === 'other values' && difference.dependency === 'db' && /^UPDATE\b.*\borders\b/i.test(difference.primary ?? '') && /'paid'/.test(difference.primary ?? '') && /'captured'/.test(difference.mirror ?? ''),
    },
  },
];

interface Service {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly journal: string;
}

async function startService(name: string, env: Readonly<Record<string, string>>, base: Omit<ServiceConfig, 'journal'>, run: string): Promise<Service> {
  const journal = join(work, `${run}-${name}.jsonl`);
  const config: ServiceConfig = { ...base, journal };
  const child = fork(new URL('./orders-service.ts', import.meta.url), {
    env: { ...process.env, MIRROR: '', MIRROR_PROFILE: '', ...env, DEMO_SERVICE: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => Promise.reject(new Error(`the ${name} service exited at start`)))])) as [{ url: string }];
  return { name, url: message.url, child, journal };
}

async function stopService(service: Service): Promise<void> {
  const exited = once(service.child, 'exit');
  service.child.send('stop');
  await exited;
}

const listen = async (app: { listen(port: number, host: string): Server }): Promise<{ url: string; server: Server }> => {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
};

const backends = await openBackends(work);
const payments = createPaymentsApp();
const paymentsServer = await listen(payments);
const requests = workload(REQUESTS);
console.log(`mirrorguard demo: ${requests.length} requests; database: ${backends.describe.database}; redis: ${backends.describe.redis}`);

async function run(label: string, mirrors: readonly MirrorSpec[]): Promise<RunResult> {
  await backends.reset();
  payments.charges.length = 0;
  const base = { database: backends.database, redisUrl: backends.redisUrl, keyPrefix: KEY_PREFIX, recordingsUrl: backends.redisUrl, paymentsUrl: paymentsServer.url };
  const primary = await startService('primary', { MIRROR_PROFILE: 'record' }, base, label);
  const mirrorServices = await Promise.all(mirrors.map((mirror) => startService(mirror.name, mirror.env, base, label)));
  try {
    // The primary has been serving for a while: its product cache is warm.
    await drive(primary.url, WARM_UP);
    const before = await backends.snapshot();
    const proxy = await startMirroringProxy(primary.url, mirrorServices);
    const started = performance.now();
    await drive(proxy.url, requests);
    await proxy.settled();
    const seconds = (performance.now() - started) / 1000;
    await proxy.close();
    const charges = payments.charges.slice();
    await Promise.all([primary, ...mirrorServices].map(stopService));
    const journals: Record<string, JournalEvent[]> = {};
    for (const service of [primary, ...mirrorServices]) journals[service.name] = readJournal(service.journal);
    console.log(`  ${label}: ${requests.length} requests in ${seconds.toFixed(1)} s`);
    return { before, after: await backends.snapshot(), charges, exchanges: proxy.exchanges, seconds, journals };
  } finally {
    for (const service of [primary, ...mirrorServices]) if (service.child.exitCode === null) service.child.kill();
  }
}

let exitCode = 1;
try {
  const mirrored = await run('with mirrors', MIRRORS);
  const baseline = await run('primary alone', []);
  // The journals beside the report, for `mirrorguard diff` by hand: the primary's holds the mirrored
  // requests only (its warm-up reached no mirror).
  const journals = join(OUT, 'journals');
  mkdirSync(journals, { recursive: true });
  const proxied = new Set(mirrored.exchanges.map((exchange) => exchange.requestId));
  const jsonl = (events: readonly JournalEvent[]): string => events.map((event) => `${JSON.stringify(event)}\n`).join('');
  writeFileSync(join(journals, 'primary.jsonl'), jsonl(mirrored.journals.primary!.filter((event) => event.requestId !== null && proxied.has(event.requestId))));
  const cli: Record<string, { exitCode: number | null; differing: number }> = {};
  for (const mirror of MIRRORS) {
    writeFileSync(join(journals, `${mirror.name}.jsonl`), jsonl(mirrored.journals[mirror.name]!));
    // The same diff through the published command line, as a user runs it.
    const diff = spawnSync(process.execPath, [MIRRORGUARD_CLI, 'diff', join(journals, 'primary.jsonl'), join(journals, `${mirror.name}.jsonl`), '--json'], { encoding: 'utf8' });
    cli[mirror.name] = { exitCode: diff.status, differing: diff.status === 2 ? -1 : (JSON.parse(diff.stdout) as { differing: number }).differing };
  }
  const report = buildReport({ backends: backends.describe, kinds: requests.map((request) => request.kind), baseline, mirrored, mirrors: MIRRORS, cli });
  writeFileSync(join(OUT, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(OUT, 'report.html'), renderHtml(report));
  console.log(renderText(report));
  console.log(`report: ${join(OUT, 'report.json')} and ${join(OUT, 'report.html')}`);
  console.log(`journals: ${journals}/ — try npx mirrorguard diff ${relative(process.cwd(), join(journals, 'primary.jsonl'))} ${relative(process.cwd(), join(journals, 'candidate.jsonl'))}`);
  exitCode = report.ok ? 0 : 1;
} finally {
  paymentsServer.server.close();
  await backends.close();
}
process.exit(exitCode);
