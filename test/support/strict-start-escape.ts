import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ByteSentinel } from './byte-sentinel.ts';

// A strict mirror started in a node process of its own, for the attacks on strict start-up: did it
// start, and could code that ran before the preload (keeping process.execve) get a byte out?

export const PRELOAD = fileURLToPath(new URL('../../packages/core/src/egress/egress-preload.ts', import.meta.url));
export const CORE = pathToFileURL(fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url))).href;

/** Runs `file` (written from `code`) in a node process of its own, with `args` before it; its stdout. */
export function runScript(file: string, code: string, args: readonly string[] = [], env: Record<string, string> = {}, cwd?: string): Promise<string> {
  writeFileSync(file, code);
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, file], { env: { ...process.env, NODE_OPTIONS: '', MIRROR: '', MIRROR_PROFILE: '', MIRROR_STRICT: '', MIRRORGUARD_EGRESS_ALLOW: '', ...env }, timeout: 60_000, ...(cwd !== undefined && { cwd }) }, (_error, out) => resolve(out));
  });
}

/** A program that connects to `port` on loopback and writes one line. */
export const escapee = (port: number): string => `require('net').connect(${port}, '127.0.0.1', function () { this.end('escaped'); }).on('error', () => {});`;

/**
 * The app: a strict mirror. It reports (first line), and when strict start-up accepted it, replaces
 * itself through the execve the early code kept with a program that connects to the sentinel.
 */
export const strictApp = (port: number): string => `
import { writeSync } from 'node:fs';
const core = await import(${JSON.stringify(CORE)});
let started;
try { await core.createGuards({ profile: 'mirror', strict: true, providers: {} }); started = 'started'; } catch (error) { started = error.code; }
const lockdown = core.getEgressLockdown();
const escapes = started === 'started' && typeof globalThis.__execveTaken === 'function';
writeSync(1, JSON.stringify({ started, preloaded: lockdown?.preloaded, ranBefore: lockdown?.ranBefore, escapes }) + '\\n');
if (escapes) {
  try { globalThis.__execveTaken(process.execPath, [process.execPath, '-e', ${JSON.stringify(escapee(port))}], { PATH: '' }); } catch (error) { writeSync(1, 'execve ' + error.code + '\\n'); }
}
`;

export interface StrictReport {
  started: string;
  preloaded: boolean;
  ranBefore: string[];
  escapes: boolean;
}

/** The app's report, and the sentinel's bytes: when the app replaced itself, once the escapee's connection closed (an event, no timer). */
export async function outcome(sentinel: ByteSentinel, out: string): Promise<{ report: StrictReport; bytes: number }> {
  const report = JSON.parse(out.split('\n')[0]!) as StrictReport;
  // Replaced: the escapee prints nothing; refused: the app said so on a second line.
  if (report.escapes && !out.includes('\nexecve ')) await sentinel.bytesAbove(0);
  return { report, bytes: sentinel.bytes() };
}
