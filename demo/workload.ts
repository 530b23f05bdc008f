import { Agent, request } from 'undici';

/** The demo's catalogue. Plenty of stock, so that no answer hangs on which of two services counted first. */
export const PRODUCTS: ReadonlyArray<{ readonly name: string; readonly price: number; readonly stock: number }> = [
  { name: 'lamp', price: 12, stock: 100_000 },
  { name: 'chair', price: 45, stock: 100_000 },
  { name: 'mug', price: 8, stock: 100_000 },
  { name: 'notebook', price: 5, stock: 100_000 },
  { name: 'headphones', price: 90, stock: 100_000 },
  { name: 'backpack', price: 60, stock: 100_000 },
  // Charges over 1,000 are declined by the payments service.
  { name: 'desk', price: 1500, stock: 100_000 },
  { name: 'monitor', price: 320, stock: 100_000 },
];

export interface DemoRequest {
  readonly kind: 'product (cache hit)' | 'product (cache miss, unknown)' | 'order (paid)' | 'order (declined)' | 'order (out of stock)' | 'order (unknown product)' | 'order (malformed)';
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
}

/** A small, seeded generator (mulberry32): the same workload on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const order = (productId: number, quantity: number): string => JSON.stringify({ productId, quantity });

/** The requests the primary has served before mirroring starts: every product is in the cache. */
export const WARM_UP: readonly DemoRequest[] = PRODUCTS.map((_, index) => ({ kind: 'product (cache hit)', method: 'GET', path: `/products/${index + 1}` }));

/** A realistic mix: reads (cache hits and misses), paid and declined orders, and failing requests. */
export function workload(count: number, seed = 7): DemoRequest[] {
  const next = random(seed);
  const pick = (from: number, to: number): number => from + Math.floor(next() * (to - from + 1));
  const requests: DemoRequest[] = [];
  for (let index = 0; index < count; index += 1) {
    const draw = next();
    if (draw < 0.45) requests.push({ kind: 'product (cache hit)', method: 'GET', path: `/products/${pick(1, PRODUCTS.length)}` });
    else if (draw < 0.55) requests.push({ kind: 'product (cache miss, unknown)', method: 'GET', path: `/products/${pick(900, 999)}` });
    else if (draw < 0.84) requests.push({ kind: 'order (paid)', method: 'POST', path: '/orders', body: order(pick(1, 6), pick(1, 3)) });
    else if (draw < 0.91) requests.push({ kind: 'order (declined)', method: 'POST', path: '/orders', body: next() < 0.5 ? order(7, 1) : order(8, 4) });
    else if (draw < 0.95) requests.push({ kind: 'order (out of stock)', method: 'POST', path: '/orders', body: order(pick(1, 6), 1_000_000) });
    else if (draw < 0.98) requests.push({ kind: 'order (unknown product)', method: 'POST', path: '/orders', body: order(pick(900, 999), 1) });
    else requests.push({ kind: 'order (malformed)', method: 'POST', path: '/orders', body: '{"productId": 1, "quantity":' });
  }
  return requests;
}

/** Sends the requests one after the other (a client waits for each answer); returns each status. */
export async function drive(baseUrl: string, requests: readonly DemoRequest[]): Promise<number[]> {
  const agent = new Agent();
  const statuses: number[] = [];
  try {
    for (const demoRequest of requests) {
      const answer = await request(new URL(demoRequest.path, baseUrl), {
        method: demoRequest.method,
        ...(demoRequest.body !== undefined && { body: demoRequest.body, headers: { 'content-type': 'application/json' } }),
        dispatcher: agent,
      });
      await answer.body.dump();
      statuses.push(answer.statusCode);
    }
  } finally {
    await agent.close();
  }
  return statuses;
}
