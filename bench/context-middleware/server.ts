// A small Express app for the benchmark. BENCH_CONTEXT=1 mounts the request-context middleware;
// the handler is the same either way: two async hops, then it reads the context and answers.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { getRequestContext, requestContextMiddleware } from '@mirrorguard/core';

const app = express();
if (process.env.BENCH_CONTEXT === '1') app.use(requestContextMiddleware());
app.get('/orders/:id', async (request, response) => {
  await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
  response.json({ id: request.params.id, requestId: getRequestContext()?.requestId ?? null });
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
