import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpStub, harStore } from '@mirrorguard/http-stub';
import { Agent, SnapshotAgent, fetch as undiciFetch, request, type Dispatcher } from 'undici';
import { alternatingRounds } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';
import { startSentinelServer } from '../../test/support/sentinel-server.ts';

export interface HttpReplayResult {
  readonly exchanges: number;
  readonly replayPerSecond: { readonly httpStub: number; readonly snapshotAgent: number; readonly nock: number };
  readonly vsSnapshotAgent: number;
  readonly vsNock: number;
  readonly recordPerSecond: { readonly plain: number; readonly recording: number; readonly ratio: number };
}

/** The n-th exchange of the workload: GETs with a query, and POSTs with a JSON body. */
const call = (n: number): { path: string; method: 'GET' | 'POST'; body?: string } =>
  n % 2 === 0 ? { path: `/items/${n}?view=full&page=${n % 7}`, method: 'GET' } : { path: `/orders/${n}`, method: 'POST', body: JSON.stringify({ order: n, lines: [{ sku: `s-${n}`, qty: n % 5 }] }) };

/** Runs `count` calls through `send`, 16 at a time; returns calls per second. */
async function drive(count: number, send: (n: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let n = next++; n < count; n = next++) await send(n);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/**
 * The n-th call through npm undici's fetch with `dispatcher`, or, without one, through Node's own
 * fetch (the one nock intercepts).
 */
async function fetchVia(origin: string, n: number, dispatcher?: Dispatcher): Promise<string> {
  const { path, method, body } = call(n);
  const init = { method, ...(body !== undefined && { body, headers: { 'content-type': 'application/json' } }) };
  const response = dispatcher === undefined ? await fetch(`${origin}${path}`, init) : await undiciFetch(`${origin}${path}`, { ...init, dispatcher });
  return response.text();
}

/**
 * Replay of the same 10,000 recorded exchanges by http-stub (its HAR store), by undici's
 * SnapshotAgent in playback mode (both through npm undici's fetch), and by nock (its interceptors,
 * through Node's own fetch);
 * and the cost of recording against a plain call to a local server.
 */
export async function httpReplayBench({ rounds = 4, exchanges = 10_000 } = {}): Promise<HttpReplayResult> {
  const server = await startSentinelServer((seen) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: seen.url, body: seen.body }) }));
  const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-bench-http-'));
  const harFile = join(folder, 'exchanges.har');
  const snapshotFile = join(folder, 'snapshots.json');
  // nock takes over node:http and fetch as soon as it is loaded: only while its rounds run.
  const { default: nock } = await import('nock');
  nock.restore();
  try {
    // Record the exchanges once with each tool.
    const recorder = createHttpStub({ mode: 'record', store: harStore({ file: harFile }) });
    await drive(exchanges, (n) => fetchVia(server.origin, n, recorder.dispatcher));
    await recorder.dispose();
    const snapshotRecorder = new SnapshotAgent({ mode: 'record', snapshotPath: snapshotFile });
    await drive(exchanges, (n) => fetchVia(server.origin, n, snapshotRecorder));
    await snapshotRecorder.saveSnapshots();
    await snapshotRecorder.close();
    const reachedWhileRecording = server.seen.length;

    const results = { httpStub: [] as number[], snapshotAgent: [] as number[], nock: [] as number[] };
    await alternatingRounds(['httpStub', 'snapshotAgent', 'nock'] as const, rounds, async (variant) => {
      if (variant === 'httpStub') {
        const stub = createHttpStub({ mode: 'replay', store: harStore({ file: harFile }) });
        results.httpStub.push(await drive(exchanges, (n) => fetchVia(server.origin, n, stub.dispatcher)));
        await stub.dispose();
      } else if (variant === 'snapshotAgent') {
        const agent = new SnapshotAgent({ mode: 'playback', snapshotPath: snapshotFile });
        results.snapshotAgent.push(await drive(exchanges, (n) => fetchVia(server.origin, n, agent)));
        await agent.close();
      } else {
        nock.activate();
        for (let n = 0; n < exchanges; n += 1) {
          const { path, method, body } = call(n);
          nock(server.origin).intercept(path, method, body).reply(200, JSON.stringify({ path, body: body ?? '' }), { 'content-type': 'application/json' });
        }
        nock.disableNetConnect();
        results.nock.push(await drive(exchanges, (n) => fetchVia(server.origin, n)));
        nock.cleanAll();
        nock.enableNetConnect();
        nock.restore();
      }
    });
    if (server.seen.length !== reachedWhileRecording) throw new Error(`replay reached the server ${server.seen.length - reachedWhileRecording} times`);

    // Recording's cost: the same calls to the local server, plain vs through the recording stub.
    const plainAgent = new Agent();
    const record = { plain: [] as number[], recording: [] as number[] };
    await alternatingRounds(['plain', 'recording'] as const, rounds, async (variant) => {
      const stub = variant === 'recording' ? createHttpStub({ mode: 'record', store: harStore({ file: join(folder, `recording-${Math.random()}.har`) }), dispatcher: plainAgent }) : undefined;
      const dispatcher = stub?.dispatcher ?? plainAgent;
      record[variant].push(
        await drive(2_000, async (n) => {
          const { path, method, body } = call(n);
          const response = await request(`${server.origin}${path}`, { method, ...(body !== undefined && { body }), dispatcher });
          return response.body.text();
        }),
      );
      await stub?.dispose();
    });
    await plainAgent.close();

    const replayPerSecond = { httpStub: median(results.httpStub), snapshotAgent: median(results.snapshotAgent), nock: median(results.nock) };
    const result: HttpReplayResult = {
      exchanges,
      replayPerSecond,
      vsSnapshotAgent: pairedRatio(results.snapshotAgent, results.httpStub),
      vsNock: pairedRatio(results.nock, results.httpStub),
      recordPerSecond: { plain: median(record.plain), recording: median(record.recording), ratio: pairedRatio(record.plain, record.recording) },
    };
    printTable(
      `HTTP replay of the same ${exchanges} recorded exchanges, 16 concurrent fetch calls (npm undici's fetch; Node's own for nock, which only intercepts that one), ${rounds} alternating rounds ("vs" is the median of per-round ratios)`,
      ['replayer', 'calls / s', 'http-stub vs it'],
      [
        ['@mirrorguard/http-stub (HAR)', replayPerSecond.httpStub.toFixed(0), ''],
        ['undici SnapshotAgent (playback)', replayPerSecond.snapshotAgent.toFixed(0), `${result.vsSnapshotAgent.toFixed(2)}×`],
        ['nock (one interceptor per exchange)', replayPerSecond.nock.toFixed(0), `${result.vsNock.toFixed(2)}×`],
      ],
    );
    printTable(
      `HTTP record overhead: 2,000 calls to a local server through undici's request, 16 concurrent, ${rounds} alternating rounds`,
      ['client', 'calls / s', 'vs plain'],
      [
        ['plain undici Agent', result.recordPerSecond.plain.toFixed(0), '1.00×'],
        ['through the recording stub (HAR)', result.recordPerSecond.recording.toFixed(0), `${result.recordPerSecond.ratio.toFixed(2)}×`],
      ],
    );
    return result;
  } finally {
    await server.close();
  }
}
