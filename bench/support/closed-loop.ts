/**
 * Operations per second of `workers` closed loops, each awaiting `operation(n)` back to back for
 * `seconds`. `n` walks a pseudo-random sequence over [0, keys), a different start per loop.
 */
export async function operationsPerSecond(
  operation: (n: number) => Promise<unknown>,
  { seconds, workers, keys }: { seconds: number; workers: number; keys: number },
): Promise<number> {
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
  return done / seconds;
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
