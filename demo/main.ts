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

/** Every service process started and not yet stopped: killed on the way out, whatever happened. */
const running = new Set<ChildProcess>();

/** Rejects after `ms`, naming what did not happen. */
const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms).unref())]);

async function startService(name: string, env: Readonly<Record<string, string>>, base: Omit<ServiceConfig, 'journal' | 'name'>, run: string): Promise<Service> {
  const journal = join(work, `${run}-${name}.jsonl`);
  const config: ServiceConfig = { ...base, name, journal };
  // Every service starts with the egress preload, as a mirror should: with MIRROR=1 nothing leaves the
  // process but what its guards declare, from the first line on; the recordings client, made at
  // load, is declared in the environment. It does nothing in the primary.
  const recordings = new URL(config.recordingsUrl);
  const child = fork(new URL('./orders-service.ts', import.meta.url), {
    execArgv: [...process.execArgv, '--require', '@mirrorguard/core/egress-preload'],
    env: { ...process.env, MIRROR: '', MIRROR_PROFILE: '', MIRRORGUARD_EGRESS_ALLOW: `${recordings.hostname}:${recordings.port || 6379}`, ...env, DEMO_SERVICE: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const started = Promise.race([once(child, 'message'), once(child, 'exit').then(() => Promise.reject(new Error(`the ${name} service exited at start`)))]) as Promise<[{ url: string }]>;
  const [message] = await within(30_000, `starting the ${name} service`, started);
  return { name, url: message.url, child, journal };
}

async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode !== null) return;
  const exited = once(service.child, 'exit');
  service.child.send('stop');
  await within(30_000, `stopping the ${service.name} service`, exited);
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
  payments.requests.length = 0;
  const base = { database: backends.database, redisUrl: backends.redisUrl, keyPrefix: KEY_PREFIX, recordingsUrl: backends.redisUrl, paymentsUrl: paymentsServer.url };
  const services: Service[] = [];
  try {
    services.push(await startService('primary', { MIRROR_PROFILE: 'record' }, base, label));
    for (const mirror of mirrors) services.push(await startService(mirror.name, mirror.env, base, label));
    const [primary, ...mirrorServices] = services as [Service, ...Service[]];
    // The primary has been serving for a while: its product cache is warm.
    await drive(primary.url, WARM_UP);
    const before = await backends.snapshot();
    const monitor = await backends.monitor();
    const proxy = await startMirroringProxy(primary.url, mirrorServices);
    const started = performance.now();
    await drive(proxy.url, requests);
    await within(60_000, 'the mirrors answering', proxy.settled());
    const seconds = (performance.now() - started) / 1000;
    await proxy.close();
    const redisCommands = await monitor.stop();
    await Promise.all(services.map(stopService));
    const journals: Record<string, JournalEvent[]> = {};
    for (const service of services) journals[service.name] = readJournal(service.journal);
    console.log(`  ${label}: ${requests.length} requests in ${seconds.toFixed(1)} s`);
    // Taken once every service has stopped: a call made while closing counts too.
    const calls = { charges: payments.charges.slice(), requests: payments.requests.slice() };
    return { before, after: await backends.snapshot(), payments: calls, redisCommands, exchanges: proxy.exchanges, seconds, journals };
  } finally {
    for (const service of services) if (service.child.exitCode === null) service.child.kill();
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
  for (const child of running) child.kill();
  paymentsServer.server.close();
  await backends.close();
}
process.exit(exitCode);
