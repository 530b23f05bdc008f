export interface ClosedLoopResult {
  readonly perSecond: number;
  /**
   * This process's CPU time (user + system) per operation, in microseconds: what the client side
   * costs, which a shared 2-core machine's throughput figures hide in their noise.
   */
  readonly cpuMicrosPerOperation: number;
}

/**
 * Operations per second of `workers` closed loops, each awaiting `operation(n)` back to back for
 * `seconds`. `n` walks a pseudo-random sequence over [0, keys), a different start per loop.
 */
export async function operationsPerSecond(
  operation: (n: number) => Promise<unknown>,
  options: { seconds: number; workers: number; keys: number },
): Promise<number> {
  return (await closedLoop(operation, options)).perSecond;
}

/** As operationsPerSecond, with this process's CPU time per operation. */
export async function closedLoop(
  operation: (n: number) => Promise<unknown>,
  { seconds, workers, keys }: { seconds: number; workers: number; keys: number },
): Promise<ClosedLoopResult> {
  const cpuBefore = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let n = worker % keys; performance.now() < deadline; n = (n * 7919 + 1) % keys) {
        await operation(n);
        done += 1;
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond: done / seconds, cpuMicrosPerOperation: (cpu.user + cpu.system) / Math.max(done, 1) };
}

/**
 * Runs every variant once per round, in alternating order (A B, B A, …), so drift on a shared
 * machine hits each alike; pair the per-round figures with pairedRatio.
 */
export async function alternatingRounds<V>(variants: readonly V[], rounds: number, run: (variant: V) => Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) await run(variant);
  }
}
