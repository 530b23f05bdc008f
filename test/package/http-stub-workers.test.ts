import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import workerThreads, { SHARE_ENV, type WorkerOptions } from 'node:worker_threads';
import { createJournal, memorySink } from '@mirrorguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';
import { ROOT } from '../support/workspace-packages.ts';

// Worker threads under a replaying stub (issue 13, class 1). A worker has its own globals, undici
// and node:http, out of the main thread's reach, and a preload does not bind one made with its own
// execArgv, env or eval: replay starts every worker with its guard (every outbound call refused,
// MG_ERR_HTTP_WORKER), and refuses to start one it cannot guard. The oracle: a sentinel that
// counts every connection and byte it receives. Here, not among the integration tests, because a
// worker loads the guard with Node itself, which resolves @mirrorguard/core to its build.

/** The Worker class as it was before any stub was installed: a library that kept it has this one. */
const CapturedWorker = workerThreads.Worker;
const CALLS = new URL('../support/worker-http-calls.ts', import.meta.url);
const folder = privateDir('mirrorguard-workers-');
const empty = join(folder, 'empty.har');
writeFileSync(empty, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '0' }, entries: [] } }));

/** Ways to start a worker: a file, code given with eval, its own execArgv, env, a worker it starts in turn. */
const SPAWNS: Record<string, (origin: string) => [string | URL, WorkerOptions]> = {
  'a file': (origin) => [CALLS, { workerData: { origin } }],
  'a file, execArgv: []': (origin) => [CALLS, { workerData: { origin }, execArgv: [] }],
  'a file, its own execArgv': (origin) => [CALLS, { workerData: { origin }, execArgv: ['--no-warnings', '--no-deprecation'] }],
  'a file, env: {}': (origin) => [CALLS, { workerData: { origin }, env: {} }],
  'a file, env: SHARE_ENV': (origin) => [CALLS, { workerData: { origin }, env: SHARE_ENV }],
  'eval: true': (origin) => [`import(${JSON.stringify(CALLS.href)})`, { eval: true, workerData: { origin }, execArgv: [] }],
  'a worker that starts a worker': (origin) => [CALLS, { workerData: { origin, nested: true }, execArgv: [] }],
};

/** Starts a worker with worker_threads.Worker as it is now, and resolves with what its calls got. */
function runWorker(filename: string | URL, options: WorkerOptions): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const worker = new workerThreads.Worker(filename, options);
    worker.once('message', (outcomes: Record<string, string>) => {
      void worker.terminate();
      resolve(outcomes);
    });
    worker.once('error', reject);
  });
}

describe('worker threads under a replaying stub', () => {
  let sentinel: ByteSentinel;
  let origin: string;
  let stub: HttpStub | undefined;
  const counts = (): [number, number] => [sentinel.connections(), sentinel.bytes()];

  beforeAll(async () => {
    sentinel = await startByteSentinel('http');
    origin = `http://127.0.0.1:${sentinel.port}`;
  });
  afterAll(async () => {
    await stub?.dispose();
    stub?.reopenNetwork();
    await sentinel.close();
  });

  it.each(Object.keys(SPAWNS))('%s: reaches the sentinel with no stub; with a replaying stub, every call is refused and nothing arrives', async (spawn) => {
    const [filename, options] = SPAWNS[spawn]!(origin);
    const control = await runWorker(filename, options);
    expect(Object.values(control).every((outcome) => outcome === 'answered 200'), JSON.stringify(control)).toBe(true);

    stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), allowHosts: [`127.0.0.1:${sentinel.port}`] });
    stub.install();
    try {
      const before = counts();
      const outcomes = await runWorker(filename, options);
      expect(Object.keys(outcomes)).toEqual(Object.keys(control));
      for (const [name, outcome] of Object.entries(outcomes)) expect(outcome, name).toBe('MG_ERR_HTTP_WORKER');
      // Closed: the stub is disposed, and a worker started now is guarded all the same.
      await stub.dispose();
      const closed = await runWorker(filename, options);
      for (const [name, outcome] of Object.entries(closed)) expect(outcome, name).toBe('MG_ERR_HTTP_WORKER');
      expect(counts()).toEqual(before);
    } finally {
      await stub.dispose();
      stub.reopenNetwork();
      stub = undefined;
    }
  });

  it('refuses, before its thread starts, a worker made through a Worker class taken before install()', async () => {
    const sink = memorySink();
    stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), journal: createJournal({ profile: 'mirror', sinks: [sink] }) });
    stub.install();
    const marker = join(folder, 'ran');
    const before = counts();
    try {
      const code = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); fetch(${JSON.stringify(`${origin}/escaped`)}, { method: 'POST' })`;
      expect(() => new CapturedWorker(code, { eval: true })).toThrow(expect.objectContaining({ code: 'MG_ERR_HTTP_WORKER' }));
      expect(() => new CapturedWorker(code, { eval: true, execArgv: [], env: {} })).toThrow(expect.objectContaining({ code: 'MG_ERR_HTTP_WORKER' }));
      // Made through worker_threads.Worker now, the same code runs, guarded.
      await runWorker(`require('node:fs').writeFileSync(${JSON.stringify(`${marker}-guarded`)}, 'ran'); require('node:worker_threads').parentPort.postMessage({})`, { eval: true });
    } finally {
      await stub.dispose();
      stub.reopenNetwork();
      stub = undefined;
    }
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(`${marker}-guarded`)).toBe(true);
    expect(counts()).toEqual(before);
    expect(sink.events().filter((event) => event.action === 'blocked').map((event) => event.operation)).toEqual(['new Worker(code given with eval)', 'new Worker(code given with eval)']);
  });

  it('record leaves workers alone: their calls go out', async () => {
    stub = createHttpStub({ mode: 'record', store: harStore({ file: join(folder, 'record.har') }) });
    stub.install();
    try {
      const outcomes = await runWorker(CALLS, { workerData: { origin } });
      expect(Object.values(outcomes)).toEqual(['answered 200', 'answered 200', 'answered 200']);
    } finally {
      await stub.dispose();
      stub = undefined;
    }
  });

  it.each(['module', 'commonjs'] as const)('guards a worker of a process (%s, the built package) started with options a worker cannot take (--expose-gc, --max-old-space-size)', async (type) => {
    const load =
      type === 'module'
        ? `import { Worker } from 'node:worker_threads'; import { createHttpStub, harStore } from '@mirrorguard/http-stub';`
        : // (Worker looked up after install(): one destructured before it is refused, as above.)
          `const workerThreads = require('node:worker_threads'); const { createHttpStub, harStore } = require('@mirrorguard/http-stub');`;
    const script = `
      ${load}
      const stub = createHttpStub({ mode: 'replay', store: harStore({ file: ${JSON.stringify(empty)} }) });
      stub.install();
      const worker = new ${type === 'module' ? 'Worker' : 'workerThreads.Worker'}(${JSON.stringify(`fetch(${JSON.stringify(`${origin}/from-child`)}).then(() => 'answered', (error) => error.cause?.code ?? String(error)).then(async (outcome) => (await import('node:worker_threads')).parentPort.postMessage(outcome))`)}, { eval: true });
      worker.once('message', (outcome) => { console.log(JSON.stringify({ outcome })); worker.terminate(); });
      worker.once('error', (error) => { console.log(JSON.stringify({ error: String(error) })); });
    `;
    const before = counts();
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--max-old-space-size=256', `--input-type=${type}`, '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ outcome: 'MG_ERR_HTTP_WORKER' });
    expect(counts()).toEqual(before);
  });
});

// The worker's guard is the package's own file, found beside the module that starts workers.
it('builds the worker guard beside the bundles', () => {
  for (const file of ['worker-guard.cjs', 'worker-guard.mjs']) expect(existsSync(fileURLToPath(new URL(`../../packages/http-stub/dist/${file}`, import.meta.url))), file).toBe(true);
});
