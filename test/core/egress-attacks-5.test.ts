import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startByteSentinel } from '../support/byte-sentinel.ts';
import { privateDir } from '../support/private-dir.ts';
import { CORE, outcome, PRELOAD, runScript, strictApp } from '../support/strict-start-escape.ts';

// Attack pass 13d on the egress lockdown: other ways to affect other processes than process.kill and
// os.setPriority, and strict start-up's reading of NODE_OPTIONS. Every mirror is a node process of
// its own, started with the real preload; the oracle is a byte sentinel of this file or a process of
// this file's own (the signals it received, its /proc values). An attack that gets through is an
// `it.fails` asserting the safe behaviour; one refused is an ordinary test.


describe('egress attacks, pass 13d: how strict start-up splits NODE_OPTIONS', () => {
  const dir = privateDir('mirrorguard-egress-attacks-5-');

  // Node splits NODE_OPTIONS on spaces only; the preload's splitNodeOptions on any /\s/ (tabs,
  // newlines). `--require ./p.js<TAB>--require<TAB>./x.cjs` is one --require to node — of the file
  // `x.cjs` in a directory named `p.js<TAB>--require<TAB>.` — and two to the preload, the first of
  // them ./p.js, a symbolic link to the preload. The file node runs keeps process.execve, then
  // requires the real preload, which finds itself first: `preloaded`, and strict start-up accepts it.
  it('a tab in NODE_OPTIONS (node splits on spaces only): the preload does not find itself first, and strict start-up refuses', async () => {
    const sentinel = await startByteSentinel('tcp');
    try {
      const cwd = join(dir, 'tab');
      mkdirSync(join(cwd, 'p.js\t--require\t.'), { recursive: true });
      if (!existsSync(join(cwd, 'p.js'))) symlinkSync(PRELOAD, join(cwd, 'p.js'));
      writeFileSync(join(cwd, 'p.js\t--require\t.', 'x.cjs'), `globalThis.__execveTaken = process.execve;\nrequire(${JSON.stringify(PRELOAD)});\n`);
      const out = await runScript(join(cwd, 'app.mjs'), strictApp(sentinel.port), [], { MIRROR: '1', NODE_OPTIONS: '--require ./p.js\t--require\t./x.cjs' }, cwd);
      const { report, bytes } = await outcome(sentinel, out);
      expect({ started: report.started, bytes }).toEqual({ started: 'MG_ERR_EGRESS_NOT_PRELOADED', bytes: 0 });
    } finally {
      await sentinel.close();
    }
  });
});

describe('egress attacks, pass 13d: other processes', () => {
  const dir = privateDir('mirrorguard-egress-attacks-5-processes-');

  /** A process of this test's own (in a session of its own): answers each line on stdin with the SIGUSR1s it received, while it lives. */
  async function startTarget(): Promise<ChildProcess> {
    const code = "let usr1 = 0; process.on('SIGUSR1', () => { usr1 += 1; }); process.stdin.on('data', () => process.stdout.write('usr1 ' + usr1)); process.stdout.write('ready');";
    const target = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    await once(target.stdout!, 'data');
    return target;
  }

  /** The target's own answer, or how it exited. */
  function fateOf(target: ChildProcess): Promise<string> {
    if (target.exitCode !== null || target.signalCode !== null) return Promise.resolve(`exited ${String(target.signalCode ?? target.exitCode)}`);
    const fate = new Promise<string>((resolve) => {
      target.stdout!.once('data', (chunk: Buffer) => resolve(`alive, ${chunk.toString()}`));
      target.once('exit', (code, signal) => resolve(`exited ${String(signal ?? code)}`));
    });
    target.stdin!.write('ping\n');
    return fate;
  }

  // process._debugProcess(pid) is node's way to open another node process's inspector: it sends
  // SIGUSR1 with uv_kill, beside process._kill. (The target listens for SIGUSR1 itself, so no
  // inspector opens.)
  it('process._debugProcess(pid) of another process (SIGUSR1) is refused', async () => {
    const target = await startTarget();
    try {
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  let sent;
  try { sent = String(process._debugProcess(${target.pid})); } catch (error) { sent = error.code ?? String(error); }
  process.stdout.write(sent);
});
`;
      const out = await runScript(join(dir, 'debug-process.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      // The signal is pending in the target once the app's kill returned; a second ping lets its handler run first.
      await fateOf(target);
      expect({ out, fate: await fateOf(target) }).toEqual({ out: 'MG_ERR_EGRESS_REFUSED', fate: 'alive, usr1 0' });
    } finally {
      target.kill();
    }
  });

  // /proc/<pid>/autogroup sets the nice value of another process's autogroup (its scheduling
  // priority, as os.setPriority does), /proc/<pid>/oom_score_adj which process the OOM killer takes:
  // both writable by the process's owner, both plain file writes the lockdown does not look at.
  it.fails('HOLE: writing /proc/<pid>/autogroup and /proc/<pid>/oom_score_adj of another process; both must stay', async () => {
      // A kernel without autogroup would make this pass for the wrong reason: say so instead.
      expect(existsSync('/proc/self/autogroup'), 'this kernel has no /proc/<pid>/autogroup').toBe(true);
      const target = await startTarget();
      try {
        const read = (): string => `${readFileSync(`/proc/${target.pid}/autogroup`, 'utf8').trim().replace(/^.* nice /, 'nice ')}, oom ${readFileSync(`/proc/${target.pid}/oom_score_adj`, 'utf8').trim()}`;
        const before = read();
        const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  const fs = require('node:fs');
  const results = {};
  const attempt = (name, run) => { try { run(); results[name] = 'written'; } catch (error) { results[name] = error.code; } };
  attempt('autogroup', () => fs.writeFileSync('/proc/${target.pid}/autogroup', '7'));
  attempt('oom_score_adj', () => fs.writeFileSync('/proc/${target.pid}/oom_score_adj', '321'));
  process.stdout.write(JSON.stringify(results));
});
`;
        const out = await runScript(join(dir, 'proc-writes.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
        expect({ out: JSON.parse(out) as unknown, after: read() }).toEqual({ out: { autogroup: 'MG_ERR_EGRESS_REFUSED', oom_score_adj: 'MG_ERR_EGRESS_REFUSED' }, after: before });
      } finally {
        target.kill();
      }
    });

  it('refused: a detached child, a shell signalling the target’s process group, os.setPriority from a worker; process_methods is out of reach', async () => {
    const target = await startTarget();
    try {
      const app = `
import(${JSON.stringify(CORE)}).then(async (core) => {
  await core.createGuards({ profile: 'mirror', strict: true, providers: {} });
  const { spawn, execSync } = require('node:child_process');
  const { Worker } = require('node:worker_threads');
  const results = {};
  const attempt = (name, run) => { try { results[name] = String(run()); } catch (error) { results[name] = error.code ?? 'threw'; } };
  attempt('detached spawn', () => spawn('sh', ['-c', 'kill -USR1 -- -${target.pid}'], { detached: true, stdio: 'ignore' }).pid);
  attempt('shell kill of the group', () => execSync('kill -USR1 -- -${target.pid}'));
  attempt('process_methods', () => typeof process.binding('process_methods').kill);
  const worker = new Worker("const { parentPort } = require('node:worker_threads'); try { require('node:os').setPriority(${target.pid}, 10); parentPort.postMessage('set'); } catch (error) { parentPort.postMessage(error.code); }", { eval: true });
  const [message] = await require('node:events').once(worker, 'message');
  results['worker setPriority'] = message;
  await worker.terminate();
  process.stdout.write(JSON.stringify(results));
});
`;
      const out = await runScript(join(dir, 'others.cjs'), app, ['--require', PRELOAD], { MIRROR: '1' });
      expect(JSON.parse(out) as unknown).toEqual({
        'detached spawn': 'MG_ERR_EGRESS_REFUSED',
        'shell kill of the group': 'MG_ERR_EGRESS_REFUSED',
        process_methods: 'threw',
        'worker setPriority': 'MG_ERR_EGRESS_REFUSED',
      });
      await fateOf(target);
      expect(await fateOf(target)).toBe('alive, usr1 0');
    } finally {
      target.kill();
    }
  });
});
