import { diffJournals, summarizeJournal, type EffectDifference, type JournalEvent } from '@mirrorguard/core';
import { withoutOrderIds } from '../examples/orders-express/guards.ts';
import type { StateSnapshot } from './backends.ts';
import type { ClientCommands } from './redis-monitor.ts';
import type { ProxiedExchange } from './mirroring-proxy.ts';

/** One pass of the workload: the state before and after, what the payments service got, what the proxy saw. */
export interface RunResult {
  readonly before: StateSnapshot;
  readonly after: StateSnapshot;
  /** Everything the payments service received during the run: every request (`METHOD /path`), and the charges. */
  readonly payments: { readonly requests: readonly string[]; readonly charges: ReadonlyArray<{ order: number; amount: number }> };
  /** What each service's Redis connections sent the server (MONITOR), by service; null when embedded. */
  readonly redisCommands: Readonly<Record<string, ClientCommands>> | null;
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
  /** Commands its connections sent the shared Redis server, and how many were writes (MONITOR); null when embedded. */
  readonly redisCommands: { readonly commands: number; readonly writes: number } | null;
  readonly diff: {
    readonly requests: number;
    readonly differing: number;
    readonly endpoints: ReadonlyArray<{ endpoint: string; requests: number; differing: number }>;
    readonly differences: ReadonlyArray<EffectDifference & { requestId: string | null; endpoint: string }>;
  };
}

export interface RunSummary {
  readonly seconds: number;
  readonly before: StateSnapshot;
  readonly after: StateSnapshot;
  readonly paymentsRequests: number;
}

export interface DemoReport {
  readonly generatedAt: string;
  readonly backends: { readonly database: string; readonly redis: string };
  readonly workload: { readonly requests: number; readonly byKind: Readonly<Record<string, number>>; readonly byStatus: Readonly<Record<string, number>> };
  readonly baseline: RunSummary;
  readonly mirrored: RunSummary;
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


/**
 * The databases (SQLite: files) one snapshot has and the other lacks, as `+name` / `-name`: on a
 * shared server, another client's database that came or went between two snapshots changes the
 * checksum as a mirror's would, and the failed check says which one it was.
 */
function databasesChanged(from: StateSnapshot['database'], to: StateSnapshot['database']): string {
  const changes = [...to.databases.filter((name) => !from.databases.includes(name)).map((name) => `+${name}`), ...from.databases.filter((name) => !to.databases.includes(name)).map((name) => `-${name}`)];
  return changes.length === 0 ? '' : `; databases ${changes.join(' ')}`;
}

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
      return answer !== undefined && 'status' in answer && answer.status === exchange.status && withoutOrderIds(answer.body) === withoutOrderIds(exchange.body);
    });
    return {
      name: spec.name,
      env: spec.env,
      effects: summarizeJournal(events.filter((event) => event.action !== 'warned')).byDependency,
      answeredAlike: alike.length,
      answered: answers.filter((answer) => answer !== undefined && 'status' in answer).length,
      redisCommands: mirrored.redisCommands === null ? null : { commands: mirrored.redisCommands[spec.name]?.commands ?? 0, writes: mirrored.redisCommands[spec.name]?.writes.length ?? 0 },
      diff: {
        requests: diff.requests.length,
        differing: diff.differing,
        endpoints: diff.endpoints,
        differences: diff.requests.flatMap((request) => request.differences.map((difference) => ({ requestId: request.requestId, endpoint: request.endpoint, ...difference }))),
      },
    };
  });

  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const fromMirrors = mirrored.payments.requests.length - baseline.payments.requests.length;
  const samePayments = same(mirrored.payments.requests, baseline.payments.requests) && same(mirrored.payments.charges, baseline.payments.charges);
  const checks: Check[] = [
    {
      name: 'both runs started from the same state',
      ok: same(mirrored.before, baseline.before),
      detail: `database ${mirrored.before.database.checksum.slice(0, 16)}, redis ${mirrored.before.redis.checksum.slice(0, 16)} before each workload${databasesChanged(mirrored.before.database, baseline.before.database)}`,
    },
    {
      name: 'database: the mirrors changed nothing',
      ok: mirrored.after.database.checksum === baseline.after.database.checksum,
      detail: `after the run with mirrors ${mirrored.after.database.checksum.slice(0, 16)}, after the primary alone ${baseline.after.database.checksum.slice(0, 16)} (rows of ${mirrored.after.database.tables} tables, schema, counters ${mirrored.after.database.autoIncrement}, databases)${databasesChanged(mirrored.after.database, baseline.after.database)}`,
    },
    {
      name: 'redis: the mirrors changed nothing',
      ok: mirrored.after.redis.checksum === baseline.after.redis.checksum && mirrored.after.redis.recordings === baseline.after.redis.recordings,
      detail: `after the run with mirrors ${mirrored.after.redis.checksum.slice(0, 16)}, after the primary alone ${baseline.after.redis.checksum.slice(0, 16)} (${mirrored.after.redis.keys} keys by value; ${mirrored.after.redis.recordings} and ${baseline.after.redis.recordings} recorded payments calls)`,
    },
    {
      name: 'payments: no call from a mirror',
      ok: fromMirrors === 0 && samePayments,
      detail: `${fromMirrors} calls from the mirrors: ${mirrored.payments.requests.length} requests with mirrors, ${baseline.payments.requests.length} with the primary alone; the same requests and charges: ${samePayments ? 'yes' : 'no'}`,
    },
    {
      name: 'the primary served every request alike in both runs',
      ok: same(mirrored.exchanges.map((exchange) => exchange.status), baseline.exchanges.map((exchange) => exchange.status)),
      detail: `statuses ${JSON.stringify(count(mirrored.exchanges, (exchange) => String(exchange.status)))}`,
    },
  ];
  if (mirrored.redisCommands !== null) {
    const writes = mirrors.reduce((sum, mirror) => sum + (mirror.redisCommands?.writes ?? 0), 0);
    checks.push({
      name: 'redis MONITOR: no write from a mirror\'s connection',
      ok: writes === 0 && mirrors.every((mirror) => (mirror.redisCommands?.commands ?? 0) > 0),
      detail: mirrors.map((mirror) => `${mirror.name}: ${mirror.redisCommands?.commands ?? 0} commands, ${mirror.redisCommands?.writes ?? 0} writes`).join('; ') + ` (the primary: ${mirrored.redisCommands.primary?.writes.length ?? 0} writes)`,
    });
  }
  const paid = mirrored.exchanges.filter((exchange) => exchange.status === 201).length;
  for (const [index, spec] of input.mirrors.entries()) {
    const report = mirrors[index]!;
    if (spec.expect.differences === 'none') {
      checks.push({ name: `${spec.name}: the side-effect diff finds no difference`, ok: report.diff.differing === 0, detail: `${report.diff.differing} of ${report.diff.requests} requests with effects differ` });
    } else {
      const { matches, describe } = spec.expect;
      const unexpected = report.diff.differences.filter((difference) => !matches(difference));
      checks.push({
        name: `${spec.name}: the diff finds the change (${describe}) and nothing else`,
        // The change alters the write of every paid order: one difference each, nothing else anywhere.
        ok: unexpected.length === 0 && report.diff.differences.length === paid && report.diff.differing === paid && paid > 0,
        detail: `${report.diff.differences.length - unexpected.length} expected differences in ${report.diff.differing} requests (${paid} paid orders), ${unexpected.length} others`,
      });
    }
    const cli = input.cli[spec.name];
    checks.push({
      name: `${spec.name}: \`mirrorguard diff\` agrees`,
      ok: cli !== undefined && cli.differing === report.diff.differing && cli.exitCode === (report.diff.differing === 0 ? 0 : 1),
      detail: cli === undefined ? 'not run' : `exit status ${cli.exitCode}, ${cli.differing} differing requests`,
    });
    checks.push({ name: `${spec.name}: answered every request like the primary`, ok: report.answeredAlike === mirrored.exchanges.length, detail: `${report.answered} of ${mirrored.exchanges.length} answered, ${report.answeredAlike} like the primary (status and body, generated order ids aside)` });
  }

  return {
    generatedAt: new Date().toISOString(),
    backends: input.backends,
    workload: { requests: mirrored.exchanges.length, byKind: count(input.kinds, (kind) => kind), byStatus: count(mirrored.exchanges, (exchange) => String(exchange.status)) },
    baseline: { seconds: baseline.seconds, before: baseline.before, after: baseline.after, paymentsRequests: baseline.payments.requests.length },
    mirrored: { seconds: mirrored.seconds, before: mirrored.before, after: mirrored.after, paymentsRequests: mirrored.payments.requests.length },
    primary: { effects: summarizeJournal(primaryEvents).byDependency },
    mirrors,
    checks,
    ok: checks.every((check) => check.ok),
  };
}
