import { Agent, request } from 'undici';

/**
 * The demo's catalogue. A mirror copies a stock counter from the shared Redis on its first write to
 * it (copy-on-write), at whatever moment that is: the primary, serving the same request or the next
 * one, may be between its reservation (DECRBY) and its release (INCRBY) of that counter. So no
 * answer may hang on the counter's exact value. The products that sell have far more stock than any
 * workload orders (`workload` checks it): their counters stay positive whatever was reserved when.
 * Orders that fail for want of stock go to a product that is sold out (stock 0) and that nothing
 * else is ordered of: its counter is never above 0, so every reservation of it fails, on the
 * primary and on a mirror alike, whenever the mirror copied it. (An order of 1,000,000 chairs, say,
 * would drive the chair's counter below zero for a moment; a mirror that copied it then would refuse
 * every later chair order the primary accepts.)
 */
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
  // Sold out: the product the out-of-stock orders ask for.
  { name: 'poster', price: 15, stock: 0 },
];

/** The sold-out product's id (ids count from 1 in the catalogue's order). */
const SOLD_OUT = PRODUCTS.findIndex((product) => product.stock === 0) + 1;

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
    else if (draw < 0.95) requests.push({ kind: 'order (out of stock)', method: 'POST', path: '/orders', body: order(SOLD_OUT, pick(1, 3)) });
    else if (draw < 0.98) requests.push({ kind: 'order (unknown product)', method: 'POST', path: '/orders', body: order(pick(900, 999), 1) });
    else requests.push({ kind: 'order (malformed)', method: 'POST', path: '/orders', body: '{"productId": 1, "quantity":' });
  }
  assertTimingFree(requests);
  return requests;
}

/**
 * Throws unless every order's answer is the same whatever the primary had reserved when a mirror
 * copied the counter (see PRODUCTS). A product some order may get must have stock for all its
 * orders twice over: the mirror's copy may lack what the primary reserved (at most all of them),
 * and the mirror then reserves its own (at most all of them again). A product some order is
 * refused must be sold out, and ordered for nothing else.
 */
function assertTimingFree(requests: readonly DemoRequest[]): void {
  const ordered = new Map<number, { quantity: number; kinds: Set<DemoRequest['kind']> }>();
  for (const { kind, body } of requests) {
    if (kind === 'order (malformed)' || kind === 'order (unknown product)' || body === undefined) continue;
    const { productId, quantity } = JSON.parse(body) as { productId: number; quantity: number };
    const entry = ordered.get(productId) ?? { quantity: 0, kinds: new Set() };
    entry.quantity += quantity;
    entry.kinds.add(kind);
    ordered.set(productId, entry);
  }
  for (const [productId, { quantity, kinds }] of ordered) {
    const { name, stock } = PRODUCTS[productId - 1]!;
    const refused = kinds.has('order (out of stock)');
    if (refused ? stock !== 0 || kinds.size !== 1 : 2 * quantity > stock) {
      throw new Error(`the workload's answers would depend on timing: ${name} (stock ${stock}) ordered ${quantity} in all, as ${[...kinds].join(', ')}`);
    }
  }
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
