import { diffJournals, summarizeJournal, type EffectDifference, type JournalEvent } from '@mirrorguard/core';
import type { StateSnapshot } from './backends.ts';
import type { ProxiedExchange } from './mirroring-proxy.ts';

/** One pass of the workload: the state before and after, what the payments service got, what the proxy saw. */
export interface RunResult {
  readonly before: StateSnapshot;
  readonly after: StateSnapshot;
  readonly charges: ReadonlyArray<{ order: number; amount: number }>;
  readonly exchanges: readonly ProxiedExchange[];
  readonly seconds: number;
  readonly journals: Readonly<Record<string, readonly JournalEvent[]>>;
}

/** A mirror the proxy fed, and the change (if any) it runs with. */
export interface MirrorSpec {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  /** What its diff against the primary must show: nothing, or only these differences. */
  readonly expect: { readonly differences: 'none' } | { readonly differences: 'only'; readonly describe: string; readonly matches: (difference: EffectDifference) => boolean };
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface MirrorReport {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  /** Per dependency, what its guards did (blocked, simulated, shadowed, replayed, …). */
  readonly effects: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly answeredAlike: number;
  readonly answered: number;
  readonly diff: {
    readonly requests: number;
    readonly differing: number;
    readonly endpoints: ReadonlyArray<{ endpoint: string; requests: number; differing: number }>;
    readonly differences: ReadonlyArray<EffectDifference & { requestId: string | null; endpoint: string }>;
  };
}

export interface DemoReport {
  readonly generatedAt: string;
  readonly backends: { readonly database: string; readonly redis: string };
  readonly workload: { readonly requests: number; readonly byKind: Readonly<Record<string, number>>; readonly byStatus: Readonly<Record<string, number>> };
  readonly baseline: { readonly seconds: number; readonly before: StateSnapshot; readonly after: StateSnapshot; readonly charges: number };
  readonly mirrored: { readonly seconds: number; readonly before: StateSnapshot; readonly after: StateSnapshot; readonly charges: number };
  readonly primary: { readonly effects: Readonly<Record<string, Readonly<Record<string, number>>>> };
  readonly mirrors: readonly MirrorReport[];
  readonly checks: readonly Check[];
  readonly ok: boolean;
}

const count = <T>(items: readonly T[], key: (item: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

/** The mirror's answer, with the ids only its simulated database generated blanked. */
const comparable = (body: string): string => body.replace(/"order":\d+/g, '"order":"*"');

export function buildReport(input: {
  readonly backends: DemoReport['backends'];
  readonly kinds: readonly string[];
  readonly baseline: RunResult;
  readonly mirrored: RunResult;
  readonly mirrors: readonly MirrorSpec[];
  /** What `mirrorguard diff --json` said of each mirror's journal: its exit status and differing requests. */
  readonly cli: Readonly<Record<string, { readonly exitCode: number | null; readonly differing: number }>>;
}): DemoReport {
  const { baseline, mirrored } = input;
  // Only the requests that went through the proxy: the primary's warm-up is not mirrored.
  const proxied = new Set(mirrored.exchanges.map((exchange) => exchange.requestId));
  const primaryEvents = mirrored.journals.primary!.filter((event) => event.requestId !== null && proxied.has(event.requestId));

  const mirrors = input.mirrors.map((spec): MirrorReport => {
    const events = mirrored.journals[spec.name]!;
    const diff = diffJournals(primaryEvents, events);
    const answers = mirrored.exchanges.map((exchange) => exchange.mirrors[spec.name]);
    const alike = mirrored.exchanges.filter((exchange) => {
      const answer = exchange.mirrors[spec.name];
      return answer !== undefined && 'status' in answer && answer.status === exchange.status && comparable(answer.body) === comparable(exchange.body);
    });
    return {
      name: spec.name,
      env: spec.env,
      effects: summarizeJournal(events.filter((event) => event.action !== 'warned')).byDependency,
      answeredAlike: alike.length,
      answered: answers.filter((answer) => answer !== undefined && 'status' in answer).length,
      diff: {
        requests: diff.requests.length,
        differing: diff.differing,
        endpoints: diff.endpoints,
        differences: diff.requests.flatMap((request) => request.differences.map((difference) => ({ requestId: request.requestId, endpoint: request.endpoint, ...difference }))),
      },
    };
  });

  const checks: Check[] = [
    {
      name: 'database: the mirrors changed nothing',
      ok: mirrored.after.database.checksum === baseline.after.database.checksum,
      detail: `after the run with mirrors ${mirrored.after.database.checksum.slice(0, 16)}, after the primary alone ${baseline.after.database.checksum.slice(0, 16)} (${mirrored.after.database.orders} orders, ${mirrored.after.database.autoIncrement})`,
    },
    {
      name: 'redis: the mirrors changed nothing',
      ok: mirrored.after.redis.checksum === baseline.after.redis.checksum,
      detail: `after the run with mirrors ${mirrored.after.redis.checksum.slice(0, 16)}, after the primary alone ${baseline.after.redis.checksum.slice(0, 16)} (${mirrored.after.redis.keys} keys)`,
    },
    {
      name: 'payments: no call from a mirror',
      ok: mirrored.charges.length === baseline.charges.length && JSON.stringify(mirrored.charges) === JSON.stringify(baseline.charges),
      detail: `${mirrored.charges.length - baseline.charges.length} calls from the mirrors (${mirrored.charges.length} charges with mirrors, ${baseline.charges.length} with the primary alone, the same ones)`,
    },
    {
      name: 'the primary served every request alike in both runs',
      ok: JSON.stringify(mirrored.exchanges.map((exchange) => exchange.status)) === JSON.stringify(baseline.exchanges.map((exchange) => exchange.status)),
      detail: `statuses ${JSON.stringify(count(mirrored.exchanges, (exchange) => String(exchange.status)))}`,
    },
  ];
  for (const [index, spec] of input.mirrors.entries()) {
    const report = mirrors[index]!;
    if (spec.expect.differences === 'none') {
      checks.push({ name: `${spec.name}: the side-effect diff finds no difference`, ok: report.diff.differing === 0, detail: `${report.diff.differing} of ${report.diff.requests} requests with effects differ` });
    } else {
      const { matches, describe } = spec.expect;
      const unexpected = report.diff.differences.filter((difference) => !matches(difference));
      checks.push({
        name: `${spec.name}: the diff finds the change (${describe}) and nothing else`,
        ok: report.diff.differences.length > 0 && unexpected.length === 0,
        detail: `${report.diff.differences.length - unexpected.length} expected differences in ${report.diff.differing} requests, ${unexpected.length} others`,
      });
    }
    const cli = input.cli[spec.name];
    checks.push({
      name: `${spec.name}: \`mirrorguard diff\` agrees`,
      ok: cli !== undefined && cli.differing === report.diff.differing && cli.exitCode === (report.diff.differing === 0 ? 0 : 1),
      detail: cli === undefined ? 'not run' : `exit status ${cli.exitCode}, ${cli.differing} differing requests`,
    });
    checks.push({ name: `${spec.name}: answered every request`, ok: report.answered === mirrored.exchanges.length, detail: `${report.answered} of ${mirrored.exchanges.length} answered, ${report.answeredAlike} like the primary` });
  }

  return {
    generatedAt: new Date().toISOString(),
    backends: input.backends,
    workload: { requests: mirrored.exchanges.length, byKind: count(input.kinds, (kind) => kind), byStatus: count(mirrored.exchanges, (exchange) => String(exchange.status)) },
    baseline: { seconds: baseline.seconds, before: baseline.before, after: baseline.after, charges: baseline.charges.length },
    mirrored: { seconds: mirrored.seconds, before: mirrored.before, after: mirrored.after, charges: mirrored.charges.length },
    primary: { effects: summarizeJournal(primaryEvents).byDependency },
    mirrors,
    checks,
    ok: checks.every((check) => check.ok),
  };
}
