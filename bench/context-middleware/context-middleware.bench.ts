import { alternatingRounds } from '../support/closed-loop.ts';
import { load, median, pairedRatio, startServer } from '../support/load.ts';
import { printTable } from '../support/table.ts';

const SERVER = new URL('./server.ts', import.meta.url);

export interface ContextMiddlewareResult {
  readonly plainRps: number;
  readonly contextRps: number;
  readonly generatedRps: number;
  readonly ratio: number;
  readonly generatedRatio: number;
}

/**
 * Requests per second of the same Express app without and with the context middleware, measured
 * by autocannon in alternating rounds (A B C, C B A, …) so that drift on a shared machine hits
 * every variant alike. The figure quoted is the median round.
 */
export async function contextMiddlewareBench({ rounds = 5, seconds = 3 } = {}): Promise<ContextMiddlewareResult> {
  const plain = await startServer(SERVER);
  const withContext = await startServer(SERVER, { BENCH_CONTEXT: '1' });
  const variants = [
    { name: 'without middleware', server: plain, headers: { 'x-request-id': 'bench-request' }, rps: [] as number[], p99: [] as number[], errors: 0 },
    { name: 'with middleware (x-request-id)', server: withContext, headers: { 'x-request-id': 'bench-request' }, rps: [] as number[], p99: [] as number[], errors: 0 },
    { name: 'with middleware (generated id)', server: withContext, headers: {}, rps: [] as number[], p99: [] as number[], errors: 0 },
  ];
  try {
    for (const variant of variants) await load(`${variant.server.url}/orders/7`, 1, variant.headers); // warm-up
    await alternatingRounds(variants, rounds, async (variant) => {
      const result = await load(`${variant.server.url}/orders/7`, seconds, variant.headers);
      variant.rps.push(result.requestsPerSecond);
      variant.p99.push(result.p99Ms);
      variant.errors += result.errors;
    });
  } finally {
    await plain.stop();
    await withContext.stop();
  }
  const ratioTo = (variant: (typeof variants)[number]): number => pairedRatio(variants[0]!.rps, variant.rps);
  const [base, context, generated] = variants.map((variant) => ({ ...variant, ratio: ratioTo(variant), rps: median(variant.rps), p99: median(variant.p99) }));
  printTable(
    `Express: request-context middleware (autocannon, 50 connections, ${rounds} alternating rounds of ${seconds} s, Node ${process.version}; "vs without" is the median of per-round ratios)`,
    ['variant', 'req/s (median)', 'p99 ms', 'errors', 'vs without'],
    [base!, context!, generated!].map((row) => [
      row.name,
      row.rps.toFixed(0),
      row.p99.toFixed(1),
      String(row.errors),
      row.ratio.toFixed(3),
    ]),
  );
  return {
    plainRps: base!.rps,
    contextRps: context!.rps,
    generatedRps: generated!.rps,
    ratio: context!.ratio,
    generatedRatio: generated!.ratio,
  };
}
