// Runs ioredis' own functional test suite (a checkout of github.com/redis/ioredis at a tag, kept
// outside this repository) against plain ioredis or one of this project's clients. See README.md.
//
//   node conformance/ioredis-suite/run.ts --suite /work/suites/ioredis-5.11.1 --client shadow [--grep …]
//
// Not part of `npm test` or CI: it installs the suite's test dependencies into a cache directory
// outside the repository, starts private redis-server processes, and never connects to the shared
// Redis on port 6379 (the preload sends the suite's connections to 6379 to the private origin).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

const CLIENTS = ['ioredis', 'shadow', 'shadow-memory', 'memory', 'shadow-connector'] as const;
type Client = (typeof CLIENTS)[number];

/** Suite files not run, and why. Globs relative to the suite's root. */
export const EXCLUDED: ReadonlyArray<{ readonly glob: string; readonly why: string }> = [
  { glob: 'test/functional/cluster/**/*.ts', why: 'Redis Cluster: exercises ioredis\' Cluster class, which builds plain Redis nodes itself (no client of ours is under test); several need a cluster of real nodes (7000-7005)' },
  { glob: 'test/functional/sentinel.ts', why: 'Sentinel topology (mock sentinels on 27379-27382 and failover): the Sentinel connector, not a client option our clients take' },
  { glob: 'test/functional/sentinel_nat.ts', why: 'Sentinel behind NAT: as above' },
  { glob: 'test/functional/elasticache.ts', why: 'simulates AWS ElastiCache replicas (READONLY + dropped connections) on a mock server' },
];

const { values } = parseArgs({
  options: {
    suite: { type: 'string' },
    client: { type: 'string', default: CLIENTS.join(',') },
    grep: { type: 'string' },
    file: { type: 'string', multiple: true },
    results: { type: 'string', default: join(here, 'results') },
    cache: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    jobs: { type: 'string', default: '4' },
    'file-timeout-minutes': { type: 'string', default: '10' },
  },
});

if (values.suite === undefined) {
  console.error('usage: node conformance/ioredis-suite/run.ts --suite <ioredis checkout> [--client ioredis|shadow|shadow-memory|memory[,…]] [--grep <pattern>] [--results <dir>]');
  process.exit(2);
}
const suite = resolve(values.suite);
const suitePackage = JSON.parse(readFileSync(join(suite, 'package.json'), 'utf8')) as { name: string; version: string; devDependencies: Record<string, string> };
if (suitePackage.name !== 'ioredis') throw new Error(`${suite} is not an ioredis checkout`);
const clients = values.client.split(',').map((name) => {
  if (!(CLIENTS as readonly string[]).includes(name)) throw new Error(`unknown --client ${name}; one of ${CLIENTS.join(', ')}`);
  return name as Client;
});
const results = resolve(values.results);
mkdirSync(results, { recursive: true });

// ---- the suite's test dependencies, in a cache outside the repository ---------------------

const TEST_DEPENDENCIES = [
  'mocha', 'chai', 'chai-as-promised', 'sinon', 'ts-node', 'typescript', 'server-destroy', 'uuid',
  '@types/chai', '@types/chai-as-promised', '@types/mocha', '@types/node', '@types/sinon', '@types/redis-errors', '@types/debug',
];

function installTestDependencies(): string {
  const root = values.cache ?? join(process.env['XDG_CACHE_HOME'] ?? tmpdir(), 'mirrorguard-conformance', `ioredis-${suitePackage.version}`);
  const dependencies = Object.fromEntries(TEST_DEPENDENCIES.map((name) => {
    const range = suitePackage.devDependencies[name];
    if (range === undefined) throw new Error(`the suite's package.json has no devDependency ${name}`);
    return [name, range];
  }));
  const manifest = JSON.stringify({ name: 'mirrorguard-ioredis-suite-deps', private: true, dependencies }, null, 2);
  const marker = join(root, 'node_modules', '.mirrorguard-installed');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === manifest) return join(root, 'node_modules');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), manifest);
  console.error(`installing the suite's test dependencies into ${root}`);
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], { cwd: root, stdio: 'inherit' });
  if (npm.status !== 0) throw new Error('npm install of the suite\'s test dependencies failed');
  writeFileSync(marker, manifest);
  return join(root, 'node_modules');
}

// ---- private redis-server processes --------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => done(reply.startsWith('+PONG')));
    socket.on('error', () => undefined);
  });
}

interface PrivateServer {
  readonly port: number;
  readonly process: ChildProcess;
}

async function startRedisServer(name: string, directory: string): Promise<PrivateServer> {
  const port = await freePort();
  if (port === 6379 || port === 6380) throw new Error('got a shared port');
  const dir = join(directory, name);
  mkdirSync(dir);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, 'redis.log')], { stdio: 'ignore' });
  children.add(child);
  child.on('exit', () => children.delete(child));
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await ping(port)) return { port, process: child };
    if (child.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 50));
  }
  child.kill();
  throw new Error(`redis-server for ${name} did not start on ${port} (see ${dir}/redis.log)`);
}

// ---- one client: each suite file in a mocha process of its own ---------------------------------
//
// A file per process: a root hook that fails (an assertion thrown late, from an event of a test
// already over, is charged to whatever runs then: the suite's global afterEach) makes mocha skip
// every test after it; alone in its process, it costs only the rest of its file, which is counted
// as not run. Files run in --jobs workers, each with private servers of its own, in parallel.

function specFiles(): { helpers: string[]; files: string[] } {
  const excluded = new Set(EXCLUDED.flatMap(({ glob }) => globSync(glob, { cwd: suite })));
  const helpers = globSync('test/helpers/*.ts', { cwd: suite }).sort();
  const only = values.file?.map((file) => relative(suite, resolve(suite, file)));
  const files = globSync('test/functional/**/*.ts', { cwd: suite })
    .filter((file) => !excluded.has(file) && (only === undefined || only.includes(file)))
    .sort();
  return { helpers, files };
}

interface FileOutcome {
  readonly file: string;
  readonly planned: number | undefined;
  readonly passed: string[];
  readonly failed: Array<{ title: string; error: string; hook: boolean }>;
  readonly pending: string[];
  readonly complete: boolean;
  readonly exitCode: number | null;
}

interface Outcome {
  readonly client: Client;
  readonly files: FileOutcome[];
  readonly redirected: number;
  readonly blocked: number;
}

async function runMocha(client: Client, modules: string, helpers: string[], file: string, servers: { origin: number; shadow: number | undefined }, directory: string, skip: readonly string[]): Promise<FileOutcome> {
  const resultsFile = join(directory, 'results.jsonl');
  writeFileSync(resultsFile, '');
  const closedPort = await freePort();
  const args = [
    '--no-experimental-strip-types',
    // The shadow's and the origin's users are the private servers' default user: warned once per session, by design.
    '--disable-warning=MG_ERR_REDIS_SHADOW_NOT_SANDBOXED',
    '--disable-warning=MG_ERR_REDIS_ORIGIN_NOT_CONFINED',
    join(modules, 'mocha', 'bin', 'mocha.js'),
    '--no-package', '--no-config',
    '--require', join(modules, 'ts-node', 'register', 'transpile-only.js'),
    '--require', join(here, 'preload.cts'),
    '--reporter', join(here, 'reporter.cts'),
    '--timeout', '8000',
    '--exit',
    ...(skip.length > 0
      ? ['--grep', `^(${skip.map(escapeRegExp).join('|')})$`, '--invert']
      : values.grep !== undefined
        ? ['--grep', values.grep]
        : []),
    ...helpers,
    file,
  ];
  const child = spawn(process.execPath, args, {
    cwd: suite,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      TS_NODE_TRANSPILE_ONLY: 'true',
      TS_NODE_PROJECT: join(suite, 'tsconfig.json'),
      NODE_PATH: [modules, join(repo, 'node_modules')].join(':'),
      MG_IOREDIS_SUITE: suite,
      MG_IOREDIS_PACKAGE: join(repo, 'node_modules', 'ioredis'),
      MG_IOREDIS_CLIENT: client,
      MG_ORIGIN_PORT: String(servers.origin),
      ...(servers.shadow !== undefined && { MG_SHADOW_PORT: String(servers.shadow) }),
      MG_CLOSED_PORT: String(closedPort),
      MG_CONNECT_LOG: join(directory, 'connections.log'),
      MG_RESULTS_FILE: resultsFile,
    },
  });
  // The tests' own output, kept apart from the progress line.
  const output = join(results, `${client}.output.log`);
  appendFileSync(output, `\n==== ${file}\n`);
  child.stdout?.on('data', (chunk: Buffer) => appendFileSync(output, chunk));
  child.stderr?.on('data', (chunk: Buffer) => appendFileSync(output, chunk));
  const timer = setTimeout(() => {
    appendFileSync(output, `\n${file}: timed out after ${values['file-timeout-minutes']} minutes; killed\n`);
    child.kill('SIGKILL');
  }, Number(values['file-timeout-minutes']) * 60_000);
  children.add(child);
  const exitCode = await new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  children.delete(child);
  clearTimeout(timer);
  const records = readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  const titles = (event: string): string[] => records.filter((record) => record['event'] === event).map((record) => String(record['title']));
  const start = records.find((record) => record['event'] === 'start');
  // A test can fail after it passed, or fail twice (done() called again): one failure, with its first error.
  const failed = new Map<string, { title: string; error: string; hook: boolean }>();
  for (const record of records.filter((entry) => entry['event'] === 'fail')) {
    const title = String(record['title']);
    if (!failed.has(title)) failed.set(title, { title, error: String(record['error']), hook: record['hook'] === true });
  }
  const outcome: FileOutcome = {
    file,
    planned: typeof start?.['total'] === 'number' ? start['total'] : undefined,
    passed: [...new Set(titles('pass'))].filter((title) => !failed.has(title)),
    failed: [...failed.values()],
    pending: titles('pending'),
    complete: records.some((record) => record['event'] === 'end'),
    exitCode,
  };
  return outcome;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Runs a file; when a failing hook made mocha skip the rest of it, runs it again without the tests
 * that already ran (`--grep … --invert`), until every test ran or a run makes no progress (a
 * failing `before` hook). With --grep given, the file runs once.
 */
async function runFile(client: Client, modules: string, helpers: string[], file: string, servers: { origin: number; shadow: number | undefined }, directory: string): Promise<FileOutcome & { runs: number }> {
  let outcome = await runMocha(client, modules, helpers, file, servers, directory, []);
  let runs = 1;
  const ran = (result: FileOutcome): string[] => [...result.passed, ...result.pending, ...result.failed.filter((failure) => !failure.hook).map((failure) => failure.title)];
  while (values.grep === undefined && notRun(outcome) > 0 && runs < 25) {
    const skip = ran(outcome);
    const again = await runMocha(client, modules, helpers, file, servers, directory, skip);
    runs += 1;
    const progress = ran(again).length;
    outcome = {
      file,
      planned: outcome.planned,
      passed: [...outcome.passed, ...again.passed],
      failed: [...outcome.failed, ...again.failed],
      pending: [...outcome.pending, ...again.pending],
      complete: again.complete,
      exitCode: again.exitCode,
    };
    if (progress === 0) break;
  }
  process.stderr.write(`${client} ${file}: ${outcome.passed.length} passing, ${outcome.failed.filter((failure) => !failure.hook).length} failing, ${outcome.pending.length} pending${notRun(outcome) ? `, ${notRun(outcome)} not run` : ''}${runs > 1 ? ` (${runs} runs)` : ''}\n`);
  return { ...outcome, runs };
}

/** The mocha processes and redis-servers running, ended if the runner is interrupted. */
const children = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

/** Tests of a file that never ran: after a failing hook, or in a process that crashed or was killed. */
function notRun(outcome: FileOutcome): number {
  if (outcome.planned === undefined) return 0;
  const ran = outcome.passed.length + outcome.pending.length + outcome.failed.filter((failure) => !failure.hook).length;
  return Math.max(0, outcome.planned - ran);
}

async function runClient(client: Client, modules: string): Promise<Outcome> {
  const { helpers, files } = specFiles();
  // Files that listen on fixed ports (mock servers on 30001, 17379 …) run one after another in worker 0's lane.
  const listens = (file: string): boolean => /MockServer|createServer|\.listen\(/.test(readFileSync(join(suite, file), 'utf8'));
  const lane = files.filter(listens);
  const queue = files.filter((file) => !listens(file));
  const outcomes: FileOutcome[] = [];
  let redirected = 0;
  let blocked = 0;
  writeFileSync(join(results, `${client}.output.log`), '');
  const worker = async (index: number): Promise<void> => {
    const directory = mkdtempSync(join(tmpdir(), `mg-ioredis-suite-${client}-${index}-`));
    const servers: PrivateServer[] = [];
    try {
      const origin = await startRedisServer('origin', directory);
      servers.push(origin);
      const shadow = client === 'shadow' || client === 'shadow-connector' ? await startRedisServer('shadow', directory) : undefined;
      if (shadow !== undefined) servers.push(shadow);
      const connectLog = join(directory, 'connections.log');
      writeFileSync(connectLog, '');
      const next = (): string | undefined => (index === 0 ? (lane.shift() ?? queue.shift()) : queue.shift());
      for (let file = next(); file !== undefined; file = next()) {
        outcomes.push(await runFile(client, modules, helpers, file, { origin: origin.port, shadow: shadow?.port }, directory));
      }
      const lines = readFileSync(connectLog, 'utf8').split('\n');
      redirected += lines.filter((line) => line.startsWith('redirected')).length;
      blocked += lines.filter((line) => line.startsWith('blocked')).length;
    } finally {
      for (const server of servers) server.process.kill();
      // A killed redis-server may still be writing its files: retry, as ENOTEMPTY once crashed a run.
      rmSync(directory, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  };
  console.error(`\n== ${client}: ${files.length} files, ${values.jobs} workers`);
  await Promise.all(Array.from({ length: Number(values.jobs) }, (_, index) => worker(index)));
  outcomes.sort((left, right) => left.file.localeCompare(right.file));
  return { client, files: outcomes, redirected, blocked };
}

// ---- main ------------------------------------------------------------------------------------

const modules = installTestDependencies();
if (!values['no-build']) {
  // The clients are loaded from the packages' build (dist/), as an app would load them.
  const build = spawnSync('npm', ['run', 'build', '--workspace', '@mirrorguard/core', '--workspace', '@mirrorguard/redis-shadow'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('building @mirrorguard/core and @mirrorguard/redis-shadow failed');
  if (clients.includes('shadow-connector')) {
    // The connector prototype is not exported by the package: built on its own, next to the package's build (which cleans dist/ first).
    const connector = spawnSync('npm', ['exec', '--', 'tsdown', '--no-config', 'src/connector/shadow-connector.ts', '-f', 'cjs', '-d', 'dist/connector', '--platform', 'node', '--no-clean'], {
      cwd: join(repo, 'packages', 'redis-shadow'),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (connector.status !== 0) throw new Error('building the connector prototype failed');
  }
}

const summaryFile = join(results, 'summary.json');
const summary = (existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) : {}) as Record<string, Row>;

interface Row {
  suite: string;
  grep: string | null;
  when: string;
  passing: number;
  failing: number;
  pending: number;
  notRun: number;
  crashedFiles: string[];
  connectionsRedirectedFrom6379: number;
  connectionsToOtherHostsBlocked: number;
  failures: string[];
  notRunFiles: Record<string, number>;
}

for (const client of clients) {
  const outcome = await runClient(client, modules);
  const failures = outcome.files.flatMap(({ file, failed }) => failed.map((failure) => ({ file, ...failure })));
  writeFileSync(
    join(results, `${client}-failures.txt`),
    failures.map(({ file, title, error }) => `${title}  [${file}]\n    ${error}\n`).join(''),
  );
  summary[client] = {
    suite: `ioredis ${suitePackage.version}`,
    grep: values.grep ?? null,
    when: new Date().toISOString(),
    passing: outcome.files.reduce((sum, file) => sum + file.passed.length, 0),
    failing: failures.filter((failure) => !failure.hook).length,
    pending: outcome.files.reduce((sum, file) => sum + file.pending.length, 0),
    notRun: outcome.files.reduce((sum, file) => sum + notRun(file), 0),
    crashedFiles: outcome.files.filter((file) => !file.complete).map((file) => file.file),
    connectionsRedirectedFrom6379: outcome.redirected,
    connectionsToOtherHostsBlocked: outcome.blocked,
    failures: failures.map(({ file, title }) => `${title}  [${file}]`),
    notRunFiles: Object.fromEntries(outcome.files.filter((file) => notRun(file) > 0).map((file) => [file.file, notRun(file)])),
  };
  writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + '\n');
}

// What fails under a client and not under plain ioredis (the control) on the same server.
const control = summary['ioredis'];
if (control !== undefined) {
  const controlFailures = new Set(control.failures);
  for (const client of clients.filter((name) => name !== 'ioredis')) {
    const row = summary[client];
    if (row === undefined) continue;
    writeFileSync(join(results, `${client}-regressions.txt`), row.failures.filter((failure) => !controlFailures.has(failure)).join('\n') + '\n');
  }
}

console.log('\nclient          passing  failing  pending  not run (failing hook / crash)');
for (const client of clients) {
  const row = summary[client];
  if (row === undefined) continue;
  // A file whose mocha never reported its end (a client that failed to load, a crash) ran no test it could count.
  const crashed = row.crashedFiles.length > 0 ? `  + ${row.crashedFiles.length} file(s) crashed (see ${client}.output.log)` : '';
  console.log(`${client.padEnd(15)} ${String(row.passing).padStart(7)}  ${String(row.failing).padStart(7)}  ${String(row.pending).padStart(7)}  ${String(row.notRun).padStart(7)}${crashed}`);
}
console.log(`\nfailing tests: ${relative(process.cwd(), results)}/<client>-failures.txt (and -regressions.txt: not failing under plain ioredis); counts: ${relative(process.cwd(), summaryFile)}`);
// A run with crashed files is no measurement: its counts leave those files out.
if (clients.some((client) => (summary[client]?.crashedFiles.length ?? 0) > 0)) process.exitCode = 1;
