/**
 * Runs Redis' own Tcl test suite (tests/ and runtest of a Redis release, 7.0.15 here) against the
 * memory engine served over RESP, one unit at a time, and counts what it says.
 *
 *   node conformance/redis-tcl/run.ts --suite /path/to/redis-7.0.15 [--units "type/string keyspace"]
 *        [--results DIR] [--stall SECONDS] [--unit-timeout SECONDS] [--multidb] [--no-skip]
 *        [--no-isolate] [--max-runs N]
 *
 * Each unit gets a fresh engine (serve.ts) and its own `tclsh tests/test_helper.tcl` in
 * external-server mode, so a unit that aborts or freezes hides nothing of the others. A unit whose
 * engine stops answering (the suite's own no-progress timeout, --stall) is reported as a freeze
 * with the test that was running, and run again with that test skipped, so the rest of the unit
 * is still measured. --unit-timeout kills a unit's whole run in any case.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The units of the command families the engine runs (see README.md for what is left out and why). */
export const DEFAULT_UNITS = [
  'keyspace',
  'scan',
  'type/string',
  'type/incr',
  'type/list',
  'type/list-2',
  'type/list-3',
  'type/set',
  'type/zset',
  'type/hash',
  'sort',
  'expire',
  'other',
  'multi',
  'quit',
];

/**
 * Tags whose tests need what an external server that is not a Redis cannot give: DEBUG, replicas,
 * CONFIG of server limits and stats, SAVE, the latency monitor, the server's own process, RESP3.
 * (`external:skip` and `large-memory` are skipped by the suite itself in this mode.)
 */
export const DENIED_TAGS = [
  'needs:debug',
  'needs:repl',
  'needs:config-maxmemory',
  'needs:config-resetstat',
  'needs:save',
  'needs:latency',
  'needs:local-process',
  'needs:pfdebug',
  // The served engine speaks RESP2 only (no HELLO): the list and zset units then skip their RESP3 rounds.
  'resp3',
];

/**
 * Tests skipped by name (Tcl regexps, as --skiptest takes them): those of the blocking commands,
 * which the engine documents it does not run. Run, they fail as not supported, and one that fails
 * between its MULTI and its EXEC leaves the unit's shared connection inside a transaction, so that
 * every later test of the unit reads QUEUED: dozens of wrong answers that are not the engine's.
 * `--no-skip` runs them anyway.
 */
export const SKIPPED_TESTS = ['/(^|[^A-Za-z])B(LPOP|RPOP|LMPOP|LMOVE|RPOPLPUSH|ZPOPMIN|ZPOPMAX|ZMPOP)|blocked client|client unblock'];

/**
 * Tests that fail without the engine's MG_ERR_REDIS_UNSUPPORTED in their message, but only because
 * of a command the engine does not run: counted as not supported, with the reason.
 */
export const NOT_SUPPORTED_INDIRECTLY: ReadonlyArray<{ readonly test: RegExp; readonly command: string }> = [
  // Restores the DUMP payload the test before it took (DUMP failed there, so $dump was never set).
  { test: /sanitize dump$/, command: 'RESTORE (of the DUMP the test before it failed to take)' },
  // Blocks deferring clients in BLMOVE and waits for INFO to count them: a timeout, not an error.
  { test: /^Linked LMOVEs$/, command: 'BLMOVE (from deferring clients; the test times out waiting for them)' },
];

export interface Failure {
  readonly unit: string;
  readonly test: string;
  readonly message: string;
}

export interface UnitResult {
  readonly unit: string;
  passed: string[];
  /** Failed because the engine does not run a command it was sent (MG_ERR_REDIS_UNSUPPORTED). */
  unsupported: Array<Failure & { readonly command: string }>;
  /** Failed with any other message: the engine answered differently from Redis. */
  wrong: Failure[];
  /** A start_server block the suite left half-way (an error outside any test): its remaining tests did not run. */
  abortedBlocks: Failure[];
  /** The unit's test client died (an exception outside a test): the rest of the unit did not run. */
  exceptions: string[];
  /** Tests during which the engine stopped answering. */
  freezes: string[];
  ignored: number;
  /** Tests skipped by name (SKIPPED_TESTS). */
  skipped: number;
  /** Whether the suite reached its end ("The End") on the last run of this unit. */
  completed: boolean;
  runs: number;
}

const ANSI = /\x1b\[[0-9;]*m/g;
const STATUS = /^\[(ok|err|skip|ignore|exception|TIMEOUT|ready|\d+\/\d+ done)\]:? ?(.*)$/;

/** Reads one run of test_helper.tcl's output into a unit's result. */
export function parseOutput(unit: string, output: string, result: UnitResult): { frozen: string | undefined; completed: boolean; skippedNames: string[] } {
  const lines = output.replace(ANSI, '').split('\n');
  const skippedNames: string[] = [];
  let frozen: string | undefined;
  let completed = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (/^\s+The End\s*$/.test(line)) {
      completed = true;
      break; // what follows repeats the failures
    }
    const match = STATUS.exec(line);
    if (match === null) continue;
    const [, status, data] = match as unknown as [string, string, string];
    // The lines that belong to this status (an error's message and errorInfo).
    const block: string[] = [data];
    while (i + 1 < lines.length && !STATUS.test(lines[i + 1]!) && !/^Testing unit\//.test(lines[i + 1]!) && !/^\s+The End\s*$/.test(lines[i + 1]!)) {
      i += 1;
      block.push(lines[i]!);
    }
    if (status === 'ok') result.passed.push(data.replace(/ \(\d+ ms\)$/, ''));
    else if (status === 'ignore') result.ignored += 1;
    else if (status === 'skip') skippedNames.push(data);
    else if (status === 'exception') result.exceptions.push(block.join('\n').trim().slice(0, 2000));
    else if (status === 'TIMEOUT') {
      frozen = /\(IN PROGRESS\) (.*)$/m.exec(block.join('\n'))?.[1] ?? '(unknown test)';
      result.freezes.push(frozen);
    } else if (status === 'err') {
      const text = block.join('\n');
      const named = / in tests\/\S+\.tcl$/.exec(block[0]!);
      const test = named ? block[0]!.slice(0, named.index) : '(outside a test)';
      const message = (named ? block.slice(1) : block).join('\n').trim();
      const unsupported = /MG_ERR_REDIS_UNSUPPORTED: the memory engine does not run (.+?);/.exec(text) ?? [undefined, NOT_SUPPORTED_INDIRECTLY.find((known) => known.test.test(test))?.command];
      // With --durable, an error that is not an assertion loses its first 10 characters (as if it
      // began with "assertion:"); its errorInfo, on the next line, has it whole.
      const [first = '', second] = message.split('\n');
      const failure = { unit, test, message: (second?.endsWith(first) ? second : first).slice(0, 400) };
      if (!named) result.abortedBlocks.push(failure);
      else if (unsupported[1] !== undefined) result.unsupported.push({ ...failure, command: unsupported[1] });
      else result.wrong.push(failure);
    }
  }
  return { frozen, completed, skippedNames };
}

interface Options {
  suite: string;
  units: string[];
  results: string;
  stall: number;
  unitTimeout: number;
  singledb: boolean;
  skip: readonly string[];
  isolate: boolean;
  maxRuns: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { suite: '', units: DEFAULT_UNITS, results: join(here, 'results'), stall: 60, unitTimeout: 900, singledb: true, skip: SKIPPED_TESTS, isolate: true, maxRuns: 20 };
  for (let i = 0; i < argv.length; i += 1) {
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return next;
    };
    switch (argv[i]) {
      case '--suite':
        options.suite = resolve(value());
        break;
      case '--units':
        options.units = value().split(/[\s,]+/).filter(Boolean).map((unit) => unit.replace(/^unit\//, ''));
        break;
      case '--results':
        options.results = resolve(value());
        break;
      case '--stall':
        options.stall = Number(value());
        break;
      case '--unit-timeout':
        options.unitTimeout = Number(value());
        break;
      case '--multidb':
        options.singledb = false;
        break;
      case '--no-skip':
        options.skip = [];
        break;
      case '--no-isolate':
        options.isolate = false;
        break;
      case '--max-runs':
        options.maxRuns = Number(value());
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (see conformance/redis-tcl/README.md)`);
    }
  }
  if (!options.suite || !existsSync(join(options.suite, 'tests', 'test_helper.tcl'))) {
    throw new Error('--suite must name a Redis source tree with tests/test_helper.tcl (redis/redis at tag 7.0.15)');
  }
  return options;
}

/** Starts a fresh engine; resolves once it listens. */
async function startEngine(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(here, 'serve.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const port = /^port (\d+)$/.exec(line)?.[1];
    if (port !== undefined) return { port: Number(port), child };
  }
  throw new Error('the memory engine did not start');
}

/** Kills a process (and, when it leads one, its process group), ignoring ones already gone. */
function kill(pid: number | undefined, group: boolean): void {
  if (pid === undefined) return;
  try {
    process.kill(group ? -pid : pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function runOnce(options: Options, unit: string, skip: readonly string[], log: string): Promise<{ output: string; timedOut: boolean }> {
  const engine = await startEngine();
  const args = ['tests/test_helper.tcl', '--host', '127.0.0.1', '--port', String(engine.port)];
  if (options.singledb) args.push('--singledb');
  args.push('--single', `unit/${unit}`, '--durable', '--ignore-encoding', '--ignore-digest', '--timeout', String(options.stall));
  args.push('--tags', DENIED_TAGS.map((tag) => `-${tag}`).join(' '));
  for (const test of [...options.skip, ...skip]) args.push('--skiptest', test);
  // Its own process group: the test server starts a test client of its own.
  const tcl = spawn('tclsh', args, { cwd: options.suite, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
  let output = '';
  tcl.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  tcl.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill(tcl.pid, true);
  }, options.unitTimeout * 1000);
  await once(tcl, 'close');
  clearTimeout(timer);
  kill(tcl.pid, true); // the test client, if the test server left it behind
  kill(engine.child.pid, false); // SIGKILL: a frozen engine runs no signal handler
  writeFileSync(log, `$ tclsh ${args.join(' ')}\n${output}`);
  return { output, timedOut };
}

/**
 * Runs a unit until its answers are its own. A test that fails can leave the unit's one shared
 * connection in a state the tests after it do not expect (inside MULTI, in readraw mode), and they
 * fail too, whatever the engine answers. So each wrong answer is confirmed in turn: the first one of
 * a run is kept and the unit is run again without it (and without every earlier one), until a run
 * has no new wrong answer (or --max-runs). A freeze is handled the same way. The counts are the last
 * run's, plus the wrong answers and freezes set aside on the way.
 */
async function runUnit(options: Options, unit: string): Promise<UnitResult> {
  const result: UnitResult = { unit, passed: [], unsupported: [], wrong: [], abortedBlocks: [], exceptions: [], freezes: [], ignored: 0, skipped: 0, completed: false, runs: 0 };
  const confirmed: Failure[] = [];
  const frozen: string[] = [];
  for (;;) {
    Object.assign(result, { passed: [], unsupported: [], wrong: [], abortedBlocks: [], exceptions: [], freezes: [...frozen], ignored: 0, skipped: 0 });
    result.runs += 1;
    const setAside = [...frozen, ...confirmed.map((failure) => failure.test)];
    const log = join(options.results, `${unit.replaceAll('/', '_')}${result.runs > 1 ? `.run${result.runs}` : ''}.log`);
    const { output, timedOut } = await runOnce(options, unit, setAside, log);
    const { frozen: freeze, completed, skippedNames } = parseOutput(unit, output, result);
    result.completed = completed;
    // Tests set aside here are counted as wrong answers or freezes, not as skipped.
    result.skipped = skippedNames.filter((name) => !setAside.includes(name)).length;
    if (timedOut) result.exceptions.push(`unit killed after --unit-timeout ${options.unitTimeout}s`);
    const more = result.runs < options.maxRuns;
    if (freeze !== undefined && !frozen.includes(freeze) && more) {
      frozen.push(freeze);
      continue;
    }
    if (options.isolate && result.wrong.length > 0 && more) {
      confirmed.push(result.wrong[0]!);
      continue;
    }
    result.wrong = [...confirmed, ...result.wrong];
    return result;
  }
}

function summarize(results: readonly UnitResult[]): string {
  const sum = (pick: (r: UnitResult) => number): number => results.reduce((total, r) => total + pick(r), 0);
  const passed = sum((r) => r.passed.length);
  const unsupported = sum((r) => r.unsupported.length);
  const wrong = sum((r) => r.wrong.length);
  const lines = [
    '| unit | passed | not supported | wrong answers | aborted blocks | exceptions | freezes | ignored by tags | skipped by name | reached the end |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.unit} | ${r.passed.length} | ${r.unsupported.length} | ${r.wrong.length} | ${r.abortedBlocks.length} | ${r.exceptions.length} | ${r.freezes.length} | ${r.ignored} | ${r.skipped} | ${r.completed ? 'yes' : 'no'} |`),
    `| **total** | ${passed} | ${unsupported} | ${wrong} | ${sum((r) => r.abortedBlocks.length)} | ${sum((r) => r.exceptions.length)} | ${sum((r) => r.freezes.length)} | ${sum((r) => r.ignored)} | ${sum((r) => r.skipped)} | |`,
    '',
    'Wrong answers:',
    ...results.flatMap((r) => r.wrong.map((f) => `- ${f.unit}: ${f.test} — ${f.message}`)),
    '',
    'Aborted blocks (an error outside a test; the rest of the block did not run):',
    ...results.flatMap((r) => r.abortedBlocks.map((f) => `- ${f.unit}: ${f.message}`)),
    '',
    'Exceptions (the unit stopped):',
    ...results.flatMap((r) => r.exceptions.map((e) => `- ${r.unit}: ${e.split('\n')[0]}`)),
    '',
    'Freezes (the engine stopped answering; the unit was run again without that test):',
    ...results.flatMap((r) => r.freezes.map((t) => `- ${r.unit}: ${t}`)),
    '',
    'Commands not supported, by failed tests:',
    ...Object.entries(
      results.flatMap((r) => r.unsupported).reduce<Record<string, number>>((counts, f) => ({ ...counts, [f.command]: (counts[f.command] ?? 0) + 1 }), {}),
    )
      .sort((a, b) => b[1] - a[1])
      .map(([command, count]) => `- ${command}: ${count}`),
    '',
    `${passed} passed, ${unsupported + wrong} failed`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  mkdirSync(options.results, { recursive: true });
  const results: UnitResult[] = [];
  for (const unit of options.units) {
    const started = Date.now();
    const result = await runUnit(options, unit);
    results.push(result);
    process.stdout.write(
      `${unit}: ${result.passed.length} passed, ${result.unsupported.length} not supported, ${result.wrong.length} wrong, ` +
        `${result.abortedBlocks.length} aborted blocks, ${result.exceptions.length} exceptions, ${result.freezes.length} freezes ` +
        `(${Math.round((Date.now() - started) / 1000)} s${result.runs > 1 ? `, ${result.runs} runs` : ''})\n`,
    );
  }
  const summary = summarize(results);
  writeFileSync(join(options.results, 'summary.md'), `${summary}\n`);
  writeFileSync(join(options.results, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${summary}\n\nlogs and results.json in ${options.results}\n`);
  const bad = results.some((r) => r.wrong.length + r.abortedBlocks.length + r.exceptions.length + r.freezes.length > 0);
  process.exitCode = bad ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
