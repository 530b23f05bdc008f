// Run in a worker thread (by test/package/http-stub-workers.test.ts): makes one outbound call per
// client to `origin` and posts how each ended; with `nested`, first starts a worker of its own that
// does the same, and posts its outcomes too. Plain enough for Node's own type stripping.
import http from 'node:http';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { request } from 'undici';

interface Data {
  readonly origin: string;
  readonly nested?: boolean;
}

const { origin, nested } = workerData as Data;

const codeOf = (error: unknown): string => {
  for (let at = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; at !== undefined && at !== null && depth < 5; at = at.cause as typeof at, depth += 1) {
    if (typeof at.code === 'string' && at.code.startsWith('MG_ERR_')) return at.code;
  }
  return String((error as Error)?.message ?? error);
};

const calls: Record<string, () => Promise<string>> = {
  'global fetch': () => fetch(`${origin}/from-worker`, { method: 'POST', body: 'x' }).then((response) => `answered ${response.status}`, codeOf),
  'undici request': () => request(`${origin}/from-worker`, { method: 'POST', body: 'x' }).then((response) => `answered ${response.statusCode}`, codeOf),
  'node:http': () =>
    new Promise((resolve) => {
      const sent = http.request(`${origin}/from-worker`, { method: 'POST' }, (response) => {
        response.resume();
        resolve(`answered ${response.statusCode}`);
      });
      sent.on('error', (error) => resolve(codeOf(error)));
      sent.end('x');
    }),
};

const outcomes: Record<string, string> = {};
if (nested === true) {
  const child = new Worker(new URL(import.meta.url), { workerData: { origin } });
  const childOutcomes = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
  });
  for (const [name, outcome] of Object.entries(childOutcomes)) outcomes[`nested ${name}`] = outcome;
}
for (const [name, call] of Object.entries(calls)) outcomes[name] = await call();
parentPort!.postMessage(outcomes);
