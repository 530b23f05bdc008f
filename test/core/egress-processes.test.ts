import childProcess, { exec, execFile, execFileSync, execSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createGuards, memorySink, type EgressOptions, type Guards, type JournalEvent } from '@mirrorguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';

// Child processes and worker threads in the mirror profile. The oracle of "it did not start" is a
// marker file the process would have written first, and a sentinel it would have connected to.

type Starter = (script: string) => unknown;

const node = process.execPath;

describe('egress lockdown: child processes and workers', () => {
  const dir = privateDir('mirrorguard-egress-processes-');
  const sink = memorySink({ limit: 10_000 });
  let sentinel: ByteSentinel;
  // Its own, so that children let through earlier (connecting when they get to it) do not count here.
  let workerSentinel: ByteSentinel;
  let marker = 0;
  // The functions as a module that destructured them at load (CommonJS) keeps them: captured before the lockdown.
  let captured: Record<string, (...args: never[]) => unknown>;
  let CapturedWorker: typeof Worker;
  let capturedSpawnMethod: (this: childProcess.ChildProcess, options: object) => unknown;
  let guards: Guards<Record<string, never>> | undefined;

  /** The lockdown's settings are the last createGuards' (one journal attached at a time here). */
  async function mirror(egress: EgressOptions = {}): Promise<void> {
    await guards?.close();
    guards = await createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] }, egress });
  }

  /**
   * A node script that writes a marker file, then connects to the sentinel — without waiting for
   * it: a synchronous start blocks this process, and the sentinel with it.
   */
  const script = (): { code: string; file: string } => {
    marker += 1;
    const file = join(dir, `started-${marker}`);
    return { file, code: `require('fs').writeFileSync(${JSON.stringify(file)}, 'x'); require('net').connect(${sentinel.port}, '127.0.0.1').end('x').unref()` };
  };

  const starters: Record<string, (code: string) => unknown> = {
    'spawn (ESM binding)': (code) => spawn(node, ['-e', code]),
    'exec (ESM binding)': (code) => exec(`${JSON.stringify(node)} -e ${JSON.stringify(code)}`),
    'execFile (ESM binding)': (code) => execFile(node, ['-e', code]),
    'fork (ESM binding)': (code) => fork('-e', [code], { execArgv: [] }),
    'spawnSync (ESM binding)': (code) => spawnSync(node, ['-e', code]),
    'execSync (ESM binding)': (code) => execSync(`${JSON.stringify(node)} -e ${JSON.stringify(code)}`),
    'execFileSync (ESM binding)': (code) => execFileSync(node, ['-e', code]),
    'child_process.spawn': (code) => childProcess.spawn(node, ['-e', code]),
    'child_process.execFileSync': (code) => childProcess.execFileSync(node, ['-e', code]),
    'spawn captured before the lockdown': (code) => (captured.spawn as Starter & typeof spawn)(node, ['-e', code]),
    'execFile captured before the lockdown': (code) => (captured.execFile as typeof execFile)(node, ['-e', code]),
    'spawnSync captured before the lockdown': (code) => (captured.spawnSync as typeof spawnSync)(node, ['-e', code]),
    'execSync captured before the lockdown': (code) => (captured.execSync as typeof execSync)(`${JSON.stringify(node)} -e ${JSON.stringify(code)}`),
    'execFileSync captured before the lockdown': (code) => (captured.execFileSync as typeof execFileSync)(node, ['-e', code]),
  };

  /** Starts a child; resolves with the error it was refused with (thrown, or emitted), or undefined once it exited. */
  async function start(name: string, code: string): Promise<unknown> {
    let child: unknown;
    try {
      child = starters[name]!(code);
    } catch (error) {
      return error;
    }
    if (!(child instanceof childProcess.ChildProcess)) return undefined;
    return new Promise((resolve) => {
      child.once('error', resolve);
      child.once('close', () => resolve(undefined));
    });
  }

  beforeAll(async () => {
    sentinel = await startByteSentinel('tcp');
    workerSentinel = await startByteSentinel('tcp');
    const cjs = createRequire(import.meta.url)('node:child_process') as typeof childProcess;
    captured = { spawn: cjs.spawn, execFile: cjs.execFile, spawnSync: cjs.spawnSync, execSync: cjs.execSync, execFileSync: cjs.execFileSync } as never;
    capturedSpawnMethod = (childProcess.ChildProcess.prototype as unknown as { spawn: typeof capturedSpawnMethod }).spawn;
    CapturedWorker = (createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof Worker }).Worker;
    await mirror();
  });

  afterAll(async () => {
    await sentinel.close();
    await workerSentinel.close();
  });

  it.each(Object.keys(starters))('%s: refused before anything starts, journaled', async (name) => {
    const { code, file } = script();
    const seen = sink.events().length;
    const error = await start(name, code);
    expect(error).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    expect(existsSync(file)).toBe(false);
    expect(sentinel.connections()).toBe(0);
    const events = sink.events().slice(seen);
    expect(events.filter((event) => event.action === 'blocked' && event.dependency === 'process')).toHaveLength(1);
    expect(events[0]!.operation).toMatch(/^spawn /);
  });

  it('ChildProcess.prototype.spawn captured before the lockdown: the Process handle refuses (spawn EACCES)', async () => {
    const { code, file } = script();
    const seen = sink.events().length;
    const child = new childProcess.ChildProcess();
    const failed = new Promise((resolve) => child.once('error', resolve));
    capturedSpawnMethod.call(child, { file: node, args: [node, '-e', code], envPairs: [], stdio: ['ignore', 'ignore', 'ignore'] });
    expect(await failed).toMatchObject({ code: 'EACCES', syscall: expect.stringMatching(/^spawn/) });
    expect(existsSync(file)).toBe(false);
    expect(sink.events().slice(seen)).toEqual([expect.objectContaining({ dependency: 'process', action: 'blocked', reason: expect.stringContaining('process_wrap Process.prototype.spawn') })]);
  });

  it('with egress.childProcesses, children start, each journaled as passed (and are outside the lockdown)', async () => {
    await mirror({ childProcesses: true });
    for (const name of ['spawn (ESM binding)', 'execFileSync (ESM binding)', 'spawnSync captured before the lockdown']) {
      const { code, file } = script();
      const seen = sink.events().length;
      expect(await start(name, code)).toBeUndefined();
      expect(existsSync(file)).toBe(true);
      // Captured sync functions skip the export, where allowed children are journaled; the handle layer below lets them pass silently.
      if (!name.includes('captured')) {
        expect(sink.events().slice(seen)).toEqual([expect.objectContaining({ dependency: 'process', action: 'passed', operation: expect.stringMatching(/^spawn .*node/) })]);
      }
    }
    await mirror({ childProcesses: false });
    expect(await start('spawn (ESM binding)', script().code)).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
  });

  /** Runs a worker that connects to the sentinel; resolves with its connect error's code. */
  function workerConnect(WorkerClass: typeof Worker): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const worker = new WorkerClass(
        `const s = require('net').connect(${workerSentinel.port}, '127.0.0.1'); s.on('connect', () => { s.end('x'); require('worker_threads').parentPort.postMessage('connected'); }); s.on('error', (e) => require('worker_threads').parentPort.postMessage(e.code));`,
        { eval: true },
      );
      worker.once('message', (message) => {
        void worker.terminate();
        resolve(message);
      });
      worker.once('error', reject);
    });
  }

  function refusalFromWorker(seen: number): Promise<JournalEvent> {
    const find = (): JournalEvent | undefined => sink.events().slice(seen).find((event) => event.action === 'blocked' && event.reason.includes('in worker thread'));
    return new Promise((resolve) => {
      const look = (): void => {
        const event = find();
        if (event) resolve(event);
        else setImmediate(look);
      };
      look();
    });
  }

  it('a worker starts with the lockdown preloaded: its connection is refused and journaled by the main thread', async () => {
    const seen = sink.events().length;
    expect(await workerConnect(Worker)).toBe('MG_ERR_EGRESS_REFUSED');
    expect(workerSentinel.connections()).toBe(0);
    expect(await refusalFromWorker(seen)).toMatchObject({ dependency: 'network', operation: `connect tcp 127.0.0.1:${workerSentinel.port}` });
  });

  it("egress.workers 'refuse': the worker does not start", async () => {
    await mirror({ workers: 'refuse' });
    const file = join(dir, 'worker-started');
    expect(() => new Worker(`require('fs').writeFileSync(${JSON.stringify(file)}, 'x')`, { eval: true })).toThrow(expect.objectContaining({ code: 'MG_ERR_EGRESS_REFUSED' }));
    expect(sink.events().at(-1)).toMatchObject({ dependency: 'process', action: 'blocked', operation: expect.stringMatching(/^worker /) });
    await mirror({ workers: 'lockdown' });
    expect(existsSync(file)).toBe(false);
  });

  // A known hole, kept visible: a Worker class a module captured before the lockdown starts a worker
  // without it, unless the process started with the preload (which every worker inherits; see
  // egress-preload.test.ts). This test shows the hole exists, so that closing it is noticed.
  it('known hole: a Worker captured before the lockdown, without the preload, starts unlocked', async () => {
    expect(CapturedWorker).not.toBe(Worker);
    expect(await workerConnect(CapturedWorker)).toBe('connected');
    await workerSentinel.bytesAbove(0);
  });
});
