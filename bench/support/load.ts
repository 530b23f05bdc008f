import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export interface BenchServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a server script in its own process (so the load generator does not share its event loop). */
export async function startServer(script: URL, env: Record<string, string> = {}): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, [script.pathname], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Drives `url` with autocannon for `seconds` and reports what it measured. */
export async function load(url: string, seconds: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  const result = await autocannon({ url, connections: 50, pipelining: 1, duration: seconds, headers });
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The median of the per-round ratios candidate[i] / baseline[i]. Rounds run back to back, so a
 * slow spell of a shared machine hits both sides of a pair alike; the pairs cancel it.
 */
export function pairedRatio(baseline: readonly number[], candidate: readonly number[]): number {
  return median(baseline.map((value, round) => candidate[round]! / value));
}
