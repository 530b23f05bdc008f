import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createGuards, EFFECT_CHANNEL, memorySink, type DestinationInput, type JournalEvent } from '@mirrorguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENTINEL_KINDS, startByteSentinel, type ByteSentinel, type SentinelKind } from '../support/byte-sentinel.ts';
import type { RunnerJob } from '../support/egress-client-runner.ts';
import { CLIENTS, runClient, type Outcome, type Target } from '../support/egress-clients.ts';
import { rng } from '../support/seeded-random.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';

// Random (client × destination spelling × port spelling × timing) against two sentinels per
// protocol: one never declared, one declared as 127.0.0.1:P and [::1]:P. Every spelling is first
// tried with nothing locked, against a third sentinel: one that reaches it there must, locked,
// reach the undeclared sentinel with 0 bytes and be journaled, and reach the declared one exactly
// when it names a declared address (0.0.0.0 and :: reach the local server too, but are not
// 127.0.0.1 or ::1, so they are refused even at the declared port).

const SEED = Number(process.env.EGRESS_SEED ?? 20_260_513);
const SAMPLES = Number(process.env.EGRESS_SAMPLES ?? 64);

const RUNNER = fileURLToPath(new URL('../support/egress-client-runner.ts', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../../packages/core/src/egress/egress-preload.ts', import.meta.url));

interface Spelling {
  readonly host: string;
  /** The same address as a declared one (127.0.0.1 or ::1), in another spelling. */
  readonly declared: boolean;
}

const HOSTS: readonly Spelling[] = [
  { host: '127.0.0.1', declared: true },
  { host: 'localhost', declared: true },
  { host: 'localhost.', declared: true },
  { host: '::ffff:127.0.0.1', declared: true },
  { host: '2130706433', declared: true },
  { host: '127.1', declared: true },
  { host: '0x7f.0.0.1', declared: true },
  { host: '017700000001', declared: true },
  { host: '::1', declared: true },
  { host: '0:0:0:0:0:0:0:1', declared: true },
  { host: '0.0.0.0', declared: false },
  { host: '::', declared: false },
];
const PORTS = ['number', 'string', 'hex string'] as const;
const PATHS = ['absolute', 'relative', 'with ./ and ..'] as const;
const TIMINGS = ['before', 'after', 'worker', 'child'] as const;
type Timing = (typeof TIMINGS)[number];

interface Sample {
  readonly client: string;
  readonly kind: SentinelKind;
  readonly spelling: Spelling;
  readonly port: (typeof PORTS)[number];
  readonly path: (typeof PATHS)[number];
  readonly timing: Timing;
}

function draw(seed: number, count: number): Sample[] {
  const random = rng(seed);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const clients = Object.entries(CLIENTS).flatMap(([client, { kinds }]) => kinds.map((kind) => ({ client, kind })));
  return Array.from({ length: count }, () => ({ ...pick(clients), spelling: pick(HOSTS), port: pick(PORTS), path: pick(PATHS), timing: pick(TIMINGS) }));
}

function spell(sample: Sample, sentinel: ByteSentinel): Target {
  const port = sample.port === 'number' ? sentinel.port : sample.port === 'string' ? String(sentinel.port) : `0x${sentinel.port.toString(16)}`;
  const path =
    sentinel.path === undefined
      ? undefined
      : sample.path === 'absolute'
        ? sentinel.path
        : sample.path === 'relative'
          ? relative(process.cwd(), sentinel.path)
          : sentinel.path.replace(/\/([^/]+)$/, '/./x/../$1');
  return { kind: sample.kind, host: sample.spelling.host, port, ...(path !== undefined && { path }) };
}

const describeSample = (sample: Sample): string =>
  `${sample.client} → ${sample.kind} at ${sample.kind === 'unix' ? `a ${sample.path} path` : `${sample.spelling.host}, port as ${sample.port}`}, ${sample.timing}`;

function inWorker(jobs: readonly RunnerJob[]): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(RUNNER, { workerData: jobs });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

interface ChildReport {
  readonly outcomes: Outcome[];
  readonly locked: boolean;
  readonly events: JournalEvent[];
}

function inChild(jobs: readonly RunnerJob[], allow: readonly string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--require', PRELOAD, RUNNER, JSON.stringify(jobs)],
      { env: { ...process.env, MIRROR: '1', MIRROR_PROFILE: '', MIRRORGUARD_EGRESS_ALLOW: allow.join(',') }, timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as ChildReport)),
    );
  });
}

describe(`egress lockdown, generative: ${SAMPLES} samples, seed ${SEED} (EGRESS_SEED, EGRESS_SAMPLES)`, () => {
  const samples = draw(SEED, SAMPLES);
  const control = new Map<SentinelKind, ByteSentinel>();
  const locked = new Map<SentinelKind, ByteSentinel>();
  const declared = new Map<SentinelKind, ByteSentinel>();
  const reaches: boolean[] = [];
  const prepared: unknown[] = [];
  const allow: string[] = [];
  const sink = memorySink({ limit: 100_000 });

  beforeAll(async () => {
    const cert = selfSignedCert();
    for (const kind of SENTINEL_KINDS) {
      control.set(kind, await startByteSentinel(kind, cert));
      locked.set(kind, await startByteSentinel(kind, cert));
      const sentinel = await startByteSentinel(kind, cert);
      declared.set(kind, sentinel);
      if (sentinel.path !== undefined) allow.push(`unix:${sentinel.path}`);
      else allow.push(`127.0.0.1:${sentinel.port}`, `[::1]:${sentinel.port}`);
    }
    // The independent oracle first: which spellings reach a server at all, with nothing locked.
    for (const sample of samples) {
      const sentinel = control.get(sample.kind)!;
      const before = sentinel.bytes();
      await runClient(sample.client, spell(sample, sentinel));
      await new Promise(setImmediate);
      reaches.push(sentinel.bytes() > before);
    }
    for (const sample of samples) prepared.push(sample.timing === 'before' ? CLIENTS[sample.client]!.prepare?.() : undefined);
    // The harness starts child processes itself: allowed here, and journaled.
    await createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] }, egress: { allow: allow as DestinationInput[], childProcesses: true } });
  });

  afterAll(async () => {
    for (const sentinel of [...control.values(), ...locked.values(), ...declared.values()]) await sentinel.close();
  });

  /** Waits for the journal to show a refusal naming one of `wheres` — from a worker it arrives over a channel. */
  function refusalJournaled(wheres: readonly string[], since: number): Promise<void> {
    const matches = (event: JournalEvent): boolean => event.action === 'blocked' && wheres.some((where) => event.operation.includes(where));
    if (sink.events().slice(since).some(matches)) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (event: unknown): void => {
        if (!matches(event as JournalEvent)) return;
        unsubscribe(EFFECT_CHANNEL, listener);
        resolve();
      };
      subscribe(EFFECT_CHANNEL, listener);
    });
  }

  it('most samples reach a server when nothing is locked (the oracle is not vacuous)', () => {
    expect(reaches.filter(Boolean).length).toBeGreaterThan(SAMPLES / 2);
  });

  it.each(samples.map((sample, index) => [describeSample(sample), index] as const))('%s', async (_name, index) => {
    const sample = samples[index]!;
    const target = spell(sample, locked.get(sample.kind)!);
    const allowedTarget = spell(sample, declared.get(sample.kind)!);
    const lockedSentinel = locked.get(sample.kind)!;
    const declaredSentinel = declared.get(sample.kind)!;
    const declaredBefore = declaredSentinel.bytes();
    const since = sink.events().length;

    let outcomes: Outcome[];
    let childEvents: JournalEvent[] | undefined;
    if (sample.timing === 'worker') {
      outcomes = await inWorker([
        { client: sample.client, target },
        { client: sample.client, target: allowedTarget },
      ]);
    } else if (sample.timing === 'child') {
      const report = await inChild(
        [
          { client: sample.client, target },
          { client: sample.client, target: allowedTarget },
        ],
        allow,
      );
      expect(report.locked).toBe(true);
      outcomes = report.outcomes;
      childEvents = report.events;
    } else {
      outcomes = [await runClient(sample.client, target, prepared[index]), await runClient(sample.client, allowedTarget, prepared[index])];
    }
    await new Promise(setImmediate);

    // Undeclared: nothing arrives, whatever the spelling, the timing or the thread.
    expect(lockedSentinel.bytes()).toBe(0);
    expect(lockedSentinel.connections()).toBe(0);
    expect(outcomes[0]!.ok).toBe(false);
    if (!reaches[index]) return;
    // The refusal names the destination as it was asked for: a Unix path as spelled (normalized), or absolute.
    const wheres = lockedSentinel.path === undefined ? [`:${lockedSentinel.port}`] : [lockedSentinel.path, normalize(target.path!)];
    if (CLIENTS[sample.client]!.opaqueErrors !== true) expect(outcomes[0], outcomes[0]!.message).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    if (childEvents !== undefined) expect(childEvents.some((event) => event.action === 'blocked' && wheres.some((where) => event.operation.includes(where)))).toBe(true);
    else await refusalJournaled(wheres, since);

    // Declared: through exactly when the spelling names a declared address.
    const declaredAddress = sample.kind === 'unix' || sample.spelling.declared;
    if (declaredAddress) {
      expect(outcomes[1], outcomes[1]!.message).toEqual({ ok: true });
      await declaredSentinel.bytesAbove(declaredBefore);
    } else {
      expect(outcomes[1]!.ok).toBe(false);
      expect(declaredSentinel.bytes()).toBe(declaredBefore);
    }
  });
});
